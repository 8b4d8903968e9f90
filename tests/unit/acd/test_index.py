"""The routing indexes (index.py) and the fast paths built on them change no outcome.

`BruteForceAcd` keeps the straightforward versions the core had before the indexes: a
routing pass over every waiting call against every free agent, positions and wait
estimates counted over every call and agent. Random operation sequences drive it and the
real ACD side by side, and every event (offers, positions, estimates) must be the same.
"""

from __future__ import annotations

import dataclasses
import math
import random

import pytest

from callcenter.acd.acd import Acd
from callcenter.acd.estimate import wait_for_position
from callcenter.acd.index import FreeAgents, Lines, Members
from callcenter.acd.model import (
    AcdCall,
    Agent,
    AgentState,
    CallPhase,
    Membership,
    QueueSettings,
    Strategy,
)
from callcenter.acd.routing import ORDERED, RoutingMemory, choose, choose_in_order
from callcenter.acd.service_level import QueueStatistics
from tests.unit.acd.desk import HELPDESK, Desk
from tests.unit.acd.test_properties import RICH_AGENTS, RICH_QUEUES, SKILL_NAMES, rich_step

_STAFFED = {AgentState.AVAILABLE, AgentState.OFFERED, AgentState.ON_CALL, AgentState.WRAP_UP}


class BruteForceAcd(Acd):
    """The ACD with the pre-index routing pass, position and wait estimate."""

    def _route(self) -> None:
        free = [a for a in self._agents.values() if a.state is AgentState.AVAILABLE]
        if not free:
            return
        now = self._clock.now()
        day = self.day_of(now)
        waiting = sorted(
            (
                c
                for c in self._calls.values()
                if c.phase is CallPhase.WAITING and (c.not_before is None or c.not_before <= now)
            ),
            key=AcdCall.order_key,
        )
        for call in waiting:
            settings = self._queues[call.queue]
            chosen = choose(
                call, settings, free, now=now, day=day, rng=self._rng, memory=self._memory
            )
            if not chosen:
                continue
            for agent in chosen:
                free.remove(agent)
            self._offer(call, chosen, now)
            if not free:
                return

    def _position(self, call: AcdCall) -> int:
        key = call.order_key()
        return 1 + sum(
            1
            for c in self._calls.values()
            if c.queue == call.queue and c.phase is CallPhase.WAITING and c.order_key() < key
        )

    def estimated_wait(self, queue: str, position: int) -> float | None:
        settings = self.queue_settings(queue)
        now = self._clock.now()
        aht = self._stats[queue].window(now, 3600.0).aht_seconds
        if aht is None:
            aht = settings.default_aht_seconds
        releases = [
            self._release_in(agent, aht, now)
            for agent in self._agents.values()
            if queue in agent.memberships and agent.state in _STAFFED
        ]
        return wait_for_position(position, releases, aht)


def twin_desks(queues: tuple[QueueSettings, ...], seed: int) -> tuple[Desk, Desk]:
    fast = Desk(queues, rng=random.Random(seed))
    slow = Desk(queues)
    slow.acd = BruteForceAcd(queues, slow.clock, slow.events.append, rng=random.Random(seed))
    return fast, slow


@pytest.mark.parametrize("strategy", list(Strategy))
@pytest.mark.parametrize("seed", range(6))
def test_indexed_routing_publishes_what_the_full_pass_did(strategy: Strategy, seed: int) -> None:
    """Every strategy in turn for the helpdesk queue, beside the rich configuration's
    ring-all and skills-based queues (skills, relaxation, overflow, callbacks, transfers,
    membership changes), half of the runs across midnight."""
    queues = (dataclasses.replace(RICH_QUEUES[0], strategy=strategy), *RICH_QUEUES[1:])
    fast, slow = twin_desks(queues, seed)
    for desk in (fast, slow):
        if seed % 2:
            desk.advance(85_300.0)  # midnight falls during the run: day counters restart
        skills_rnd = random.Random(seed)
        for agent_id, memberships in RICH_AGENTS.items():
            picked = skills_rnd.sample(SKILL_NAMES, skills_rnd.randint(0, 3))
            desk.acd.add_agent(
                agent_id, memberships, {s: skills_rnd.randint(1, 10) for s in picked}
            )
    fast_rnd, slow_rnd = random.Random(seed), random.Random(seed)
    fast_serial, slow_serial = [0], [0]
    for n in range(400):
        rich_step(fast, fast_rnd, fast_serial, restarts=False)
        rich_step(slow, slow_rnd, slow_serial, restarts=False)
        assert fast.events == slow.events, f"step {n}: the two ACDs told different stories"
        assert fast.acd._indexes_consistent()
    assert any(type(e).__name__ == "CallOffered" for e in fast.events)


def test_a_restored_acd_routes_as_the_full_pass_does() -> None:
    """Indexes are rebuilt from a restored state: many waiting calls, agents freed later."""
    fast, slow = twin_desks(RICH_QUEUES, 1)
    for desk in (fast, slow):
        for n in range(30):
            desk.acd.enqueue(f"c{n}", [HELPDESK, "vip"][n % 2], f"+{n}", priority=n % 3)
        saved = desk.acd.export_state()
        restored = type(desk.acd)(RICH_QUEUES, desk.clock, desk.events.append)
        restored.restore_state(saved)
        desk.acd = restored
        for agent_id, memberships in RICH_AGENTS.items():
            desk.acd.add_agent(agent_id, memberships)
            desk.acd.set_agent_state(agent_id, AgentState.AVAILABLE)
        desk.acd.tick()
    assert fast.events == slow.events
    assert fast.acd._indexes_consistent()


# ----- the index structures on their own ---------------------------------------------------


def test_lines_follow_random_changes_of_calls() -> None:
    rnd = random.Random(7)
    lines = Lines()
    held: dict[str, AcdCall] = {}
    calls = [
        AcdCall(f"c{n}", rnd.choice("abc"), "+1", rnd.randint(0, 2), float(rnd.randint(0, 9)))
        for n in range(60)
    ]
    for _ in range(2_000):
        call = rnd.choice(calls)
        match rnd.randrange(4):
            case 0:
                held[call.call_id] = call
            case 1:
                held.pop(call.call_id, None)
            case 2:
                call.phase = rnd.choice(list(CallPhase))
            case 3:
                lines.sync(call, held=False)  # leave its line before the key changes
                call.queue = rnd.choice("abc")
                call.enqueued_at = float(rnd.randint(0, 9))
        lines.sync(call, held=held.get(call.call_id) is call)
        assert lines.consistent(held)
        for queue in "abc":
            line = lines.waiting(queue)
            for place, waiting in enumerate(line):
                assert lines.count_before(queue, waiting.order_key()) == place
            keys = [c.order_key() for c in line]
            assert lines.first_after(queue, None) == (keys[0] if keys else None)
            for n, key in enumerate(keys):
                following = keys[n + 1] if n + 1 < len(keys) else None
                assert lines.first_after(queue, key) == following
        heads = {q: line[0].order_key() for q in "abc" if (line := lines.waiting(q))}
        assert lines.heads("abcd") == [(key, q) for q, key in heads.items()]
    rebuilt = Lines()
    rebuilt.rebuild(held.values())
    assert all(rebuilt.waiting(q) == lines.waiting(q) for q in "abc")


ORDERED_QUEUES = {
    "li": Strategy.LONGEST_IDLE,
    "rr": Strategy.ROUND_ROBIN,
    "lin": Strategy.LINEAR,
    "few": Strategy.FEWEST_CALLS,
    "talk": Strategy.LEAST_TALK_TIME,
    "sk": Strategy.SKILLS_BASED,
}


def test_free_agents_follow_random_changes_and_choose_as_choose_does() -> None:
    """FreeAgents against a fresh filing after every change, and the first suitable agent
    in its order against `choose` over every free agent (penalties, skills, the last
    round-robin agent, the day counters)."""
    rnd = random.Random(11)
    agents = {f"a{n}": Agent(f"a{n}", {}, seq=n) for n in range(24)}
    free, members = FreeAgents(ORDERED_QUEUES), Members()
    day, now = 0, 0.0
    for step in range(1_500):
        agent = agents[rnd.choice(sorted(agents))]
        match rnd.randrange(5):
            case 0:
                agent.state = rnd.choice([AgentState.AVAILABLE] * 3 + list(AgentState))
            case 1:
                queues = rnd.sample(sorted(ORDERED_QUEUES), rnd.randint(0, 4))
                agent.memberships = {
                    q: Membership(rnd.randint(1, 10), rnd.randint(0, 2), rnd.randint(0, 3))
                    for q in queues
                }
            case 2:
                agent.idle_since = float(rnd.randint(0, 50))
            case 3:
                agent.day, agent.calls_today = rnd.randint(0, 2), rnd.randint(0, 3)
                agent.talk_seconds_today = float(rnd.randint(0, 3)) * 60
            case 4:
                agent.skills = {s: rnd.randint(1, 10) for s in rnd.sample(SKILL_NAMES, 2)}
        free.sync(agent)
        members.sync(agent)
        if step % 100 == 99:
            day += 1
            free.set_day(day, agents.values())
        assert free.consistent(agents) and members.consistent(agents)
        for queue, strategy in ORDERED_QUEUES.items():
            expected = {
                a.agent_id
                for a in agents.values()
                if queue in a.memberships and a.state is AgentState.AVAILABLE
            }
            assert set(free.of(queue)) == expected
            if strategy not in ORDERED:
                continue
            skills = {s: rnd.randint(1, 6) for s in rnd.sample(SKILL_NAMES, rnd.randint(0, 1))}
            call = AcdCall("c", queue, "+1", 0, now, skills=skills)
            settings = QueueSettings(queue, strategy=strategy)
            last = (rnd.randint(0, 3), rnd.randint(0, 24), f"a{rnd.randint(0, 24)}")
            memory = RoutingMemory({queue: last} if rnd.random() < 0.7 else {})
            keys, agent_at = free.ordered(queue)
            assert choose_in_order(
                call, settings, keys, agent_at, now=now, memory=memory
            ) == choose(
                call,
                settings,
                list(free.of(queue).values()),
                now=now,
                day=day,
                rng=random.Random(0),
                memory=memory,
            )
        assert set(free.queues()) == {q for q in ORDERED_QUEUES if free.of(q)}


def test_the_consistency_checks_see_a_stale_index() -> None:
    """So the property tests' check of the indexes is not vacuous."""
    call = AcdCall("c1", HELPDESK, "+1", 0, 1.0)
    lines = Lines()
    lines.sync(call, held=True)
    call.phase = CallPhase.OFFERED  # changed without a sync
    assert not lines.consistent({"c1": call})
    agent = Agent("a1", {HELPDESK: Membership()}, state=AgentState.AVAILABLE)
    free = FreeAgents({HELPDESK: Strategy.LONGEST_IDLE})
    free.sync(agent)
    agent.idle_since = 5.0  # its place moved without a sync
    assert not free.consistent({"a1": agent})
    agent.state = AgentState.PAUSED
    assert not free.consistent({"a1": agent})
    members = Members()
    members.sync(agent)
    agent.memberships = {}
    assert not members.consistent({"a1": agent})


def test_aht_seconds_is_the_windows_aht() -> None:
    rnd = random.Random(3)
    stats = QueueStatistics(20.0, 5.0)
    at = 0.0
    for _ in range(500):
        at += rnd.choice([0.0, 0.5, 7.0, 60.0, 400.0])
        stats.record_handled(at, rnd.uniform(0, 900))
        for seconds in (0.0, 60.0, 3600.0, 86_400.0):
            assert stats.aht_seconds(at, seconds) == stats.window(at, seconds).aht_seconds
    assert QueueStatistics(20.0, 5.0).aht_seconds(at, 3600.0) is None


@pytest.mark.parametrize("handle_seconds", [None, 120.0, -50.0, math.nan])
@pytest.mark.parametrize("default_aht", [300.0, -10.0])
def test_the_estimate_for_a_free_agent_matches_the_full_model(
    handle_seconds: float | None, default_aht: float
) -> None:
    """The shortcut (position within the free agents: 0 s) holds only while no release can
    be negative; odd handle times or a negative default AHT take the full model."""
    queues = (QueueSettings(HELPDESK, default_aht_seconds=default_aht),)
    fast, slow = twin_desks(queues, 0)
    for desk in (fast, slow):
        for agent_id in ("a1", "a2", "a3"):
            desk.login(agent_id)
        desk.acd.enqueue("c1", HELPDESK, "+1")  # a1 rings: its release is one AHT
        if handle_seconds is not None:
            desk.acd.statistics(HELPDESK).record_handled(desk.now, handle_seconds)
    for position in (1, 2, 3, 4):
        fast_wait = fast.acd.estimated_wait(HELPDESK, position)
        slow_wait = slow.acd.estimated_wait(HELPDESK, position)
        assert fast_wait == slow_wait or (
            fast_wait is not None
            and slow_wait is not None
            and math.isnan(fast_wait)
            and math.isnan(slow_wait)
        )


def test_odd_handle_times_are_counted_until_they_leave_the_day() -> None:
    stats = QueueStatistics(20.0, 5.0)
    stats.record_handled(0.0, -1.0)
    stats.record_handled(10.0, 30.0)
    assert not stats.handle_times_non_negative()
    restored = QueueStatistics(20.0, 5.0)
    restored.restore(stats.export())
    assert not restored.handle_times_non_negative()
    stats.record_handled(QueueStatistics.RETENTION_SECONDS + 5.0, 30.0)
    assert stats.handle_times_non_negative()


def test_fewest_calls_order_restarts_at_midnight() -> None:
    """Yesterday's calls do not count today: the sorted order is redone for the new day."""
    queues = (QueueSettings(HELPDESK, strategy=Strategy.FEWEST_CALLS),)
    fast, slow = twin_desks(queues, 0)
    team = ("a1", "a2", "a3")

    def give(desk: Desk, agent_id: str, call_id: str) -> None:
        others = [a for a in team if a != agent_id]
        for other in others:
            desk.acd.set_agent_state(other, AgentState.PAUSED, "lunch")
        desk.acd.enqueue(call_id, HELPDESK, "+1")
        desk.acd.answered(call_id, agent_id)
        desk.advance(60.0)
        desk.acd.hangup(call_id)
        for other in others:
            desk.acd.set_agent_state(other, AgentState.AVAILABLE)

    for desk in (fast, slow):
        for agent_id in team:
            desk.login(agent_id)
        give(desk, "a1", "c1")
        give(desk, "a2", "c2")
        give(desk, "a1", "c3")
        desk.advance(86_400.0)
        give(desk, "a3", "c4")  # the only call of the new day so far
        desk.acd.enqueue("c5", HELPDESK, "+1")
    assert fast.offered_to("c5") in {"a1", "a2"}
    assert fast.events == slow.events
