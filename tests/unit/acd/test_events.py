"""What the ACD tells the world: events in order, with the right fields, published only
once the state is consistent, so subscribers may call back into the ACD."""

from __future__ import annotations

import pytest

from callcenter.acd import events as ev
from callcenter.acd.model import AgentState, CallPhase, OfferFailure
from callcenter.events import EventBus
from tests.unit.acd.desk import HELPDESK, Desk

A = AgentState


def bus_desk() -> tuple[Desk, EventBus]:
    """A desk publishing to a real bus; desk.events records everything, in order."""
    bus = EventBus()
    desk = Desk(publish=bus.publish)
    bus.subscribe(ev.AcdEvent, desk.events.append)
    return desk, bus


def test_a_call_from_arrival_to_hangup(desk: Desk) -> None:
    desk.acd.add_agent("a1", [HELPDESK])
    t0 = desk.now
    desk.acd.enqueue("c1", HELPDESK, "+4930123", priority=2)
    desk.advance(4)
    t1 = desk.now
    desk.acd.set_agent_state("a1", A.AVAILABLE)
    desk.advance(3)
    t2 = desk.now
    desk.acd.answered("c1")
    desk.advance(120)
    t3 = desk.now
    desk.acd.hangup("c1")

    assert desk.events == [
        ev.CallEnqueued(t0, "c1", HELPDESK, "+4930123", 2, 1),
        ev.AgentStateChanged(t1, "a1", A.LOGGED_OUT, A.AVAILABLE, None, None),
        ev.AgentStateChanged(t1, "a1", A.AVAILABLE, A.OFFERED, None, "c1"),
        ev.CallOffered(t1, "c1", HELPDESK, "a1", 15.0),
        ev.AgentStateChanged(t2, "a1", A.OFFERED, A.ON_CALL, None, "c1"),
        ev.CallAnswered(t2, "c1", HELPDESK, "a1", 7.0, True),
        ev.CallCompleted(t3, "c1", HELPDESK, "a1", 120.0),
        ev.AgentStateChanged(t3, "a1", A.ON_CALL, A.AVAILABLE, None, None),
    ]


def test_ring_no_answer_events(desk: Desk) -> None:
    desk.login("a1")
    desk.advance(1)
    desk.login("a2")
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.advance(15)
    desk.clear()
    desk.acd.tick()

    t = desk.now
    assert desk.events == [
        ev.OfferWithdrawn(t, "c1", HELPDESK, "a1", OfferFailure.NO_ANSWER),
        ev.AgentStateChanged(t, "a1", A.OFFERED, A.PAUSED, "no answer", None),
        ev.AgentStateChanged(t, "a2", A.AVAILABLE, A.OFFERED, None, "c1"),
        ev.CallOffered(t, "c1", HELPDESK, "a2", 15.0),
    ]


def test_enqueue_with_an_agent_free_announces_arrival_before_the_offer(desk: Desk) -> None:
    desk.login("a1")
    desk.clear()
    desk.acd.enqueue("c1", HELPDESK, "x")

    assert desk.kinds() == ["CallEnqueued", "AgentStateChanged", "CallOffered"]
    assert desk.of(ev.CallEnqueued)[0].position == 1


def test_a_failed_request_publishes_nothing(desk: Desk) -> None:
    desk.login("a1")
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.clear()
    with pytest.raises(Exception):  # noqa: B017 - any refusal, the point is the silence
        desk.acd.end_wrap_up("a1")
    with pytest.raises(Exception):  # noqa: B017
        desk.acd.enqueue("c1", HELPDESK, "x")

    assert desk.events == []


def test_state_is_consistent_when_the_offer_is_published() -> None:
    desk, bus = bus_desk()
    seen: list[tuple[CallPhase, str | None, AgentState, str | None]] = []

    def look(event: ev.AgentStateChanged) -> None:
        if event.new is A.OFFERED:
            assert event.call_id is not None
            call, agent = desk.acd.call(event.call_id), desk.acd.agent(event.agent_id)
            seen.append((call.phase, call.agent_id, agent.state, agent.call_id))

    bus.subscribe(ev.AgentStateChanged, look)
    desk.login("a1")
    desk.acd.enqueue("c1", HELPDESK, "x")

    assert seen == [(CallPhase.OFFERED, "a1", A.OFFERED, "c1")]


def test_subscriber_may_answer_from_inside_the_offer() -> None:
    desk, bus = bus_desk()
    bus.subscribe(ev.CallOffered, lambda e: desk.acd.answered(e.call_id))
    desk.login("a1")
    desk.acd.enqueue("c1", HELPDESK, "x")

    assert desk.acd.call("c1").phase is CallPhase.CONNECTED
    assert desk.state("a1") is A.ON_CALL
    assert desk.kinds() == [
        "AgentStateChanged",
        "CallEnqueued",
        "AgentStateChanged",
        "CallOffered",
        "AgentStateChanged",
        "CallAnswered",
    ]


def test_subscriber_may_fail_an_offer_from_inside_it() -> None:
    desk, bus = bus_desk()

    def a1_is_busy(event: ev.CallOffered) -> None:
        if event.agent_id == "a1":
            desk.acd.offer_failed(event.call_id, OfferFailure.BUSY)

    bus.subscribe(ev.CallOffered, a1_is_busy)
    desk.login("a1")
    desk.advance(1)
    desk.login("a2")
    desk.clear()
    desk.acd.enqueue("c1", HELPDESK, "x")

    assert desk.offered_to("c1") == "a2"
    assert (desk.state("a1"), desk.acd.agent("a1").reason) == (A.PAUSED, "busy")
    assert [(type(e).__name__, getattr(e, "agent_id", None)) for e in desk.events] == [
        ("CallEnqueued", None),
        ("AgentStateChanged", "a1"),
        ("CallOffered", "a1"),
        ("OfferWithdrawn", "a1"),
        ("AgentStateChanged", "a1"),
        ("AgentStateChanged", "a2"),
        ("CallOffered", "a2"),
    ]


def test_every_agent_failing_from_inside_the_offer_leaves_the_call_waiting() -> None:
    desk, bus = bus_desk()
    bus.subscribe(
        ev.CallOffered, lambda e: desk.acd.offer_failed(e.call_id, OfferFailure.UNREACHABLE)
    )
    for n in range(5):
        desk.login(f"a{n}")
        desk.advance(1)
    desk.acd.enqueue("c1", HELPDESK, "x")

    assert desk.acd.call("c1").phase is CallPhase.WAITING
    assert [e.agent_id for e in desk.of(ev.CallOffered)] == [f"a{n}" for n in range(5)]
    assert all(desk.state(f"a{n}") is A.PAUSED for n in range(5))


def test_a_long_chain_of_failures_from_inside_offers_does_not_recurse() -> None:
    """Each failure's re-offer is published by the outer flush, not by a nested one."""
    desk, bus = bus_desk()
    bus.subscribe(ev.CallOffered, lambda e: desk.acd.offer_failed(e.call_id, OfferFailure.BUSY))
    agents = [f"a{n:03}" for n in range(400)]
    for agent_id in agents:
        desk.login(agent_id)
    desk.acd.enqueue("c1", HELPDESK, "x")

    assert [e.agent_id for e in desk.of(ev.CallOffered)] == agents
    assert desk.acd.call("c1").phase is CallPhase.WAITING


def test_subscriber_may_hang_up_from_inside_the_offer() -> None:
    desk, bus = bus_desk()
    bus.subscribe(ev.CallOffered, lambda e: desk.acd.hangup(e.call_id))
    desk.login("a1")
    desk.acd.enqueue("c1", HELPDESK, "x")

    assert not desk.acd.has_call("c1")
    assert desk.state("a1") is A.AVAILABLE
    assert desk.kinds()[-3:] == ["OfferWithdrawn", "AgentStateChanged", "CallAbandoned"]


def test_subscriber_reacting_to_a_pause_sees_its_change_routed() -> None:
    desk, bus = bus_desk()

    def unpause(event: ev.AgentStateChanged) -> None:
        if event.new is A.PAUSED and event.reason == "busy":
            desk.acd.set_agent_state(event.agent_id, A.AVAILABLE)

    bus.subscribe(ev.AgentStateChanged, unpause)
    desk.login("a1")
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.offer_failed("c1", OfferFailure.BUSY)

    # The only agent is back at once and gets the call again.
    assert desk.offered_to("c1") == "a1"
    assert len(desk.of(ev.CallOffered)) == 2


def test_agent_state_events_chain_even_with_nested_calls() -> None:
    desk, bus = bus_desk()

    def answer_a2(event: ev.CallOffered) -> None:
        if event.agent_id == "a2":
            desk.acd.answered(event.call_id)

    bus.subscribe(ev.CallOffered, answer_a2)
    desk.login("a1")
    desk.login("a2")
    for n in range(4):
        desk.acd.enqueue(f"c{n}", HELPDESK, "x")
        desk.advance(1)
    desk.acd.hangup("c1")
    desk.advance(15)
    desk.acd.tick()

    last: dict[str, AgentState] = {}
    for change in desk.of(ev.AgentStateChanged):
        assert last.get(change.agent_id, A.LOGGED_OUT) is change.old
        last[change.agent_id] = change.new
    assert last == {a.agent_id: a.state for a in desk.acd.agents}


def test_events_carry_the_clock_time(desk: Desk) -> None:
    desk.login("a1")
    desk.advance(2.5)
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.advance(2.5)
    desk.acd.answered("c1")

    assert [e.at for e in desk.events] == [1000.0, 1002.5, 1002.5, 1002.5, 1005.0, 1005.0]


def test_counts_of_events_match_the_statistics(desk: Desk) -> None:
    desk.login("a1")
    for n in range(6):
        desk.acd.enqueue(f"c{n}", HELPDESK, "x")
    desk.acd.answered("c0")
    desk.acd.hangup("c2")
    desk.acd.hangup("c0")
    desk.acd.answered("c1")

    s = desk.acd.statistics(HELPDESK)
    assert len(desk.of(ev.CallEnqueued)) == s.offered_total == 6
    assert len(desk.of(ev.CallAnswered)) == s.answered_total == 2
    assert len(desk.of(ev.CallAbandoned)) == s.abandoned_total == 1


def test_a_broken_subscriber_does_not_stop_the_call(caplog: pytest.LogCaptureFixture) -> None:
    desk, bus = bus_desk()

    def broken(event: ev.AcdEvent) -> None:
        raise RuntimeError("board is down")

    bus.subscribe(ev.AcdEvent, broken)
    desk.login("a1")
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.answered("c1")
    desk.acd.hangup("c1")

    assert desk.kinds()[-2:] == ["CallCompleted", "AgentStateChanged"]
    assert desk.state("a1") is A.AVAILABLE
    assert "board is down" in caplog.text


def test_events_of_a_nested_call_follow_the_batch_that_caused_them() -> None:
    desk, bus = bus_desk()

    def reject_while_ringing(event: ev.AgentStateChanged) -> None:
        # Reacts to the first event of the offer batch; CallOffered is still unpublished.
        if event.agent_id == "a1" and event.new is A.OFFERED and event.call_id is not None:
            desk.acd.offer_failed(event.call_id, OfferFailure.REJECTED)

    bus.subscribe(ev.AgentStateChanged, reject_while_ringing)
    desk.login("a1")
    desk.advance(1)
    desk.login("a2")
    desk.clear()
    desk.acd.enqueue("c1", HELPDESK, "x")

    story = [(type(e).__name__, getattr(e, "agent_id", None)) for e in desk.events]
    assert story == [
        ("CallEnqueued", None),
        ("AgentStateChanged", "a1"),
        ("CallOffered", "a1"),  # published before the withdrawal it led to
        ("OfferWithdrawn", "a1"),
        ("AgentStateChanged", "a1"),
        ("AgentStateChanged", "a2"),
        ("CallOffered", "a2"),
    ]
    assert desk.offered_to("c1") == "a2"
