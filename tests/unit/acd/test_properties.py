"""Random operation sequences, with the ACD's invariants checked after every step.

The events are replayed into a small independent model of who rings and who talks, so
the published story is checked against the state, not only the state against itself.
Two configurations are driven: the plain one (longest idle, the first operations) and a
rich one where every feature plays at once: ring-all, skills with relaxation, penalties,
overflow, resumed redials, queued callbacks, transfers, live membership changes and
restarts through export/restore.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pytest

from callcenter.acd import events as ev
from callcenter.acd.acd import Acd
from callcenter.acd.errors import InvalidTransition
from callcenter.acd.model import (
    REQUESTABLE_STATES,
    AcdCall,
    Agent,
    AgentState,
    CallPhase,
    JoinEmpty,
    Membership,
    OfferFailure,
    OverflowKind,
    OverflowTarget,
    QueueSettings,
    SkillStep,
    Strategy,
)
from callcenter.events import EventBus
from tests.unit.acd.desk import HELPDESK, Desk

VIP = "vip"
SKILLS = "skills"
QUEUES = (
    QueueSettings(HELPDESK, wrap_up_seconds=10.0),
    QueueSettings(VIP, ring_timeout_seconds=8.0, short_abandon_seconds=3.0),
)
AGENT_QUEUES = {
    "a1": {HELPDESK},
    "a2": {HELPDESK},
    "a3": {HELPDESK, VIP},
    "a4": {VIP},
    "a5": {HELPDESK, VIP},
}
RICH_QUEUES = (
    QueueSettings(
        HELPDESK,
        wrap_up_seconds=10.0,
        resume_window_seconds=30.0,
        max_waiting=4,
        overflow_target=OverflowTarget(OverflowKind.QUEUE, SKILLS),
        strategy=Strategy.ROUND_ROBIN,
    ),
    QueueSettings(
        VIP,
        strategy=Strategy.RING_ALL,
        ring_timeout_seconds=8.0,
        short_abandon_seconds=3.0,
        max_wait_seconds=45.0,
        overflow_target=OverflowTarget(OverflowKind.CALLBACK),
        callback_retries=1,
        callback_retry_seconds=5.0,
    ),
    QueueSettings(
        SKILLS,
        strategy=Strategy.SKILLS_BASED,
        skill_relaxation=(SkillStep(20.0, 3), SkillStep(40.0, None)),
        join_empty=JoinEmpty.OVERFLOW,
        max_wait_seconds=90.0,
        wrap_up_seconds=5.0,
    ),
)
RICH_AGENTS: dict[str, dict[str, Membership]] = {
    "a1": {HELPDESK: Membership(), SKILLS: Membership(level=7)},
    "a2": {HELPDESK: Membership(penalty=1)},
    "a3": {HELPDESK: Membership(), VIP: Membership()},
    "a4": {VIP: Membership(penalty=2)},
    "a5": {VIP: Membership(), SKILLS: Membership(penalty=1)},
    "a6": {SKILLS: Membership(level=2)},
}
SKILL_NAMES = ("windows", "linux", "german")
CALLERS = ("+1", "+2", "+3", "+4", "+5", "anonymous")
CALL_STATES = {AgentState.OFFERED, AgentState.ON_CALL, AgentState.WRAP_UP}


@dataclass
class StoryFromEvents:
    """Who rings with which call and who talks, as told by the events alone."""

    settings: dict[str, QueueSettings]
    ringing: dict[str, set[str]] = field(default_factory=dict)  # call -> agents
    connected: dict[str, str] = field(default_factory=dict)
    dialing: set[str] = field(default_factory=set)
    callbacks: set[str] = field(default_factory=set)
    overflowed_to_callback: set[str] = field(default_factory=set)
    queue: dict[str, str] = field(default_factory=dict)
    enqueued_at: dict[str, float] = field(default_factory=dict)  # in line since
    queued_at: dict[str, float] = field(default_factory=dict)  # in its queue since
    agent_state: dict[str, AgentState] = field(default_factory=dict)
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)  # (kind, queue)
    seen: int = 0

    def read(self, events: list[ev.AcdEvent]) -> None:
        for event in events[self.seen :]:
            self.apply(event)
        self.seen = len(events)

    def busy(self) -> set[str]:
        return {a for agents in self.ringing.values() for a in agents} | set(
            self.connected.values()
        )

    def gone(self, call_id: str) -> None:
        assert call_id not in self.ringing and call_id not in self.connected
        for table in (self.queue, self.enqueued_at, self.queued_at):
            del table[call_id]
        self.callbacks.discard(call_id)

    def apply(self, event: ev.AcdEvent) -> None:
        match event:
            case ev.CallEnqueued():
                assert event.call_id not in self.queue
                since = event.waiting_since if event.waiting_since is not None else event.at
                assert (event.resumed_from is None) is (event.waiting_since is None)
                self.queue[event.call_id] = event.queue
                self.enqueued_at[event.call_id] = self.queued_at[event.call_id] = since
                self.counts["offered", event.queue] += 1
            case ev.CallOffered():
                assert event.call_id in self.queue
                assert event.queue == self.queue[event.call_id]
                assert event.call_id not in self.connected
                assert event.agent_id not in self.busy(), "agent offered two calls"
                assert self.agent_state[event.agent_id] is AgentState.OFFERED
                assert (event.callback is not None) is (event.call_id in self.callbacks)
                self.ringing.setdefault(event.call_id, set()).add(event.agent_id)
            case ev.OfferWithdrawn():
                self._stop_ringing(event.call_id, event.agent_id)
                if event.answered_by is not None:
                    assert self.connected[event.call_id] == event.answered_by
            case ev.CallAnswered():
                self._stop_ringing(event.call_id, event.agent_id)
                self.connected[event.call_id] = event.agent_id
                wait = event.at - self.enqueued_at[event.call_id]
                assert event.wait_seconds == pytest.approx(wait)
                in_queue = event.at - self.queued_at[event.call_id]
                threshold = self.settings[event.queue].service_level_seconds
                assert event.within_service_level is (in_queue <= threshold)
                self.counts["answered", event.queue] += 1
            case ev.CallAbandoned():
                assert event.call_id not in self.ringing, "abandon before the withdrawal"
                assert event.call_id not in self.callbacks, "a callback abandoned"
                wait = event.at - self.enqueued_at[event.call_id]
                assert event.wait_seconds == pytest.approx(wait)
                short = self.settings[event.queue].short_abandon_seconds
                assert event.short is (event.at - self.queued_at[event.call_id] < short)
                self.counts["abandoned", event.queue] += 1
                self.gone(event.call_id)
            case ev.CallCompleted():
                assert self.connected.pop(event.call_id) == event.agent_id
                assert event.call_id not in self.dialing
                self.gone(event.call_id)
            case ev.AgentStateChanged():
                old = self.agent_state.get(event.agent_id, AgentState.LOGGED_OUT)
                assert old is event.old, f"{event.agent_id} was {old}, event says {event.old}"
                self.agent_state[event.agent_id] = event.new
            case ev.AgentMembershipChanged():
                pass
            case ev.CallOverflowed():
                assert event.call_id not in self.ringing and event.call_id not in self.connected
                assert self.queue[event.call_id] == event.queue
                if event.target_kind is OverflowKind.CALLBACK:
                    self.counts["callbacks", event.queue] += 1
                    self.overflowed_to_callback.add(event.call_id)
                else:
                    self.counts["overflowed", event.queue] += 1
                if event.target_kind is OverflowKind.TICKET_ONLY:
                    self.gone(event.call_id)
                    return
                assert event.target is not None
                self.queue[event.call_id] = event.target
                if event.target != event.queue:
                    self.queued_at[event.call_id] = event.at
                if event.target_kind is OverflowKind.QUEUE:
                    self.counts["offered", event.target] += 1
            case ev.CallbackRequested():
                assert self.queue[event.call_id] == event.queue
                assert event.call_id not in self.callbacks
                self.callbacks.add(event.call_id)
                # A callback overflow was counted in the queue it left, with its event.
                if event.call_id in self.overflowed_to_callback:
                    self.overflowed_to_callback.remove(event.call_id)
                else:
                    self.counts["callbacks", event.queue] += 1
            case ev.CallbackDialing():
                self._stop_ringing(event.call_id, event.agent_id)
                self.connected[event.call_id] = event.agent_id
                self.dialing.add(event.call_id)
            case ev.CallbackConnected():
                self.dialing.remove(event.call_id)
                assert self.connected[event.call_id] == event.agent_id
            case ev.CallbackFailed():
                self.dialing.remove(event.call_id)
                assert self.connected.pop(event.call_id) == event.agent_id
                if event.retry_at is None:
                    self.gone(event.call_id)
            case ev.CallbackCancelled():
                assert event.call_id in self.callbacks
                self.gone(event.call_id)
            case ev.CallTransferred():
                call_id = event.call_id
                assert call_id not in self.ringing
                assert self.queue[call_id] == event.from_queue
                if event.from_agent is not None:
                    assert self.connected.pop(call_id) == event.from_agent
                    self.enqueued_at[call_id] = self.queued_at[call_id] = event.at
                if event.to_agent is None:
                    self.counts["offered", event.to_queue] += 1
                    if event.from_agent is None:
                        self.counts["transferred", event.from_queue] += 1
                    self.queue[call_id] = event.to_queue
                    self.queued_at[call_id] = event.at
                elif event.from_agent is not None:
                    self.counts["offered", event.to_queue] += 1
            case _:
                raise AssertionError(f"unexpected event {event!r}")

    def _stop_ringing(self, call_id: str, agent_id: str) -> None:
        agents = self.ringing[call_id]
        agents.remove(agent_id)
        if not agents:
            del self.ringing[call_id]


def needs_now(call: AcdCall, settings: QueueSettings, now: float) -> dict[str, int] | None:
    """What the call requires now, computed here independently of routing.py."""
    waited = now - call.queued_at
    steps = [s for s in settings.skill_relaxation if waited >= s.after_seconds]
    if any(s.min_level is None for s in steps):
        return None
    cap = min((s.min_level for s in steps if s.min_level is not None), default=None)
    return {k: v if cap is None else min(v, cap) for k, v in call.skills.items()}


def could_take(agent: Agent, call: AcdCall, settings: QueueSettings, now: float) -> bool:
    if agent.state is not AgentState.AVAILABLE or call.queue not in agent.memberships:
        return False
    needs = needs_now(call, settings, now)
    return needs is None or all(agent.skills.get(k, 0) >= v for k, v in needs.items())


def check(desk: Desk, story: StoryFromEvents) -> None:
    acd, now = desk.acd, desk.now
    story.read(desk.events)
    assert acd._indexes_consistent(), "routing indexes out of step with the state"
    calls = {c: acd.call(c) for c in story.queue}
    assert all(acd.has_call(c) for c in calls)

    for agent in acd.agents:
        assert story.agent_state.get(agent.agent_id, AgentState.LOGGED_OUT) is agent.state
        assert agent.state_since <= now and agent.idle_since <= now
        assert agent.reason is None or agent.state is AgentState.PAUSED
        assert agent.reason is None or agent.reason in acd.pause_reasons
        assert agent.pending_state is None or agent.state in CALL_STATES
        if agent.state is AgentState.OFFERED:
            assert agent.call_id is not None
            call = acd.call(agent.call_id)
            assert call.phase is CallPhase.OFFERED and agent.agent_id in call.offered_to
        elif agent.state is AgentState.ON_CALL:
            assert agent.call_id is not None
            call = acd.call(agent.call_id)
            assert (call.phase, call.agent_id) == (CallPhase.CONNECTED, agent.agent_id)
        elif agent.state is AgentState.WRAP_UP:
            assert agent.call_id is not None
            if acd.has_call(agent.call_id):  # transferred on: not this agent's any more
                call = acd.call(agent.call_id)
                assert call.agent_id != agent.agent_id
                assert agent.agent_id not in call.offered_to
        else:
            assert agent.call_id is None

    holders: Counter[str] = Counter()
    for call in calls.values():
        holders.update(call.offered_to)
        if call.phase is CallPhase.CONNECTED:
            assert call.agent_id is not None
            holders[call.agent_id] += 1
    assert all(n == 1 for n in holders.values()), "agent holding two calls"
    for call in calls.values():
        assert call.queue == story.queue[call.call_id]
        assert (call.callback is not None) is (call.call_id in story.callbacks)
        assert call.dialing is (call.call_id in story.dialing)
        if call.phase is CallPhase.WAITING:
            assert call.agent_id is None and call.offered_at is None and call.offered_to == []
        elif call.phase is CallPhase.OFFERED:
            assert call.offered_to and len(set(call.offered_to)) == len(call.offered_to)
            single = call.offered_to[0] if len(call.offered_to) == 1 else None
            assert call.agent_id == single
            for agent_id in call.offered_to:
                agent = acd.agent(agent_id)
                assert (agent.state, agent.call_id) == (AgentState.OFFERED, call.call_id)
        else:
            assert call.agent_id is not None and call.offered_to == []
            assert acd.agent(call.agent_id).call_id == call.call_id
            assert (call.answered_at is None) is call.dialing
    assert story.ringing == {
        c.call_id: set(c.offered_to) for c in calls.values() if c.phase is CallPhase.OFFERED
    }
    assert story.connected == {
        c.call_id: c.agent_id for c in calls.values() if c.phase is CallPhase.CONNECTED
    }

    for queue in acd.queue_names:
        settings = acd.queue_settings(queue)
        waiting = acd.waiting_calls(queue)
        assert waiting == sorted(waiting, key=lambda c: c.order_key())
        for call in waiting:
            if call.not_before is not None and call.not_before > now:
                continue
            takers = [a.agent_id for a in acd.agents if could_take(a, call, settings, now)]
            assert takers == [], f"{call.call_id} waits in {queue} while {takers} are free"
            if call.callback is None and settings.max_wait_seconds is not None:
                assert now - call.queued_at < settings.max_wait_seconds, "max wait not enforced"
        stats, snap = acd.statistics(queue), acd.snapshot(queue)
        assert stats.offered_total == story.counts["offered", queue]
        assert stats.answered_total == story.counts["answered", queue]
        assert stats.abandoned_total == story.counts["abandoned", queue]
        assert stats.callbacks_total == story.counts["callbacks", queue]
        assert stats.overflowed_total == story.counts["overflowed", queue]
        assert stats.transferred_total == story.counts["transferred", queue]
        in_line = [
            c for c in calls.values() if c.queue == queue and c.phase is not CallPhase.CONNECTED
        ]
        assert snap.waiting == len(in_line)
        assert snap.callbacks_waiting == sum(1 for c in in_line if c.callback is not None)
        assert sum(snap.agents.values()) == sum(1 for a in acd.agents if queue in a.queues)
        figures = stats.window(now, 86_400)
        assert figures.answered == stats.answered_total
        assert figures.abandoned == stats.abandoned_total
        assert figures.offered == stats.offered_total
        assert figures.left_queue <= figures.offered


def live_calls(desk: Desk, last: int) -> list[AcdCall]:
    """The calls c1..c<last> the ACD still holds."""
    ids = (f"c{n}" for n in range(1, last + 1))
    return [desk.acd.call(c) for c in ids if desk.acd.has_call(c)]


def step(desk: Desk, rnd: random.Random, serial: list[int]) -> None:
    acd = desk.acd
    calls = live_calls(desk, serial[0])
    ringing = [c for c in calls if c.phase is CallPhase.OFFERED]
    op = rnd.choice(
        ["enqueue", "enqueue", "answer", "answer", "fail", "hangup", "time", "state", "wrap"]
    )
    if op == "enqueue":
        serial[0] += 1
        queue = rnd.choice([HELPDESK, VIP])
        acd.enqueue(f"c{serial[0]}", queue, "caller", priority=rnd.choice([0, 0, 0, 1, 2]))
    elif op == "answer" and ringing:
        acd.answered(rnd.choice(ringing).call_id)
    elif op == "fail" and ringing:
        acd.offer_failed(rnd.choice(ringing).call_id, rnd.choice(list(OfferFailure)))
    elif op == "hangup" and calls:
        acd.hangup(rnd.choice(calls).call_id)
    elif op == "time":
        desk.advance(rnd.choice([0.0, 1.0, 2.5, 5.0, 9.0, 16.0]))
        acd.tick()
        for call in live_calls(desk, serial[0]):
            if call.phase is CallPhase.OFFERED:
                assert call.offered_at is not None
                timeout = acd.queue_settings(call.queue).ring_timeout_seconds
                assert desk.now - call.offered_at < timeout, "ring timeout not enforced"
    elif op == "state":
        agent_id = rnd.choice(sorted(AGENT_QUEUES))
        state = rnd.choice(sorted(REQUESTABLE_STATES) + [AgentState.AVAILABLE] * 3)
        acd.set_agent_state(agent_id, state, rnd.choice([None, "lunch", "meeting"]))
    elif op == "wrap":
        wrapping = [a for a in acd.agents if a.state is AgentState.WRAP_UP]
        if wrapping:
            acd.end_wrap_up(rnd.choice(wrapping).agent_id)


def run(seed: int, desk: Desk, steps: int = 300) -> None:
    rnd = random.Random(seed)
    story = StoryFromEvents({q.name: q for q in QUEUES})
    for agent_id, queues in AGENT_QUEUES.items():
        desk.acd.add_agent(agent_id, queues)
    serial = [0]
    for _ in range(steps):
        step(desk, rnd, serial)
        check(desk, story)
        # Without transfers or membership changes, an agent only ever holds its queues' calls.
        for call in live_calls(desk, serial[0]):
            for agent_id in [*call.offered_to, *([call.agent_id] if call.agent_id else [])]:
                assert call.queue in desk.acd.agent(agent_id).queues
    assert serial[0] > 0


@pytest.mark.parametrize("seed", range(40))
def test_random_operations_keep_the_acd_consistent(seed: int) -> None:
    run(seed, Desk(QUEUES))


@pytest.mark.parametrize("seed", range(20))
def test_random_operations_with_subscribers_calling_back(seed: int) -> None:
    """Phones that answer, fail or hang up from inside the publish callback."""
    bus = EventBus()
    desk = Desk(QUEUES, publish=bus.publish)
    bus.subscribe(ev.AcdEvent, desk.events.append)
    rnd = random.Random(seed * 7919)
    errors = subscribe_phones(desk, bus, rnd)
    run(seed, desk)
    assert errors == []


def subscribe_phones(desk: Desk, bus: EventBus, rnd: random.Random) -> list[BaseException]:
    """Phones and a supervisor acting from inside the publish; what they raised."""
    errors: list[BaseException] = []

    def guarded(action: Callable[[], object]) -> None:
        try:
            action()
        except BaseException as exc:  # the bus would swallow it: keep it for the test
            errors.append(exc)
            raise

    def phone(event: ev.CallOffered) -> None:
        call = desk.acd.call(event.call_id) if desk.acd.has_call(event.call_id) else None
        if call is None or call.phase is not CallPhase.OFFERED:
            return  # stale: something else already happened to this offer
        if event.agent_id not in call.offered_to:
            return
        match rnd.randrange(4):
            case 0:
                guarded(lambda: desk.acd.answered(event.call_id, event.agent_id))
            case 1:
                guarded(
                    lambda: desk.acd.offer_failed(event.call_id, OfferFailure.BUSY, event.agent_id)
                )
            case 2:
                guarded(lambda: desk.acd.hangup(event.call_id))

    def supervisor(event: ev.AgentStateChanged) -> None:
        if event.new is AgentState.PAUSED and event.reason == "busy" and rnd.random() < 0.5:
            guarded(lambda: desk.acd.set_agent_state(event.agent_id, AgentState.AVAILABLE))

    def ringing(event: ev.AgentStateChanged) -> None:
        # The first event of an offer batch: what follows it is not published yet.
        if event.new is AgentState.OFFERED and event.call_id is not None and rnd.random() < 0.3:
            phone(ev.CallOffered(event.at, event.call_id, "", event.agent_id, 0.0))

    def callee(event: ev.CallbackDialing) -> None:
        call = desk.acd.call(event.call_id) if desk.acd.has_call(event.call_id) else None
        if call is None or not call.dialing or rnd.random() < 0.5:
            return
        if rnd.random() < 0.5:
            guarded(lambda: desk.acd.callback_answered(event.call_id))
        else:
            guarded(lambda: desk.acd.callback_failed(event.call_id))

    bus.subscribe(ev.CallOffered, phone)
    bus.subscribe(ev.AgentStateChanged, supervisor)
    bus.subscribe(ev.AgentStateChanged, ringing)
    bus.subscribe(ev.CallbackDialing, callee)
    return errors


# ----- every feature at once ----------------------------------------------------------------


def pick_agent_of(rnd: random.Random, call: AcdCall) -> str:
    return rnd.choice(call.offered_to)


def rich_step(desk: Desk, rnd: random.Random, serial: list[int], restarts: bool) -> None:
    acd = desk.acd
    calls = live_calls(desk, serial[0])
    ringing = [c for c in calls if c.phase is CallPhase.OFFERED]
    waiting = [c for c in calls if c.phase is CallPhase.WAITING]
    live_waiting = [c for c in waiting if c.callback is None]
    connected = [c for c in calls if c.phase is CallPhase.CONNECTED and not c.dialing]
    dialing = [c for c in calls if c.dialing]
    pending_callbacks = [
        c for c in calls if c.callback is not None and c.phase is not CallPhase.CONNECTED
    ]
    free = [a.agent_id for a in acd.agents if a.state is AgentState.AVAILABLE]
    ops = ["enqueue"] * 3 + ["answer"] * 3 + ["fail", "hangup", "hangup", "time", "time"]
    ops += ["state", "state", "wrap", "member", "skills", "callback", "dial", "cancel"]
    ops += ["to_queue", "to_agent"] + (["restart"] if restarts else [])
    op = rnd.choice(ops)
    if op == "enqueue":
        serial[0] += 1
        queue = rnd.choice([HELPDESK, VIP, SKILLS])
        skills = {}
        if queue == SKILLS or rnd.random() < 0.1:
            skills = {s: rnd.randint(1, 8) for s in rnd.sample(SKILL_NAMES, rnd.randint(0, 2))}
        priority = rnd.choice([0, 0, 0, 1, 2])
        acd.enqueue(f"c{serial[0]}", queue, rnd.choice(CALLERS), priority, skills)
    elif op == "answer" and ringing:
        call = rnd.choice(ringing)
        agent_id = pick_agent_of(rnd, call)
        if len(call.offered_to) == 1 and rnd.random() < 0.5:
            acd.answered(call.call_id)
        else:
            acd.answered(call.call_id, agent_id)
    elif op == "fail" and ringing:
        call = rnd.choice(ringing)
        acd.offer_failed(call.call_id, rnd.choice(list(OfferFailure)), pick_agent_of(rnd, call))
    elif op == "hangup" and calls:
        acd.hangup(rnd.choice(calls).call_id)
    elif op == "time":
        desk.advance(rnd.choice([0.0, 1.0, 2.5, 5.0, 9.0, 16.0, 30.0]))
        acd.tick()
    elif op == "state":
        agent_id = rnd.choice(sorted(RICH_AGENTS))
        state = rnd.choice(sorted(REQUESTABLE_STATES) + [AgentState.AVAILABLE] * 3)
        reason = rnd.choice([None, "lunch", "training", "coffee"])
        if state is AgentState.PAUSED and reason == "coffee":
            seen = len(desk.events)
            with pytest.raises(InvalidTransition):
                acd.set_agent_state(agent_id, state, reason)
            assert len(desk.events) == seen
        else:
            acd.set_agent_state(agent_id, state, reason)
    elif op == "wrap":
        wrapping = [a for a in acd.agents if a.state is AgentState.WRAP_UP]
        if wrapping:
            acd.end_wrap_up(rnd.choice(wrapping).agent_id)
    elif op == "member":
        agent_id = rnd.choice(sorted(RICH_AGENTS))
        queues = rnd.sample([HELPDESK, VIP, SKILLS], rnd.randint(0, 3))
        acd.set_membership(
            agent_id,
            {q: Membership(level=rnd.randint(1, 10), penalty=rnd.randint(0, 2)) for q in queues},
        )
    elif op == "skills":
        agent_id = rnd.choice(sorted(RICH_AGENTS))
        picked = rnd.sample(SKILL_NAMES, rnd.randint(0, 3))
        acd.set_skills(agent_id, {s: rnd.randint(1, 10) for s in picked})
    elif op == "callback" and live_waiting:
        call = rnd.choice(live_waiting)
        acd.request_callback(call.call_id, f"+49{call.call_id}")
    elif op == "dial" and dialing:
        call = rnd.choice(dialing)
        if rnd.random() < 0.5:
            acd.callback_answered(call.call_id)
        else:
            acd.callback_failed(call.call_id)
    elif op == "cancel" and pending_callbacks:
        acd.cancel_callback(rnd.choice(pending_callbacks).call_id)
    elif op == "to_queue":
        movable = [c for c in live_waiting + connected if c.callback is None]
        if movable:
            acd.transfer_to_queue(rnd.choice(movable).call_id, rnd.choice(acd.queue_names))
    elif op == "to_agent" and free:
        movable = [
            c for c in live_waiting + connected if c.callback is None and c.agent_id not in free
        ]
        if movable:
            acd.transfer_to_agent(rnd.choice(movable).call_id, rnd.choice(free))
    elif op == "restart":
        saved = json.loads(json.dumps(acd.export_state()))
        restarted = Acd(RICH_QUEUES, desk.clock, desk.events.append)
        restarted.restore_state(saved)
        assert restarted.export_state() == saved
        desk.acd = restarted


def rich_run(seed: int, desk: Desk, steps: int = 300, restarts: bool = True) -> None:
    rnd = random.Random(seed)
    story = StoryFromEvents({q.name: q for q in RICH_QUEUES})
    for agent_id, memberships in RICH_AGENTS.items():
        skills = {s: rnd.randint(1, 10) for s in rnd.sample(SKILL_NAMES, rnd.randint(0, 3))}
        desk.acd.add_agent(agent_id, memberships, skills)
    serial = [0]
    for _ in range(steps):
        rich_step(desk, rnd, serial, restarts)
        check(desk, story)
    assert serial[0] > 0


@pytest.mark.parametrize("seed", range(40))
def test_every_feature_at_once_keeps_the_acd_consistent(seed: int) -> None:
    rich_run(seed, Desk(RICH_QUEUES))


@pytest.mark.parametrize("seed", range(20))
def test_every_feature_with_subscribers_calling_back(seed: int) -> None:
    bus = EventBus()
    desk = Desk(RICH_QUEUES, publish=bus.publish)
    bus.subscribe(ev.AcdEvent, desk.events.append)
    errors = subscribe_phones(desk, bus, random.Random(seed * 104_729))
    rich_run(seed, desk, restarts=False)
    assert errors == []


def test_the_rich_configuration_exercises_every_kind_of_event() -> None:
    """The random runs above are only as good as what they reach."""
    kinds: set[str] = set()
    for seed in range(10):
        desk = Desk(RICH_QUEUES)
        rich_run(seed, desk)
        kinds |= set(desk.kinds())
    expected: Sequence[type[ev.AcdEvent]] = [
        ev.CallEnqueued,
        ev.CallOffered,
        ev.OfferWithdrawn,
        ev.CallAnswered,
        ev.CallAbandoned,
        ev.CallCompleted,
        ev.AgentStateChanged,
        ev.AgentMembershipChanged,
        ev.CallOverflowed,
        ev.CallTransferred,
        ev.CallbackRequested,
        ev.CallbackDialing,
        ev.CallbackConnected,
        ev.CallbackFailed,
        ev.CallbackCancelled,
    ]
    assert {k.__name__ for k in expected} <= kinds
