"""The console fan-out bench (`benchmarks/ws_bench.py`) at a tiny scale, so it cannot rot:
a real `callcenter serve`, five agent consoles and one board, two seconds of changes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.ws_bench import Event, board_outcome, main, parse

pytestmark = pytest.mark.sip


async def test_every_change_reaches_its_agent_and_the_boards(tmp_path: Path) -> None:
    out = tmp_path / "ws_bench.json"
    args = ["--agents", "5", "--boards", "2", "--rate", "5", "--seconds", "2"]
    report = await main(parse([*args, "--settle", "1", "--drain", "3", "--out", str(out)]))

    assert json.loads(out.read_text()) == report
    assert (report["agents"], report["boards"], report["events"]) == (5, 2, 10)
    assert report["errors"] == []
    assert report["replies_ok"] == 10
    assert (report["agent_delivered"], report["agent_lost"]) == (10, 0)
    assert (report["board_deliveries"], report["board_lost"]) == (20, 0)
    assert report["agent_latency_ms"]["count"] == 10
    assert report["board_latency_ms"]["count"] == 20
    assert report["server_rss_mib"]["connections_open"] > 0


def test_a_change_a_board_never_showed_counts_as_lost() -> None:
    seen = Event("a1", "available", 0.0, since=100.0)
    missed = Event("a2", "paused", 0.0, since=100.5)
    board = {("a1", "available", 100.0): 100.75, ("a2", "available", 99.0): 99.5}

    latency, lost = board_outcome([seen, missed], [board, {}])

    assert latency == [0.75]
    assert lost == 3
