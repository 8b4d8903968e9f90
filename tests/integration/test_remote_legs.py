"""Hold, resume, accept and DTMF forwarded through a real Redis to the process holding
the call's legs."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from callcenter.api.websocket.control import CallControlError
from callcenter.calls.control import CallStateError
from callcenter.calls.events import CallHoldChanged
from callcenter.calls.remote_legs import RemoteLegs
from callcenter.clock import ManualClock
from tests.integration.harness import eventually
from tests.services import require_redis


class Owner:
    """The process with the legs: it records what it was asked and refuses a second hold."""

    def __init__(self) -> None:
        self.done: list[tuple[str, str, str]] = []
        self.digits: list[str] = []

    async def __call__(self, op: str, agent_id: str, call_id: str, arg: str) -> None:
        if (op, agent_id, call_id) in self.done and op == "hold":
            raise CallStateError(f"call {call_id!r} is on hold already")
        self.done.append((op, agent_id, call_id))
        if op == "dtmf":
            self.digits.append(arg)


@pytest.fixture
async def pair() -> AsyncIterator[tuple[RemoteLegs, RemoteLegs, Owner, list[CallHoldChanged]]]:
    url = require_redis()
    prefix = f"test:legs:{uuid.uuid4().hex[:8]}"
    owners = {"call-1": "node-a", "call-gone": "node-gone"}
    published: list[CallHoldChanged] = []
    a = RemoteLegs(url, prefix, "node-a", owners.get, published.append, ManualClock(5.0))
    b = RemoteLegs(url, prefix, "node-b", owners.get, published.append, ManualClock(7.0))
    owner = Owner()
    a.serve(owner)
    await a.start()
    await b.start()
    client = aioredis.from_url(url)

    async def listening() -> bool:
        return bool((await client.pubsub_numsub(f"{prefix}:legs:node-a"))[0][1])

    await eventually(listening, "node-a listens", timeout=5)
    await client.aclose()
    try:
        yield a, b, owner, published
    finally:
        await b.close()
        await a.close()


async def test_a_hold_asked_elsewhere_runs_on_the_owner_and_its_refusal_comes_back(
    pair: tuple[RemoteLegs, RemoteLegs, Owner, list[CallHoldChanged]],
) -> None:
    a, b, owner, published = pair
    await b.ask("hold", "alice", "call-1")
    assert owner.done == [("hold", "alice", "call-1")]
    assert published == [CallHoldChanged(7.0, "call-1", "alice", True)]  # b's consoles learn it
    with pytest.raises(CallControlError) as refused:
        await b.ask("hold", "alice", "call-1")
    assert refused.value.code == "invalid_call_state"
    await b.ask("resume", "alice", "call-1")
    assert published[-1].held is False
    with pytest.raises(CallControlError) as refused:
        await b.ask("transfer", "alice", "call-1")  # only the requests on the legs travel
    assert refused.value.code == "not_supported"
    assert (a.served, b.forwarded) == (2, 4)  # answered: done or refused


async def test_a_call_whose_process_is_gone_is_refused_as_elsewhere(
    pair: tuple[RemoteLegs, RemoteLegs, Owner, list[CallHoldChanged]],
) -> None:
    _, b, owner, published = pair
    with pytest.raises(CallControlError) as refused:
        await b.ask("hold", "alice", "call-gone")
    assert refused.value.code == "call_elsewhere"
    with pytest.raises(CallControlError) as refused:
        await b.ask("hold", "alice", "no-such-call")
    assert refused.value.code == "unknown_call"
    assert owner.done == [] and published == []


async def test_a_malformed_request_is_skipped_and_the_owner_keeps_serving(
    pair: tuple[RemoteLegs, RemoteLegs, Owner, list[CallHoldChanged]],
) -> None:
    a, b, owner, _ = pair
    client = aioredis.from_url(require_redis())
    assert await client.publish(f"{a._prefix}:legs:node-a", "not json {") == 1
    assert await client.publish(f"{a._prefix}:legs:node-a", '{"op": "hold"}') == 1
    await client.aclose()
    await b.ask("hold", "alice", "call-1")
    assert owner.done == [("hold", "alice", "call-1")]


async def test_an_accept_and_keys_asked_elsewhere_run_on_the_owner(
    pair: tuple[RemoteLegs, RemoteLegs, Owner, list[CallHoldChanged]],
) -> None:
    a, b, owner, published = pair
    await b.ask("accept", "alice", "call-1")
    await b.ask("dtmf", "alice", "call-1", "42#")
    assert owner.done == [("accept", "alice", "call-1"), ("dtmf", "alice", "call-1")]
    assert owner.digits == ["42#"]
    assert published == []  # no hold changed
    assert (a.served, b.forwarded) == (2, 2)
