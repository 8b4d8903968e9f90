"""Background tasks with an owner: started by name, failures logged, all ended at close.

A bare `create_task` whose result nobody keeps can be garbage-collected mid-flight and
hides its exception until the loop closes; every long-lived part (the call flow, the
console hub, `serve`) keeps its tasks here instead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class TaskOwner:
    def __init__(self, what: str) -> None:
        self._what = what
        #: Running tasks in the order they started (dicts keep insertion order).
        self._tasks: dict[asyncio.Task[Any], None] = {}

    def spawn(self, coro: Coroutine[Any, Any, T], name: str) -> asyncio.Task[T]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks[task] = None
        task.add_done_callback(self._done)
        return task

    def __len__(self) -> int:
        return len(self._tasks)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.pop(task, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s task %s failed", self._what, task.get_name(), exc_info=task.exception())

    async def settle(self, timeout: float) -> None:
        """Let the running tasks finish for up to `timeout` seconds, then end the rest."""
        if self._tasks:
            _, pending = await asyncio.wait(list(self._tasks), timeout=timeout)
            await _end(pending)

    async def close(self) -> None:
        """End every task, the newest first, and wait until each has."""
        await _end(reversed(list(self._tasks)))


async def _end(tasks: Any) -> None:
    tasks = list(tasks)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
