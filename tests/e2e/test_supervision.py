"""A supervisor listening to and barging into a live call on real parts: a SIPp caller
(talking), a silent SIPp agent phone, a talking SIPp phone for the supervisor, a real
`callcenter serve`, and the consoles over WebSocket.

The agent says nothing, so whatever the caller hears comes from the supervisor: nothing
while the supervisor listens, the supervisor's voice once it barges in.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from websockets.asyncio.client import connect

from tests.e2e.test_callback import finished
from tests.e2e.test_console_call_control import console, ok
from tests.e2e.test_hotline_call import wait_for_call
from tests.integration.harness import (
    SIPP_DIR,
    Server,
    Sipp,
    agent_phone,
    caller_args,
)
from tests.integration.test_websocket import Console
from tests.services import free_udp_tcp_port

pytestmark = pytest.mark.sip

#: The caller's speech (7 s) is played twice: it still talks when the supervisor joins.
SPEECH = '      <exec play_pcap_audio="/usr/share/sip-tester/g711a.pcap"/>\n'


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    srv = Server(f"sqlite+aiosqlite:///{tmp_path / 'callcenter.db'}", tmp_path)
    await srv.prepare()
    srv.agents["sue"] = free_udp_tcp_port()
    engine = create_async_engine(srv.database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE agent SET sip_uri = :uri WHERE username = 'sue'"),
                {"uri": f"sip:sue@127.0.0.1:{srv.agents['sue']}"},
            )
    finally:
        await engine.dispose()
    async with srv.running():
        yield srv


def talking_caller(server: Server, workdir: Path, talk_ms: int) -> Sipp:
    template = (SIPP_DIR / "caller.xml").read_text()
    block = "  <nop>\n    <action>\n" + SPEECH + "    </action>\n  </nop>\n"
    assert block in template
    twice = block + '  <pause milliseconds="7000"/>\n' + block
    path = workdir / "caller_talks_twice.xml"
    path.write_text(template.replace(block, twice))
    args = [*caller_args(server), "-m", "1", "-d", str(talk_ms)]
    return Sipp(str(path), [*args, "-timeout", "90s", "-timeout_error"], workdir)


async def supervisor(server: Server) -> AsyncIterator[Console]:
    token = await server.login("sue", "sue-demo")
    async with connect(
        f"ws://127.0.0.1:{server.http_port}/ws/supervisor",
        additional_headers={"Authorization": f"Bearer {token}"},
        open_timeout=5,
    ) as ws:
        sue = Console(ws, "supervisor")
        hello = await sue.expect("hello")
        assert hello["call_control"] is True
        yield sue


async def granted(sue: Console, kind: str, **fields: Any) -> dict[str, Any]:
    reply = await sue.request(kind, **fields)
    assert reply["type"] == "ok", reply
    return dict(reply["result"])


async def refused(sue: Console, kind: str, code: str, **fields: Any) -> None:
    reply = await sue.request(kind, **fields)
    assert (reply["type"], reply["code"]) == ("error", code), reply


async def no_monitoring(sue: Console, wait: float) -> None:
    """No `monitoring` push for `wait` seconds (the board's updates may come)."""
    try:
        async with asyncio.timeout(wait):
            message = await sue.expect("monitoring", wait)
    except TimeoutError:
        return
    pytest.fail(f"unexpected {message}")


async def record_of(server: Server, call_id: str) -> dict[str, Any]:
    """The call's record once the supervisor's media figures are in it."""

    def complete(record: dict[str, Any]) -> bool:
        return record["id"] == call_id and "supervisor_heard_level_peak" in record["media"]

    return await wait_for_call(server, complete)


async def monitoring(sue: Console, state: str, timeout: float = 15) -> dict[str, Any]:
    while True:
        message = await sue.expect("monitoring", timeout)
        if message["state"] == state:
            return message


async def test_listen_is_one_way_and_barge_lets_the_caller_hear_the_supervisor(
    server: Server, tmp_path: Path
) -> None:
    alice_phone = await agent_phone(
        "agent_answer_silent.xml", server.agents["alice"], tmp_path, calls=2
    ).start()
    sue_phone = await agent_phone("agent_answer.xml", server.agents["sue"], tmp_path, 2).start()
    async for sue in supervisor(server):
        await refused(sue, "listen", "unknown_agent", agent="nobody")
        await refused(sue, "listen", "invalid_call_state", agent="alice")  # on no call
        await refused(sue, "stop_monitoring", "invalid_call_state")
        async for alice in console(server, "alice"):
            await ok(alice, "set_state", state="available")

            # 1: listen. The supervisor hears the caller; the caller hears nobody.
            phone = await talking_caller(server, tmp_path, talk_ms=5000).start()
            call_id = (await alice.expect("offer", timeout=20))["call_id"]
            await alice.expect("call_connected", timeout=10)
            started = await granted(sue, "listen", agent="alice")
            assert (started["call_id"], started["state"]) == (call_id, "ringing")
            active = await monitoring(sue, "active")
            assert (active["mode"], active["agent"]) == ("listen", "alice")
            await finished(phone)
            ended = await monitoring(sue, "ended")
            assert (ended["call_id"], ended["reason"]) == (call_id, "call_ended")
            await alice.expect("call_ended", timeout=10)
            first = await record_of(server, call_id)

            # 2: listen, then barge on the same supervision: no second ring.
            phone = await talking_caller(server, tmp_path, talk_ms=5000).start()
            call_id = (await alice.expect("offer", timeout=30))["call_id"]
            await alice.expect("call_connected", timeout=10)
            await granted(sue, "listen", call_id=call_id)
            assert (await monitoring(sue, "active"))["mode"] == "listen"
            barged = await granted(sue, "barge", agent="alice")
            assert (barged["mode"], barged["state"]) == ("barge", "active")
            assert (await sue.expect("monitoring", 5))["mode"] == "barge"
            await no_monitoring(sue, 2)  # the caller hears the supervisor meanwhile

            # The supervisor leaves; the call goes on without it.
            stopped = await granted(sue, "stop_monitoring")
            assert (stopped["call_id"], stopped["state"]) == (call_id, "ended")
            ended = await monitoring(sue, "ended")
            assert (ended["mode"], ended["reason"]) == ("barge", "stopped")
            await finished(sue_phone)  # BYE to the supervisor's phone (its second call)
            await finished(phone, alice_phone)
            assert (await alice.expect("call_ended", timeout=10))["call_id"] == call_id
            await no_monitoring(sue, 0.5)
            second = await record_of(server, call_id)

    media = first["media"]
    assert media["supervisor_heard_level_peak"] > 0, media  # the caller's speech
    assert media["caller_heard_level_peak"] == 0, media  # not the supervisor's
    assert media["agent_heard_level_peak"] > 0, media  # the caller, as always
    media = second["media"]
    assert media["supervisor_heard_level_peak"] > 0, media
    assert media["caller_heard_level_peak"] > 0, media  # the supervisor barged in
