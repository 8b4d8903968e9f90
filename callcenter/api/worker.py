"""CPU-bound request work off the event loop: a worker thread, a bounded queue, a deadline.

The event loop serves SIP events, every WebSocket and `/healthz`; one request computing
on it stalls them all. Work handed here runs in its own thread (the GIL still lets the
loop take its turns), at most `waiting` requests wait for it, and a caller gives up after
`deadline` seconds. The work itself must be bounded too: a thread cannot be stopped.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from aiohttp import web

from callcenter.api.errors import ApiError

T = TypeVar("T")

#: Seconds a client is asked to wait before asking again.
RETRY_AFTER_SECONDS = 2


class Worker:
    def __init__(self, threads: int = 1, waiting: int = 8, deadline: float = 5.0) -> None:
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="api-worker")
        self._slots = asyncio.BoundedSemaphore(threads + waiting)
        self.deadline = deadline

    async def run(self, work: Callable[..., T], *args: object) -> T:
        """`work(*args)` in the worker; 503 when the queue is full or the deadline passes."""
        if self._slots.locked():
            raise _unavailable("busy", "the server is busy computing; try again shortly")
        async with self._slots:
            loop = asyncio.get_running_loop()
            future = loop.run_in_executor(self._pool, functools.partial(work, *args))
            try:
                return await asyncio.wait_for(future, self.deadline)
            except TimeoutError:
                raise _unavailable(
                    "deadline_exceeded", f"the computation took over {self.deadline:g} s"
                ) from None

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


WORKER = web.AppKey("worker", Worker)


def add_worker(app: web.Application, worker: Worker | None = None) -> None:
    app[WORKER] = worker or Worker()

    async def close(app: web.Application) -> None:
        app[WORKER].close()

    app.on_cleanup.append(close)


def _unavailable(code: str, message: str) -> ApiError:
    return ApiError(503, code, message, {"Retry-After": str(RETRY_AFTER_SECONDS)})
