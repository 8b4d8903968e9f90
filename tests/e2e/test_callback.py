"""Queued callbacks (virtual hold) on real parts: a SIPp caller in line presses the
callback key (RFC 4733) and is hung up after the confirmation; when an agent is free its
SIPp phone rings first, then the callee (a SIPp phone behind sip.outbound_uri_template)
is dialled and bridged to it. A callee that is busy is a failed try: retried, then dropped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.test_hotline_call import wait_for_call
from tests.integration.harness import (
    DEMO_NUMBER,
    ROOT,
    SIPP_DIR,
    Server,
    Sipp,
    agent_phone,
    caller_args,
    dtmf_presses,
    metric_value,
)
from tests.services import free_udp_tcp_port

pytestmark = pytest.mark.sip


def write_config(workdir: Path, **queue: Any) -> Path:
    """The shipped settings with the helpdesk queue changed by `queue`."""
    data = yaml.safe_load((ROOT / "config" / "callcenter.yaml").read_text())
    [helpdesk] = data["acd"]["queues"]
    helpdesk.update(queue)
    path = workdir / "callcenter.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


async def callback_server(workdir: Path, callee_port: int, **queue: Any) -> AsyncIterator[Server]:
    config = write_config(workdir, **queue)
    srv = Server(
        f"sqlite+aiosqlite:///{workdir / 'callcenter.db'}",
        workdir,
        extra_env={
            "CALLCENTER_CONFIG": str(config),
            "CALLCENTER_SIP_OUTBOUND_URI_TEMPLATE": f"sip:{{number}}@127.0.0.1:{callee_port}",
            "CALLCENTER_SIP_OUTBOUND_RING_TIMEOUT_SECONDS": "10",
        },
    )
    await srv.prepare()
    async with srv.running():
        yield srv


@pytest.fixture
def callee_port() -> int:
    return free_udp_tcp_port()


@pytest.fixture
async def server(tmp_path: Path, callee_port: int) -> AsyncIterator[Server]:
    async for srv in callback_server(
        tmp_path,
        callee_port,
        callback_key="*",
        callback_retries=1,
        callback_retry_seconds=1,
        ring_timeout_seconds=10,
    ):
        yield srv


def keys_then_wait_for_bye(server: Server, workdir: Path, keys: str, first_key_ms: int) -> Sipp:
    """A caller who presses `keys` (RFC 4733) and then stays until the hotline sends BYE."""
    presses = "".join(line + "\n" for line in dtmf_presses(keys, first_key_ms))
    template = (SIPP_DIR / "caller_until_bye.xml").read_text()
    media = (
        "  <nop>\n    <action>\n"
        '      <exec play_pcap_audio="/usr/share/sip-tester/g711a.pcap"/>\n'
        "    </action>\n  </nop>\n"
    )
    assert media in template
    path = workdir / "caller_keys_until_bye.xml"
    path.write_text(template.replace(media, presses))
    args = [*caller_args(server), "-m", "1", "-timeout", "60s", "-timeout_error"]
    return Sipp(str(path), args, workdir)


async def finished(*phones: Sipp, timeout: float = 60) -> None:
    for phone in phones:
        code, out = await phone.wait(timeout)
        assert code == 0, f"{phone.scenario} failed: {out}\n{phone.traces()}"


async def history(server: Server, call_id: str) -> list[dict[str, Any]]:
    token = await server.login("sue", "sue-demo")
    status, body = await server.request("GET", f"/api/v1/calls/{call_id}/events", token)
    assert status == 200, body
    return [e for e in body["events"] if e["type"] != "AgentStateChanged"]


async def agent_states(server: Server) -> dict[str, tuple[str, str | None]]:
    token = await server.login("sue", "sue-demo")
    status, body = await server.request("GET", "/api/v1/agents", token)
    assert status == 200, body
    return {a["username"]: (a["state"], a["reason"]) for a in body["agents"]}


async def request_callback(server: Server, workdir: Path) -> dict[str, Any]:
    """No agent is free: the caller waits, presses *, hears the confirmation, gets BYE."""
    phone = await keys_then_wait_for_bye(server, workdir, "*", first_key_ms=4000).start()
    await finished(phone)
    record = await wait_for_call(server, lambda c: c["outcome"] == "callback" and c["ended_at"])
    assert record["caller"] == DEMO_NUMBER and record["queue"] == "helpdesk"
    assert record["agent"] is None
    # Still in line as a callback: not an abandon.
    metrics = await server.metrics()
    assert metric_value(metrics, "callcenter_calls_abandoned_total", queue="helpdesk") == 0
    token = await server.login("sue", "sue-demo")
    status, queues = await server.request("GET", "/api/v1/queues", token)
    assert status == 200, queues
    [helpdesk] = [q for q in queues["queues"] if q["name"] == "helpdesk"]
    assert (helpdesk["waiting"], helpdesk["abandoned"]) == (1, 0), helpdesk
    return record


async def test_callback_key_then_agent_then_callee_bridged(
    server: Server, tmp_path: Path, callee_port: int
) -> None:
    record = await request_callback(server, tmp_path)

    alice = await agent_phone("agent_answer.xml", server.agents["alice"], tmp_path).start()
    callee = await agent_phone(
        "answers_then_hangs_up.xml", callee_port, tmp_path, talk_ms=5000
    ).start()
    await server.set_state("alice", "available")
    # The callee hangs up after talking; the hotline then sends BYE to alice's phone.
    await finished(callee, alice)

    done = await wait_for_call(
        server,
        lambda c: c["outcome"] == "called_back" and "callee_heard_level_peak" in c["media"],
    )
    assert done["id"] == record["id"] and done["agent"] == "alice"
    assert done["answered_at"] is not None
    media = done["media"]
    # Audio crossed the bridge both ways: each party heard the other's recording.
    assert media["agent_heard_level_peak"] > 0, media
    assert media["callee_heard_level_peak"] > 0, media

    events = await history(server, record["id"])
    assert [e["type"] for e in events] == [
        "CallEnqueued",
        "CallbackRequested",
        "CallOffered",
        "CallbackDialing",
        "CallbackConnected",
        "CallCompleted",
    ]
    assert events[1]["data"]["number"] == DEMO_NUMBER
    assert events[3]["agent"] == "alice"
    assert (await agent_states(server))["alice"] == ("available", None)


async def test_waiting_callback_survives_a_restart(
    server: Server, tmp_path: Path, callee_port: int
) -> None:
    record = await request_callback(server, tmp_path)
    assert await server.stop() == 0
    await server.start()

    alice = await agent_phone("agent_answer.xml", server.agents["alice"], tmp_path).start()
    callee = await agent_phone(
        "answers_then_hangs_up.xml", callee_port, tmp_path, talk_ms=2000
    ).start()
    await server.set_state("alice", "available")
    await finished(callee, alice)
    done = await wait_for_call(server, lambda c: c["outcome"] == "called_back")
    assert done["id"] == record["id"] and done["agent"] == "alice"


async def test_busy_callee_is_retried_then_dropped_and_the_agent_freed(
    server: Server, tmp_path: Path, callee_port: int
) -> None:
    record = await request_callback(server, tmp_path)

    # Two tries (callback_retries: 1, one second apart): alice answers both, the callee
    # is busy both times; the hotline hangs up alice's phone after each.
    alice = await agent_phone("agent_answer.xml", server.agents["alice"], tmp_path, 2).start()
    callee = await agent_phone("agent_busy.xml", callee_port, tmp_path, calls=2).start()
    await server.set_state("alice", "available")
    await finished(callee, alice)

    done = await wait_for_call(server, lambda c: c["outcome"] == "callback_failed")
    assert done["id"] == record["id"] and done["agent"] is None
    events = await history(server, record["id"])
    assert [e["type"] for e in events] == [
        "CallEnqueued",
        "CallbackRequested",
        "CallOffered",
        "CallbackDialing",
        "CallbackFailed",
        "CallOffered",
        "CallbackDialing",
        "CallbackFailed",
    ]
    first, last = events[4]["data"], events[7]["data"]
    assert (first["attempt"], last["attempt"]) == (1, 2)
    assert first["retry_at"] is not None and last["retry_at"] is None
    assert (await agent_states(server))["alice"] == ("available", None)


async def test_overflow_into_callback_confirms_and_hangs_up(
    tmp_path: Path, callee_port: int
) -> None:
    async for server in callback_server(
        tmp_path,
        callee_port,
        join_empty="overflow",
        overflow_target={"kind": "callback"},
    ):
        # Every agent is logged out: the call overflows at once into a callback.
        phone = await Sipp(
            "caller_until_bye.xml",
            [*caller_args(server), "-m", "1", "-timeout", "60s", "-timeout_error"],
            tmp_path,
        ).start()
        await finished(phone)
        record = await wait_for_call(server, lambda c: c["outcome"] == "callback" and c["ended_at"])
        events = await history(server, record["id"])
        assert [e["type"] for e in events] == [
            "CallEnqueued",
            "CallOverflowed",
            "CallbackRequested",
        ]
