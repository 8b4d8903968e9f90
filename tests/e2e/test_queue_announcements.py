"""Announcements to a SIPp caller waiting in a queue (acd.queues[].announce_*): the
music stops, the caller hears its place and the callback offer, the music resumes; the
callback key pressed during an announcement still makes the call a queued callback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.test_callback import (
    callback_server,
    finished,
    history,
    keys_then_wait_for_bye,
)
from tests.e2e.test_hotline_call import wait_for_call
from tests.integration.harness import Server, caller, metric_value
from tests.services import free_udp_tcp_port

pytestmark = pytest.mark.sip


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    async for srv in callback_server(
        tmp_path,
        free_udp_tcp_port(),
        callback_key="*",
        announce_interval_seconds=2,
    ):
        yield srv


async def announcements(server: Server, outcome: str) -> float | None:
    return metric_value(
        await server.metrics(),
        "callcenter_queue_announcements_total",
        queue="helpdesk",
        outcome=outcome,
    )


async def test_waiting_caller_hears_announcements_between_the_music(
    server: Server, tmp_path: Path
) -> None:
    # Nobody is logged in: the caller waits, first in line, for 20 s, then hangs up.
    phone = await caller("caller.xml", server, tmp_path, talk_ms=20000).start()
    await finished(phone)
    record = await wait_for_call(server, lambda c: c["ended_at"] is not None)
    assert (record["outcome"], record["queue"]) == ("abandoned", "helpdesk")
    # At least one announcement ("you are next", "press star to be called back") was
    # played to its end, and the music came back for the next interval.
    assert (await announcements(server, "played") or 0) >= 1
    assert "queue announcement queue-youarenext queue-callback-offer digits/star" in server.log()


async def test_callback_key_during_the_announcement(server: Server, tmp_path: Path) -> None:
    # The first announcement starts about 2 s after the caller reaches the queue and
    # lasts about 9 s; * is pressed in the middle of it.
    phone = await keys_then_wait_for_bye(server, tmp_path, "*", first_key_ms=7000).start()
    await finished(phone)
    record = await wait_for_call(server, lambda c: c["outcome"] == "callback" and c["ended_at"])
    events = await history(server, record["id"])
    assert [e["type"] for e in events] == ["CallEnqueued", "CallbackRequested"]
    assert await announcements(server, "cut_short") == 1
    assert await announcements(server, "played") is None  # none was heard to the end
