"""Writes call records in order, one job after another, retrying until the database answers.

Call records are written at arrival and at every step, so a crash loses at most the step
in flight; records a dead process left in progress are closed at the next start.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]

RETRY_DELAYS = (0.1, 0.5, 1.0, 2.0, 5.0)


def programming_error(exc: Exception) -> bool:
    """Failures that no retry can cure; the adapter's own kinds are added by the caller."""
    return isinstance(exc, (LookupError, ValueError, TypeError))


class CallRecorder:
    """Retries a write while the database is unreachable; a write that can never succeed
    (a record that does not exist, a constraint) is logged and dropped, so that it does
    not hold up every later record."""

    def __init__(self, permanent: Callable[[Exception], bool] = programming_error) -> None:
        self._jobs: asyncio.Queue[tuple[str, Job]] = asyncio.Queue()
        self._permanent = permanent

    def submit(self, what: str, job: Job) -> None:
        self._jobs.put_nowait((what, job))

    @property
    def backlog(self) -> int:
        return self._jobs.qsize()

    async def run(self) -> None:
        while True:
            what, job = await self._jobs.get()
            try:
                await self._attempt(what, job)
            finally:
                self._jobs.task_done()

    async def _attempt(self, what: str, job: Job) -> None:
        attempt = 0
        while True:
            try:
                await job()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._permanent(exc):
                    log.error("writing %s failed and cannot succeed; dropped", what, exc_info=exc)
                    return
                delay = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]
                log.exception("writing %s failed; retrying in %.1f s", what, delay)
                attempt += 1
                await asyncio.sleep(delay)

    async def drain(self, timeout: float) -> bool:
        """Wait until every submitted job is written; False if time ran out."""
        try:
            await asyncio.wait_for(self._jobs.join(), timeout)
            return True
        except TimeoutError:
            log.error("%d call-record writes still pending at shutdown", self._jobs.qsize())
            return False
