"""Service hours of a client organisation, and business time counted on them.

The desk works on working days, excluding Saturdays, Sundays and public holidays, within
the hours each client's contract names (MISSION.md). A `BusinessCalendar` holds those:
a time zone, the open intervals of each weekday (possibly split, 08:30-12:00 and
13:00-17:30) and the holiday dates. Pure: no clock is read, every instant is passed in.

Semantics (docs/ticketing.md):

- Open intervals are local wall-clock times in the calendar's zone; each is turned into
  two instants on its own date, so a DST change moves the instants, not the wall times.
- Business time is real elapsed time inside open intervals: 24x7 over the spring-forward
  night counts 23 hours for that day, 25 over the fall-back night.
- A boundary that does not exist locally (in the spring-forward gap) is read with the
  offset before the change (zoneinfo's `fold=0`); an ambiguous one (fall-back) is its
  first occurrence. An interval that comes out empty that way is skipped.
- Holidays are local dates: the whole date is closed.
- Instants must be aware; naive datetimes are refused (CalendarError).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: A calendar with no open interval within this many days of an instant is refused there.
MAX_SEARCH_DAYS = 3 * 366

_HHMM = re.compile(r"^(\d{2}):(\d{2})$")


class CalendarError(ValueError):
    """A calendar given as data is invalid, or an instant cannot be used (one line)."""


@dataclass(frozen=True)
class OpenInterval:
    """Open from `start` to `end`, local wall time; `end` of None means midnight (24:00)."""

    start: time
    end: time | None

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or (self.end is not None and self.end.tzinfo):
            raise CalendarError("open interval times must be local wall times, without tzinfo")
        if self.end is not None and self.end <= self.start:
            raise CalendarError(f"open interval {self}: end must be after start")

    def __str__(self) -> str:
        end = "24:00" if self.end is None else self.end.strftime("%H:%M")
        return f"{self.start.strftime('%H:%M')}-{end}"

    @classmethod
    def parse(cls, text: str) -> OpenInterval:
        """`"08:30-12:00"`; `"00:00-24:00"` for a whole day."""
        parts = text.strip().split("-")
        if len(parts) != 2:
            raise CalendarError(f"open interval {text!r}: expected HH:MM-HH:MM")
        start = _parse_hhmm(parts[0], text, allow_24=False)
        if start is None:  # pragma: no cover - allow_24=False never yields None
            raise CalendarError(f"open interval {text!r}: cannot start at 24:00")
        end = _parse_hhmm(parts[1], text, allow_24=True)
        return cls(start, end)


def _parse_hhmm(part: str, whole: str, *, allow_24: bool) -> time | None:
    match = _HHMM.match(part.strip())
    if not match:
        raise CalendarError(f"open interval {whole!r}: {part.strip()!r} is not HH:MM")
    hour, minute = int(match.group(1)), int(match.group(2))
    if allow_24 and hour == 24 and minute == 0:
        return None
    if hour > 23 or minute > 59:
        raise CalendarError(f"open interval {whole!r}: {part.strip()!r} is not a time of day")
    return time(hour, minute)


WHOLE_DAY = (OpenInterval(time(0, 0), None),)
OFFICE_HOURS = (OpenInterval(time(8, 30), time(12, 0)), OpenInterval(time(13, 0), time(17, 30)))


@dataclass(frozen=True)
class BusinessCalendar:
    """One organisation's service hours. Build with `standard`, `always_open` or `from_data`."""

    zone: ZoneInfo
    #: Open intervals per weekday, Monday = 0; a weekday absent or empty is closed.
    hours: Mapping[int, tuple[OpenInterval, ...]]
    holidays: frozenset[date] = field(default_factory=frozenset)
    name: str = ""

    def __post_init__(self) -> None:
        cleaned: dict[int, tuple[OpenInterval, ...]] = {}
        for weekday, intervals in self.hours.items():
            if weekday not in range(7):
                raise CalendarError(f"calendar {self.name}: weekday {weekday} is not 0..6")
            ordered = tuple(sorted(intervals, key=lambda interval: interval.start))
            for before, after in pairwise(ordered):
                if before.end is None or after.start < before.end:
                    raise CalendarError(
                        f"calendar {self.name}: {WEEKDAYS[weekday]} intervals {before} and "
                        f"{after} overlap"
                    )
            if ordered:
                cleaned[weekday] = ordered
        if not cleaned:
            raise CalendarError(f"calendar {self.name}: no working day")
        object.__setattr__(self, "hours", cleaned)
        object.__setattr__(self, "holidays", frozenset(self.holidays))

    # -- construction ------------------------------------------------------------------

    @classmethod
    def standard(
        cls,
        zone: str | ZoneInfo,
        intervals: Iterable[OpenInterval] = OFFICE_HOURS,
        workdays: Iterable[int] = range(5),
        holidays: Iterable[date] = (),
        name: str = "",
    ) -> BusinessCalendar:
        """The same intervals on each of `workdays` (Monday-Friday by default)."""
        spans = tuple(intervals)
        return cls(
            zone=_zone(zone),
            hours={day: spans for day in workdays},
            holidays=frozenset(holidays),
            name=name,
        )

    @classmethod
    def always_open(cls, zone: str | ZoneInfo = "UTC", name: str = "24x7") -> BusinessCalendar:
        """24x7: every instant is business time, no holidays."""
        return cls(zone=_zone(zone), hours={day: WHOLE_DAY for day in range(7)}, name=name)

    @classmethod
    def from_data(cls, data: Mapping[str, Any], name: str = "") -> BusinessCalendar:
        """A calendar from configuration data::

            {"timezone": "Asia/Shanghai",
             "hours": {"mon": ["08:30-12:00", "13:00-17:30"], ..., "sat": []},
             "holidays": ["2026-10-01", ...]}

        or `{"timezone": "UTC", "always_open": true}`. Unknown keys are refused.
        """
        label = name or str(data.get("name", ""))
        known = {"name", "timezone", "hours", "holidays", "always_open"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise CalendarError(f"calendar {label}: unknown key {unknown[0]!r}")
        if "timezone" not in data:
            raise CalendarError(f"calendar {label}: timezone missing")
        zone = _zone(data["timezone"])
        holidays = frozenset(_parse_date(item, label) for item in data.get("holidays", ()))
        if data.get("always_open"):
            if "hours" in data:
                raise CalendarError(f"calendar {label}: always_open and hours both given")
            return cls(zone, {day: WHOLE_DAY for day in range(7)}, holidays, label)
        hours_data = data.get("hours")
        if not isinstance(hours_data, Mapping):
            raise CalendarError(f"calendar {label}: hours must map weekday names to intervals")
        hours: dict[int, tuple[OpenInterval, ...]] = {}
        for day_name, spans in hours_data.items():
            key = str(day_name).strip().lower()[:3]
            if key not in WEEKDAYS:
                raise CalendarError(f"calendar {label}: {day_name!r} is not a weekday")
            if isinstance(spans, str) or not isinstance(spans, Iterable):
                raise CalendarError(f"calendar {label}: {day_name} must list intervals")
            hours[WEEKDAYS.index(key)] = tuple(OpenInterval.parse(str(s)) for s in spans)
        return cls(zone, hours, holidays, label)

    # -- queries -------------------------------------------------------------------------

    def is_open(self, t: datetime) -> bool:
        t = _aware(t)
        return any(start <= t < end for start, end in self._around(t))

    def next_open(self, t: datetime) -> datetime:
        """`t` itself if open, else the start of the next open interval (in the calendar's zone)."""
        t = _aware(t)
        for start, end in self._intervals_from(t):
            if end > t:
                return max(start, t).astimezone(self.zone)
        raise CalendarError(f"calendar {self.name}: never open after {t.isoformat()}")

    def business_seconds_between(self, a: datetime, b: datetime) -> float:
        """Open seconds in [a, b); negative when b is before a."""
        a, b = _aware(a), _aware(b)
        if b < a:
            return -self.business_seconds_between(b, a)
        total = 0.0
        for start, end in self._intervals_from(a):
            if start >= b:
                break
            lo, hi = max(start, a), min(end, b)
            if hi > lo:
                total += (hi - lo).total_seconds()
        return total

    def add_business_seconds(self, start: datetime, seconds: float) -> datetime:
        """The instant when `seconds` of business time have passed since `start`.

        Zero returns `start` unchanged; a result that lands exactly on the end of an
        open interval is that end (17:30), not the next opening.
        """
        start = _aware(start)
        if seconds < 0:
            raise CalendarError("add_business_seconds: seconds must not be negative")
        if seconds == 0:
            return start.astimezone(self.zone)
        remaining = timedelta(seconds=seconds)
        for lo, hi in self._intervals_from(start):
            if hi <= start:
                continue
            begin = max(lo, start)
            available = hi - begin
            if remaining <= available:
                return (begin + remaining).astimezone(self.zone)
            remaining -= available
        raise CalendarError(f"calendar {self.name}: never open after {start.isoformat()}")

    def open_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The open intervals of a local date as UTC instants (empty on holidays)."""
        if day in self.holidays:
            return []
        spans: list[tuple[datetime, datetime]] = []
        for interval in self.hours.get(day.weekday(), ()):
            lo = datetime.combine(day, interval.start, self.zone).astimezone(UTC)
            if interval.end is None:
                local_end = datetime.combine(day + timedelta(days=1), time(0), self.zone)
            else:
                local_end = datetime.combine(day, interval.end, self.zone)
            hi = local_end.astimezone(UTC)
            if hi > lo:
                spans.append((lo, hi))
        return spans

    # -- internals ---------------------------------------------------------------------

    def _around(self, t: datetime) -> Iterator[tuple[datetime, datetime]]:
        local = t.astimezone(self.zone).date()
        for offset in (-1, 0, 1):
            yield from self.open_intervals(local + timedelta(days=offset))

    def _intervals_from(self, t: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open intervals in time order, from the day before `t`'s local date onwards.

        Stops after MAX_SEARCH_DAYS days without an open interval (a calendar whose
        holidays cover everything), so a search can never loop forever.
        """
        day = t.astimezone(self.zone).date() - timedelta(days=1)
        idle = 0
        while idle <= MAX_SEARCH_DAYS:
            spans = self.open_intervals(day)
            if spans:
                idle = 0
                yield from spans
            else:
                idle += 1
            day += timedelta(days=1)


def _zone(value: object) -> ZoneInfo:
    if isinstance(value, ZoneInfo):
        return value
    try:
        return ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CalendarError(f"unknown time zone {value!r}") from exc


def _parse_date(value: object, label: str) -> date:
    if isinstance(value, datetime):
        raise CalendarError(f"calendar {label}: holiday {value!r} must be a date, not a time")
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise CalendarError(f"calendar {label}: holiday {value!r} is not YYYY-MM-DD") from exc


def _aware(t: datetime) -> datetime:
    """`t` in UTC: arithmetic on a zone's datetimes is wall-clock arithmetic in Python
    (22:00 + 5 h is 03:00 even across a DST change), so all sums are done in UTC."""
    if t.tzinfo is None or t.utcoffset() is None:
        raise CalendarError(f"naive datetime {t.isoformat()}: instants must be aware")
    return t.astimezone(UTC)


def calendar_data(calendar: BusinessCalendar) -> dict[str, Any]:
    """The calendar in `BusinessCalendar.from_data` form, as a clock row keeps it."""
    return {
        "name": calendar.name,
        "timezone": calendar.zone.key,
        "hours": {
            WEEKDAYS[day]: [str(interval) for interval in spans]
            for day, spans in sorted(calendar.hours.items())
        },
        "holidays": sorted(day.isoformat() for day in calendar.holidays),
    }
