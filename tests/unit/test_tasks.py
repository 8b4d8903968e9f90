"""TaskOwner: the background tasks of the call flow, the console hub and `serve`."""

from __future__ import annotations

import asyncio
import logging

import pytest

from callcenter.tasks import TaskOwner


async def test_close_ends_every_task_newest_first() -> None:
    owner = TaskOwner("test")
    ended: list[str] = []

    async def run(name: str) -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            ended.append(name)

    for name in ("recorder", "timers", "memory"):
        owner.spawn(run(name), name)
    await asyncio.sleep(0)
    assert len(owner) == 3
    await owner.close()
    assert ended == ["memory", "timers", "recorder"]
    assert len(owner) == 0


async def test_a_failed_task_is_logged_and_forgotten(caplog: pytest.LogCaptureFixture) -> None:
    owner = TaskOwner("call")

    async def fail() -> None:
        raise RuntimeError("lookup broke")

    with caplog.at_level(logging.ERROR, logger="callcenter.tasks"):
        task = owner.spawn(fail(), "ivr-c1")
        await asyncio.gather(task, return_exceptions=True)
        await asyncio.sleep(0)
    assert len(owner) == 0
    assert "call task ivr-c1 failed" in caplog.text


async def test_settle_lets_quick_tasks_finish_and_ends_the_slow_ones() -> None:
    owner = TaskOwner("hub")
    quick = owner.spawn(asyncio.sleep(0.01, result="done"), "quick")
    slow = owner.spawn(asyncio.sleep(3600), "slow")
    await owner.settle(0.2)
    assert quick.result() == "done"
    assert slow.cancelled()
