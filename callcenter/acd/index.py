"""Indexes that let an operation look only at the queues it touches.

Routing used to sort every waiting call and filter every agent on each operation, so
its cost grew with the whole desk (O(W log W + W * A)). These indexes give, per queue,
the waiting calls in line order (Lines), the available agents in the order of the
queue's strategy (FreeAgents) and all its agents (Members), so a routing pass visits
only queues with a free agent, in line order, and for most strategies takes the first
suitable agent instead of comparing all of them.

They hold no truth of their own: the core calls `sync` after every change of what they
are keyed by (a call's phase, queue or place; an agent's state, idle time or
memberships), and `consistent` recomputes them from scratch for the tests.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Mapping
from typing import Any

from callcenter.acd.model import AcdCall, Agent, AgentState, CallPhase, Strategy
from callcenter.acd.routing import Order, free_order

#: A call's place in line, `AcdCall.order_key()`: unique (it ends with the call id).
Key = tuple[int, float, int, str]


class Lines:
    """The waiting calls of each queue (callbacks included), in the order they are served."""

    def __init__(self) -> None:
        self._keys: dict[str, list[Key]] = {}
        self._calls: dict[str, dict[Key, AcdCall]] = {}
        #: Where each indexed call is filed: (queue, key) as they were when filed.
        self._filed: dict[str, tuple[str, Key]] = {}

    def sync(self, call: AcdCall, held: bool) -> None:
        """File the call where it belongs now: in its queue's line if the ACD holds it
        (`held`) and it waits, nowhere otherwise."""
        want = (call.queue, call.order_key()) if held and call.phase is CallPhase.WAITING else None
        have = self._filed.get(call.call_id)
        if have == want:
            return
        if have is not None:
            queue, key = have
            keys = self._keys[queue]
            del keys[bisect_left(keys, key)]
            del self._calls[queue][key]
            del self._filed[call.call_id]
        if want is not None:
            queue, key = want
            insort(self._keys.setdefault(queue, []), key)
            self._calls.setdefault(queue, {})[key] = call
            self._filed[call.call_id] = want

    def rebuild(self, calls: Iterable[AcdCall]) -> None:
        self._keys, self._calls, self._filed = {}, {}, {}
        for call in calls:
            self.sync(call, held=True)

    def waiting(self, queue: str) -> list[AcdCall]:
        calls = self._calls.get(queue, {})
        return [calls[key] for key in self._keys.get(queue, [])]

    def count_before(self, queue: str, key: Key) -> int:
        """How many calls wait in the queue ahead of the place `key`."""
        return bisect_left(self._keys.get(queue, []), key)

    def first_after(self, queue: str, key: Key | None) -> Key | None:
        """The place of the next waiting call after `key` (None: from the head)."""
        keys = self._keys.get(queue, [])
        at = 0 if key is None else bisect_right(keys, key)
        return keys[at] if at < len(keys) else None

    def heads(self, queues: Iterable[str]) -> list[tuple[Key, str]]:
        """The place of the first waiting call of each of the queues that has one."""
        return [(keys[0], queue) for queue in queues if (keys := self._keys.get(queue))]

    def at(self, queue: str, key: Key) -> AcdCall:
        return self._calls[queue][key]

    def consistent(self, calls: Mapping[str, AcdCall]) -> bool:
        """Whether the lines are exactly the held waiting calls, each in line order."""
        expected: dict[str, list[AcdCall]] = {}
        for call in sorted(calls.values(), key=AcdCall.order_key):
            if call.phase is CallPhase.WAITING:
                expected.setdefault(call.queue, []).append(call)
        queues = set(expected) | set(self._keys)
        return all(
            [c.call_id for c in self.waiting(q)] == [c.call_id for c in expected.get(q, [])]
            and all(self.at(q, c.order_key()) is c for c in expected.get(q, []))
            for q in queues
        ) and len(self._filed) == sum(map(len, expected.values()))


class Members:
    """The agents of each queue (whatever their state), for counts and wait estimates."""

    def __init__(self) -> None:
        self._agents: dict[str, dict[str, Agent]] = {}
        self._filed: dict[str, tuple[str, ...]] = {}

    def sync(self, agent: Agent) -> None:
        """File the agent under the queues it serves now."""
        want, have = tuple(agent.memberships), self._filed.get(agent.agent_id, ())
        if want == have:
            return
        for queue in have:
            del self._agents[queue][agent.agent_id]
        for queue in want:
            self._agents.setdefault(queue, {})[agent.agent_id] = agent
        self._filed[agent.agent_id] = want

    def rebuild(self, agents: Iterable[Agent]) -> None:
        self._agents, self._filed = {}, {}
        for agent in agents:
            self.sync(agent)

    def of(self, queue: str) -> Mapping[str, Agent]:
        return self._agents.get(queue, {})

    def consistent(self, agents: Mapping[str, Agent]) -> bool:
        """Whether each queue holds exactly its members, as the ACD has them."""
        expected: dict[str, set[str]] = {}
        for agent in agents.values():
            for queue in agent.memberships:
                expected.setdefault(queue, set()).add(agent.agent_id)
        held = {q: set(a) for q, a in self._agents.items() if a}
        return held == expected and all(
            agent is agents[agent_id]
            for filed in self._agents.values()
            for agent_id, agent in filed.items()
        )


class FreeAgents:
    """The available agents of each queue, sorted by `routing.free_order` for the queue's
    strategy, so that `routing.choose_in_order` finds the agent without comparing them all.

    The order of the day-counter strategies depends on the day: `set_day` re-sorts when
    it changes (once a day), before a routing pass reads the order.
    """

    def __init__(self, strategies: Mapping[str, Strategy]) -> None:
        self._strategies = strategies
        self._day = 0
        self._keys: dict[str, list[Order]] = {}
        self._agents: dict[str, dict[Order, Agent]] = {}
        self._by_id: dict[str, dict[str, Agent]] = {}
        #: Per agent: the queue -> place it is filed under.
        self._filed: dict[str, dict[str, Order]] = {}

    def _places(self, agent: Agent) -> dict[str, Order]:
        if agent.state is not AgentState.AVAILABLE:
            return {}
        return {
            queue: free_order(self._strategies[queue], agent, queue, self._day)
            for queue in agent.memberships
        }

    def sync(self, agent: Agent) -> None:
        """File the agent where it belongs now: nowhere unless available, else in each of
        its queues at its place in the queue's order."""
        want, have = self._places(agent), self._filed.get(agent.agent_id, {})
        if want == have:
            return
        for queue, key in have.items():
            keys = self._keys[queue]
            del keys[bisect_left(keys, key)]
            del self._agents[queue][key]
            del self._by_id[queue][agent.agent_id]
        for queue, key in want.items():
            insort(self._keys.setdefault(queue, []), key)
            self._agents.setdefault(queue, {})[key] = agent
            self._by_id.setdefault(queue, {})[agent.agent_id] = agent
        self._filed[agent.agent_id] = want

    def rebuild(self, agents: Iterable[Agent]) -> None:
        self._keys, self._agents, self._by_id, self._filed = {}, {}, {}, {}
        for agent in agents:
            self.sync(agent)

    def set_day(self, day: int, agents: Iterable[Agent]) -> None:
        if day != self._day:
            self._day = day
            self.rebuild(agents)

    def of(self, queue: str) -> Mapping[str, Agent]:
        """The queue's available agents by id."""
        return self._by_id.get(queue, {})

    def ordered(self, queue: str) -> tuple[list[Order], Mapping[Order, Agent]]:
        """The queue's available agents' places, sorted, and the agent at each place."""
        return self._keys.get(queue, []), self._agents.get(queue, {})

    def queues(self) -> list[str]:
        """The queues with an available agent."""
        return [queue for queue, agents in self._by_id.items() if agents]

    def consistent(self, agents: Mapping[str, Agent]) -> bool:
        """Whether the index is what filing every agent afresh gives."""
        fresh = FreeAgents(self._strategies)
        fresh._day = self._day
        fresh.rebuild(agents.values())

        def held(table: Mapping[str, Mapping[Any, Agent]]) -> dict[str, dict[Any, Agent]]:
            return {queue: dict(filed) for queue, filed in table.items() if filed}

        same = held(self._agents) == held(fresh._agents) and held(self._by_id) == held(fresh._by_id)
        return same and all(
            self._keys[queue] == keys for queue, keys in fresh._keys.items() if keys
        )
