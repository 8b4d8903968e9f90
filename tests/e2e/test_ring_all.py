"""A ring-all queue on real parts: the ACD offers the call to every free agent, the call
flow rings every phone at once, the first to answer gets the caller and the other
phones are cancelled (487)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.test_callback import agent_states, finished, history, write_config
from tests.e2e.test_hotline_call import wait_for_call
from tests.integration.harness import Server, agent_phone, caller

pytestmark = pytest.mark.sip


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    config = write_config(tmp_path, strategy="ring_all", ring_timeout_seconds=15)
    srv = Server(
        f"sqlite+aiosqlite:///{tmp_path / 'callcenter.db'}",
        tmp_path,
        extra_env={"CALLCENTER_CONFIG": str(config)},
    )
    await srv.prepare()
    async with srv.running():
        yield srv


async def test_first_phone_to_answer_wins_and_the_other_is_cancelled(
    server: Server, tmp_path: Path
) -> None:
    # alice answers after ringing briefly; bob's phone rings on and must get CANCEL.
    alice = await agent_phone("agent_answer.xml", server.agents["alice"], tmp_path).start()
    bob = await agent_phone("agent_rings_until_cancel.xml", server.agents["bob"], tmp_path).start()
    await server.set_state("alice", "available")
    await server.set_state("bob", "available")
    phone = await caller("caller.xml", server, tmp_path, talk_ms=7000).start()
    await finished(phone, alice, bob)

    record = await wait_for_call(server, lambda c: c["ended_at"] is not None and c["media"])
    assert (record["outcome"], record["agent"]) == ("answered", "alice")
    media = record["media"]
    assert media["agent_heard_level_peak"] > 0, media
    assert media["caller_heard_level_peak"] > 0, media

    events = await history(server, record["id"])
    assert [e["type"] for e in events] == [
        "CallEnqueued",
        "CallOffered",
        "CallOffered",
        "CallAnswered",
        "OfferWithdrawn",
        "CallCompleted",
    ]
    offered = sorted(e["agent"] for e in events if e["type"] == "CallOffered")
    assert offered == ["alice", "bob"]
    [answered] = [e for e in events if e["type"] == "CallAnswered"]
    assert answered["agent"] == "alice"
    [withdrawn] = [e for e in events if e["type"] == "OfferWithdrawn"]
    assert withdrawn["agent"] == "bob"
    assert withdrawn["data"]["answered_by"] == "alice" and withdrawn["data"]["reason"] is None
    # bob did nothing wrong: he is free again, not paused for no answer.
    states = await agent_states(server)
    assert states["alice"] == ("available", None) and states["bob"] == ("available", None)
