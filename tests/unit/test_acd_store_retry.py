"""The Redis store's retry loops end when their task is cancelled, even when the client
library turns the cancellation into a connection error."""

from __future__ import annotations

import asyncio

import pytest

from callcenter.acd_store.redis_log import _Retry


async def test_a_cancel_disguised_as_a_connection_error_still_ends_the_loop() -> None:
    retry = _Retry("following the log")
    attempts = 0

    async def follow() -> None:
        nonlocal attempts
        while True:
            attempts += 1
            try:
                await asyncio.sleep(3600)  # a blocking command
            except asyncio.CancelledError:  # what redis-py may raise instead:
                await retry.failed(ConnectionError("Connection closed by server."))

    task = asyncio.create_task(follow())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(5):  # without the check it retries for ever
            await task
    assert attempts == 1


async def test_a_real_failure_is_retried() -> None:
    retry = _Retry("following the log", max_pause=0.01)
    await retry.failed(ConnectionError("refused"))  # returns after its pause
    retry.succeeded()
