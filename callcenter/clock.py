"""Time as an injected dependency, so the core runs live, in tests and in the simulator."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch."""
        ...


class SystemClock:
    """Wall-clock time read at start, then advanced by the monotonic clock.

    Waits and service-level windows are differences of `now()`; an NTP step of the wall
    clock must not make a caller's wait negative or an hour window skip calls.
    """

    def __init__(self) -> None:
        self._wall0 = time.time()
        self._mono0 = time.monotonic()

    def now(self) -> float:
        return self._wall0 + (time.monotonic() - self._mono0)


class ManualClock:
    """A clock that moves only when told to: tests and the simulator drive it."""

    def __init__(self, start: float = 1_764_000_000.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time does not run backwards")
        self._now += seconds

    def set(self, at: float) -> None:
        self._now = at
