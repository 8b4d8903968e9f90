"""Transfers to an outside number from the agent's console, on real parts: a real
`callcenter serve`, SIPp callers and agent phones, the console over WebSocket (every push
checked against the JSON Schemas by `Console`).

`sip.transfer_mode: refer`: the caller's leg gets REFER; a caller that accepts it and
reports success (NOTIFY, sipfrag 200) gets BYE, one that declines it (603) stays with the
agent. `bridge`: the bridge dials the number (a SIPp callee) and bridges the caller to it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml

from tests.e2e.test_callback import finished, history
from tests.e2e.test_console_call_control import console, ok, state, write_config
from tests.e2e.test_hotline_call import wait_for_call
from tests.integration.harness import ROOT, Server, agent_phone, caller
from tests.services import free_udp_tcp_port

pytestmark = pytest.mark.sip

#: The outside number the agent transfers to (a colleague's mobile, the on-site desk).
TARGET = "+8613800138000"


async def transfer_server(workdir: Path, mode: str, target_port: int) -> AsyncIterator[Server]:
    srv = Server(
        f"sqlite+aiosqlite:///{workdir / 'callcenter.db'}",
        workdir,
        extra_env={
            "CALLCENTER_CONFIG": str(write_config(workdir)),
            "CALLCENTER_SIP_TRANSFER_MODE": mode,
            "CALLCENTER_SIP_TRANSFER_URI_TEMPLATE": f"sip:{{number}}@127.0.0.1:{target_port}",
            "CALLCENTER_SIP_TRANSFER_TIMEOUT_SECONDS": "15",
        },
    )
    await srv.prepare()
    async with srv.running():
        yield srv


@pytest.fixture
def target_port() -> int:
    return free_udp_tcp_port()


@pytest.fixture
async def refer_server(tmp_path: Path, target_port: int) -> AsyncIterator[Server]:
    async for srv in transfer_server(tmp_path, "refer", target_port):
        yield srv


@pytest.fixture
async def bridge_server(tmp_path: Path, target_port: int) -> AsyncIterator[Server]:
    async for srv in transfer_server(tmp_path, "bridge", target_port):
        yield srv


async def test_refer_accepted_ends_the_call_as_transferred(
    refer_server: Server, tmp_path: Path, target_port: int
) -> None:
    server = refer_server
    alice_phone = await agent_phone("agent_answer.xml", server.agents["alice"], tmp_path).start()
    async for alice in console(server, "alice"):
        await ok(alice, "set_state", state="available")
        phone = await caller("caller_accepts_refer.xml", server, tmp_path).start()
        call_id = (await alice.expect("offer", timeout=20))["call_id"]
        await alice.expect("call_connected", timeout=10)

        assert await ok(alice, "transfer", call_id=call_id, number=TARGET) == {"call_id": call_id}
        started = await alice.expect("transfer", timeout=5)
        assert (started["state"], started["mode"], started["target"]) == (
            "started",
            "blind",
            TARGET,
        )
        done = await alice.expect("transfer", timeout=15)
        assert (done["call_id"], done["state"]) == (call_id, "completed"), done
        ended = await alice.expect("call_ended", timeout=10)
        assert ended["call_id"] == call_id
        await state(alice, "wrap_up")
        await finished(phone, alice_phone)  # REFER, NOTIFY answered, then BYE; alice's BYE

    messages = "".join(p.read_text() for p in tmp_path.glob("caller_accepts_refer*messages.log"))
    refer_to = [line for line in messages.splitlines() if line.startswith("Refer-To:")]
    assert refer_to == [f"Refer-To: sip:{TARGET}@127.0.0.1:{target_port}"], refer_to
    record = await wait_for_call(server, lambda c: c["ended_at"] is not None)
    assert (record["id"], record["outcome"], record["agent"]) == (call_id, "transferred", "alice")
    assert record["transfer_target"] == TARGET


async def test_refer_declined_returns_the_caller_to_the_agent(
    refer_server: Server, tmp_path: Path
) -> None:
    server = refer_server
    alice_phone = await agent_phone("agent_answer.xml", server.agents["alice"], tmp_path).start()
    async for alice in console(server, "alice"):
        await ok(alice, "set_state", state="available")
        phone = await caller("caller_rejects_refer.xml", server, tmp_path).start()
        call_id = (await alice.expect("offer", timeout=20))["call_id"]
        await alice.expect("call_connected", timeout=10)

        await ok(alice, "transfer", call_id=call_id, number=TARGET)
        assert (await alice.expect("transfer", timeout=5))["state"] == "started"
        failed = await alice.expect("transfer", timeout=15)
        assert failed["state"] == "failed" and failed["reason"].startswith("603"), failed
        error = await alice.expect("error", timeout=5)
        assert (error["id"], error["code"], error["call_id"]) == (None, "transfer_failed", call_id)

        # Still alice's call: she can hold it (the caller is bridged back to her phone).
        await ok(alice, "hold", call_id=call_id)
        assert (await alice.expect("call_held", timeout=5))["held"] is True
        await ok(alice, "resume", call_id=call_id)
        assert (await alice.expect("call_held", timeout=5))["held"] is False
        await ok(alice, "hangup", call_id=call_id)
        ended = await alice.expect("call_ended", timeout=10)
        assert (ended["call_id"], ended["reason"]) == (call_id, "completed")
        await finished(phone, alice_phone)

    record = await wait_for_call(server, lambda c: c["ended_at"] is not None)
    assert (record["id"], record["outcome"], record["agent"]) == (call_id, "answered", "alice")
    assert record["transfer_target"] is None


async def test_bridge_mode_dials_the_number_and_bridges_the_caller(
    bridge_server: Server, tmp_path: Path, target_port: int
) -> None:
    server = bridge_server
    callee = await agent_phone(
        "answers_then_hangs_up.xml", target_port, tmp_path, talk_ms=3000
    ).start()
    alice_phone = await agent_phone("agent_answer.xml", server.agents["alice"], tmp_path).start()
    async for alice in console(server, "alice"):
        await ok(alice, "set_state", state="available")
        phone = await caller("caller_until_bye.xml", server, tmp_path).start()
        call_id = (await alice.expect("offer", timeout=20))["call_id"]
        await alice.expect("call_connected", timeout=10)

        await ok(alice, "transfer", call_id=call_id, number=TARGET)
        assert (await alice.expect("transfer", timeout=5))["state"] == "started"
        done = await alice.expect("transfer", timeout=15)
        assert done["state"] == "completed", done
        await alice.expect("call_ended", timeout=10)
        await state(alice, "wrap_up")
        await finished(alice_phone)  # released once the callee answered
        # The callee talks, hangs up; the caller gets BYE.
        await finished(callee, phone)

    record = await wait_for_call(server, lambda c: c["ended_at"] is not None and c["media"])
    assert (record["id"], record["outcome"]) == (call_id, "transferred")
    media = record["media"]
    assert record["transfer_target"] == TARGET
    # The caller heard music while the number rang, then the callee.
    assert media["caller_music_level_peak"] > 0, media
    assert media["caller_heard_level_peak"] > 0, media


def transfer_flow(workdir: Path) -> Path:
    """An IVR whose first node transfers every caller to the outside number."""
    flow = {
        "prompts": str(ROOT / "config" / "prompts.yaml"),
        "default": "out",
        "flows": {
            "out": {
                "language": "en",
                "queue": "helpdesk",
                "start": "away",
                "nodes": {"away": {"kind": "transfer", "target": TARGET}},
            }
        },
    }
    path = workdir / "ivr-transfer.yaml"
    path.write_text(yaml.safe_dump(flow))
    return path


async def test_ivr_transfer_node_refers_the_caller(tmp_path: Path, target_port: int) -> None:
    server = Server(
        f"sqlite+aiosqlite:///{tmp_path / 'callcenter.db'}",
        tmp_path,
        ivr_file=transfer_flow(tmp_path),
        extra_env={
            "CALLCENTER_SIP_TRANSFER_URI_TEMPLATE": f"sip:{{number}}@127.0.0.1:{target_port}"
        },
    )
    await server.prepare()
    await server.start()
    try:
        phone = await caller("caller_accepts_refer.xml", server, tmp_path).start()
        await finished(phone)  # REFER to the flow's number, NOTIFY 200, then BYE
        record = await wait_for_call(server, lambda c: c["ended_at"] is not None)
    finally:
        await server.stop()
    assert (record["outcome"], record["transfer_target"]) == ("transferred", TARGET)
    assert (record["queue"], record["agent"]) == (None, None)


async def test_ivr_transfer_declined_queues_the_caller(tmp_path: Path, target_port: int) -> None:
    server = Server(
        f"sqlite+aiosqlite:///{tmp_path / 'callcenter.db'}",
        tmp_path,
        ivr_file=transfer_flow(tmp_path),
        extra_env={
            "CALLCENTER_SIP_TRANSFER_URI_TEMPLATE": f"sip:{{number}}@127.0.0.1:{target_port}"
        },
    )
    await server.prepare()
    await server.start()
    try:
        phone = await caller("caller_rejects_refer.xml", server, tmp_path).start()
        # 603 to the REFER: the caller is not dropped but waits in the default queue.
        record = await wait_for_call(server, lambda c: c["queue"] is not None)
        assert (record["queue"], record["transfer_target"]) == ("helpdesk", None)
    finally:
        await server.stop()
    await finished(phone)  # BYE at shutdown


async def test_attended_transfer_to_an_agent_through_the_consoles(
    refer_server: Server, tmp_path: Path
) -> None:
    """alice consults bob (the caller hears music, bob is reserved), then completes: the
    caller is bridged to bob's phone, alice goes to wrap-up, bob has the call."""
    server = refer_server
    alice_phone = await agent_phone("agent_answer.xml", server.agents["alice"], tmp_path).start()
    bob_phone = await agent_phone("agent_answer.xml", server.agents["bob"], tmp_path).start()
    async for alice in console(server, "alice"):
        await ok(alice, "set_state", state="available")
        phone = await caller("caller_until_bye.xml", server, tmp_path).start()
        call_id = (await alice.expect("offer", timeout=20))["call_id"]
        await alice.expect("call_connected", timeout=10)
        async for bob in console(server, "bob"):
            await ok(bob, "set_state", state="available")
            error = await alice.request("transfer_complete", call_id=call_id)
            assert (error["type"], error["code"]) == ("error", "invalid_call_state")

            # (`ok` names its console `agent`: the request is sent as is.)
            reply = await alice.request("transfer", call_id=call_id, agent="bob", mode="attended")
            assert reply["type"] == "ok", reply
            started = await alice.expect("transfer", timeout=5)
            assert (started["mode"], started["target"], started["state"]) == (
                "attended",
                "bob",
                "started",
            )
            reserved = await state(bob, "paused")
            assert reserved["reason"] == "consultation"
            consulting = await alice.expect("transfer", timeout=10)
            assert consulting["state"] == "consulting", consulting
            error = await alice.request("hold", call_id=call_id)  # the caller is held already
            assert (error["type"], error["code"]) == ("error", "invalid_call_state")

            await ok(alice, "transfer_complete", call_id=call_id)
            assert (await alice.expect("transfer", timeout=5))["state"] == "completed"
            ended = await alice.expect("call_ended", timeout=10)
            assert (ended["call_id"], ended["reason"]) == (call_id, "transferred")
            await state(alice, "wrap_up")
            await finished(alice_phone)  # alice's phone got BYE

            offer = await bob.expect("offer", timeout=10)
            assert offer["call_id"] == call_id
            await bob.expect("call_connected", timeout=10)
            await state(bob, "on_call")
            await bob.nothing_more(1.5)  # bob and the caller talk
            await ok(bob, "hangup", call_id=call_id)
            assert (await bob.expect("call_ended", timeout=10))["reason"] == "completed"
            await finished(phone, bob_phone)  # one INVITE to bob's phone: the consultation's

    record = await wait_for_call(server, lambda c: c["ended_at"] is not None and c["media"])
    assert (record["id"], record["outcome"], record["agent"]) == (call_id, "answered", "bob")
    assert record["media"]["caller_music_level_peak"] > 0  # music during the consultation
    events = [e["type"] for e in await history(server, call_id)]
    assert events.index("CallTransferred") < events.index("CallCompleted")
    assert events.count("CallAnswered") == 2


async def test_attended_transfer_cancelled_brings_the_agent_back(
    refer_server: Server, tmp_path: Path
) -> None:
    """alice consults bob, then cancels: bob's phone gets BYE and bob is available again;
    alice talks to the caller until she hangs up."""
    server = refer_server
    alice_phone = await agent_phone("agent_answer.xml", server.agents["alice"], tmp_path).start()
    bob_phone = await agent_phone("agent_answer.xml", server.agents["bob"], tmp_path).start()
    async for alice in console(server, "alice"):
        await ok(alice, "set_state", state="available")
        phone = await caller("caller_until_bye.xml", server, tmp_path).start()
        call_id = (await alice.expect("offer", timeout=20))["call_id"]
        await alice.expect("call_connected", timeout=10)
        await server.set_state("bob", "available")

        reply = await alice.request("transfer", call_id=call_id, agent="bob", mode="attended")
        assert reply["type"] == "ok", reply
        assert (await alice.expect("transfer", timeout=5))["state"] == "started"
        assert (await alice.expect("transfer", timeout=10))["state"] == "consulting"
        assert await server.agent_state("bob") == "paused"

        await ok(alice, "transfer_cancel", call_id=call_id)
        cancelled = await alice.expect("transfer", timeout=5)
        assert (cancelled["state"], cancelled["target"]) == ("cancelled", "bob")
        await finished(bob_phone)  # the consultation leg got BYE
        assert await server.agent_state("bob") == "available"
        error = await alice.request("transfer_cancel", call_id=call_id)
        assert (error["type"], error["code"]) == ("error", "invalid_call_state")

        await ok(alice, "hold", call_id=call_id)  # alice's call again
        assert (await alice.expect("call_held", timeout=5))["held"] is True
        await ok(alice, "resume", call_id=call_id)
        await ok(alice, "hangup", call_id=call_id)
        assert (await alice.expect("call_ended", timeout=10))["reason"] == "completed"
        await finished(phone, alice_phone)

    record = await wait_for_call(server, lambda c: c["ended_at"] is not None)
    assert (record["id"], record["outcome"], record["agent"]) == (call_id, "answered", "alice")


async def test_attended_transfer_to_a_number_bridges_the_caller_on_completion(
    refer_server: Server, tmp_path: Path, target_port: int
) -> None:
    """A consultation with an outside number (dialled even in refer mode), completed: the
    caller is bridged to the number, alice is freed, the record says transferred."""
    server = refer_server
    callee = await agent_phone(
        "answers_then_hangs_up.xml", target_port, tmp_path, talk_ms=6000
    ).start()
    alice_phone = await agent_phone("agent_answer.xml", server.agents["alice"], tmp_path).start()
    async for alice in console(server, "alice"):
        await ok(alice, "set_state", state="available")
        phone = await caller("caller_until_bye.xml", server, tmp_path).start()
        call_id = (await alice.expect("offer", timeout=20))["call_id"]
        await alice.expect("call_connected", timeout=10)

        reply = await alice.request("transfer", call_id=call_id, number=TARGET, mode="attended")
        assert reply["type"] == "ok", reply
        assert (await alice.expect("transfer", timeout=5))["state"] == "started"
        assert (await alice.expect("transfer", timeout=10))["state"] == "consulting"
        await ok(alice, "transfer_complete", call_id=call_id)
        done = await alice.expect("transfer", timeout=5)
        assert (done["mode"], done["state"]) == ("attended", "completed")
        await alice.expect("call_ended", timeout=10)
        await state(alice, "wrap_up")
        await finished(alice_phone)
        await finished(callee, phone)  # the callee hangs up: the caller gets BYE

    record = await wait_for_call(server, lambda c: c["ended_at"] is not None and c["media"])
    assert (record["id"], record["outcome"], record["agent"]) == (call_id, "transferred", "alice")
    assert record["transfer_target"] == TARGET


async def test_attended_transfer_to_a_busy_agent_fails_back_to_the_caller(
    refer_server: Server, tmp_path: Path
) -> None:
    server = refer_server
    alice_phone = await agent_phone("agent_answer.xml", server.agents["alice"], tmp_path).start()
    bob_phone = await agent_phone("agent_busy.xml", server.agents["bob"], tmp_path).start()
    async for alice in console(server, "alice"):
        await ok(alice, "set_state", state="available")
        phone = await caller("caller_until_bye.xml", server, tmp_path).start()
        call_id = (await alice.expect("offer", timeout=20))["call_id"]
        await alice.expect("call_connected", timeout=10)
        await server.set_state("bob", "available")

        reply = await alice.request("transfer", call_id=call_id, agent="bob", mode="attended")
        assert reply["type"] == "ok", reply
        assert (await alice.expect("transfer", timeout=5))["state"] == "started"
        failed = await alice.expect("transfer", timeout=10)
        assert failed["state"] == "failed" and failed["reason"].startswith("486"), failed
        error = await alice.expect("error", timeout=5)
        assert (error["code"], error["call_id"]) == ("transfer_failed", call_id)
        await finished(bob_phone)
        assert await server.agent_state("bob") == "available"  # the reservation is undone

        await ok(alice, "hangup", call_id=call_id)  # alice's call still
        assert (await alice.expect("call_ended", timeout=10))["reason"] == "completed"
        await finished(phone, alice_phone)
