"""Login throttling: too many wrong passwords lock the username, and the source, out.

Pure: failures are counted per username and per source address in a sliding window on
an injected clock. Checked before the password is, so a locked-out guesser costs no
scrypt. Memory is bounded: old failures are forgotten, and past `max_tracked` keys the
oldest goes first. Each process counts its own logins (a cluster multiplies the limits
by its size; docs/security.md).
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass

from callcenter.clock import Clock


@dataclass(frozen=True)
class ThrottlePolicy:
    #: Wrong passwords for one username within `window_seconds` before it is locked.
    per_user: int = 5
    #: Wrong passwords from one source address within the window before it is locked.
    per_source: int = 20
    window_seconds: float = 15 * 60
    lockout_seconds: float = 15 * 60
    max_tracked: int = 10_000


DEFAULT_LOGIN_POLICY = ThrottlePolicy()


class _Counter:
    """Failures per key within the window, and until when each key is locked."""

    def __init__(self, limit: int, policy: ThrottlePolicy) -> None:
        self._limit = limit
        self._policy = policy
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._locked_until: dict[str, float] = {}

    def wait(self, key: str, now: float) -> float:
        until = self._locked_until.get(key)
        if until is None:
            return 0.0
        if now >= until:
            del self._locked_until[key]
            return 0.0
        return until - now

    def fail(self, key: str, now: float) -> bool:
        """Count a failure; True when it locks the key."""
        times = self._failures.pop(key, None) or deque()
        times.append(now)
        while times and times[0] <= now - self._policy.window_seconds:
            times.popleft()
        self._failures[key] = times  # the most recent last
        while len(self._failures) > self._policy.max_tracked:
            self._failures.popitem(last=False)
        if len(times) < self._limit:
            return False
        self._locked_until[key] = now + self._policy.lockout_seconds
        if len(self._locked_until) > self._policy.max_tracked:
            for stale in [k for k, until in self._locked_until.items() if until <= now]:
                del self._locked_until[stale]
        times.clear()
        return True

    def clear(self, key: str) -> None:
        self._failures.pop(key, None)


class LoginThrottle:
    def __init__(self, clock: Clock, policy: ThrottlePolicy | None = None) -> None:
        self._clock = clock
        self.policy = policy or ThrottlePolicy()
        self._users = _Counter(self.policy.per_user, self.policy)
        self._sources = _Counter(self.policy.per_source, self.policy)

    def wait(self, username: str, source: str) -> float:
        """Seconds until this username may try again from this source; 0: now."""
        now = self._clock.now()
        return max(self._users.wait(username, now), self._sources.wait(source, now))

    def failed(self, username: str, source: str) -> list[str]:
        """Count a wrong password; returns what it locked ("user", "source")."""
        now = self._clock.now()
        locked = []
        if self._users.fail(username, now):
            locked.append("user")
        if self._sources.fail(source, now):
            locked.append("source")
        return locked

    def succeeded(self, username: str) -> None:
        self._users.clear(username)
