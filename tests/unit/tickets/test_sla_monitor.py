"""The live SLA monitor's decisions, on an in-memory store and a manual clock."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from callcenter.clock import ManualClock
from callcenter.events import EventBus
from callcenter.metrics.ticket_metrics import TicketMetrics
from callcenter.settings import ConfigError, TicketingSettings, load_settings
from callcenter.tickets.calendar import BusinessCalendar
from callcenter.tickets.sla import STANDARD, ClockKind, EventKey, SlaClock, start_clocks
from callcenter.tickets.sla_monitor import (
    LiveSlaMonitor,
    SlaBreached,
    SlaEvent,
    SlaWarning,
    sla_setup,
)
from callcenter.tickets.store import SlaWatchList

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
H24 = BusinessCalendar.always_open("UTC")
POLICY = replace(STANDARD, warn_at=(0.8,))  # first response 30 min, resolution 16 h


class MemoryStore:
    """The two store calls the monitor makes, kept in memory like the SQL store keeps them."""

    def __init__(self) -> None:
        self.clocks: dict[tuple[int, ClockKind], SlaClock] = {}
        self.announced: dict[EventKey, datetime] = {}
        self.settled: set[tuple[int, ClockKind]] = set()
        #: Keys another process "wrote first": recording them finds them taken.
        self.taken: set[EventKey] = set()

    def put(self, clock: SlaClock) -> None:
        self.clocks[(clock.ticket_id, clock.kind)] = clock
        self.settled.discard((clock.ticket_id, clock.kind))

    def open_ticket(self, ticket_id: int, at: datetime) -> None:
        for clock in start_clocks(ticket_id, POLICY, H24, at).values():
            self.put(clock)

    async def sla_watch_list(self) -> SlaWatchList:
        clocks = [c for key, c in self.clocks.items() if key not in self.settled and c.segments]
        return SlaWatchList(clocks, set(self.announced))

    async def record_sla_scan(
        self,
        events: Sequence[tuple[EventKey, datetime]],
        settled: Sequence[tuple[int, ClockKind, datetime]],
        now: datetime,
    ) -> set[EventKey]:
        written = set()
        for key, at in events:
            if key in self.announced or key in self.taken:
                continue
            self.announced[key] = at
            written.add(key)
        for ticket_id, kind, stopped_at in settled:
            if self.clocks[(ticket_id, kind)].stopped_at == stopped_at:
                self.settled.add((ticket_id, kind))
        return written


def _monitor(store: MemoryStore) -> tuple[LiveSlaMonitor, list[SlaEvent]]:
    published: list[SlaEvent] = []

    def publish(event: object) -> None:
        assert isinstance(event, SlaEvent)
        published.append(event)

    return LiveSlaMonitor(store, publish, ManualClock()), published


async def test_warning_at_the_fraction_then_breach_each_once() -> None:
    store = MemoryStore()
    store.open_ticket(1, T0)
    monitor, published = _monitor(store)
    due = T0 + timedelta(minutes=30)

    assert await monitor.scan(T0 + timedelta(minutes=23)) == []
    warned = await monitor.scan(T0 + timedelta(minutes=25))
    assert warned == [SlaWarning(1, ClockKind.FIRST_RESPONSE, due, 0.8, T0 + timedelta(minutes=24))]
    assert await monitor.scan(T0 + timedelta(minutes=29)) == []
    # The due instant itself is still in time.
    assert await monitor.scan(due) == []
    assert await monitor.scan(due + timedelta(seconds=1)) == [
        SlaBreached(1, ClockKind.FIRST_RESPONSE, due)
    ]
    assert await monitor.scan(due + timedelta(minutes=5)) == []
    assert published == [*warned, SlaBreached(1, ClockKind.FIRST_RESPONSE, due)]


async def test_a_new_monitor_on_the_same_store_announces_nothing_again() -> None:
    store = MemoryStore()
    store.open_ticket(1, T0)
    first, _ = _monitor(store)
    assert len(await first.scan(T0 + timedelta(minutes=40))) == 1  # the breach only
    second, published = _monitor(store)
    assert await second.scan(T0 + timedelta(minutes=41)) == []
    assert published == []


async def test_a_clock_first_seen_breached_reports_the_breach_not_the_warning() -> None:
    store = MemoryStore()
    store.open_ticket(1, T0)
    monitor, _ = _monitor(store)
    events = await monitor.scan(T0 + timedelta(hours=1))
    assert events == [SlaBreached(1, ClockKind.FIRST_RESPONSE, T0 + timedelta(minutes=30))]


async def test_a_paused_clock_does_not_breach_and_a_resumed_one_does() -> None:
    store = MemoryStore()
    for clock in start_clocks(1, POLICY, H24, T0).values():
        if clock.segments:
            clock = clock.pause(T0 + timedelta(minutes=10))
        store.put(clock)
    monitor, _ = _monitor(store)
    assert await monitor.scan(T0 + timedelta(days=30)) == []

    resumed_at = T0 + timedelta(days=30)
    store.put(store.clocks[(1, ClockKind.FIRST_RESPONSE)].resume(resumed_at))
    # 10 minutes used, 20 left: the 80 % level (24 min) comes 14 minutes after resuming.
    due = resumed_at + timedelta(minutes=20)
    assert await monitor.scan(resumed_at + timedelta(minutes=15)) == [
        SlaWarning(1, ClockKind.FIRST_RESPONSE, due, 0.8, resumed_at + timedelta(minutes=14))
    ]
    assert await monitor.scan(due + timedelta(seconds=1)) == [
        SlaBreached(1, ClockKind.FIRST_RESPONSE, due)
    ]


async def test_a_level_passed_before_a_pause_warns_with_no_due_time() -> None:
    store = MemoryStore()
    clock = start_clocks(1, POLICY, H24, T0)[ClockKind.FIRST_RESPONSE]
    store.put(clock.pause(T0 + timedelta(minutes=26)))
    monitor, _ = _monitor(store)
    assert await monitor.scan(T0 + timedelta(hours=5)) == [
        SlaWarning(1, ClockKind.FIRST_RESPONSE, None, 0.8, T0 + timedelta(minutes=24))
    ]


async def test_stopped_clocks_are_settled_once_nothing_is_left_to_say() -> None:
    store = MemoryStore()
    met = start_clocks(1, POLICY, H24, T0)[ClockKind.FIRST_RESPONSE]
    late = start_clocks(2, POLICY, H24, T0)[ClockKind.FIRST_RESPONSE]
    store.put(met.stop(T0 + timedelta(minutes=5)))
    store.put(late.stop(T0 + timedelta(minutes=45)))  # breached before anyone looked
    monitor, _ = _monitor(store)

    events = await monitor.scan(T0 + timedelta(hours=1))
    assert events == [SlaBreached(2, ClockKind.FIRST_RESPONSE, T0 + timedelta(minutes=30))]
    assert store.settled == {(1, ClockKind.FIRST_RESPONSE), (2, ClockKind.FIRST_RESPONSE)}
    assert (await store.sla_watch_list()).clocks == []


async def test_only_what_this_monitor_wrote_is_published() -> None:
    store = MemoryStore()
    store.open_ticket(1, T0)
    store.open_ticket(2, T0)
    store.taken.add((1, "first_response", "breach", 1800.0))  # another process was first
    monitor, published = _monitor(store)
    await monitor.scan(T0 + timedelta(hours=1))
    assert published == [SlaBreached(2, ClockKind.FIRST_RESPONSE, T0 + timedelta(minutes=30))]


async def test_run_scans_periodically_and_survives_a_failed_scan() -> None:
    store = MemoryStore()
    store.open_ticket(1, T0)
    clock = ManualClock(T0.timestamp() + 3600)
    published: list[object] = []
    monitor = LiveSlaMonitor(store, published.append, clock)
    calls = 0
    real_watch_list = store.sla_watch_list

    async def flaky() -> SlaWatchList:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("database away")
        return await real_watch_list()

    store.sla_watch_list = flaky  # type: ignore[method-assign]
    task = asyncio.create_task(monitor.run(0.01))
    for _ in range(200):
        await asyncio.sleep(0.01)
        if calls >= 3:
            break
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert calls >= 3
    assert published == [SlaBreached(1, ClockKind.FIRST_RESPONSE, T0 + timedelta(minutes=30))]


def test_metrics_count_warnings_and_breaches_per_clock() -> None:
    registry, bus = CollectorRegistry(), EventBus()
    bus.subscribe(SlaEvent, TicketMetrics(registry).on_event)
    value = registry.get_sample_value
    for kind in ClockKind:
        assert value("callcenter_ticket_sla_warnings_total", {"clock": kind.value}) == 0
        assert value("callcenter_ticket_sla_breaches_total", {"clock": kind.value}) == 0
    bus.publish(SlaWarning(1, ClockKind.RESOLUTION, T0, 0.8, T0))
    bus.publish(SlaWarning(2, ClockKind.RESOLUTION, None, 0.8, T0))
    bus.publish(SlaBreached(1, ClockKind.FIRST_RESPONSE, T0))
    assert value("callcenter_ticket_sla_warnings_total", {"clock": "resolution"}) == 2
    assert value("callcenter_ticket_sla_breaches_total", {"clock": "first_response"}) == 1
    assert value("callcenter_ticket_sla_breaches_total", {"clock": "resolution"}) == 0


def test_setup_from_the_ticketing_settings() -> None:
    setup = sla_setup(TicketingSettings())
    assert (setup.default_policy, setup.warn_at) == ("standard", (0.8,))
    assert setup.calendar.zone.key == "Asia/Shanghai"
    assert not setup.calendar.is_open(datetime(2026, 3, 7, 10, tzinfo=UTC))  # a Saturday
    assert setup.policy("premium").target(ClockKind.ONSITE_ARRIVAL) == 30 * 60
    assert setup.policy("premium").warn_at == (0.8,)
    assert setup.policy("no-such-policy").name == "standard"

    always = sla_setup(
        TicketingSettings(sla_always_open=True, sla_timezone="UTC", sla_warn_fraction=0.5)
    )
    assert always.calendar.is_open(datetime(2026, 3, 7, 3, tzinfo=UTC))
    assert always.warn_at == (0.5,)


@pytest.mark.parametrize(
    ("variable", "value", "key"),
    [
        ("CALLCENTER_TICKETING_SLA_WARN_FRACTION", "1", "ticketing.sla_warn_fraction"),
        ("CALLCENTER_TICKETING_SLA_POLICY", "gold", "ticketing.sla_policy"),
        ("CALLCENTER_TICKETING_SLA_TIMEZONE", "Mars/Olympus", "ticketing"),
        ("CALLCENTER_TICKETING_SLA_SCAN_SECONDS", "0", "ticketing.sla_scan_seconds"),
    ],
)
def test_bad_sla_settings_are_refused(variable: str, value: str, key: str, tmp_path: Path) -> None:
    empty = tmp_path / "callcenter.yaml"
    empty.write_text("")
    with pytest.raises(ConfigError, match=key):
        load_settings(empty, environ={variable: value})
