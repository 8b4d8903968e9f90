"""One contract for both ACD stores: in-process, and shared through a real Redis.

The same tests run against each, so the call flow, consoles and API behave the same
whichever the deployment uses. Redis-only behaviour (copies agreeing, joining late,
a lost process) follows the contract.
"""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from callcenter.acd import commands as c
from callcenter.acd import events as ev
from callcenter.acd.acd import Acd
from callcenter.acd.errors import InvalidTransition, UnknownAgent, UnknownCall
from callcenter.acd.model import AgentState, CallPhase, QueueSettings
from callcenter.acd_store import AcdStore, LocalAcdStore
from callcenter.acd_store.redis_log import LogClock, RedisAcdStore
from callcenter.acd_store.store import AcdStoreUnavailable, submit_change
from callcenter.clock import SystemClock
from callcenter.health import DependencyDown
from tests.integration.harness import eventually
from tests.outage import PrivateRedis
from tests.services import require_redis

QUEUES = (
    QueueSettings("helpdesk", ring_timeout_seconds=0.2, wrap_up_seconds=60.0),
    QueueSettings("hardware"),
)


class Node:
    """A store with its own copy of the ACD and the events that copy published."""

    def __init__(self, store: AcdStore, events: list[ev.AcdEvent], own: list[bool]) -> None:
        self.store, self.events, self.own = store, events, own

    @property
    def acd(self) -> Acd:
        return self.store.acd

    def of(self, kind: type[Any]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


def _acd(clock: Any, events: list[ev.AcdEvent], own: list[bool], store: list[AcdStore]) -> Acd:
    def publish(event: ev.AcdEvent) -> None:
        events.append(event)
        own.append(store[0].applying_own)

    return Acd(QUEUES, clock, publish, rng=random.Random(7))  # copies share the seed


@asynccontextmanager
async def node_factory(kind: str) -> AsyncIterator[Callable[..., Any]]:
    """Make nodes of one store kind; for Redis, all of a test's nodes share one ACD."""
    url = require_redis() if kind == "redis" else ""
    prefix = f"test:acd:{uuid.uuid4().hex[:8]}"
    made: list[AcdStore] = []

    async def make(**options: Any) -> Node:
        events: list[ev.AcdEvent] = []
        own: list[bool] = []
        holder: list[AcdStore] = []
        store: AcdStore
        if kind == "local":
            store = LocalAcdStore(_acd(SystemClock(), events, own, holder))
        else:
            clock = LogClock(SystemClock())
            acd = _acd(clock, events, own, holder)
            store = RedisAcdStore(acd, clock, url, prefix=prefix, **options)
        holder.append(store)
        await store.start()
        made.append(store)
        return Node(store, events, own)

    make.url, make.prefix = url, prefix  # type: ignore[attr-defined]
    yield make
    for store in made:
        await store.close()
    if kind == "redis":
        client = aioredis.from_url(url)
        keys = [k async for k in client.scan_iter(f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


@pytest.fixture(params=["local", "redis"])
async def nodes(request: pytest.FixtureRequest) -> AsyncIterator[Callable[..., Any]]:
    """The contract: the same test against each store."""
    async with node_factory(request.param) as make:
        yield make


@pytest.fixture
async def redis_nodes() -> AsyncIterator[Callable[..., Any]]:
    """What only a shared store does: several copies of one ACD."""
    async with node_factory("redis") as make:
        yield make


async def _available(node: Node, *agents: str, queues: tuple[str, ...] = ("helpdesk",)) -> None:
    for agent in agents:
        node.store.submit(c.AddAgent(agent, queues))
        await node.store.submit(c.SetAgentState(agent, AgentState.AVAILABLE))


async def _settle(*nodes: Node) -> None:
    """Every node has applied everything any of them submitted (a no-op command each)."""
    for node in nodes:
        await node.store.submit(c.Hangup("settle-" + uuid.uuid4().hex))
    for node in nodes:
        await node.store.submit(c.Hangup("settle-" + uuid.uuid4().hex))


# ----- the contract -------------------------------------------------------------------


async def test_an_enqueued_call_is_offered_to_the_free_agent(nodes: Any) -> None:
    node = await nodes()
    await _available(node, "alice")
    await node.store.submit(c.Enqueue("call-1", "helpdesk", "+8613800000001"))
    assert node.acd.call("call-1").phase is CallPhase.OFFERED
    assert [(e.call_id, e.agent_id) for e in node.of(ev.CallOffered)] == [("call-1", "alice")]
    assert node.acd.agent("alice").state is AgentState.OFFERED


async def test_the_acds_refusal_reaches_the_submitter(nodes: Any) -> None:
    node = await nodes()
    with pytest.raises(UnknownAgent):
        await node.store.submit(c.SetAgentState("nobody", AgentState.AVAILABLE))
    with pytest.raises(UnknownCall):
        await node.store.submit(c.Answered("no-such-call"))
    await node.store.submit(c.Enqueue("call-1", "helpdesk", "+8613800000001"))
    with pytest.raises(InvalidTransition):
        await node.store.submit(c.Enqueue("call-1", "helpdesk", "+8613800000001"))
    # A refusal changes nothing and the store goes on serving.
    assert [call.call_id for call in node.acd.waiting_calls("helpdesk")] == ["call-1"]


async def test_commands_apply_in_the_order_they_were_submitted(nodes: Any) -> None:
    node = await nodes()
    futures = [
        node.store.submit(c.Enqueue(f"call-{i}", "helpdesk", f"+86138{i:08d}")) for i in range(40)
    ]
    futures += [node.store.submit(c.Hangup(f"call-{i}")) for i in range(0, 40, 2)]
    await asyncio.gather(*futures)
    assert [call.call_id for call in node.acd.waiting_calls("helpdesk")] == [
        f"call-{i}" for i in range(1, 40, 2)
    ]
    assert [e.call_id for e in node.of(ev.CallAbandoned)] == [f"call-{i}" for i in range(0, 40, 2)]


async def test_a_hangup_of_a_call_the_acd_no_longer_has_is_harmless(nodes: Any) -> None:
    node = await nodes()
    await node.store.submit(c.Hangup("never-queued"))
    await node.store.submit(c.Enqueue("call-1", "helpdesk", "+8613800000001"))
    await node.store.submit(c.Hangup("call-1"))
    await node.store.submit(c.Hangup("call-1"))
    assert not node.acd.has_call("call-1")
    assert len(node.of(ev.CallAbandoned)) == 1


async def test_a_whole_call_answered_completed_and_wrapped_up(nodes: Any) -> None:
    node = await nodes()
    await _available(node, "alice")
    await node.store.submit(c.Enqueue("call-1", "helpdesk", "+8613800000001"))
    await node.store.submit(c.Answered("call-1", "alice"))
    assert node.acd.agent("alice").state is AgentState.ON_CALL
    await node.store.submit(c.Hangup("call-1"))
    assert node.acd.agent("alice").state is AgentState.WRAP_UP
    await node.store.submit(c.EndWrapUp("alice"))
    assert node.acd.agent("alice").state is AgentState.AVAILABLE
    figures = node.acd.statistics("helpdesk").window(node.events[-1].at + 1, 3600)
    assert (figures.offered, figures.answered, figures.abandoned) == (1, 1, 0)
    assert [type(e).__name__ for e in node.events if not isinstance(e, ev.AgentStateChanged)] == [
        "CallEnqueued",
        "CallOffered",
        "CallAnswered",
        "CallCompleted",
    ]


async def test_time_withdraws_an_unanswered_offer_and_pauses_the_agent(nodes: Any) -> None:
    node = await nodes()
    await _available(node, "alice")
    await node.store.submit(c.Enqueue("call-1", "helpdesk", "+8613800000001"))
    await node.store.submit(c.Tick())  # before the ring timeout: nothing changes
    assert node.acd.call("call-1").phase is CallPhase.OFFERED
    await asyncio.sleep(0.3)
    await node.store.submit(c.Tick())
    assert node.acd.call("call-1").phase is CallPhase.WAITING
    assert node.acd.agent("alice").state is AgentState.PAUSED
    assert node.acd.agent("alice").reason == "no answer"


async def test_memberships_and_skills_change_at_run_time(nodes: Any) -> None:
    node = await nodes()
    await _available(node, "bob", queues=("hardware",))
    await node.store.submit(c.Enqueue("call-1", "helpdesk", "+8613800000001"))
    assert node.acd.call("call-1").phase is CallPhase.WAITING  # bob does not serve helpdesk
    await node.store.submit(c.SetMembership("bob", {"hardware": (5, 0), "helpdesk": (7, 1)}))
    assert node.acd.call("call-1").agent_id == "bob"
    assert node.acd.agent("bob").memberships["helpdesk"].level == 7
    await node.store.submit(c.SetSkills("bob", {"printers": 9}))
    assert node.acd.agent("bob").skills == {"printers": 9}


async def test_events_of_own_commands_are_marked_as_own(nodes: Any) -> None:
    node = await nodes()
    await node.store.submit(c.Enqueue("call-1", "helpdesk", "+8613800000001"))
    assert node.own and all(node.own)


# ----- Redis only: one ACD across processes ------------------------------------------


async def test_copies_agree_and_any_node_may_answer_another_nodes_call(redis_nodes: Any) -> None:
    a, b = await redis_nodes(), await redis_nodes()
    await _available(a, "alice")
    await b.store.submit(c.Enqueue("call-b", "helpdesk", "+8613800000001"))
    await _settle(a, b)
    assert a.acd.call("call-b").agent_id == b.acd.call("call-b").agent_id == "alice"
    await a.store.submit(c.Answered("call-b", "alice"))
    await _settle(a, b)
    assert b.acd.agent("alice").state is AgentState.ON_CALL
    assert a.acd.export_state() == b.acd.export_state()
    # Each node wrote once what it caused: b the enqueue and offer, a the answer.
    by_node = {
        name: {type(e).__name__ for e, own in zip(n.events, n.own, strict=True) if own}
        for name, n in (("a", a), ("b", b))
    }
    assert "CallEnqueued" in by_node["b"] and "CallEnqueued" not in by_node["a"]
    assert "CallAnswered" in by_node["a"] and "CallAnswered" not in by_node["b"]


async def test_every_copy_knows_where_browsers_reach_the_process_holding_a_call(
    redis_nodes: Any,
) -> None:
    """A browser agent's console on another node opens the call's audio there."""
    a = await redis_nodes(public_url="http://node-a:8081")
    b = await redis_nodes(public_url="http://node-b:8082")
    await _available(b, "alice")
    await a.store.submit(c.Enqueue("call-a", "helpdesk", "+8613800000001"))
    await _settle(a, b)
    assert isinstance(b.store, RedisAcdStore) and isinstance(a.store, RedisAcdStore)
    assert b.store.public_url("call-a") == a.store.public_url("call-a") == "http://node-a:8081"
    assert b.store.public_urls() == {"http://node-a:8081", "http://node-b:8082"}
    assert b.store.public_url("no-such-call") is None
    assert await b.store.save_snapshot()
    late = await redis_nodes()  # from the snapshot: its `urls`
    assert isinstance(late.store, RedisAcdStore)
    assert late.store.public_url("call-a") == "http://node-a:8081"


async def test_a_node_joining_late_starts_from_the_snapshot_and_the_log(redis_nodes: Any) -> None:
    a = await redis_nodes()
    await _available(a, "alice", "bob")
    for i in range(5):
        await a.store.submit(c.Enqueue(f"call-{i}", "helpdesk", f"+86138{i:08d}"))
    assert isinstance(a.store, RedisAcdStore)
    assert await a.store.save_snapshot()
    await a.store.submit(c.Answered("call-0"))
    await a.store.submit(c.Hangup("call-3"))
    late = await redis_nodes()
    assert late.acd.export_state() == a.acd.export_state()
    assert late.events and not any(late.own)  # it replayed the log after the snapshot
    client = aioredis.from_url(redis_nodes.url, decode_responses=True)
    snapshot = await client.hgetall(f"{redis_nodes.prefix}:snapshot")
    await client.aclose()
    assert set(json.loads(snapshot["owners"])) == {f"call-{i}" for i in range(5)}


async def test_the_calls_of_a_lost_node_end_and_free_its_agents(redis_nodes: Any) -> None:
    survivor = await redis_nodes(lease_seconds=0.6)
    doomed = await redis_nodes(lease_seconds=0.6)
    await _available(survivor, "alice", "bob")
    await doomed.store.submit(c.Enqueue("lost-1", "helpdesk", "+8613800000001"))
    await doomed.store.submit(c.Enqueue("lost-2", "helpdesk", "+8613800000002"))
    await doomed.store.submit(c.Answered("lost-1"))
    await survivor.store.submit(c.Enqueue("kept", "helpdesk", "+8613800000003"))
    assert isinstance(doomed.store, RedisAcdStore)
    for task in doomed.store._tasks:  # dies without a word: no BYE, no hang-up
        task.cancel()
    for _ in range(50):
        await asyncio.sleep(0.1)
        if not survivor.acd.has_call("lost-1") and not survivor.acd.has_call("lost-2"):
            break
    assert not survivor.acd.has_call("lost-1") and not survivor.acd.has_call("lost-2")
    assert survivor.acd.has_call("kept")  # the survivor's own call stays
    agents = {a: survivor.acd.agent(a).state for a in ("alice", "bob")}
    # One agent was talking on lost-1 (now in wrap-up); the other rang with lost-2 and
    # is free again, so the survivor's call reached it.
    assert sorted(agents.values()) == sorted([AgentState.WRAP_UP, AgentState.OFFERED])
    assert survivor.acd.call("kept").agent_id is not None


async def test_a_callback_being_dialled_by_a_lost_process_is_tried_again(redis_nodes: Any) -> None:
    survivor = await redis_nodes(lease_seconds=0.6)
    doomed = await redis_nodes(lease_seconds=0.6)
    await survivor.store.submit(c.Enqueue("cb", "helpdesk", "+8613800000001"))
    await survivor.store.submit(c.RequestCallback("cb", "+8613800000001"))
    await _available(survivor, "alice")
    await doomed.store.submit(c.Answered("cb", "alice"))  # doomed's agent leg took it
    assert doomed.acd.call("cb").dialing
    assert isinstance(doomed.store, RedisAcdStore)
    for task in doomed.store._tasks:  # dies while dialling the callee
        task.cancel()

    for _ in range(50):
        await asyncio.sleep(0.1)
        if survivor.acd.agent("alice").state is not AgentState.ON_CALL:
            break
    assert survivor.acd.agent("alice").state is not AgentState.ON_CALL
    call = survivor.acd.call("cb")  # a failed dial: the callback waits for its next try
    assert call.phase is CallPhase.WAITING and not call.dialing
    assert survivor.of(ev.CallbackFailed)


async def test_after_redis_lost_its_data_the_leader_publishes_its_copy_and_calls_stay(
    redis_nodes: Any,
) -> None:
    a = await redis_nodes(lease_seconds=0.6)
    assert isinstance(a.store, RedisAcdStore) and await a.store.seed()  # the cluster's start
    b = await redis_nodes(lease_seconds=0.6)
    await _available(a, "alice", "bob")
    await a.store.submit(c.Enqueue("call-a", "helpdesk", "+8613800000001"))
    await b.store.submit(c.Enqueue("call-b", "helpdesk", "+8613800000002"))
    await b.store.submit(c.Answered("call-b"))
    await _settle(a, b)
    talker = a.acd.call("call-b").agent_id
    assert talker is not None
    client = aioredis.from_url(redis_nodes.url, decode_responses=True)
    keys = [k async for k in client.scan_iter(f"{redis_nodes.prefix}:*")]
    await client.delete(*keys)  # what a restart of a Redis without persistence leaves

    snapshot: dict[str, str] = {}
    for _ in range(50):
        await asyncio.sleep(0.1)
        snapshot = await client.hgetall(f"{redis_nodes.prefix}:snapshot")
        if snapshot:
            break
    assert snapshot, "no process published the shared ACD again"
    assert set(json.loads(snapshot["owners"])) == {"call-a", "call-b"}
    await asyncio.sleep(3 * 0.6)  # beyond a lease: had a live peer been judged lost…
    await client.aclose()
    for node in (a, b):  # …its calls would have ended
        assert node.acd.call("call-a").phase is CallPhase.OFFERED
        assert node.acd.call("call-b").phase is CallPhase.CONNECTED
    assert sum(n.store.reseeds for n in (a, b) if isinstance(n.store, RedisAcdStore)) == 1
    # The log goes on in the new stream, and a process joining now gets the whole state.
    await a.store.submit(c.Hangup("call-b"))
    await _settle(a, b)
    late = await redis_nodes(lease_seconds=0.6)
    await _settle(a, b, late)
    assert late.acd.export_state() == a.acd.export_state() == b.acd.export_state()
    assert late.acd.agent(talker).state is AgentState.WRAP_UP


async def test_changes_waiting_for_a_stopped_redis_are_bounded_and_withdrawn(
    tmp_path: Path,
) -> None:
    """While Redis is away, at most `max_outbox` changes wait; more are refused at once,
    and one given up on (a request's deadline) is not written when Redis returns."""
    redis = PrivateRedis(tmp_path)
    await redis.start()
    events: list[ev.AcdEvent] = []
    holder: list[AcdStore] = []
    clock = LogClock(SystemClock())
    store = RedisAcdStore(
        _acd(clock, events, [], holder), clock, redis.url, prefix="bound", max_outbox=2
    )
    holder.append(store)
    await store.start()
    try:
        store.submit(c.AddAgent("alice", ("helpdesk",)))
        await store.submit(c.AddAgent("bob", ("helpdesk",)))
        await redis.stop()
        with pytest.raises(DependencyDown, match=r"not confirmed within 0\.3 s"):
            await submit_change(store, c.SetAgentState("alice", AgentState.AVAILABLE), None, 0.3)
        kept = store.submit(c.SetAgentState("bob", AgentState.AVAILABLE))
        assert store.waiting_changes == 2  # the withdrawn one is dropped at the next write
        refused = store.submit(c.SetAgentState("carol", AgentState.AVAILABLE))
        with pytest.raises(AcdStoreUnavailable, match="2 changes already wait"):
            await refused
        await redis.start()
        await asyncio.wait_for(kept, 15)
        assert store.acd.agent("bob").state is AgentState.AVAILABLE
        assert store.acd.agent("alice").state is AgentState.LOGGED_OUT  # withdrawn

        async def drained() -> bool:  # the writer clears its batch after Redis answers
            return store.waiting_changes == 0

        await eventually(drained, "the written changes leave the outbox", timeout=5)
    finally:
        await store.close()
        await redis.stop()
