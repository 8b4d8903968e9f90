"""INVITE flood control: a token bucket per source address.

A PBX trunk sends every call from one address, so the rate is generous; what it stops
is a runaway or hostile peer starving everyone else of the SIP thread.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

#: Sources remembered at most; the least recently seen is forgotten first.
MAX_SOURCES = 10_000


class FloodGuard:
    def __init__(self, rate_per_second: float, burst: int, now: Callable[[], float]) -> None:
        if rate_per_second <= 0 or burst < 1:
            raise ValueError("rate_per_second must be > 0 and burst >= 1")
        self._rate = rate_per_second
        self._burst = float(burst)
        self._now = now
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def allow(self, source: str) -> bool:
        """Take one token for an INVITE from `source`; False when its bucket is empty."""
        now = self._now()
        tokens, last = self._buckets.pop(source, (self._burst, now))
        tokens = min(self._burst, tokens + (now - last) * self._rate)
        allowed = tokens >= 1.0
        self._buckets[source] = (tokens - 1.0 if allowed else tokens, now)
        if len(self._buckets) > MAX_SOURCES:
            self._buckets.popitem(last=False)
        return allowed
