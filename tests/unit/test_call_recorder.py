"""The call recorder: retries while the database is away, spools what it refuses."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from callcenter.calls import recorder as recorder_module
from callcenter.calls.recorder import PERMANENT_TRIES, CallRecorder, Spool


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recorder_module, "RETRY_DELAYS", (0.0,))


async def run_until_drained(recorder: CallRecorder) -> None:
    runner = asyncio.create_task(recorder.run())
    try:
        assert await recorder.drain(5)
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)


async def test_a_refused_write_is_tried_again_then_spooled_and_counted(tmp_path: Path) -> None:
    counted: list[int] = []
    spool = Spool(tmp_path / "spool" / "records.jsonl", lambda: counted.append(1))
    recorder = CallRecorder(spool=spool)
    tries: list[str] = []
    written: list[str] = []

    async def refused() -> None:
        tries.append("refused")
        raise UnicodeEncodeError("utf-8", "\udcff", 0, 1, "surrogates not allowed")

    async def fine() -> None:
        written.append("next")

    recorder.submit("arrival of c1", refused, {"call_id": "c1", "caller": "+86\udcff"})
    recorder.submit("update of c2", fine)
    await run_until_drained(recorder)

    assert len(tries) == PERMANENT_TRIES
    assert written == ["next"]  # the refused write held up nothing
    assert spool.count == 1 and counted == [1]
    [line] = (tmp_path / "spool" / "records.jsonl").read_text().splitlines()
    kept = json.loads(line)
    assert kept["what"] == "arrival of c1"
    assert kept["error"].startswith("UnicodeEncodeError")
    assert kept["data"] == {"call_id": "c1", "caller": "+86\udcff"}


async def test_a_write_waits_for_the_database_however_long_it_is_away(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "records.jsonl")
    recorder = CallRecorder(spool=spool)
    outage = iter([ConnectionError()] * (PERMANENT_TRIES + 5))
    written: list[int] = []

    async def write() -> None:
        failure = next(outage, None)
        if failure is not None:
            raise failure
        written.append(1)

    recorder.submit("arrival of c1", write)
    await run_until_drained(recorder)
    assert written == [1]
    assert spool.count == 0 and not spool.path.exists()  # type: ignore[union-attr]
