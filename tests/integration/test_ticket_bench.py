"""The 1M-ticket bench (`benchmarks/ticket_bench.py`) at a tiny scale, so it cannot rot: it
generates its throw-away PostgreSQL database, times every path and drops the database."""

from __future__ import annotations

import json
from pathlib import Path

import asyncpg

from benchmarks.ticket_bench import main, messy, mobile, parse, spread
from callcenter.directory.phone import normalise
from tests.services import require_postgres


async def test_a_tiny_run_times_every_path_and_leaves_no_database(tmp_path: Path) -> None:
    require_postgres()
    out = tmp_path / "ticket_bench.json"
    argv = ["--scale", "0.002", "--callers", "20", "--creates", "10", "--searches", "10"]
    report = await main(parse([*argv, "--explain", "--out", str(out)]))

    assert json.loads(out.read_text()) == report
    assert report["rows"]["employees"] == 200
    assert report["rows"]["tickets"] == report["rows"]["call_records"] == 2000
    assert report["rows"]["employee_phones"] > report["rows"]["employees"]
    assert report["screen_pop_ms"]["count"] == 20
    assert report["screen_pop_found"] == 20  # every caller's messy number was recognised
    assert set(report["screen_pop_parts_ms"]) == {
        "find_employees_by_phone",
        "devices_of",
        "tickets_of",
        "suggest_for_employee",
    }
    assert report["screen_pop_unknown_ms"]["count"] == 20
    assert report["screen_pop_unknown_with_maybe"] == 10  # the outsiders written in tickets
    assert report["rows"]["ticket_phones"] > 0
    assert report["ticket_creation"]["calls"] == 10
    assert report["ticket_creation"]["tickets_created"] == 10
    assert report["kb_search_ms"]["count"] == 10
    assert report["monthly_report"]["files"] == 13
    assert report["monthly_report"]["tickets_read"] > 0
    assert set(report["plans"]) >= {"employee_by_phone", "devices_of", "tickets_of"}
    assert all(plan[-1].startswith("Execution Time") for plan in report["plans"].values())
    server = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        left = await server.fetchval(
            "SELECT count(*) FROM pg_database WHERE datname = $1", report["database"]
        )
    finally:
        await server.close()
    assert left == 0


def test_messy_numbers_normalise_to_the_employee_s_mobile() -> None:
    import random

    rnd = random.Random(5)
    for n in (1, 2, 99_999, 100_000):
        national = mobile(n)
        for _ in range(20):
            assert normalise(messy(national, rnd), "CN") == f"+86{national}"
    assert mobile(1) != mobile(2)


def test_spread_reports_milliseconds() -> None:
    assert spread([]) == {"count": 0}
    figures = spread([0.001 * n for n in range(1, 101)])
    assert (figures["count"], figures["p50"], figures["p99"], figures["max"]) == (100, 51, 100, 100)
