"""The readiness probes: ask each dependency, bounded in time, and tell `Health`.

Every `interval` seconds the database answers `SELECT 1`, Redis answers PING (when the
ACD is shared), the SIP library thread is alive, and the event loop woke up on time. A
probe that does not answer within `timeout` counts as failing: a dependency that hangs
is as unavailable as one that refuses.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from callcenter.health import DATABASE, LOOP, REDIS, SIP, Health

#: Seconds between probes, how long one may take, and the loop lag that counts as stalled.
INTERVAL = 1.0
TIMEOUT = 2.0
MAX_LAG = 1.0


class Probes:
    def __init__(
        self,
        health: Health,
        database: AsyncEngine,
        redis_ping: Callable[[], Awaitable[object]] | None,
        sip_alive: Callable[[], bool],
        *,
        interval: float = INTERVAL,
        timeout: float = TIMEOUT,
    ) -> None:
        self._health = health
        self._database = database
        self._redis_ping = redis_ping
        self._sip_alive = sip_alive
        self._interval = interval
        self._timeout = timeout

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        self._tell(LOOP, True, "")  # it runs this line: no lag seen yet
        while True:
            asked = loop.time()
            await asyncio.gather(self._probe_database(), self._probe_redis())
            self._tell(SIP, self._sip_alive(), "the SIP library thread stopped")
            pause = max(0.0, self._interval - (loop.time() - asked))
            woke_due = loop.time() + pause
            await asyncio.sleep(pause)
            lag = loop.time() - woke_due
            self._tell(LOOP, lag <= MAX_LAG, f"the event loop woke {lag:.2f} s late")

    async def _probe_database(self) -> None:
        async def ask() -> None:
            async with self._database.connect() as connection:
                await connection.execute(text("SELECT 1"))

        self._tell(DATABASE, *await self._answers(ask()))

    async def _probe_redis(self) -> None:
        if self._redis_ping is not None:
            self._tell(REDIS, *await self._answers(self._redis_ping()))

    async def _answers(self, asking: Awaitable[object]) -> tuple[bool, str]:
        try:
            async with asyncio.timeout(self._timeout):
                await asking
        except TimeoutError:
            return False, f"no answer within {self._timeout:g} s"
        except Exception as exc:  # whatever the driver raises: the dependency fails
            return False, f"{type(exc).__name__}: {exc}"[:200]
        return True, ""

    def _tell(self, name: str, ok: bool, detail: str) -> None:
        self._health.report(name, ok, "" if ok else detail)
