"""The SIP edge as a careful peer: RTP timeout, hold by the caller, session timers, SIP INFO keys.

Each test runs a real `callcenter serve` against SIPp; the bridge's typed events themselves
are checked in tests/integration/test_sip_bridge_events.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from tests.e2e.test_hotline_call import run_pair, wait_for_call
from tests.integration.harness import (
    ROOT,
    Server,
    Sipp,
    agent_phone,
    caller,
    caller_args,
    metric_value,
)

pytestmark = pytest.mark.sip

Serve = Callable[..., Awaitable[Server]]


@pytest.fixture
async def serve(tmp_path: Path) -> AsyncIterator[Serve]:
    """Start a server with extra CALLCENTER_* variables; stopped after the test."""
    servers: list[Server] = []

    async def start(ivr_file: Path | None = None, **env: str) -> Server:
        server = Server(f"sqlite+aiosqlite:///{tmp_path / 'callcenter.db'}", tmp_path)
        if ivr_file is not None:
            server.ivr_file = ivr_file
        server.extra_env.update(env)
        await server.prepare()
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        if server.process is not None and server.process.poll() is None:
            await server.stop()


def phone(scenario: str, server: Server, workdir: Path, *extra: str) -> Sipp:
    args = [*caller_args(server), "-m", "1", *extra, "-timeout", "90s", "-timeout_error"]
    return Sipp(scenario, args, workdir)


async def test_a_caller_who_sends_no_rtp_is_hung_up_with_bye(serve: Serve, tmp_path: Path) -> None:
    server = await serve(CALLCENTER_SIP_RTP_TIMEOUT_SECONDS="2")
    silent = await caller("caller_silent.xml", server, tmp_path).start()
    code, out = await silent.wait(60)
    assert code == 0, out + silent.traces()  # BYE came within the scenario's 20 s
    assert "no RTP for" in server.log()
    record = await wait_for_call(server, lambda c: c["ended_at"] is not None)
    assert record["caller"] == "+862088881001"
    metrics = await server.metrics()
    assert metric_value(metrics, "callcenter_sip_rtp_timeouts_total") == 1


async def test_hold_and_resume_by_the_caller_keep_the_call_up(serve: Serve, tmp_path: Path) -> None:
    # Silent while held for twice this long: a held call must not time out.
    server = await serve(CALLCENTER_SIP_RTP_TIMEOUT_SECONDS="3")
    holder = await phone("caller_holds.xml", server, tmp_path, "-rtp_echo").start()
    code, out = await holder.wait(60)
    assert code == 0, out + holder.traces()  # answers were recvonly / inactive / sendrecv
    log = server.log()
    assert "on hold by the far end (sendonly)" in log
    assert "on hold by the far end (inactive)" in log
    assert log.count("taken off hold by the far end") == 2
    assert "no RTP for" not in log
    record = await wait_for_call(server, lambda c: c["ended_at"] is not None)
    assert record["caller"] == "+862088881001"


async def test_session_timers_are_negotiated_and_refreshes_answered(
    serve: Serve, tmp_path: Path
) -> None:
    server = await serve()
    timed = await phone("caller_session_timer.xml", server, tmp_path).start()
    code, out = await timed.wait(60)
    assert code == 0, out + timed.traces()  # 200s to INVITE, re-INVITE and UPDATE
    too_short = await phone("caller_session_too_short.xml", server, tmp_path).start()
    code, out = await too_short.wait(30)
    assert code == 0, out + too_short.traces()  # 422 with Min-SE: 90


async def test_calls_to_agents_offer_the_configured_session_interval(
    serve: Serve, tmp_path: Path
) -> None:
    server = await serve(CALLCENTER_SIP_SESSION_EXPIRES_SECONDS="600")
    alice = await agent_phone("agent_session_timer.xml", server.agents["alice"], tmp_path).start()
    await server.set_state("alice", "available")
    talking = await caller("caller.xml", server, tmp_path, talk_ms=5000).start()
    await run_pair(talking, [alice])  # alice's phone found Session-Expires: 600 and Min-SE: 90
    record = await wait_for_call(server, lambda c: c["ended_at"] is not None)
    assert (record["outcome"], record["agent"]) == ("answered", "alice")


async def test_sip_info_keys_drive_the_ivr_menu(serve: Serve, tmp_path: Path) -> None:
    server = await serve(ivr_file=ROOT / "config" / "ivr.yaml")
    # "2" (hardware and printers) as SIP INFO during the welcome, like test_ivr.py's
    # RFC 4733 key; nobody is available, so the caller waits and hangs up.
    keyed = await caller("caller_info_presses_2.xml", server, tmp_path, talk_ms=6000).start()
    code, out = await keyed.wait(60)
    assert code == 0, out + keyed.traces()
    record = await wait_for_call(server, lambda c: c["ended_at"] is not None)
    token = await server.login("sue", "sue-demo")
    status, history = await server.request("GET", f"/api/v1/calls/{record['id']}/events", token)
    assert status == 200
    [enqueued] = [e for e in history["events"] if e["type"] == "CallEnqueued"]
    assert enqueued["data"]["skills"] == {"hardware": 1}
    assert "key 2 (sip_info)" in server.log()
