"""The periodic scans of problem management and complaints, started by the composition
root next to the SLA monitor.

- `ProblemScanner`: every `ticketing.problem_scan_seconds`, repeated incidents become
  problem tickets and new incidents are linked to open problems (`SqlProblems.scan`).
- `ComplaintMonitor`: every `ticketing.complaint_scan_seconds`, complaints that missed
  their acknowledge or resolve limit escalate; each escalation is published as a typed
  `ComplaintEscalated` after it was written.

- `AutoCloser`: every `AUTO_CLOSE_SCAN_SECONDS`, resolved tickets nobody reopened within
  `ticketing.auto_close_days` are closed by the system (`TicketRepo.close_resolved`).

None reads the time by itself: `scan(now)` takes the instant, `run` asks the clock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from callcenter.clock import Clock
from callcenter.complaints.model import ComplaintEscalated, ComplaintLimits
from callcenter.complaints.store import escalate_complaints
from callcenter.problems.model import DEFAULT_THRESHOLD, DEFAULT_WINDOW
from callcenter.problems.store import ScanResult, SqlProblems
from callcenter.tickets.store import SqlTicketStore
from callcenter.tickets.ticket_repo import TicketRepo

log = logging.getLogger(__name__)


class ProblemScanner:
    """Runs the problem scan with the configured threshold and window."""

    def __init__(
        self,
        store: SqlTicketStore,
        clock: Clock,
        threshold: int = DEFAULT_THRESHOLD,
        window: timedelta = DEFAULT_WINDOW,
    ) -> None:
        self.problems = SqlProblems(store)
        self.threshold = threshold
        self.window = window
        self._clock = clock

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._clock.now(), UTC)

    async def scan(self, now: datetime | None = None, actor: str = "system") -> ScanResult:
        result = await self.problems.scan(
            now or self.now(), self.threshold, self.window, actor=actor
        )
        for problem_id, proposal in result.created:
            log.info(
                "problem %d opened: %d incidents share the %s %r",
                problem_id,
                proposal.count,
                proposal.dimension.value,
                proposal.key,
            )
        return result

    async def run(self, interval: float) -> None:
        """Scan now, then every `interval` seconds until cancelled; failures are logged."""
        while True:
            try:
                await self.scan()
            except Exception:
                log.exception("problem scan failed; trying again in %.0f s", interval)
            await asyncio.sleep(interval)


class ComplaintMonitor:
    """Escalates complaints past their limits and publishes `ComplaintEscalated`."""

    def __init__(
        self,
        store: SqlTicketStore,
        publish: Callable[[object], None],
        clock: Clock,
        limits: ComplaintLimits | None = None,
    ) -> None:
        self._store = store
        self._publish = publish
        self._clock = clock
        self.limits = limits or ComplaintLimits()

    async def scan(self, now: datetime | None = None) -> list[ComplaintEscalated]:
        when = now or datetime.fromtimestamp(self._clock.now(), UTC)
        written = await escalate_complaints(self._store, self.limits, when)
        for event in written:
            log.warning(
                "complaint %d escalated to level %d: %s limit missed",
                event.ticket_id,
                event.level,
                event.limit.value,
            )
            self._publish(event)
        return written

    async def run(self, interval: float) -> None:
        while True:
            try:
                await self.scan()
            except Exception:
                log.exception("complaint scan failed; trying again in %.0f s", interval)
            await asyncio.sleep(interval)


#: Closing is a matter of days: looking every ten minutes is plenty.
AUTO_CLOSE_SCAN_SECONDS = 600.0


class AutoCloser:
    """Closes resolved tickets nobody reopened within `after`."""

    def __init__(self, store: SqlTicketStore, clock: Clock, after: timedelta) -> None:
        self._repo = TicketRepo(store)
        self._clock = clock
        self.after = after

    async def scan(self, now: datetime | None = None) -> list[int]:
        closed = await self._repo.close_resolved(
            now or datetime.fromtimestamp(self._clock.now(), UTC), self.after
        )
        if closed:
            log.info("auto-closed %d resolved tickets: %s", len(closed), closed)
        return closed

    async def run(self, interval: float = AUTO_CLOSE_SCAN_SECONDS) -> None:
        while True:
            try:
                await self.scan()
            except Exception:
                log.exception("auto-close failed; trying again in %.0f s", interval)
            await asyncio.sleep(interval)
