"""The agent console's call requests on real parts: a SIPp caller, SIPp agent phones, a
real `callcenter serve`, and the agents' consoles over WebSocket.

The helpdesk queue has a wrap-up time; a second queue, `desk2`, is served by bob only.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from websockets.asyncio.client import connect

from callcenter.tickets.store import open_store
from callcenter.tickets.ticket_repo import TicketRepo
from tests.e2e.test_callback import agent_states, finished, history
from tests.e2e.test_hotline_call import wait_for_call
from tests.integration.harness import ROOT, Server, agent_phone, caller
from tests.integration.test_websocket import Console

pytestmark = pytest.mark.sip


def write_config(workdir: Path) -> Path:
    data = yaml.safe_load((ROOT / "config" / "callcenter.yaml").read_text())
    [helpdesk] = data["acd"]["queues"]
    helpdesk["wrap_up_seconds"] = 60
    data["acd"]["queues"].append({**helpdesk, "name": "desk2", "wrap_up_seconds": 0})
    path = workdir / "callcenter.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    srv = Server(
        f"sqlite+aiosqlite:///{tmp_path / 'callcenter.db'}",
        tmp_path,
        extra_env={"CALLCENTER_CONFIG": str(write_config(tmp_path))},
    )
    await srv.prepare()
    engine = create_async_engine(srv.database_url)
    try:
        async with engine.begin() as conn:  # bob serves desk2 as well
            await conn.execute(
                text(
                    "INSERT INTO agent_queue (agent_id, queue, level, penalty)"
                    " SELECT id, 'desk2', 5, 0 FROM agent WHERE username = 'bob'"
                )
            )
    finally:
        await engine.dispose()
    async with srv.running():
        yield srv


async def console(server: Server, username: str) -> AsyncIterator[Console]:
    token = await server.login(username, f"{username}-demo")
    async with connect(
        f"ws://127.0.0.1:{server.http_port}/ws/agent",
        additional_headers={"Authorization": f"Bearer {token}"},
        open_timeout=5,
    ) as ws:
        agent = Console(ws, "agent")
        hello = await agent.expect("hello")
        assert hello["call_control"] is True
        await agent.expect("state")
        yield agent


async def ok(agent: Console, kind: str, **fields: Any) -> dict[str, Any]:
    reply = await agent.request(kind, **fields)
    assert reply["type"] == "ok", reply
    return dict(reply["result"])


async def state(agent: Console, wanted: str, timeout: float = 10) -> dict[str, Any]:
    while True:
        message = await agent.expect("state", timeout)
        if message["state"] == wanted:
            return message


async def ticket_text(server: Server, ticket_id: int) -> str:
    store = open_store(server.database_url, "CN")
    try:
        description = await store.ticket_description(ticket_id)
        ticket = await store.ticket(ticket_id)
        notes = await TicketRepo(store).notes(ticket_id)
    finally:
        await store.close()
    assert description is not None and ticket is not None
    return json.dumps(
        {
            "status": ticket.status.value,
            "description": description,
            "notes": [[n.author, n.text, n.call_id] for n in notes],
            "category": ticket.category,
            "resolution": ticket.resolution,
        }
    )


async def test_hold_resume_note_hangup_and_wrap_up_from_the_console(
    server: Server, tmp_path: Path
) -> None:
    alice_phone = await agent_phone("agent_answer.xml", server.agents["alice"], tmp_path).start()
    async for alice in console(server, "alice"):
        await ok(alice, "set_state", state="available")
        phone = await caller("caller_until_bye.xml", server, tmp_path).start()
        offer = await alice.expect("offer", timeout=20)
        call_id = offer["call_id"]
        assert offer["ivr"] == {"topic": "general"}  # set by the IVR, carried by the ACD
        await alice.expect("call_connected", timeout=10)

        await ok(alice, "hold", call_id=call_id)
        held = await alice.expect("call_held", timeout=5)
        assert (held["call_id"], held["held"]) == (call_id, True)
        error = await alice.request("hold", call_id=call_id)
        assert (error["type"], error["code"]) == ("error", "invalid_call_state")
        await alice.nothing_more(3)  # the caller hears music meanwhile
        await ok(alice, "resume", call_id=call_id)
        assert (await alice.expect("call_held", timeout=5))["held"] is False
        await alice.nothing_more(1.5)
        noted = await ok(alice, "add_note", call_id=call_id, text="printer jams on tray 2")
        assert noted["ticket_id"] is not None

        await ok(alice, "hangup", call_id=call_id)
        ended = await alice.expect("call_ended", timeout=10)
        assert (ended["call_id"], ended["reason"]) == (call_id, "completed")
        await alice.expect("wrap_up", timeout=10)
        await finished(phone, alice_phone)  # both legs got BYE

        form = {"category": "printer", "status": "resolved", "resolution": "cleaned tray 2"}
        refused = await alice.request("wrap_up", call_id=call_id, disposition="fixed", **form)
        assert (refused["type"], refused["code"]) == ("error", "invalid_field"), refused
        assert "disposition" in refused["message"]
        form["disposition"] = "resolved"
        done = await ok(alice, "wrap_up", call_id=call_id, **form)
        assert done["ticket_id"] == noted["ticket_id"]
        await state(alice, "available")

    record = await wait_for_call(server, lambda c: c["ended_at"] is not None and c["media"])
    assert (record["id"], record["outcome"], record["agent"]) == (call_id, "answered", "alice")
    assert record["ticket_id"] == noted["ticket_id"]
    assert record["disposition"] == "resolved"
    assert (record["ivr_outcome"], record["ivr"]) == ("queued", {"topic": "general"})
    media = record["media"]
    assert media["caller_music_level_peak"] > 0, media
    # Music while it waited (well under a second: alice was free) and during the hold.
    assert media["caller_music_ms"] >= 2500, media
    assert media["caller_heard_level_peak"] > 0, media  # the agent, before and after
    saved = json.loads(await ticket_text(server, noted["ticket_id"]))
    assert saved["status"] == "resolved"
    assert saved["notes"] == [["alice", "printer jams on tray 2", call_id]]
    assert (saved["category"], saved["resolution"]) == ("printer", "cleaned tray 2")
    assert (await agent_states(server))["alice"] == ("available", None)


async def test_transfer_to_another_queue_is_offered_to_its_agent(
    server: Server, tmp_path: Path
) -> None:
    alice_phone = await agent_phone("agent_answer.xml", server.agents["alice"], tmp_path).start()
    bob_phone = await agent_phone("agent_answer.xml", server.agents["bob"], tmp_path).start()
    async for alice in console(server, "alice"):
        await ok(alice, "set_state", state="available")
        phone = await caller("caller.xml", server, tmp_path, talk_ms=12000).start()
        call_id = (await alice.expect("offer", timeout=20))["call_id"]
        await alice.expect("call_connected", timeout=10)
        await server.set_state("bob", "available")  # nothing waits in the helpdesk

        await ok(alice, "transfer", call_id=call_id, queue="desk2")
        ended = await alice.expect("call_ended", timeout=10)
        assert (ended["call_id"], ended["reason"]) == (call_id, "transferred")
        await state(alice, "wrap_up")
        await finished(alice_phone)  # alice's phone got BYE, the caller stays
        error = await alice.request("hangup", call_id=call_id)
        assert error["type"] == "error", error
        await finished(phone, bob_phone)

    record = await wait_for_call(server, lambda c: c["ended_at"] is not None)
    assert (record["id"], record["outcome"]) == (call_id, "answered")
    assert (record["queue"], record["agent"]) == ("desk2", "bob")
    events = [e["type"] for e in await history(server, call_id)]
    assert events.index("CallTransferred") < events.index("CallCompleted")
    assert events.count("CallAnswered") == 2


async def test_reject_pauses_the_agent_and_the_call_is_offered_on(
    server: Server, tmp_path: Path
) -> None:
    alice_phone = await agent_phone(
        "agent_rings_until_cancel.xml", server.agents["alice"], tmp_path
    ).start()
    bob_phone = await agent_phone("agent_answer.xml", server.agents["bob"], tmp_path).start()
    async for alice in console(server, "alice"):
        await ok(alice, "set_state", state="available")
        phone = await caller("caller.xml", server, tmp_path, talk_ms=5000).start()
        call_id = (await alice.expect("offer", timeout=20))["call_id"]
        error = await alice.request("accept", call_id=call_id)
        assert (error["type"], error["code"]) == ("error", "not_supported")

        await ok(alice, "reject", call_id=call_id)
        ended = await alice.expect("call_ended", timeout=10)
        assert (ended["reason"], ended["cause"]) == ("withdrawn", "rejected")
        paused = await state(alice, "paused")
        assert paused["reason"] == "rejected"
        await finished(alice_phone)  # CANCEL reached the ringing phone
        await server.set_state("bob", "available")
        await finished(phone, bob_phone)

    record = await wait_for_call(server, lambda c: c["ended_at"] is not None)
    assert (record["id"], record["outcome"], record["agent"]) == (call_id, "answered", "bob")
