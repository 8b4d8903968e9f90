"""Offers that fail: ring-no-answer (enforced by tick), busy and the other failures."""

from __future__ import annotations

import pytest

from callcenter.acd.acd import OFFER_FAILURE_PAUSE_REASON
from callcenter.acd.events import (
    AcdEvent,
    CallAbandoned,
    CallAnswered,
    CallEnqueued,
    CallOffered,
    OfferWithdrawn,
)
from callcenter.acd.model import AgentState, CallPhase, OfferFailure
from callcenter.events import EventBus
from tests.unit.acd.desk import HELPDESK, Desk, make_desk


def two_agents_and_a_call(desk: Desk) -> None:
    desk.login("a1")
    desk.advance(1)
    desk.login("a2")
    desk.advance(1)
    desk.acd.enqueue("c1", HELPDESK, "x")
    assert desk.offered_to("c1") == "a1"


def test_offer_is_kept_until_the_ring_timeout(desk: Desk) -> None:
    two_agents_and_a_call(desk)
    desk.advance(14.9)
    desk.acd.tick()

    assert desk.offered_to("c1") == "a1"
    assert desk.of(OfferWithdrawn) == []


def test_ring_no_answer_pauses_the_agent_and_reoffers_to_the_next(desk: Desk) -> None:
    two_agents_and_a_call(desk)
    desk.advance(15)
    desk.acd.tick()

    a1 = desk.acd.agent("a1")
    assert (a1.state, a1.reason, a1.call_id) == (AgentState.PAUSED, "no answer", None)
    assert a1.state_since == desk.now
    assert desk.offered_to("c1") == "a2"
    assert desk.acd.call("c1").offered_at == desk.now
    [withdrawn] = desk.of(OfferWithdrawn)
    assert (withdrawn.call_id, withdrawn.agent_id, withdrawn.reason) == (
        "c1",
        "a1",
        OfferFailure.NO_ANSWER,
    )


def test_ring_timeout_is_taken_from_the_queue_settings() -> None:
    desk = make_desk(ring_timeout_seconds=30.0)
    desk.login("a1")
    desk.acd.enqueue("c1", HELPDESK, "x")
    assert desk.of(CallOffered)[0].ring_timeout_seconds == 30.0

    desk.advance(29)
    desk.acd.tick()
    assert desk.state("a1") is AgentState.OFFERED
    desk.advance(1)
    desk.acd.tick()
    assert desk.state("a1") is AgentState.PAUSED


def test_default_ring_timeout_is_fifteen_seconds(desk: Desk) -> None:
    desk.login("a1")
    desk.acd.enqueue("c1", HELPDESK, "x")

    assert desk.of(CallOffered)[0].ring_timeout_seconds == 15.0


def test_reoffer_gets_a_fresh_ring_timeout(desk: Desk) -> None:
    two_agents_and_a_call(desk)
    desk.advance(15)
    desk.acd.tick()  # a1 fails, a2 rings from now
    desk.advance(10)
    desk.acd.tick()

    assert desk.offered_to("c1") == "a2"
    desk.advance(5)
    desk.acd.tick()
    assert desk.state("a2") is AgentState.PAUSED
    assert desk.acd.call("c1").phase is CallPhase.WAITING


def test_call_waits_when_every_agent_failed_it(desk: Desk) -> None:
    desk.login("a1")
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.advance(15)
    desk.acd.tick()

    assert desk.acd.call("c1").phase is CallPhase.WAITING
    assert desk.acd.call("c1").agent_id is None
    assert len(desk.of(CallOffered)) == 1
    # Going back in line is not a new arrival.
    assert len(desk.of(CallEnqueued)) == 1
    assert desk.acd.statistics(HELPDESK).offered_total == 1


def test_busy_pauses_the_agent_and_reoffers(desk: Desk) -> None:
    two_agents_and_a_call(desk)
    desk.acd.offer_failed("c1", OfferFailure.BUSY)

    assert (desk.state("a1"), desk.acd.agent("a1").reason) == (AgentState.PAUSED, "busy")
    assert desk.offered_to("c1") == "a2"
    assert desk.of(OfferWithdrawn)[0].reason is OfferFailure.BUSY


@pytest.mark.parametrize("failure", list(OfferFailure))
def test_every_failure_pauses_with_its_own_reason(desk: Desk, failure: OfferFailure) -> None:
    two_agents_and_a_call(desk)
    desk.acd.offer_failed("c1", failure)

    assert desk.acd.agent("a1").reason == OFFER_FAILURE_PAUSE_REASON[failure]
    assert desk.state("a1") is AgentState.PAUSED
    assert desk.offered_to("c1") == "a2"


def test_failed_call_goes_back_to_the_head_of_the_queue(desk: Desk) -> None:
    desk.login("a1")
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.advance(2)
    desk.acd.enqueue("c2", HELPDESK, "x")
    desk.advance(2)
    desk.acd.offer_failed("c1", OfferFailure.BUSY)

    assert [c.call_id for c in desk.acd.waiting_calls(HELPDESK)] == ["c1", "c2"]
    desk.login("a2")
    assert desk.offered_to("c1") == "a2"
    assert desk.acd.call("c2").phase is CallPhase.WAITING


def test_pickup_latency_counts_from_arrival_across_failed_offers(desk: Desk) -> None:
    two_agents_and_a_call(desk)
    desk.advance(15)
    desk.acd.tick()
    desk.advance(4)
    desk.acd.answered("c1")

    [answered] = desk.of(CallAnswered)
    assert answered.agent_id == "a2"
    assert answered.wait_seconds == pytest.approx(19.0)
    assert answered.within_service_level


def test_answer_after_the_timeout_but_before_the_tick_connects(desk: Desk) -> None:
    two_agents_and_a_call(desk)
    desk.advance(16)
    desk.acd.answered("c1")
    desk.acd.tick()

    assert desk.acd.call("c1").phase is CallPhase.CONNECTED
    assert desk.state("a1") is AgentState.ON_CALL


def test_several_offers_time_out_in_one_tick(desk: Desk) -> None:
    for agent in ("a1", "a2", "a3", "a4"):
        desk.login(agent)
        desk.advance(1)
    desk.acd.set_agent_state("a3", AgentState.PAUSED)
    desk.acd.set_agent_state("a4", AgentState.PAUSED)
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.enqueue("c2", HELPDESK, "x")
    desk.advance(15)
    desk.acd.set_agent_state("a3", AgentState.AVAILABLE)
    desk.advance(1)
    desk.acd.set_agent_state("a4", AgentState.AVAILABLE)

    desk.acd.tick()

    assert {desk.state("a1"), desk.state("a2")} == {AgentState.PAUSED}
    assert desk.offered_to("c1") == "a3"
    assert desk.offered_to("c2") == "a4"


def test_agent_that_asked_to_log_out_while_ringing_is_logged_out_on_no_answer(
    desk: Desk,
) -> None:
    desk.login("a1")
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.set_agent_state("a1", AgentState.LOGGED_OUT)
    desk.advance(15)
    desk.acd.tick()

    assert desk.state("a1") is AgentState.LOGGED_OUT
    assert desk.acd.agent("a1").pending_state is None


def test_paused_agent_is_offered_again_once_it_is_made_available(desk: Desk) -> None:
    desk.login("a1")
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.offer_failed("c1", OfferFailure.NO_ANSWER)
    desk.advance(30)

    desk.acd.set_agent_state("a1", AgentState.AVAILABLE)

    assert desk.offered_to("c1") == "a1"
    assert len(desk.of(CallOffered)) == 2


def test_tick_survives_a_subscriber_hanging_up_another_ringing_call() -> None:
    bus = EventBus()
    desk = Desk(publish=bus.publish)
    bus.subscribe(AcdEvent, desk.events.append)
    desk.login("a1")
    desk.login("a2")
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.enqueue("c2", HELPDESK, "x")

    def caller_gives_up(event: OfferWithdrawn) -> None:
        if event.call_id == "c1" and desk.acd.has_call("c2"):
            desk.acd.hangup("c2")

    bus.subscribe(OfferWithdrawn, caller_gives_up)
    desk.advance(15)
    desk.acd.tick()

    # Both offers timed out before anything was published: c2 was waiting when its
    # caller gave up, and c1 waits for an agent.
    assert not desk.acd.has_call("c2")
    assert desk.of(CallAbandoned)[0].call_id == "c2"
    assert {desk.state("a1"), desk.state("a2")} == {AgentState.PAUSED}
    assert desk.acd.call("c1").phase is CallPhase.WAITING
    assert [e.call_id for e in desk.of(OfferWithdrawn)] == ["c1", "c2"]
