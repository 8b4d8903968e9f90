"""Early media: the greeting plays in a 183 before the hotline answers (sip.early_media)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.integration.harness import Server, caller, eventually

pytestmark = pytest.mark.sip


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    db = f"sqlite+aiosqlite:///{tmp_path / 'cc.db'}"
    server = Server(db, tmp_path, extra_env={"CALLCENTER_SIP_EARLY_MEDIA": "true"})
    await server.prepare()
    await server.start()
    yield server
    if server.process is not None and server.process.poll() is None:
        await server.stop()


async def ended_calls(server: Server) -> list[dict[str, Any]]:
    return [c for c in await server.calls() if c["ended_at"] is not None]


class RtpSink(asyncio.DatagramProtocol):
    """Where the hotline sends the caller's audio: the wall time of each PCMA packet."""

    def __init__(self) -> None:
        self.arrivals: list[float] = []

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        if len(data) > 12 and data[1] & 0x7F == 8:  # RTP, payload type 8 (PCMA)
            self.arrivals.append(time.time())


def answered_at(messages_log: Path) -> float:
    """When SIPp received the 200 OK to its INVITE, from its -trace_msg log."""
    stamp = None
    lines = messages_log.read_text().splitlines()
    for n, line in enumerate(lines):
        if line.startswith("-" * 20):
            stamp = line.rstrip("-").split("- ", 1)[-1].strip()
        block = lines[n : n + 12]
        if line.startswith("SIP/2.0 200 ") and any("CSeq: 1 INVITE" in b for b in block):
            assert stamp is not None
            return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f").timestamp()
    raise AssertionError(f"no 200 OK to the INVITE in {messages_log}")


async def test_greeting_plays_in_a_183_before_the_answer(server: Server, tmp_path: Path) -> None:
    loop = asyncio.get_running_loop()
    transport, sink = await loop.create_datagram_endpoint(RtpSink, local_addr=("127.0.0.1", 0))
    sipp = caller("caller_early_media.xml", server, tmp_path, talk_ms=1500)
    sipp.args += ["-key", "rtp_sink", str(transport.get_extra_info("sockname")[1])]
    try:
        code, out = await (await sipp.start()).wait(30)
    finally:
        transport.close()
    assert code == 0, out  # a 183 with SDP came before the 200 (checked by the scenario)
    [log] = tmp_path.glob("caller_early_media_*_messages.log")
    before = [t for t in sink.arrivals if t < answered_at(log)]
    assert len(before) >= 25, (len(before), len(sink.arrivals))  # 0.5 s of the greeting
    [call] = await eventually(lambda: ended_calls(server), "the call's record")
    assert call["outcome"] == "abandoned"  # answered, queued, then the caller hung up


async def test_caller_leaving_during_early_media_is_an_ivr_hangup(
    server: Server, tmp_path: Path
) -> None:
    sipp = caller("caller_cancels_early_media.xml", server, tmp_path)
    code, out = await (await sipp.start()).wait(30)
    assert code == 0, out
    [call] = await eventually(lambda: ended_calls(server), "the call's record")
    assert call["outcome"] == "ivr_hangup" and call["caller"] == "+862088881001"
