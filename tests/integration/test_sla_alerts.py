"""The open ticket alerts a supervisor's snapshot lists (`callcenter/tickets/sla_alerts.py`), read
from what the real SLA monitor wrote on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from callcenter.clock import ManualClock
from callcenter.db import models
from callcenter.db.migrate import upgrade
from callcenter.demo import load_demo
from callcenter.tickets.calendar import BusinessCalendar
from callcenter.tickets.sla_alerts import open_alerts
from callcenter.tickets.sla_monitor import LiveSlaMonitor
from callcenter.tickets.store import SlaSetup, SqlTicketStore, open_store
from callcenter.tickets.workflow import Status

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
#: 24x7: the standard policy's first response is due 30 plain minutes after opening.
SETUP = SlaSetup(warn_at=(0.8,), calendar=BusinessCalendar.always_open("UTC"))


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SqlTicketStore]:
    await upgrade(database_url)
    store = open_store(database_url, "CN", SETUP)
    try:
        await load_demo(store)
        yield store
    finally:
        await store.close()


async def opened(store: SqlTicketStore, at: datetime, username: str = "zhangsanKJC") -> int:
    """A new incident of `username` (a second call of theirs would join it)."""
    employee = await store.employee_by_username(username)
    assert employee is not None
    call_id = str(uuid.uuid4())
    await store.open_call_record(call_id, None, "+862088881001", employee.id, at)
    return await store.attach_call_to_incident(call_id, employee.id, at, 8.0)


async def shown(
    store: SqlTicketStore, ticket_id: int
) -> list[tuple[str, str | None, float | None]]:
    return [
        (a.kind, a.clock, a.level) for a in await open_alerts(store) if a.ticket_id == ticket_id
    ]


def monitor(store: SqlTicketStore) -> LiveSlaMonitor:
    return LiveSlaMonitor(store, lambda _: None, ManualClock())


async def test_a_warning_is_open_while_its_clock_runs(store: SqlTicketStore) -> None:
    ticket_id = await opened(store, T0)
    await monitor(store).scan(T0 + timedelta(minutes=25))
    assert await shown(store, ticket_id) == [("sla_warning", "first_response", 0.8)]
    (alert,) = [a for a in await open_alerts(store) if a.ticket_id == ticket_id]
    assert alert.at == T0 + timedelta(minutes=25)  # when the monitor announced it
    assert alert.subject and (alert.tier, alert.assignee) == ("tier1_service_desk", None)
    # Answered in time: the first response was met, its warning is no longer open.
    await store.follow_ticket_status(
        ticket_id, Status.NEW, Status.IN_PROGRESS, T0 + timedelta(minutes=26)
    )
    assert await shown(store, ticket_id) == []


async def test_a_breach_replaces_the_warning_and_a_retarget_clears_both(
    store: SqlTicketStore,
) -> None:
    ticket_id = await opened(store, T0)
    await monitor(store).scan(T0 + timedelta(minutes=25))
    await monitor(store).scan(T0 + timedelta(minutes=31))
    (alert,) = [a for a in await open_alerts(store) if a.ticket_id == ticket_id]
    assert (alert.kind, alert.clock, alert.level) == ("sla_breach", "first_response", None)
    assert alert.due_at == T0 + timedelta(minutes=30)

    # A clock given another target: what was announced about the old one says nothing.
    async with store.write_transaction() as session:
        await session.execute(
            update(models.SlaClockRecord)
            .where(models.SlaClockRecord.ticket_id == ticket_id)
            .values(target_seconds=7200.0)
        )
    assert await shown(store, ticket_id) == []


async def test_closed_tickets_have_no_open_alerts(store: SqlTicketStore) -> None:
    ticket_id = await opened(store, T0)
    await monitor(store).scan(T0 + timedelta(minutes=31))
    assert await shown(store, ticket_id) == [("sla_breach", "first_response", None)]
    async with store.write_transaction() as session:
        await session.execute(
            update(models.Ticket).where(models.Ticket.id == ticket_id).values(status="closed")
        )
    assert await shown(store, ticket_id) == []


async def test_the_newest_first_and_at_most_the_limit(store: SqlTicketStore) -> None:
    first = await opened(store, T0)
    second = await opened(store, T0 + timedelta(minutes=10), "lisiKJC")
    third = await opened(store, T0 + timedelta(minutes=20), "wangwuKJC")
    assert len({first, second, third}) == 3
    for minutes in (31, 41, 51):
        await monitor(store).scan(T0 + timedelta(minutes=minutes))
    ours = {first, second, third}
    found = [a.ticket_id for a in await open_alerts(store) if a.ticket_id in ours]
    assert found == [third, second, first]
    newest = await open_alerts(store, limit=2)
    assert [a.ticket_id for a in newest] == [third, second]
