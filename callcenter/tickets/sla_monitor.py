"""The SLA clocks made live: a periodic scan that announces warnings and breaches once.

Each scan reads the clocks that may still have something to say from the store, lets the
pure `sla.SlaMonitor` decide (levels, breaches, the breach superseding pending warnings),
writes the announcements, then publishes them as typed events. Writing comes first, and
only what this scan managed to write is published: a restart, or a second process on the
same database, never announces a clock's warning or breach twice. A crash between the
write and the publish loses that one announcement rather than repeating it.

Nothing here reads the time by itself: `scan(now)` takes the instant, `run` asks the
injected `Clock`, so tests drive it with a manual clock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from callcenter.clock import Clock
from callcenter.settings import TicketingSettings
from callcenter.tickets import sla
from callcenter.tickets.calendar import BusinessCalendar
from callcenter.tickets.sla import ClockKind, ClockState, EventKey
from callcenter.tickets.store import SlaSetup, SlaWatchList

log = logging.getLogger(__name__)

BREACH = "breach"


@dataclass(frozen=True)
class SlaEvent:
    """An announcement about one clock of one ticket; subscribe to this for both kinds."""

    ticket_id: int
    clock: ClockKind
    #: When the clock's target is (or was) reached: the breach instant for a breach; None
    #: for a warning on a paused clock, whose due time depends on when it resumes.
    due_at: datetime | None


@dataclass(frozen=True)
class SlaWarning(SlaEvent):
    """The clock used `level` of its target (reached at `reached_at`): act before `due_at`."""

    level: float
    reached_at: datetime


@dataclass(frozen=True)
class SlaBreached(SlaEvent):
    """The clock went past its target at `due_at`."""


class SlaClockStore(Protocol):
    """What the monitor needs of the ticket store (`SqlTicketStore` implements it)."""

    async def sla_watch_list(self) -> SlaWatchList: ...

    async def record_sla_scan(
        self,
        events: Sequence[tuple[EventKey, datetime]],
        settled: Sequence[tuple[int, ClockKind, datetime]],
        now: datetime,
    ) -> set[EventKey]: ...


def sla_setup(settings: TicketingSettings) -> SlaSetup:
    """The clocks new tickets get, from the `ticketing` settings."""
    if settings.sla_always_open:
        calendar = BusinessCalendar.always_open(settings.sla_timezone)
    else:
        calendar = BusinessCalendar.standard(settings.sla_timezone, name="office")
    return SlaSetup(
        default_policy=settings.sla_policy,
        warn_at=(settings.sla_warn_fraction,),
        calendar=calendar,
    )


class LiveSlaMonitor:
    """Scans the open tickets' clocks through the store and publishes `SlaEvent`s."""

    def __init__(
        self, store: SlaClockStore, publish: Callable[[object], None], clock: Clock
    ) -> None:
        self._store = store
        self._publish = publish
        self._clock = clock

    async def scan(self, now: datetime) -> list[SlaEvent]:
        """Announce what became due up to `now`, each once ever; returns what was published."""
        watch = await self._store.sla_watch_list()
        decider = sla.SlaMonitor(watch.announced)
        for clock in watch.clocks:
            decider.track(clock)
        outcomes = decider.tick(now)
        by_key = {(c.ticket_id, c.kind): c for c in watch.clocks}
        pending = [
            _announcement(by_key[(outcome.ticket_id, outcome.clock)], outcome, now)
            for outcome in outcomes
        ]
        settled = [
            (clock.ticket_id, clock.kind, clock.stopped_at)
            for clock in watch.clocks
            if clock.stopped_at is not None and _settled(clock, now, decider.emitted)
        ]
        if not pending and not settled:
            return []
        written = await self._store.record_sla_scan(
            [(key, at) for key, at, _ in pending], settled, now
        )
        published = [event for key, _, event in pending if key in written]
        for event in published:
            self._publish(event)
        return published

    async def run(self, interval: float) -> None:
        """Scan now, then every `interval` seconds until cancelled; a failed scan (the
        database away) is logged and tried again at the next interval."""
        while True:
            try:
                await self.scan(datetime.fromtimestamp(self._clock.now(), UTC))
            except Exception:
                log.exception("SLA scan failed; trying again in %.0f s", interval)
            await asyncio.sleep(interval)


def _announcement(
    clock: sla.SlaClock, outcome: sla.SlaEvent, now: datetime
) -> tuple[EventKey, datetime, SlaEvent]:
    """The pure monitor's outcome as its persisted key, its instant, and the event.

    The key is the one `sla.SlaMonitor` keeps in `emitted`, so what is read back after a
    restart suppresses exactly what was announced.
    """
    target = clock.target_seconds
    kind = clock.kind
    if isinstance(outcome, sla.SlaBreached):
        key: EventKey = (clock.ticket_id, kind.value, BREACH, target)
        return key, outcome.at, SlaBreached(clock.ticket_id, kind, outcome.at)
    key = (clock.ticket_id, kind.value, repr(outcome.level), target)
    due = sla.evaluate(clock, now).due_at
    return key, outcome.at, SlaWarning(clock.ticket_id, kind, due, outcome.level, outcome.at)


def _settled(clock: sla.SlaClock, now: datetime, emitted: set[EventKey]) -> bool:
    """A stopped clock has nothing more to say once met, or once its breach is known."""
    state = sla.evaluate(clock, now).state
    if state is ClockState.MET:
        return True
    return (clock.ticket_id, clock.kind.value, BREACH, clock.target_seconds) in emitted
