"""What this process depends on, and whether each answers: the readiness verdict.

Liveness (`/healthz`) only says the process runs. Readiness (`/readyz`) names every
dependency that fails right now (the database, Redis, the SIP bridge, the event loop's
lag), and API requests that need a failing dependency are refused at once with 503
instead of waiting for it. The probes that feed this live in `callcenter.probes`; this is
plain state, readable from anywhere without I/O.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from callcenter.clock import Clock

log = logging.getLogger(__name__)

DATABASE = "database"
REDIS = "redis"
SIP = "sip"
LOOP = "loop"


class DependencyDown(Exception):
    """A request needs `name`, which fails now: refuse it at once and say when to retry."""

    def __init__(self, name: str, detail: str) -> None:
        super().__init__(f"{name} is unavailable: {detail}" if detail else f"{name} is unavailable")
        self.name = name


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    #: Why it fails, or what it measured ("lag 0.02 s"); empty when there is nothing to say.
    detail: str
    #: When it last changed between ok and failing (clock seconds).
    since: float


class Health:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._checks: dict[str, Check] = {}

    def report(self, name: str, ok: bool, detail: str = "") -> bool:
        """Record a verdict (a probe's, or a request that met the failure first); True,
        and one log line, if it changed between ok and failing."""
        previous = self._checks.get(name)
        changed = previous is None or previous.ok != ok
        since = self._clock.now() if changed or previous is None else previous.since
        self._checks[name] = Check(name, ok, detail, since)
        if not changed or previous is None:
            return False
        if ok:
            log.warning("%s answers again", name)
        else:
            log.warning("%s fails: %s", name, detail)
        return True

    def failing(self, name: str) -> Check | None:
        """The check if `name` fails now; None if it works or is not watched."""
        check = self._checks.get(name)
        return check if check is not None and not check.ok else None

    @property
    def failures(self) -> list[Check]:
        return [c for c in self._checks.values() if not c.ok]

    @property
    def checks(self) -> list[Check]:
        return sorted(self._checks.values(), key=lambda c: c.name)
