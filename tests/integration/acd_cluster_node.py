"""One process of the shared-ACD hammer test (test_acd_cluster.py runs several).

It drives the shared ACD with random commands for its own callers and agents, checks
the no-double-booking invariant on its own copy after every event, and at the end
prints a digest of every event and of the final state: the copies of all processes
must agree on both.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import sys
from typing import Any

import redis.asyncio as aioredis

from callcenter.acd import commands as c
from callcenter.acd import events as ev
from callcenter.acd.acd import Acd
from callcenter.acd.model import AgentState, CallPhase, QueueSettings, Strategy
from callcenter.acd_store.redis_log import LogClock, RedisAcdStore
from callcenter.clock import SystemClock

QUEUES = (
    QueueSettings("helpdesk", ring_timeout_seconds=0.3, wrap_up_seconds=0.2),
    QueueSettings("hardware", strategy=Strategy.RANDOM, ring_timeout_seconds=0.3),
    QueueSettings("vip", strategy=Strategy.ROUND_ROBIN, wrap_up_seconds=0.1),
)
AGENTS = [f"agent-{i:02d}" for i in range(12)]


def violations(acd: Acd) -> list[str]:
    """An agent offered or connected to more than one call, a call offered to more than
    one agent, or an agent and a call that disagree about each other."""
    found: list[str] = []
    holder: dict[str, str] = {}
    for call in acd._calls.values():
        agents = list(call.offered_to)
        if call.phase is CallPhase.CONNECTED and call.agent_id is not None:
            agents.append(call.agent_id)
        if len(set(agents)) > 1:
            found.append(f"call {call.call_id} held by {sorted(set(agents))}")
        for agent in set(agents):
            if agent in holder:
                found.append(f"agent {agent} holds {holder[agent]} and {call.call_id}")
            holder[agent] = call.call_id
    for agent in acd.agents:
        busy = agent.state in (AgentState.OFFERED, AgentState.ON_CALL)
        if busy and holder.get(agent.agent_id) != agent.call_id:
            found.append(f"agent {agent.agent_id} in {agent.state} with {agent.call_id}")
    return found


async def main(url: str, prefix: str, index: int, nodes: int, steps: int) -> dict[str, Any]:
    rnd = random.Random(index)
    digest = hashlib.sha256()
    counts = {"events": 0, "offers": 0, "violations": 0, "refused": 0}
    problems: list[str] = []
    store: RedisAcdStore

    def publish(event: ev.AcdEvent) -> None:
        counts["events"] += 1
        counts["offers"] += isinstance(event, ev.CallOffered)
        digest.update(repr(event).encode())
        found = violations(store.acd)
        counts["violations"] += len(found)
        problems.extend(found[:3])

    clock = LogClock(SystemClock())
    acd = Acd(QUEUES, clock, publish, rng=random.Random(0))
    store = RedisAcdStore(acd, clock, url, prefix=prefix, lease_seconds=2.0, snapshot_seconds=3600)
    await store.start()
    mine = [a for i, a in enumerate(AGENTS) if i % nodes == index]
    for agent in mine:
        store.submit(c.AddAgent(agent, tuple(q.name for q in QUEUES)))
    await store.submit(c.Hangup("added"))
    pending: list[asyncio.Future[None]] = []
    calls = 0
    for step in range(steps):
        own_calls = [k for k in acd._calls.values() if k.call_id.startswith(f"n{index}-")]
        roll = rnd.random()
        if roll < 0.3:
            calls += 1
            queue = rnd.choice(QUEUES).name
            pending.append(store.submit(c.Enqueue(f"n{index}-{calls}", queue, f"+86{calls}")))
        elif roll < 0.55 and own_calls:
            call = rnd.choice(own_calls)
            if call.phase is CallPhase.OFFERED:
                agent = call.offered_to[0] if call.offered_to else None
                if rnd.random() < 0.8:
                    pending.append(store.submit(c.Answered(call.call_id, agent)))
                else:
                    failure = c.OfferFailed(call.call_id, rnd.choice(list(c.OfferFailure)), agent)
                    pending.append(store.submit(failure))
        elif roll < 0.7 and own_calls:
            pending.append(store.submit(c.Hangup(rnd.choice(own_calls).call_id)))
        elif roll < 0.9:
            agent_id = rnd.choice(mine)
            if acd.agent(agent_id).state in (AgentState.PAUSED, AgentState.LOGGED_OUT):
                pending.append(store.submit(c.SetAgentState(agent_id, AgentState.AVAILABLE)))
            elif acd.agent(agent_id).state is AgentState.WRAP_UP:
                pending.append(store.submit(c.EndWrapUp(agent_id)))
        else:
            store.tick()  # only the leader's tick is appended
        if step % 10 == 9:
            results = await asyncio.gather(*pending, return_exceptions=True)
            counts["refused"] += sum(isinstance(r, Exception) for r in results)
            pending.clear()
            await asyncio.sleep(rnd.random() * 0.01)
    results = await asyncio.gather(*pending, return_exceptions=True)
    counts["refused"] += sum(isinstance(r, Exception) for r in results)
    for call in [k for k in acd._calls.values() if k.call_id.startswith(f"n{index}-")]:
        store.submit(c.Hangup(call.call_id))
    await store.submit(c.Hangup("flush"))

    # Everyone is done when every process counted itself; then all copies have the log.
    client = aioredis.from_url(url, decode_responses=True)
    await client.incr(f"{prefix}:done")
    while int(await client.get(f"{prefix}:done") or 0) < nodes:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    last = (await client.xrevrange(f"{prefix}:log", count=1))[0][0]
    await client.aclose()
    while store._last_id != last:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    state = json.dumps(acd.export_state(), sort_keys=True).encode()
    await store.close()
    return {
        **counts,
        "problems": problems[:10],
        "applied": store.applied,
        "events_digest": digest.hexdigest(),
        "state_digest": hashlib.sha256(state).hexdigest(),
    }


if __name__ == "__main__":
    url, prefix, index, nodes, steps = sys.argv[1:6]
    print(json.dumps(asyncio.run(main(url, prefix, int(index), int(nodes), int(steps)))))
