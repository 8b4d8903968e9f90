"""Business hours: working days, opening times per day, public holidays, a time zone.

Whether the desk is open is computed from a Unix time (the injected clock) converted to
local time in the schedule's zone by zoneinfo, so a DST change moves nothing: 08:30 is
08:30 on the wall clock of the desk, before and after the change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_A_DAY = 24 * 60


@dataclass(frozen=True)
class BusinessHours:
    """Open intervals per weekday (0 = Monday) in minutes since local midnight, [start, end)."""

    timezone: str = "UTC"
    always: bool = False
    weekly: Mapping[int, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    holidays: Mapping[dt.date, str] = field(default_factory=dict)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, timestamp: float) -> dt.datetime:
        return dt.datetime.fromtimestamp(timestamp, self.zone)

    def is_open(self, timestamp: float) -> bool:
        return self.why(timestamp)[0]

    def why(self, timestamp: float) -> tuple[bool, str]:
        """Open or not, and a short reason for logs and `ivr walk`."""
        if self.always:
            return True, "open around the clock"
        local = self.local(timestamp)
        stamp = f"{local:%a %Y-%m-%d %H:%M} {self.timezone}"
        holiday = self.holidays.get(local.date())
        if holiday is not None:
            return False, f"{stamp}: public holiday ({holiday})"
        intervals = self.weekly.get(local.weekday(), ())
        if not intervals:
            return False, f"{stamp}: not a working day"
        minute = local.hour * 60 + local.minute + local.second / 60
        for start, end in intervals:
            if start <= minute < end:
                return True, f"{stamp}: within {_span(start, end)}"
        spans = ", ".join(_span(s, e) for s, e in intervals)
        return False, f"{stamp}: outside {spans}"


def _span(start: int, end: int) -> str:
    return f"{_clock(start)}-{_clock(end)}"


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_clock(text: str) -> int:
    """'08:30' -> 510; '24:00' is the end of the day."""
    hours, sep, minutes = text.strip().partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2:
        raise ValueError(f"{text!r} is not HH:MM")
    value = int(hours) * 60 + int(minutes)
    if int(minutes) >= 60 or value > MINUTES_A_DAY:
        raise ValueError(f"{text!r} is not a time of day")
    return value


def parse_interval(text: str) -> tuple[int, int]:
    """'08:30-17:30' -> (510, 1050)."""
    start, sep, end = str(text).partition("-")
    if not sep:
        raise ValueError(f"{text!r} is not HH:MM-HH:MM")
    first, last = parse_clock(start), parse_clock(end)
    if first >= last:
        raise ValueError(f"{text!r} ends before it starts")
    return first, last


def parse_days(key: str) -> list[int]:
    """'mon' -> [0]; 'mon-fri' -> [0..4]; 'sat,sun' -> [5, 6]."""
    days: list[int] = []
    for part in str(key).lower().split(","):
        first, sep, last = part.strip().partition("-")
        if first not in DAYS or (sep and last not in DAYS):
            raise ValueError(f"{key!r} is not a day or a range of days such as mon-fri")
        a = DAYS.index(first)
        b = DAYS.index(last) if sep else a
        if b < a:
            raise ValueError(f"{key!r}: the range runs backwards")
        days += range(a, b + 1)
    return days
