"""Writes call records in order, one job after another, retrying until the database answers.

Call records are written at arrival and at every step, so a crash loses at most the step
in flight; records a dead process left in progress are closed at the next start. A write
the database refuses for its content (a constraint, a value it cannot store) is tried a
few times more, then kept in the spool file with what it would have written, and counted:
never only logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]

RETRY_DELAYS = (0.1, 0.5, 1.0, 2.0, 5.0)
#: Tries of a write the database refused for its content before it goes to the spool.
PERMANENT_TRIES = 3


def programming_error(exc: Exception) -> bool:
    """Failures that no retry can cure; the adapter's own kinds are added by the caller."""
    return isinstance(exc, (LookupError, ValueError, TypeError))


class Spool:
    """An append-only JSON-lines file of writes the database would not take.

    Each line names the write, the error and the values it carried, so that an operator
    can see and replay it (docs/operations.md); `on_keep` counts it in a metric.
    """

    def __init__(self, path: Path | None, on_keep: Callable[[], None] | None = None) -> None:
        self.path = path
        self.count = 0
        self._on_keep = on_keep

    def keep(self, what: str, exc: Exception, data: Mapping[str, object] | None) -> None:
        self.count += 1
        if self._on_keep is not None:
            self._on_keep()
        line = {
            "at": time.time(),
            "what": what,
            "error": f"{type(exc).__name__}: {exc}",
            "data": dict(data or {}),
        }
        text = json.dumps(line, default=str, ensure_ascii=True)
        if self.path is None:
            log.error("spooled write (no spool file configured): %s", text)
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                out.write(text + "\n")
        except OSError:
            log.exception("could not append to the spool %s; the write was: %s", self.path, text)


class CallRecorder:
    """Retries a write while the database is unreachable. A write that cannot succeed (a
    record that does not exist, a constraint, a value the database cannot store) goes to
    the spool after PERMANENT_TRIES, so that it does not hold up every later record."""

    def __init__(
        self,
        permanent: Callable[[Exception], bool] = programming_error,
        spool: Spool | None = None,
    ) -> None:
        self._jobs: asyncio.Queue[tuple[str, Job, Mapping[str, object] | None]] = asyncio.Queue()
        self._permanent = permanent
        self.spool = spool or Spool(None)

    def submit(self, what: str, job: Job, data: Mapping[str, object] | None = None) -> None:
        """Queue `job`; `data` is what it writes, for the spool should it never succeed."""
        self._jobs.put_nowait((what, job, data))

    @property
    def backlog(self) -> int:
        return self._jobs.qsize()

    async def run(self) -> None:
        while True:
            what, job, data = await self._jobs.get()
            try:
                await self._attempt(what, job, data)
            finally:
                self._jobs.task_done()

    async def _attempt(self, what: str, job: Job, data: Mapping[str, object] | None) -> None:
        attempt = refused = 0
        while True:
            try:
                await job()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._permanent(exc):
                    refused += 1
                    if refused >= PERMANENT_TRIES:
                        log.error(
                            "writing %s failed %d times; spooled", what, refused, exc_info=exc
                        )
                        self.spool.keep(what, exc, data)
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
