"""The SLA monitor on real databases (SQLite and PostgreSQL): clocks started with the
ticket, warnings and breaches announced once across restarts, paused clocks, counters."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import select, update

from callcenter.clock import ManualClock
from callcenter.db import models
from callcenter.db.migrate import upgrade
from callcenter.demo import load_demo
from callcenter.events import EventBus
from callcenter.metrics.ticket_metrics import TicketMetrics
from callcenter.tickets.calendar import BusinessCalendar
from callcenter.tickets.sla import ClockKind, ClockState, evaluate
from callcenter.tickets.sla_monitor import LiveSlaMonitor, SlaBreached, SlaEvent, SlaWarning
from callcenter.tickets.store import SlaSetup, SqlTicketStore, open_store
from callcenter.tickets.workflow import Status

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
#: 24x7, so the figures below are plain minutes; warn at 80 % of the target.
SETUP = SlaSetup(warn_at=(0.8,), calendar=BusinessCalendar.always_open("UTC"))
FIRST_RESPONSE_DUE = T0 + timedelta(minutes=30)  # the standard policy's 30 minutes


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SqlTicketStore]:
    await upgrade(database_url)
    store = open_store(database_url, "CN", SETUP)
    try:
        await load_demo(store)
        yield store
    finally:
        await store.close()


class Process:
    """What one service process has: its own store, bus, registry and monitor."""

    def __init__(self, store: SqlTicketStore) -> None:
        self.store = store
        self.registry = CollectorRegistry()
        self.bus = EventBus()
        self.events: list[SlaEvent] = []
        self.bus.subscribe(SlaEvent, TicketMetrics(self.registry).on_event)
        self.bus.subscribe(SlaEvent, self.events.append)
        self.monitor = LiveSlaMonitor(store, self.bus.publish, ManualClock())

    def count(self, name: str, clock: ClockKind) -> float | None:
        return self.registry.get_sample_value(name, {"clock": clock.value})


async def _open_ticket(store: SqlTicketStore, username: str, at: datetime) -> int:
    employee = await store.employee_by_username(username)
    assert employee is not None
    call_id = str(uuid.uuid4())
    await store.open_call_record(call_id, None, "+862088881001", employee.id, at)
    return await store.attach_call_to_incident(call_id, employee.id, at, 8.0)


async def test_a_new_ticket_gets_running_clocks_from_its_organisations_policy(
    store: SqlTicketStore,
) -> None:
    ticket_id = await _open_ticket(store, "zhangsanKJC", T0)
    clocks = await store.sla_clocks(ticket_id)
    assert set(clocks) == set(ClockKind)
    assert clocks[ClockKind.FIRST_RESPONSE].target_seconds == 30 * 60
    assert clocks[ClockKind.RESOLUTION].target_seconds == 16 * 3600
    assert clocks[ClockKind.FIRST_RESPONSE].policy == "standard@1"
    assert clocks[ClockKind.FIRST_RESPONSE].warn_at == (0.8,)
    assert clocks[ClockKind.FIRST_RESPONSE].calendar == SETUP.calendar
    assert evaluate(clocks[ClockKind.RESOLUTION], T0).state is ClockState.RUNNING
    # On-site arrival exists but starts only when an engineer is dispatched.
    assert evaluate(clocks[ClockKind.ONSITE_ARRIVAL], T0).state is ClockState.NOT_STARTED

    # An organisation on the premium policy: its next ticket gets premium targets.
    async with store.write_transaction() as session:
        await session.execute(update(models.Organisation).values(sla_policy="premium"))
    later = T0 + timedelta(days=2)
    premium = await store.sla_clocks(await _open_ticket(store, "zhangsanKJC", later))
    assert premium[ClockKind.FIRST_RESPONSE].target_seconds == 10 * 60
    assert premium[ClockKind.FIRST_RESPONSE].policy == "premium@1"
    # The open ticket keeps the target it started with.
    assert (await store.sla_clocks(ticket_id))[ClockKind.FIRST_RESPONSE].target_seconds == 1800


async def test_warning_then_breach_once_and_not_again_after_a_restart(
    store: SqlTicketStore, database_url: str
) -> None:
    ticket_id = await _open_ticket(store, "zhangsanKJC", T0)
    first = Process(store)
    warnings, breaches = (
        "callcenter_ticket_sla_warnings_total",
        "callcenter_ticket_sla_breaches_total",
    )
    assert first.count(warnings, ClockKind.FIRST_RESPONSE) == 0

    assert await first.monitor.scan(T0 + timedelta(minutes=20)) == []
    await first.monitor.scan(T0 + timedelta(minutes=25))
    await first.monitor.scan(T0 + timedelta(minutes=26))
    await first.monitor.scan(T0 + timedelta(minutes=31))
    await first.monitor.scan(T0 + timedelta(minutes=32))
    assert first.events == [
        SlaWarning(
            ticket_id,
            ClockKind.FIRST_RESPONSE,
            FIRST_RESPONSE_DUE,
            0.8,
            T0 + timedelta(minutes=24),
        ),
        SlaBreached(ticket_id, ClockKind.FIRST_RESPONSE, FIRST_RESPONSE_DUE),
    ]
    assert first.count(warnings, ClockKind.FIRST_RESPONSE) == 1
    assert first.count(breaches, ClockKind.FIRST_RESPONSE) == 1
    assert first.count(warnings, ClockKind.RESOLUTION) == 0
    assert first.count(breaches, ClockKind.RESOLUTION) == 0

    # The announcements are in the database, with the instants they refer to.
    async with store.write_transaction() as session:
        rows = (
            await session.execute(
                select(models.SlaEventRecord.event, models.SlaEventRecord.at).order_by(
                    models.SlaEventRecord.id
                )
            )
        ).all()
    assert [tuple(row) for row in rows] == [
        ("0.8", T0 + timedelta(minutes=24)),
        ("breach", FIRST_RESPONSE_DUE),
    ]

    # A restart: a new store and monitor on the same database say nothing again...
    restarted_store = open_store(database_url, "CN", SETUP)
    try:
        second = Process(restarted_store)
        assert await second.monitor.scan(T0 + timedelta(minutes=40)) == []
        assert second.count(breaches, ClockKind.FIRST_RESPONSE) == 0
        # ...but go on with what is new: the resolution clock (16 h) warns at 12.8 h.
        assert await second.monitor.scan(T0 + timedelta(hours=13)) == [
            SlaWarning(
                ticket_id,
                ClockKind.RESOLUTION,
                T0 + timedelta(hours=16),
                0.8,
                T0 + timedelta(hours=12, minutes=48),
            )
        ]
        assert second.count(warnings, ClockKind.RESOLUTION) == 1
    finally:
        await restarted_store.close()


async def test_a_clock_paused_while_waiting_for_the_customer_does_not_breach(
    store: SqlTicketStore,
) -> None:
    ticket_id = await _open_ticket(store, "lisiKJC", T0)
    process = Process(store)
    # Answered after 5 minutes (first response met), then waiting for the customer.
    await store.follow_ticket_status(
        ticket_id, Status.NEW, Status.IN_PROGRESS, T0 + timedelta(minutes=5)
    )
    await store.follow_ticket_status(
        ticket_id, Status.IN_PROGRESS, Status.WAITING_CUSTOMER, T0 + timedelta(minutes=6)
    )
    clocks = await store.sla_clocks(ticket_id)
    assert evaluate(clocks[ClockKind.FIRST_RESPONSE], T0).state is ClockState.MET
    assert not clocks[ClockKind.RESOLUTION].running

    month_later = T0 + timedelta(days=30)
    assert await process.monitor.scan(month_later) == []
    # The met first-response clock is settled: the monitor no longer reads it.
    watched = await store.sla_watch_list()
    assert [(c.ticket_id, c.kind) for c in watched.clocks] == [(ticket_id, ClockKind.RESOLUTION)]

    # The customer answers: the clock runs on from 6 minutes and breaches 15 h 54 min later.
    await store.follow_ticket_status(
        ticket_id, Status.WAITING_CUSTOMER, Status.IN_PROGRESS, month_later
    )
    due = month_later + timedelta(hours=15, minutes=54)
    assert await process.monitor.scan(due) == [
        SlaWarning(
            ticket_id,
            ClockKind.RESOLUTION,
            due,
            0.8,
            month_later + timedelta(hours=12, minutes=42),
        )
    ]
    assert await process.monitor.scan(due + timedelta(seconds=1)) == [
        SlaBreached(ticket_id, ClockKind.RESOLUTION, due)
    ]
    name = "callcenter_ticket_sla_breaches_total"
    assert process.count(name, ClockKind.RESOLUTION) == 1
    assert process.count(name, ClockKind.FIRST_RESPONSE) == 0


async def test_two_monitors_racing_on_one_database_announce_once(
    store: SqlTicketStore, database_url: str
) -> None:
    ticket_id = await _open_ticket(store, "zhangsanKJC", T0)
    other_store = open_store(database_url, "CN", SETUP)
    try:
        a, b = Process(store), Process(other_store)
        now = T0 + timedelta(minutes=31)
        await asyncio.gather(a.monitor.scan(now), b.monitor.scan(now))
        assert a.events + b.events == [
            SlaBreached(ticket_id, ClockKind.FIRST_RESPONSE, FIRST_RESPONSE_DUE)
        ]
    finally:
        await other_store.close()


async def test_a_resolved_ticket_stops_being_watched(store: SqlTicketStore) -> None:
    ticket_id = await _open_ticket(store, "zhangsanKJC", T0)
    await store.follow_ticket_status(
        ticket_id, Status.NEW, Status.RESOLVED, T0 + timedelta(minutes=10)
    )
    process = Process(store)
    assert await process.monitor.scan(T0 + timedelta(days=3)) == []
    assert (await store.sla_watch_list()).clocks == []
    # Reopened: the resolution clock runs again (and is watched) from 10 minutes used.
    reopened = T0 + timedelta(days=3)
    await store.follow_ticket_status(ticket_id, Status.RESOLVED, Status.IN_PROGRESS, reopened)
    watched = await store.sla_watch_list()
    assert [(c.ticket_id, c.kind) for c in watched.clocks] == [(ticket_id, ClockKind.RESOLUTION)]
    due = reopened + timedelta(hours=15, minutes=50)
    assert await process.monitor.scan(due + timedelta(minutes=1)) == [
        SlaBreached(ticket_id, ClockKind.RESOLUTION, due)
    ]
