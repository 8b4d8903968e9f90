from __future__ import annotations

import asyncio

import pytest

from callcenter.acd.model import OfferFailure
from callcenter.calls import recorder as recorder_module
from callcenter.calls.recorder import CallRecorder
from callcenter.calls.service import offer_failure


@pytest.mark.parametrize(
    ("status", "failure"),
    [
        (486, OfferFailure.BUSY),
        (600, OfferFailure.BUSY),
        (603, OfferFailure.REJECTED),
        (408, OfferFailure.NO_ANSWER),
        (480, OfferFailure.NO_ANSWER),
        (487, OfferFailure.NO_ANSWER),
        (404, OfferFailure.UNREACHABLE),
        (503, OfferFailure.UNREACHABLE),
    ],
)
def test_agent_phone_answer_to_offer_failure(status: int, failure: OfferFailure) -> None:
    assert offer_failure(status) is failure


async def test_recorder_writes_in_order_and_retries_until_success(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(recorder_module, "RETRY_DELAYS", (0.0,))
    written: list[str] = []
    failures = {"second": 2}

    def job(name: str):  # type: ignore[no-untyped-def]
        async def run() -> None:
            if failures.get(name, 0) > 0:
                failures[name] -= 1
                raise ConnectionError("database went away")
            written.append(name)

        return run

    recorder = CallRecorder()
    task = asyncio.create_task(recorder.run())
    for name in ("first", "second", "third"):
        recorder.submit(name, job(name))
    assert await recorder.drain(5)
    task.cancel()
    assert written == ["first", "second", "third"]
    assert recorder.backlog == 0


async def test_drain_reports_a_timeout() -> None:
    recorder = CallRecorder()
    blocker = asyncio.Event()

    async def stuck() -> None:
        await blocker.wait()

    task = asyncio.create_task(recorder.run())
    recorder.submit("stuck", stuck)
    assert not await recorder.drain(0.05)
    blocker.set()
    assert await recorder.drain(1)
    task.cancel()
