"""Intraday arrival profiles: how a day's calls spread over its 15-minute intervals.

A profile is a run of consecutive 15-minute intervals from a start time, each with a
weight; only the weights' proportions matter (`shares` normalises them to sum to 1).
Files give one value per interval start ("HH:MM"), as CSV (`08:30,4` per line, a header
line allowed) or YAML (a mapping `"08:30": 4`, or a list of `{start: "08:30", weight: 4}`).
The same reader loads per-interval agent counts for a staffing plan.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

INTERVAL_SECONDS = 900
INTERVAL_MINUTES = INTERVAL_SECONDS // 60
#: Keys of a YAML list entry that may hold the interval's value.
VALUE_KEYS = ("weight", "agents", "calls", "value")


class ProfileError(ValueError):
    """A profile or interval file that cannot be used; the message says why."""


@dataclass(frozen=True)
class ArrivalProfile:
    """Weights of consecutive 15-minute intervals, the first starting `start_minute`
    minutes after midnight. A profile may run past midnight (a long synthetic run)."""

    start_minute: int
    weights: tuple[float, ...]

    def __post_init__(self) -> None:
        if self.start_minute < 0 or self.start_minute % INTERVAL_MINUTES:
            raise ProfileError(
                f"the profile must start on a quarter hour, not {clock_label(self.start_minute)}"
            )
        if not self.weights:
            raise ProfileError("the profile has no interval")
        for weight in self.weights:
            if not math.isfinite(weight) or weight < 0:
                raise ProfileError(f"weight {weight!r} is not a finite number of 0 or more")
        if sum(self.weights) <= 0:
            raise ProfileError("the weights add up to 0: no call would arrive")

    @classmethod
    def from_mapping(cls, weights: Mapping[int, float]) -> ArrivalProfile:
        """From minute-of-day -> weight; intervals missing between the first and the last
        get weight 0."""
        if not weights:
            raise ProfileError("the profile has no interval")
        for minute in weights:
            check_quarter(minute)
        first, last = min(weights), max(weights)
        count = (last - first) // INTERVAL_MINUTES + 1
        return cls(
            first,
            tuple(float(weights.get(first + n * INTERVAL_MINUTES, 0.0)) for n in range(count)),
        )

    @classmethod
    def flat(cls, intervals: int, start_minute: int = 0) -> ArrivalProfile:
        """Steady load: `intervals` intervals of equal weight."""
        return cls(start_minute, (1.0,) * intervals)

    @property
    def shares(self) -> tuple[float, ...]:
        """The weights normalised to add up to 1."""
        total = sum(self.weights)
        return tuple(w / total for w in self.weights)

    @property
    def end_minute(self) -> int:
        return self.start_minute + len(self.weights) * INTERVAL_MINUTES

    def starts(self) -> list[int]:
        """The start of each interval, in minutes after midnight."""
        return [self.start_minute + n * INTERVAL_MINUTES for n in range(len(self.weights))]

    def describe(self) -> str:
        return f"{clock_label(self.start_minute)}-{clock_label(self.end_minute)}"


def clock_label(minute: int) -> str:
    """The "HH:MM" of a minute after midnight; past 24 h the hours go on (25:15)."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


def parse_clock(text: str) -> int:
    """Minutes after midnight of "HH:MM" (or "H:MM")."""
    hours, sep, minutes = text.strip().partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2:
        raise ProfileError(f"{text!r} is not a time of day as HH:MM")
    value = int(hours) * 60 + int(minutes)
    if int(minutes) >= 60 or value >= 24 * 60:
        raise ProfileError(f"{text!r} is not a time of day as HH:MM")
    return value


def check_quarter(minute: int) -> int:
    if minute % INTERVAL_MINUTES:
        raise ProfileError(f"{clock_label(minute)} does not start a 15-minute interval")
    return minute


def load_series(path: Path) -> dict[int, float]:
    """Minute-of-day -> value from a CSV or YAML file (by its suffix: .yaml/.yml is YAML,
    anything else CSV)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProfileError(f"cannot read {path}: {exc.strerror or exc}") from None
    if path.suffix.lower() in (".yaml", ".yml"):
        return parse_yaml_series(text)
    return parse_csv_series(text)


def parse_csv_series(text: str) -> dict[int, float]:
    """`HH:MM,value` per line; blank lines and `#` comments skipped; a first line whose
    value is not a number is a header."""
    series: dict[int, float] = {}
    rows = [
        row
        for row in csv.reader(io.StringIO(text))
        if row and row[0].strip() and not row[0].lstrip().startswith("#")
    ]
    for number, row in enumerate(rows):
        if len(row) < 2:
            raise ProfileError(f"line {row!r}: expected HH:MM,value")
        if number == 0 and not _is_number(row[1]):
            continue  # a header
        if not _is_number(row[1]):
            raise ProfileError(f"{row[0].strip()}: {row[1].strip()!r} is not a number")
        _put(series, parse_clock(row[0]), float(row[1]))
    return _checked(series)


def parse_yaml_series(text: str) -> dict[int, float]:
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProfileError(f"not valid YAML: {exc}") from None
    series: dict[int, float] = {}
    if isinstance(data, Mapping):
        for key, value in data.items():
            _put(series, _yaml_time(key), _yaml_number(key, value))
    elif isinstance(data, Sequence) and not isinstance(data, str):
        for entry in data:
            if not isinstance(entry, Mapping) or "start" not in entry:
                raise ProfileError(f"entry {entry!r}: expected a mapping with 'start'")
            keys = [k for k in VALUE_KEYS if k in entry]
            if len(keys) != 1:
                raise ProfileError(f"entry {entry!r}: expected one of {', '.join(VALUE_KEYS)}")
            _put(series, _yaml_time(entry["start"]), _yaml_number(entry["start"], entry[keys[0]]))
    else:
        raise ProfileError("expected a mapping of HH:MM to values, or a list of entries")
    return _checked(series)


def _yaml_time(key: Any) -> int:
    # YAML 1.1 reads an unquoted 9:30 or 10:30 as a base-60 integer (hours * 60 + minutes):
    # exactly the minute of the day.
    if isinstance(key, bool):
        raise ProfileError(f"{key!r} is not a time of day as HH:MM")
    if isinstance(key, int):
        if not 0 <= key < 24 * 60:
            raise ProfileError(f"{key!r} is not a time of day as HH:MM")
        return key
    if isinstance(key, str):
        return parse_clock(key)
    raise ProfileError(f"{key!r} is not a time of day as HH:MM")


def _yaml_number(key: Any, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProfileError(f"{key}: {value!r} is not a number")
    return float(value)


def _put(series: dict[int, float], minute: int, value: float) -> None:
    check_quarter(minute)
    if minute in series:
        raise ProfileError(f"{clock_label(minute)} is given twice")
    if not math.isfinite(value) or value < 0:
        raise ProfileError(f"{clock_label(minute)}: {value!r} is not a number of 0 or more")
    series[minute] = value


def _checked(series: dict[int, float]) -> dict[int, float]:
    if not series:
        raise ProfileError("the file gives no interval")
    return series


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _default() -> ArrivalProfile:
    # A typical IT service desk: people log on and find what broke overnight (peak
    # 09:00-11:00), a lunch dip, a second, lower peak 14:00-15:00, a tail off to 17:30.
    curve = {
        "08:30": 4, "08:45": 6, "09:00": 8, "09:15": 9, "09:30": 10, "09:45": 10,
        "10:00": 10, "10:15": 10, "10:30": 9, "10:45": 9, "11:00": 7, "11:15": 6,
        "11:30": 6, "11:45": 5, "12:00": 4, "12:15": 4, "12:30": 4, "12:45": 5,
        "13:00": 5, "13:15": 6, "13:30": 7, "13:45": 7, "14:00": 8, "14:15": 9,
        "14:30": 9, "14:45": 8, "15:00": 7, "15:15": 6, "15:30": 6, "15:45": 5,
        "16:00": 5, "16:15": 4, "16:30": 4, "16:45": 3, "17:00": 3, "17:15": 2,
    }  # fmt: skip
    return ArrivalProfile.from_mapping({parse_clock(k): float(v) for k, v in curve.items()})


#: The default profile: 08:30-17:30, peaks 09:00-11:00 and 14:00-15:00.
DEFAULT_PROFILE = _default()
