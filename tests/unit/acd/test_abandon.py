"""Callers who hang up before an agent answers: while waiting and while a phone rings."""

from __future__ import annotations

import pytest

from callcenter.acd.events import (
    AgentStateChanged,
    CallAbandoned,
    CallOffered,
    OfferWithdrawn,
)
from callcenter.acd.model import AgentState, OfferFailure
from tests.unit.acd.desk import HELPDESK, Desk, make_desk


def test_hangup_while_waiting_is_an_abandon_with_the_time_waited(desk: Desk) -> None:
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.advance(42)
    desk.acd.hangup("c1")

    [abandoned] = desk.of(CallAbandoned)
    assert (abandoned.call_id, abandoned.queue, abandoned.at) == ("c1", HELPDESK, desk.now)
    assert abandoned.wait_seconds == pytest.approx(42.0)
    assert not abandoned.short
    assert not desk.acd.has_call("c1")
    assert desk.acd.waiting_calls(HELPDESK) == []
    assert desk.acd.statistics(HELPDESK).abandoned_total == 1


@pytest.mark.parametrize(
    ("waited", "short"), [(0.0, True), (4.99, True), (5.0, False), (5.01, False)]
)
def test_abandons_below_five_seconds_are_short(desk: Desk, waited: float, short: bool) -> None:
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.advance(waited)
    desk.acd.hangup("c1")

    assert desk.of(CallAbandoned)[0].short is short


def test_short_abandon_threshold_is_taken_from_the_queue_settings() -> None:
    desk = make_desk(short_abandon_seconds=10.0)
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.advance(8)
    desk.acd.hangup("c1")

    assert desk.of(CallAbandoned)[0].short


def test_hangup_while_ringing_withdraws_the_offer_and_is_an_abandon(desk: Desk) -> None:
    desk.login("a1")
    desk.advance(3)
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.advance(8)
    desk.clear()

    desk.acd.hangup("c1")

    [withdrawn] = desk.of(OfferWithdrawn)
    assert (withdrawn.call_id, withdrawn.agent_id, withdrawn.reason) == ("c1", "a1", None)
    [abandoned] = desk.of(CallAbandoned)
    assert abandoned.wait_seconds == pytest.approx(8.0)
    assert not abandoned.short
    a1 = desk.acd.agent("a1")
    assert (a1.state, a1.call_id, a1.reason) == (AgentState.AVAILABLE, None, None)


def test_agent_keeps_its_place_in_line_when_the_caller_hangs_up_while_ringing(
    desk: Desk,
) -> None:
    desk.login("a1")
    desk.advance(1)
    desk.login("a2")
    desk.advance(1)
    desk.acd.enqueue("c1", HELPDESK, "x")
    assert desk.offered_to("c1") == "a1"
    desk.advance(5)
    desk.acd.hangup("c1")

    desk.acd.enqueue("c2", HELPDESK, "x")

    # Not a1's fault: it is still the longest idle.
    assert desk.offered_to("c2") == "a1"


def test_abandon_while_ringing_is_not_paused_and_not_reoffered(desk: Desk) -> None:
    desk.login("a1")
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.hangup("c1")
    desk.advance(30)
    desk.acd.tick()

    assert desk.state("a1") is AgentState.AVAILABLE
    assert len(desk.of(CallOffered)) == 1


def test_agent_freed_by_an_abandon_takes_the_next_waiting_call(desk: Desk) -> None:
    desk.login("a1")
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.enqueue("c2", HELPDESK, "x")
    desk.acd.hangup("c1")

    assert desk.offered_to("c2") == "a1"


def test_abandon_while_ringing_applies_the_agents_pending_request(desk: Desk) -> None:
    desk.login("a1")
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.set_agent_state("a1", AgentState.PAUSED, "lunch")
    desk.acd.enqueue("c2", HELPDESK, "x")
    desk.acd.hangup("c1")

    a1 = desk.acd.agent("a1")
    assert (a1.state, a1.reason, a1.pending_state) == (AgentState.PAUSED, "lunch", None)
    assert desk.acd.call("c2").agent_id is None


def test_abandon_after_a_failed_offer_counts_the_whole_wait(desk: Desk) -> None:
    desk.login("a1")
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.advance(15)
    desk.acd.tick()
    desk.advance(10)
    desk.acd.hangup("c1")

    assert desk.of(CallAbandoned)[0].wait_seconds == pytest.approx(25.0)
    assert desk.state("a1") is AgentState.PAUSED


def test_abandon_while_ringing_the_second_agent(desk: Desk) -> None:
    desk.login("a1")
    desk.login("a2")
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.advance(2)
    desk.acd.offer_failed("c1", OfferFailure.BUSY)
    assert desk.offered_to("c1") == "a2"
    desk.advance(2)
    desk.clear()

    desk.acd.hangup("c1")

    assert [(e.agent_id, e.reason) for e in desk.of(OfferWithdrawn)] == [("a2", None)]
    [abandoned] = desk.of(CallAbandoned)
    assert abandoned.wait_seconds == pytest.approx(4.0)
    assert abandoned.short
    assert desk.state("a2") is AgentState.AVAILABLE
    assert desk.state("a1") is AgentState.PAUSED


def test_abandon_events_follow_the_withdrawal(desk: Desk) -> None:
    desk.login("a1")
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.clear()
    desk.acd.hangup("c1")

    kinds = desk.kinds()
    assert kinds.index("OfferWithdrawn") < kinds.index("CallAbandoned")
    [changed] = desk.of(AgentStateChanged)
    assert (changed.old, changed.new, changed.call_id) == (
        AgentState.OFFERED,
        AgentState.AVAILABLE,
        None,
    )
