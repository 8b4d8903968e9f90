"""An agent whose phone is the console: accept, call audio over /ws/agent/audio, DTMF.

Real parts: a SIPp caller playing sip-tester's recording, a real `callcenter serve` with
the pjsua2 bridge, and WebSocket clients (the `websockets` package) in the browser's
place. alice is a browser agent (`sip_uri` `browser:`); bob keeps his SIP phone.
"""

from __future__ import annotations

import asyncio
import json
import math
import struct
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from callcenter.softphone_bridge.audio_pipe import FRAME_BYTES, FRAME_SAMPLES
from tests.e2e.test_callback import finished
from tests.e2e.test_console_call_control import console, ok, state, ticket_text, write_config
from tests.e2e.test_hotline_call import wait_for_call
from tests.integration.harness import Server, caller

pytestmark = pytest.mark.sip

AUDIO_CLOSE_NO_CALL = 4404


def tone_frame(n: int, hz: float = 1000.0, amplitude: int = 8000) -> bytes:
    """The n-th 20 ms frame of a sine tone, 16-bit little-endian at 8 kHz."""
    start = n * FRAME_SAMPLES
    samples = (
        int(amplitude * math.sin(2 * math.pi * hz * (start + i) / 8000))
        for i in range(FRAME_SAMPLES)
    )
    return struct.pack(f"<{FRAME_SAMPLES}h", *samples)


def peak(frame: bytes) -> int:
    samples: tuple[int, ...] = struct.unpack(f"<{len(frame) // 2}h", frame)
    return max(abs(s) for s in samples)


async def make_browser_agent(server: Server, username: str) -> None:
    engine = create_async_engine(server.database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE agent SET sip_uri = 'browser:' WHERE username = :u"),
                {"u": username},
            )
    finally:
        await engine.dispose()


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    srv = Server(
        f"sqlite+aiosqlite:///{tmp_path / 'callcenter.db'}",
        tmp_path,
        extra_env={"CALLCENTER_CONFIG": str(write_config(tmp_path))},
    )
    await srv.prepare()
    await make_browser_agent(srv, "alice")
    async with srv.running():
        yield srv


async def audio_socket(server: Server, username: str) -> ClientConnection:
    token = await server.login(username, f"{username}-demo")
    return await connect(
        f"ws://127.0.0.1:{server.http_port}/ws/agent/audio",
        additional_headers={"Authorization": f"Bearer {token}"},
        open_timeout=5,
        max_size=2**16,
    )


async def refused(server: Server, username: str) -> int:
    """The close code the server ends an audio socket with before any audio."""
    ws = await audio_socket(server, username)
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


async def refused_without_a_good_token(server: Server) -> None:
    """No socket without a valid agent token: a bad token 4401, a supervisor's 4403."""
    url = f"ws://127.0.0.1:{server.http_port}/ws/agent/audio"
    async with connect(url, open_timeout=5) as ws:
        await ws.send('{"type": "auth", "token": "forged"}')
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    token = await server.login("sue", "sue-demo")
    headers = {"Authorization": f"Bearer {token}"}
    async with connect(url, additional_headers=headers, open_timeout=5) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


async def talk(ws: ClientConnection, frames: int) -> tuple[int, int]:
    """Send `frames` tone frames at the 20 ms pace while counting the frames received;
    returns (frames received, of which with sound)."""
    received = loud = 0

    async def listen() -> None:
        nonlocal received, loud
        async for frame in ws:
            if isinstance(frame, bytes):
                assert len(frame) == FRAME_BYTES
                received += 1
                loud += peak(frame) > 300

    listener = asyncio.create_task(listen())
    loop = asyncio.get_running_loop()
    start = loop.time()
    for n in range(frames):
        await ws.send(tone_frame(n))
        await asyncio.sleep(max(0.0, start + (n + 1) * 0.02 - loop.time()))
    listener.cancel()
    await asyncio.gather(listener, return_exceptions=True)
    return received, loud


async def test_browser_agent_accepts_and_audio_flows_both_ways(
    server: Server, tmp_path: Path
) -> None:
    async for alice in console(server, "alice"):
        await ok(alice, "set_state", state="available")
        phone = await caller("caller_until_bye.xml", server, tmp_path).start()
        offer = await alice.expect("offer", timeout=20)
        call_id = offer["call_id"]
        # Ringing: no audio yet, for anyone.
        assert await refused(server, "alice") == AUDIO_CLOSE_NO_CALL
        await refused_without_a_good_token(server)
        await ok(alice, "accept", call_id=call_id)
        await alice.expect("call_connected", timeout=10)
        again = await alice.request("accept", call_id=call_id)
        assert (again["type"], again["code"]) == ("error", "invalid_call_state")

        ws = await audio_socket(server, "alice")
        hello = await asyncio.wait_for(ws.recv(), 5)
        assert isinstance(hello, str) and '"call_id": "' + call_id in hello
        # Another agent gets no socket onto alice's call; a second socket of hers neither.
        assert await refused(server, "bob") == AUDIO_CLOSE_NO_CALL
        assert await refused(server, "alice") == 4409
        # A malformed frame is answered, and the socket keeps serving.
        await ws.send(b"\x00" * 100)
        received, loud = await talk(ws, 150)  # 3 s of tone to the caller
        assert received > 100, received  # about 150 expected: the bridge's 20 ms clock
        assert loud > 0, (received, loud)  # the caller's recording reached the browser

        await ok(alice, "hangup", call_id=call_id)
        await alice.expect("call_ended", timeout=10)
        with pytest.raises(ConnectionClosed) as closed:
            while True:  # frames still in flight, the error reply, then the close
                message = await asyncio.wait_for(ws.recv(), 5)
                if isinstance(message, str):
                    assert '"invalid_frame"' in message
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000
        await alice.expect("wrap_up", timeout=10)
        await finished(phone)
        form = {"category": "printer", "status": "resolved", "resolution": "browser fixed it"}
        done = await ok(alice, "wrap_up", call_id=call_id, **form)
        await state(alice, "available")

    record = await wait_for_call(server, lambda c: c["ended_at"] is not None and c["media"])
    assert (record["id"], record["outcome"], record["agent"]) == (call_id, "answered", "alice")
    media = record["media"]
    assert media["caller_heard_level_peak"] > 0, media  # the browser's tone reached the caller
    assert media["agent_heard_level_peak"] > 0, media
    saved = json.loads(await ticket_text(server, done["ticket_id"]))
    assert (saved["category"], saved["resolution"]) == ("printer", "browser fixed it")


async def test_the_agent_sends_a_key_to_a_caller_without_rfc4733(
    server: Server, tmp_path: Path
) -> None:
    async for alice in console(server, "alice"):
        await ok(alice, "set_state", state="available")
        phone = await caller("caller_hears_dtmf_5.xml", server, tmp_path).start()
        call_id = (await alice.expect("offer", timeout=20))["call_id"]
        bad = await alice.request("dtmf", call_id=call_id, digits="5")
        assert (bad["type"], bad["code"]) == ("error", "invalid_call_state")  # still ringing
        await ok(alice, "accept", call_id=call_id)
        await alice.expect("call_connected", timeout=10)
        await ok(alice, "dtmf", call_id=call_id, digits="5")
        await asyncio.sleep(1.0)  # the INFO transaction
        await ok(alice, "hangup", call_id=call_id)
        await finished(phone)  # SIPp checked Signal=5 in the INFO, then got BYE


async def test_a_browser_agent_rejects_and_the_call_goes_on(server: Server, tmp_path: Path) -> None:
    async for alice in console(server, "alice"):
        await ok(alice, "set_state", state="available")
        phone = await caller("caller.xml", server, tmp_path, talk_ms=3000).start()
        call_id = (await alice.expect("offer", timeout=20))["call_id"]
        await ok(alice, "reject", call_id=call_id)
        ended: dict[str, Any] = await alice.expect("call_ended", timeout=10)
        assert (ended["reason"], ended["cause"]) == ("withdrawn", "rejected")
        await state(alice, "paused")
        await finished(phone)
    record = await wait_for_call(server, lambda c: c["ended_at"] is not None)
    assert record["agent"] is None
