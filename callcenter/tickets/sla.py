"""Service level agreements on tickets: policies as data, clocks, and a breach monitor.

Each client organisation has a policy (MISSION.md: standard clients get an engineer on
site within 4 hours, premium clients within 10 to 30 minutes). A ticket has up to three
clocks: first response, on-site arrival, resolution. A clock counts business time on the
organisation's calendar, only while it runs; it pauses while the ticket waits for the
customer. Everything here is pure: instants are passed in, nothing is read or stored.

Decisions (docs/ticketing.md):

- A clock keeps the target of the policy it started with. Editing a policy does not
  move due dates of open tickets; `retarget` does, explicitly (e.g. on a priority change),
  keeping the elapsed time.
- A clock also keeps the calendar it started with.
- Reopening a resolved ticket resumes its resolution clock: the time before resolution
  still counts, the time it spent resolved does not.
- Met or breached: a stopped clock is met when its elapsed business time is at most the
  target. A running or paused clock is breached once elapsed exceeds the target; the
  due instant itself still counts as in time.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from callcenter.tickets.calendar import BusinessCalendar
from callcenter.tickets.workflow import FINAL_STATUSES, Status


class SlaError(ValueError):
    """An invalid policy or an impossible clock operation (one line)."""


class ClockKind(enum.StrEnum):
    FIRST_RESPONSE = "first_response"
    ONSITE_ARRIVAL = "onsite_arrival"
    RESOLUTION = "resolution"


class ClockState(enum.StrEnum):
    NOT_STARTED = "not_started"
    RUNNING = "running"
    PAUSED = "paused"
    MET = "met"
    BREACHED = "breached"


DEFAULT_WARN_AT = (0.75, 0.9)
DEFAULT_PAUSE_STATUSES = frozenset({Status.WAITING_CUSTOMER})
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "min": 60, "h": 3600}


def parse_duration(value: object, where: str = "duration") -> float:
    """`"30m"`, `"4h"`, `"90s"` or a number of seconds -> seconds (business time).

    There is no "day" unit on purpose: a business day is as long as the calendar's
    working day, so "2 business days" of an 8-hour calendar is written `"16h"`.
    """
    if isinstance(value, bool):
        raise SlaError(f"{where}: {value!r} is not a duration")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise SlaError(f"{where}: {value!r} is not a duration like 30m, 4h or 90s")
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds <= 0:
        raise SlaError(f"{where}: {value!r} must be positive")
    return seconds


@dataclass(frozen=True)
class SlaPolicy:
    """Targets in business seconds per clock, optionally overridden per priority."""

    name: str
    targets: Mapping[ClockKind, float]
    by_priority: Mapping[int, Mapping[ClockKind, float]] = field(default_factory=dict)
    warn_at: tuple[float, ...] = DEFAULT_WARN_AT
    pause_statuses: frozenset[Status] = DEFAULT_PAUSE_STATUSES
    version: int = 1

    def __post_init__(self) -> None:
        for level in self.warn_at:
            if not 0 < level < 1:
                raise SlaError(f"sla policy {self.name}: warning level {level} not in (0, 1)")
        object.__setattr__(self, "warn_at", tuple(sorted(set(self.warn_at))))
        for kind, seconds in self.targets.items():
            if seconds <= 0:
                raise SlaError(f"sla policy {self.name}: {kind.value} target must be positive")

    @property
    def key(self) -> str:
        return f"{self.name}@{self.version}"

    def target(self, kind: ClockKind, priority: int | None = None) -> float | None:
        """Business seconds for `kind` (None: this policy does not time it)."""
        if priority is not None and kind in self.by_priority.get(priority, {}):
            return self.by_priority[priority][kind]
        return self.targets.get(kind)

    @classmethod
    def from_data(cls, name: str, data: Mapping[str, object]) -> SlaPolicy:
        """A policy from configuration data::

        {"first_response": "30m", "onsite_arrival": "4h", "resolution": "16h",
         "by_priority": {1: {"resolution": "4h"}}, "warn_at": [0.75, 0.9],
         "pause_statuses": ["waiting_customer"], "version": 1}
        """
        known = {k.value for k in ClockKind} | {
            "by_priority",
            "warn_at",
            "pause_statuses",
            "version",
        }
        unknown = sorted(str(k) for k in data if k not in known)
        if unknown:
            raise SlaError(f"sla policy {name}: unknown key {unknown[0]!r}")
        targets = _targets(data, f"sla policy {name}")
        by_priority: dict[int, dict[ClockKind, float]] = {}
        raw_bp = data.get("by_priority", {})
        if not isinstance(raw_bp, Mapping):
            raise SlaError(f"sla policy {name}: by_priority must map priorities to targets")
        for prio, overrides in raw_bp.items():
            try:
                p = int(prio)
            except (TypeError, ValueError):
                raise SlaError(f"sla policy {name}: priority {prio!r} is not 1..5") from None
            if not 1 <= p <= 5 or not isinstance(overrides, Mapping):
                raise SlaError(f"sla policy {name}: by_priority {prio!r} is invalid")
            extra = sorted(str(k) for k in overrides if k not in {c.value for c in ClockKind})
            if extra:
                raise SlaError(f"sla policy {name}: priority {p}: unknown clock {extra[0]!r}")
            by_priority[p] = _targets(overrides, f"sla policy {name}: priority {p}")
        warn_raw = data.get("warn_at", DEFAULT_WARN_AT)
        if isinstance(warn_raw, (str, bytes)) or not isinstance(warn_raw, Sequence):
            raise SlaError(f"sla policy {name}: warn_at must be a list of fractions")
        warn: list[float] = []
        for level in warn_raw:
            if isinstance(level, bool) or not isinstance(level, (int, float)):
                raise SlaError(f"sla policy {name}: warning level {level!r} is not a number")
            warn.append(float(level))
        pause_raw = data.get("pause_statuses", [s.value for s in DEFAULT_PAUSE_STATUSES])
        if isinstance(pause_raw, (str, bytes)) or not isinstance(pause_raw, Iterable):
            raise SlaError(f"sla policy {name}: pause_statuses must be a list")
        pauses: set[Status] = set()
        for status in pause_raw:
            try:
                pauses.add(Status(status))
            except ValueError:
                raise SlaError(f"sla policy {name}: unknown status {status!r}") from None
        if pauses & (FINAL_STATUSES | {Status.RESOLVED}):
            raise SlaError(f"sla policy {name}: resolved/closed/cancelled cannot pause")
        version = data.get("version", 1)
        if isinstance(version, bool) or not isinstance(version, int):
            raise SlaError(f"sla policy {name}: version must be a whole number")
        return cls(name, targets, by_priority, tuple(warn), frozenset(pauses), version)


def _targets(
    data: Mapping[str, object] | Mapping[object, object], where: str
) -> dict[ClockKind, float]:
    found: dict[ClockKind, float] = {}
    for kind in ClockKind:
        if kind.value in data:
            found[kind] = parse_duration(data[kind.value], f"{where}: {kind.value}")
    return found


#: MISSION.md: standard clients, service desk plus on-site engineers within 4 hours;
#: resolution 2 business days of the 8-hour standard calendar.
STANDARD = SlaPolicy(
    "standard",
    {
        ClockKind.FIRST_RESPONSE: 30 * 60,
        ClockKind.ONSITE_ARRIVAL: 4 * 3600,
        ClockKind.RESOLUTION: 16 * 3600,
    },
)
#: MISSION.md: premium clients, resident engineers on site within 10 to 30 minutes.
PREMIUM = SlaPolicy(
    "premium",
    {
        ClockKind.FIRST_RESPONSE: 10 * 60,
        ClockKind.ONSITE_ARRIVAL: 30 * 60,
        ClockKind.RESOLUTION: 8 * 3600,
    },
)


# -- clocks ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """A stretch during which the clock ran; `end` None while it still runs."""

    start: datetime
    end: datetime | None = None


@dataclass(frozen=True)
class SlaClock:
    """One clock of one ticket. Immutable: every operation returns a new clock."""

    ticket_id: int
    kind: ClockKind
    target_seconds: float
    calendar: BusinessCalendar
    policy: str = ""  # SlaPolicy.key it was started under
    warn_at: tuple[float, ...] = DEFAULT_WARN_AT
    segments: tuple[Segment, ...] = ()
    stopped_at: datetime | None = None

    @property
    def running(self) -> bool:
        return bool(self.segments) and self.segments[-1].end is None

    @property
    def stopped(self) -> bool:
        return self.stopped_at is not None

    def _where(self) -> str:
        return f"ticket {self.ticket_id} {self.kind.value} clock"

    def start(self, now: datetime) -> SlaClock:
        now = _aware(now)
        if self.segments or self.stopped:
            raise SlaError(f"{self._where()}: already started")
        return replace(self, segments=(Segment(now),))

    def pause(self, now: datetime) -> SlaClock:
        now = _aware(now)
        if not self.running:
            raise SlaError(f"{self._where()}: not running")
        return replace(self, segments=_close_last(self.segments, now, self._where()))

    def resume(self, now: datetime) -> SlaClock:
        """Run again after a pause, or after a stop (a reopened ticket); elapsed is kept."""
        now = _aware(now)
        if not self.segments:
            raise SlaError(f"{self._where()}: never started")
        if self.running:
            raise SlaError(f"{self._where()}: already running")
        last_end = self.segments[-1].end
        assert last_end is not None
        if now < last_end:
            raise SlaError(f"{self._where()}: resumed before it last stopped")
        return replace(self, segments=(*self.segments, Segment(now)), stopped_at=None)

    def stop(self, now: datetime) -> SlaClock:
        """The clock's event happened (responded, arrived, resolved): met or breached."""
        now = _aware(now)
        if self.stopped:
            raise SlaError(f"{self._where()}: already stopped")
        if not self.segments:
            raise SlaError(f"{self._where()}: never started")
        segments = _close_last(self.segments, now, self._where()) if self.running else self.segments
        return replace(self, segments=segments, stopped_at=now)


def new_clock(
    ticket_id: int,
    kind: ClockKind,
    policy: SlaPolicy,
    calendar: BusinessCalendar,
    priority: int | None = None,
) -> SlaClock | None:
    """A not-yet-started clock with the policy's target, or None if the policy has none."""
    target = policy.target(kind, priority)
    if target is None:
        return None
    return SlaClock(ticket_id, kind, target, calendar, policy.key, policy.warn_at)


def retarget(clock: SlaClock, policy: SlaPolicy, priority: int | None = None) -> SlaClock:
    """The clock measured against `policy` from now on, its elapsed time kept."""
    target = policy.target(clock.kind, priority)
    if target is None:
        raise SlaError(f"sla policy {policy.key} has no {clock.kind.value} target")
    return replace(clock, target_seconds=target, policy=policy.key, warn_at=policy.warn_at)


@dataclass(frozen=True)
class SlaStatus:
    state: ClockState
    #: When elapsed reaches the target: in the future while running in time, the breach
    #: instant once breached; None while paused (unknown), met or not started.
    due_at: datetime | None
    remaining: timedelta  # business time left; negative once breached
    elapsed: timedelta  # business time counted so far
    fraction: float  # elapsed / target


def elapsed_seconds(clock: SlaClock, now: datetime) -> float:
    total = 0.0
    for segment in clock.segments:
        end = segment.end if segment.end is not None else now
        if end > segment.start:
            total += clock.calendar.business_seconds_between(segment.start, end)
    return total


def crossing_at(clock: SlaClock, seconds: float) -> datetime | None:
    """The instant the clock's elapsed time reached `seconds`, or will if it keeps running.

    None if it has not reached it and is not running (paused or stopped short of it).
    """
    left = seconds
    for segment in clock.segments:
        if segment.end is None:
            return clock.calendar.add_business_seconds(segment.start, left)
        used = clock.calendar.business_seconds_between(segment.start, segment.end)
        if used >= left:
            return clock.calendar.add_business_seconds(segment.start, left)
        left -= used
    return None


def evaluate(clock: SlaClock, now: datetime) -> SlaStatus:
    now = _aware(now)
    target = clock.target_seconds
    if not clock.segments:
        return SlaStatus(ClockState.NOT_STARTED, None, timedelta(seconds=target), timedelta(0), 0.0)
    until = clock.stopped_at if clock.stopped_at is not None else now
    elapsed = elapsed_seconds(clock, until)
    over = elapsed > target
    if clock.stopped:
        state = ClockState.BREACHED if over else ClockState.MET
    elif over:
        state = ClockState.BREACHED
    else:
        state = ClockState.RUNNING if clock.running else ClockState.PAUSED
    due = crossing_at(clock, target) if over or clock.running else None
    return SlaStatus(
        state,
        due,
        timedelta(seconds=target - elapsed),
        timedelta(seconds=elapsed),
        elapsed / target,
    )


# -- clocks following the ticket's status ------------------------------------------------


def follow_status(
    clocks: Mapping[ClockKind, SlaClock],
    old: Status,
    new: Status,
    now: datetime,
    pause_statuses: frozenset[Status] = DEFAULT_PAUSE_STATUSES,
) -> dict[ClockKind, SlaClock]:
    """The ticket's clocks after a status move (the workflow's `transition`).

    - into a pause status (waiting_customer): every running clock pauses;
    - out of a pause status into work: paused clocks resume;
    - in_progress or resolved: first response stops (the customer was answered);
    - resolved: resolution stops, and a still-running on-site clock stops too;
    - resolved -> in_progress (reopen): resolution resumes, keeping its elapsed time;
    - closed or cancelled: every clock stops.
    Clocks not started are left alone except resolution, which `start_clocks` starts.
    """
    now = _aware(now)
    out = dict(clocks)

    def update(kind: ClockKind, op: str) -> None:
        clock = out.get(kind)
        if clock is None or not clock.segments:
            return
        if op == "pause" and clock.running:
            out[kind] = clock.pause(now)
        elif op == "resume" and not clock.running and not clock.stopped:
            out[kind] = clock.resume(now)
        elif op == "stop" and not clock.stopped:
            out[kind] = clock.stop(now)
        elif op == "reopen" and clock.stopped:
            out[kind] = clock.resume(now)

    if new in FINAL_STATUSES:
        for kind in ClockKind:
            update(kind, "stop")
        return out
    if old is Status.RESOLVED and new is Status.IN_PROGRESS:
        update(ClockKind.RESOLUTION, "reopen")
        return out
    if new in pause_statuses:
        for kind in ClockKind:
            update(kind, "pause")
        return out
    if old in pause_statuses:
        for kind in ClockKind:
            update(kind, "resume")
    if new in (Status.IN_PROGRESS, Status.RESOLVED):
        update(ClockKind.FIRST_RESPONSE, "stop")
    if new is Status.RESOLVED:
        update(ClockKind.RESOLUTION, "stop")
        update(ClockKind.ONSITE_ARRIVAL, "stop")
    return out


def start_clocks(
    ticket_id: int,
    policy: SlaPolicy,
    calendar: BusinessCalendar,
    created_at: datetime,
    priority: int | None = None,
) -> dict[ClockKind, SlaClock]:
    """A new ticket's clocks: first response and resolution start at creation; the
    on-site clock exists but starts only when an engineer is dispatched
    (`clock.start(dispatched_at)`), and stops when `clock.stop(arrived_at)`."""
    created_at = _aware(created_at)
    clocks: dict[ClockKind, SlaClock] = {}
    for kind in ClockKind:
        clock = new_clock(ticket_id, kind, policy, calendar, priority)
        if clock is None:
            continue
        clocks[kind] = clock if kind is ClockKind.ONSITE_ARRIVAL else clock.start(created_at)
    return clocks


# -- monitor -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlaWarning:
    ticket_id: int
    clock: ClockKind
    level: float  # the fraction of the target that has elapsed, e.g. 0.75
    at: datetime  # the instant that fraction was reached


@dataclass(frozen=True)
class SlaBreached:
    ticket_id: int
    clock: ClockKind
    at: datetime  # the instant the target was exceeded (the due instant)


SlaEvent = SlaWarning | SlaBreached
#: (ticket id, clock, "breach" or the warning level, target seconds)
EventKey = tuple[int, str, str, float]


class SlaMonitor:
    """Watches the open tickets' clocks; `tick(now)` returns each event once.

    No I/O and no clock of its own. What it already emitted is `emitted` (keys
    include the target, so a re-targeted clock warns again against its new target);
    the caller persists it and passes it back after a restart. Once a clock is breached
    its warnings not yet emitted are dropped: the breach says more.
    """

    def __init__(self, emitted: Iterable[EventKey] = ()) -> None:
        self._clocks: dict[tuple[int, ClockKind], SlaClock] = {}
        self.emitted: set[EventKey] = set(emitted)

    def track(self, clock: SlaClock) -> None:
        """Add or replace a clock (call after every change to it)."""
        self._clocks[(clock.ticket_id, clock.kind)] = clock

    def forget(self, ticket_id: int) -> None:
        """The ticket is closed: stop watching its clocks."""
        for key in [key for key in self._clocks if key[0] == ticket_id]:
            del self._clocks[key]

    def clocks(self) -> list[SlaClock]:
        return list(self._clocks.values())

    def tick(self, now: datetime) -> list[SlaEvent]:
        """Events that became due up to `now`, in time order, each only once."""
        now = _aware(now)
        events: list[SlaEvent] = []
        for (ticket_id, kind), clock in sorted(self._clocks.items()):
            if not clock.segments:
                continue
            status = evaluate(clock, now)
            target = clock.target_seconds
            breach_key: EventKey = (ticket_id, kind.value, "breach", target)
            if status.state is ClockState.BREACHED:
                # A breached clock stays breached for this target: its pending warnings
                # would only be noise after the breach, so they are never emitted.
                if breach_key not in self.emitted and status.due_at is not None:
                    self.emitted.add(breach_key)
                    events.append(SlaBreached(ticket_id, kind, status.due_at))
                continue
            if clock.stopped:
                continue
            for level in clock.warn_at:
                key: EventKey = (ticket_id, kind.value, repr(level), target)
                if key in self.emitted or status.fraction < level:
                    continue
                at = crossing_at(clock, target * level)
                if at is None:  # pragma: no cover - reached implies a crossing
                    continue
                self.emitted.add(key)
                events.append(SlaWarning(ticket_id, kind, level, at))
        events.sort(key=lambda e: (e.at, e.ticket_id, e.clock.value))
        return events


# -- internals -------------------------------------------------------------------------------


def _close_last(segments: tuple[Segment, ...], now: datetime, where: str) -> tuple[Segment, ...]:
    last = segments[-1]
    if now < last.start:
        raise SlaError(f"{where}: cannot stop before {last.start.isoformat()}")
    return (*segments[:-1], Segment(last.start, now))


def _aware(now: datetime) -> datetime:
    """`now` in UTC (same-zone datetimes compare on the wall clock in Python)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise SlaError(f"naive datetime {now.isoformat()}: times must be aware")
    return now.astimezone(UTC)
