"""Random operation sequences, with the ACD's invariants checked after every step.

The events are replayed into a small independent model of who rings and who talks, so
the published story is checked against the state, not only the state against itself.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest

from callcenter.acd import events as ev
from callcenter.acd.model import (
    REQUESTABLE_STATES,
    AcdCall,
    AgentState,
    CallPhase,
    OfferFailure,
    QueueSettings,
)
from callcenter.events import EventBus
from tests.unit.acd.desk import HELPDESK, Desk

VIP = "vip"
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
CALL_STATES = {AgentState.OFFERED, AgentState.ON_CALL, AgentState.WRAP_UP}


class StoryFromEvents:
    """Who rings with which call and who talks, as told by the events alone."""

    def __init__(self) -> None:
        self.ringing: dict[str, str] = {}  # call -> agent
        self.connected: dict[str, str] = {}
        self.enqueued_at: dict[str, float] = {}
        self.agent_state: dict[str, AgentState] = {}
        self.counts: Counter[tuple[str, str]] = Counter()  # (event kind, queue)
        self.seen = 0

    def read(self, events: list[ev.AcdEvent]) -> None:
        for event in events[self.seen :]:
            self.apply(event)
        self.seen = len(events)

    def apply(self, event: ev.AcdEvent) -> None:
        match event:
            case ev.CallEnqueued():
                assert event.call_id not in self.enqueued_at
                self.enqueued_at[event.call_id] = event.at
                self.counts["enqueued", event.queue] += 1
            case ev.CallOffered():
                assert event.call_id in self.enqueued_at
                assert event.call_id not in self.ringing, "call offered to two agents"
                assert event.call_id not in self.connected
                busy = set(self.ringing.values()) | set(self.connected.values())
                assert event.agent_id not in busy, "agent offered two calls"
                assert self.agent_state[event.agent_id] is AgentState.OFFERED
                self.ringing[event.call_id] = event.agent_id
            case ev.OfferWithdrawn():
                assert self.ringing.pop(event.call_id) == event.agent_id
            case ev.CallAnswered():
                assert self.ringing.pop(event.call_id) == event.agent_id
                self.connected[event.call_id] = event.agent_id
                wait = event.at - self.enqueued_at[event.call_id]
                assert event.wait_seconds == pytest.approx(wait)
                threshold = next(q for q in QUEUES if q.name == event.queue).service_level_seconds
                assert event.within_service_level is (wait <= threshold)
                self.counts["answered", event.queue] += 1
            case ev.CallAbandoned():
                assert event.call_id not in self.ringing, "abandon before the withdrawal"
                assert event.call_id not in self.connected
                wait = event.at - self.enqueued_at.pop(event.call_id)
                assert event.wait_seconds == pytest.approx(wait)
                short = next(q for q in QUEUES if q.name == event.queue).short_abandon_seconds
                assert event.short is (wait < short)
                self.counts["abandoned", event.queue] += 1
            case ev.CallCompleted():
                assert self.connected.pop(event.call_id) == event.agent_id
                del self.enqueued_at[event.call_id]
            case ev.AgentStateChanged():
                old = self.agent_state.get(event.agent_id, AgentState.LOGGED_OUT)
                assert old is event.old, f"{event.agent_id} was {old}, event says {event.old}"
                self.agent_state[event.agent_id] = event.new
            case _:
                raise AssertionError(f"unexpected event {event!r}")


def check(desk: Desk, story: StoryFromEvents) -> None:
    acd, now = desk.acd, desk.now
    story.read(desk.events)
    calls = {c: acd.call(c) for c in story.enqueued_at}
    assert all(acd.has_call(c) for c in calls)

    for agent in acd.agents:
        assert story.agent_state.get(agent.agent_id, AgentState.LOGGED_OUT) is agent.state
        assert agent.state_since <= now and agent.idle_since <= now
        assert agent.reason is None or agent.state is AgentState.PAUSED
        assert agent.pending_state is None or agent.state in CALL_STATES
        if agent.state in (AgentState.OFFERED, AgentState.ON_CALL):
            assert agent.call_id is not None
            call = acd.call(agent.call_id)
            assert call.agent_id == agent.agent_id
            expected = (
                CallPhase.OFFERED if agent.state is AgentState.OFFERED else CallPhase.CONNECTED
            )
            assert call.phase is expected
        elif agent.state is AgentState.WRAP_UP:
            assert agent.call_id is not None and not acd.has_call(agent.call_id)
        else:
            assert agent.call_id is None

    holders = Counter(c.agent_id for c in calls.values() if c.agent_id is not None)
    assert all(n == 1 for n in holders.values()), "agent holding two calls"
    for call in calls.values():
        if call.phase is CallPhase.WAITING:
            assert call.agent_id is None and call.offered_at is None
        else:
            assert call.agent_id is not None
            agent = acd.agent(call.agent_id)
            assert agent.call_id == call.call_id
            assert call.queue in agent.queues
    assert story.ringing == {
        c.call_id: c.agent_id for c in calls.values() if c.phase is CallPhase.OFFERED
    }
    assert story.connected == {
        c.call_id: c.agent_id for c in calls.values() if c.phase is CallPhase.CONNECTED
    }

    for queue in acd.queue_names:
        waiting = acd.waiting_calls(queue)
        assert waiting == sorted(waiting, key=lambda c: c.order_key())
        if waiting:
            free = [a for a in acd.agents if a.state is AgentState.AVAILABLE and queue in a.queues]
            assert free == [], f"{queue} has calls waiting and agents free"
        stats, snap = acd.statistics(queue), acd.snapshot(queue)
        assert stats.offered_total == story.counts["enqueued", queue]
        assert stats.answered_total == story.counts["answered", queue]
        assert stats.abandoned_total == story.counts["abandoned", queue]
        in_line = [
            c for c in calls.values() if c.queue == queue and c.phase is not CallPhase.CONNECTED
        ]
        assert snap.waiting == len(in_line)
        assert sum(snap.agents.values()) == sum(1 for a in acd.agents if queue in a.queues)
        figures = stats.window(now, 86_400)
        assert figures.answered == stats.answered_total
        assert figures.abandoned == stats.abandoned_total


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
    story = StoryFromEvents()
    for agent_id, queues in AGENT_QUEUES.items():
        desk.acd.add_agent(agent_id, queues)
    serial = [0]
    for _ in range(steps):
        step(desk, rnd, serial)
        check(desk, story)
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
    errors: list[BaseException] = []

    def phone(event: ev.CallOffered) -> None:
        call = desk.acd.call(event.call_id) if desk.acd.has_call(event.call_id) else None
        if call is None or call.phase is not CallPhase.OFFERED or call.agent_id != event.agent_id:
            return  # stale: something else already happened to this offer
        try:
            match rnd.randrange(4):
                case 0:
                    desk.acd.answered(event.call_id)
                case 1:
                    desk.acd.offer_failed(event.call_id, OfferFailure.BUSY)
                case 2:
                    desk.acd.hangup(event.call_id)
        except BaseException as exc:  # the bus would swallow it: keep it for the test
            errors.append(exc)
            raise

    def supervisor(event: ev.AgentStateChanged) -> None:
        if event.new is AgentState.PAUSED and event.reason == "busy" and rnd.random() < 0.5:
            try:
                desk.acd.set_agent_state(event.agent_id, AgentState.AVAILABLE)
            except BaseException as exc:
                errors.append(exc)
                raise

    def ringing(event: ev.AgentStateChanged) -> None:
        # The first event of an offer batch: what follows it is not published yet.
        if event.new is AgentState.OFFERED and event.call_id is not None and rnd.random() < 0.3:
            phone(ev.CallOffered(event.at, event.call_id, "", event.agent_id, 0.0))

    bus.subscribe(ev.CallOffered, phone)
    bus.subscribe(ev.AgentStateChanged, supervisor)
    bus.subscribe(ev.AgentStateChanged, ringing)
    run(seed, desk)
    assert errors == []
