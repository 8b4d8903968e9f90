"""`callcenter report` on SQLite and PostgreSQL: hand-made tickets, calls, SLA clocks and
assets of November 2026, the command run as the operator runs it, its files read back."""

from __future__ import annotations

import asyncio
import csv
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from callcenter import cli
from callcenter.db import models
from callcenter.db.migrate import upgrade
from callcenter.reports.render import CHARTS, CSV_FILES, HTML
from callcenter.tickets.calendar import BusinessCalendar, calendar_data
from callcenter.tickets.store import SqlTicketStore, open_store

ORG = "Acme <&> Co"
ALWAYS = calendar_data(BusinessCalendar.always_open())


def nov(day: int, hour: int = 9, minute: int = 0, month: int = 11, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SqlTicketStore]:
    await upgrade(database_url)
    ticket_store = open_store(database_url, "CN")
    try:
        await _fill(ticket_store)
        yield ticket_store
    finally:
        await ticket_store.close()


async def _fill(store: SqlTicketStore) -> None:
    async with store.write_transaction() as s:
        acme, other = models.Organisation(name=ORG), models.Organisation(name="Other Org")
        s.add_all([acme, other])
        await s.flush()
        ann = models.Employee(organisation_id=acme.id, username="ann", name="Ann")
        bob = models.Employee(organisation_id=other.id, username="bob", name="Bob")
        s.add_all([ann, bob])
        await s.flush()

        def device(name: str, owner: int, warranty: date) -> models.Device:
            return models.Device(
                asset_tag=f"TAG-{name}",
                name=name,
                type="laptop",
                model="ThinkPad T14",
                owner_employee_id=owner,
                warranty_end=warranty,
            )

        pc1 = device("PC-1", ann.id, date(2026, 12, 15))  # within 90 days after November
        pc2 = device("PC-2", ann.id, date(2027, 6, 1))
        pc9 = device("PC-9<b>", bob.id, date(2026, 12, 10))  # another client's
        s.add_all([pc1, pc2, pc9])
        await s.flush()

        def ticket(
            id_: int, employee: int, created: datetime, status: str, **kw: object
        ) -> models.Ticket:
            return models.Ticket(
                id=id_,
                status=status,
                priority=3,
                subject=f"ticket {id_}",
                employee_id=employee,
                created_at=created,
                updated_at=created,
                **kw,
            )

        s.add_all(
            [
                ticket(
                    1,
                    ann.id,
                    nov(2),
                    "closed",
                    resolved_at=nov(2, 11),
                    category="printer",
                    first_contact_resolved=True,
                    contacts=1,
                    device_id=pc1.id,
                ),
                ticket(
                    2,
                    ann.id,
                    nov(3),
                    "resolved",
                    resolved_at=nov(3, 13),
                    category="printer",
                    first_contact_resolved=False,
                    contacts=2,
                    onsite_visits=1,
                    device_id=pc1.id,
                ),
                ticket(3, ann.id, nov(10), "in_progress", device_id=pc2.id),
                ticket(
                    4,
                    ann.id,
                    nov(15, month=10),
                    "closed",
                    resolved_at=nov(1),
                    category="network",
                    first_contact_resolved=True,
                    contacts=1,
                ),
                ticket(5, ann.id, nov(1, month=12), "new", category="printer"),
                ticket(6, bob.id, nov(5), "new", category="printer", device_id=pc9.id),
                ticket(7, ann.id, nov(10, month=1), "closed", resolved_at=nov(11, month=1)),
            ]
        )
        await s.flush()

        def call(
            n: int, employee: int, arrived: datetime, outcome: str, wait: float | None
        ) -> models.CallRecord:
            queued = outcome != "ivr_hangup"
            return models.CallRecord(
                id=f"call-{n}",
                caller="+8613800000000",
                employee_id=employee,
                queue="helpdesk" if queued else None,
                arrived_at=arrived,
                enqueued_at=arrived if queued else None,
                answered_at=arrived + timedelta(seconds=wait) if wait is not None else None,
                ended_at=arrived + timedelta(minutes=5),
                outcome=outcome,
                pickup_latency_seconds=wait,
            )

        s.add_all(
            [
                call(1, ann.id, nov(2), "answered", 5.0),
                call(2, ann.id, nov(3), "answered", 30.0),  # over the 20 s threshold
                call(3, ann.id, nov(4), "abandoned", None),
                call(4, ann.id, nov(5), "ivr_hangup", None),  # never offered to a queue
                call(5, bob.id, nov(5), "answered", 1.0),  # another client's
                call(6, ann.id, nov(5, month=10), "answered", 1.0),  # October
            ]
        )

        def clock(
            ticket_id: int,
            kind: str,
            target: float,
            start: datetime,
            end: datetime | None,
            stopped: bool,
        ) -> list[object]:
            return [
                models.SlaClockRecord(
                    ticket_id=ticket_id,
                    kind=kind,
                    target_seconds=target,
                    policy_key="standard@1",
                    calendar=ALWAYS,
                    warn_at=[0.8],
                    stopped_at=end if stopped else None,
                ),
                models.SlaClockSegment(ticket_id=ticket_id, kind=kind, start=start, end=end),
            ]

        rows = [
            *clock(1, "first_response", 1800, nov(2), nov(2, 9, 10), True),  # met
            *clock(1, "resolution", 4 * 3600, nov(2), nov(2, 11), True),  # met
            *clock(2, "first_response", 1800, nov(3), nov(3, 10), True),  # 1 h: breached
            *clock(2, "resolution", 3 * 3600, nov(3), nov(3, 13), True),  # 4 h: breached
            *clock(3, "first_response", 1800, nov(10), None, False),  # still running: breached
            *clock(3, "onsite_arrival", 1e9, nov(10), None, False),  # in time, but announced
            *clock(3, "resolution", 1e9, nov(10), None, False),  # open
            *clock(6, "first_response", 1800, nov(5), nov(5, 9, 1), True),  # another client's
        ]
        for row in rows:
            s.add(row)
            await s.flush()
        s.add(
            models.SlaEventRecord(
                ticket_id=3,
                kind="onsite_arrival",
                event="breach",
                target_seconds=3600,
                at=nov(10, 10),
                announced_at=nov(10, 10),
            )
        )


def _config(tmp_path: Path, store: SqlTicketStore) -> Path:
    url = store.engine.url.render_as_string(hide_password=False)
    path = tmp_path / "callcenter.yaml"
    path.write_text(f"database:\n  url: {url!r}\nticketing:\n  default_region: CN\n")
    return path


async def _callcenter(
    config: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    code = await asyncio.to_thread(cli.main, ["--config", str(config), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


async def test_the_report_of_a_month(
    store: SqlTicketStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    argv = ["report", "--org", ORG, "--month", "2026-11", "--out", str(out)]
    code, stdout, err = await _callcenter(_config(tmp_path, store), argv, capsys)

    assert (code, err) == (0, "")
    assert "2026-11" in stdout
    assert sorted(p.name for p in out.iterdir()) == sorted([HTML, *CSV_FILES, *CHARTS])
    for chart in CHARTS:
        assert (out / chart).read_bytes().startswith(b"\x89PNG")

    per_month = {r["month"]: int(r["requests"]) for r in _rows(out / "requests_per_month.csv")}
    assert (min(per_month), max(per_month)) == ("2025-12", "2026-11")
    assert (per_month["2026-11"], per_month["2026-10"], per_month["2026-01"]) == (3, 1, 1)
    assert sum(per_month.values()) == 5
    assert _rows(out / "requests_per_category.csv") == [
        {"category": "printer", "requests": "2"},
        {"category": "(none)", "requests": "1"},
    ]
    assert _rows(out / "service_level.csv") == [
        {
            "offered": "3",
            "answered": "2",
            "answered_within_threshold": "1",
            "service_level": "0.3333",
        }
    ]
    fcr = {r["measure"]: r for r in _rows(out / "first_contact.csv")}
    phone, visit = fcr["first_contact_resolution"], fcr["first_visit_resolution"]
    assert (phone["solved_first_time"], phone["counted"], phone["target"]) == ("2", "3", "0.7000")
    assert (visit["solved_first_time"], visit["counted"], visit["share"]) == ("1", "1", "1.0000")
    sla = {r["clock"]: r for r in _rows(out / "sla_compliance.csv")}
    assert list(sla) == ["first_response", "onsite_arrival", "resolution"]
    assert [sla["first_response"][k] for k in ("met", "breached", "open")] == ["1", "2", "0"]
    assert [sla["onsite_arrival"][k] for k in ("met", "breached", "open")] == ["0", "1", "0"]
    assert [sla["resolution"][k] for k in ("met", "breached", "open")] == ["1", "1", "1"]
    assert sla["resolution"]["compliance"] == "0.5000"
    (resolve,) = _rows(out / "time_to_resolve.csv")
    # Tickets 1, 2 and 4: 2 h, 4 h and 17 days.
    assert resolve == {"resolved": "3", "mean_hours": "138.0000", "p90_hours": "327.2000"}
    assert _rows(out / "top_faults_items.csv") == [{"item": "PC-1", "tickets": "2"}]
    assert _rows(out / "top_faults_models.csv") == [{"model": "ThinkPad T14", "tickets": "3"}]
    (asset,) = _rows(out / "warranty_ending.csv")
    assert (asset["name"], asset["owner"], asset["warranty_end"]) == ("PC-1", "ann", "2026-12-15")

    page = (out / HTML).read_text(encoding="utf-8")
    assert "Acme &lt;&amp;&gt; Co" in page and ORG not in page
    assert "PC-9" not in page  # another client's asset
    assert 'src="requests_per_month.png"' in page
    assert "http" not in page  # nothing fetched from elsewhere


async def test_an_empty_month_writes_every_file_without_dividing_by_zero(
    store: SqlTicketStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "empty"
    argv = ["report", "--org", ORG, "--month", "2024-02", "--out", str(out)]
    code, _, err = await _callcenter(_config(tmp_path, store), argv, capsys)

    assert (code, err) == (0, "")
    assert _rows(out / "service_level.csv")[0]["service_level"] == ""
    assert _rows(out / "time_to_resolve.csv") == [
        {"resolved": "0", "mean_hours": "", "p90_hours": ""}
    ]
    assert _rows(out / "sla_compliance.csv") == []
    assert "n/a" in (out / HTML).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("org", "month", "message"),
    [
        ("Nobody Inc", "2026-11", "no organisation 'Nobody Inc'"),
        (ORG, "2026-13", "expected YYYY-MM"),
        (ORG, "Nov 2026", "expected YYYY-MM"),
    ],
)
async def test_bad_input_is_one_line_and_exit_2(
    store: SqlTicketStore,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    org: str,
    month: str,
    message: str,
) -> None:
    out = tmp_path / "out"
    argv = ["report", "--org", org, "--month", month, "--out", str(out)]
    code, stdout, err = await _callcenter(_config(tmp_path, store), argv, capsys)

    assert code == 2
    assert stdout == ""
    assert err.startswith("callcenter: report: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()


async def test_a_database_without_the_schema_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "callcenter.yaml"
    config.write_text("ticketing:\n  default_region: CN\n")
    empty = tmp_path / "empty.db"  # never migrated
    argv = ["report", "--org", ORG, "--month", "2026-11", "--out", str(tmp_path / "out")]
    argv += ["--database", f"sqlite+aiosqlite:///{empty}"]
    code, _, err = await _callcenter(config, argv, capsys)

    assert code == 2
    assert err.startswith("callcenter: report: database: ") and "organisation" in err
    assert err.count("\n") == 1
