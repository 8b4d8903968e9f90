"""Agent states, their timestamps, and requests deferred while the agent has a call."""

from __future__ import annotations

import pytest

from callcenter.acd.errors import InvalidTransition
from callcenter.acd.events import AgentStateChanged, CallOffered
from callcenter.acd.model import AgentState, OfferFailure, QueueSettings
from tests.unit.acd.desk import HELPDESK, Desk


def test_new_agent_is_logged_out_since_it_was_added(desk: Desk) -> None:
    desk.acd.add_agent("a1", [HELPDESK])

    a1 = desk.acd.agent("a1")
    assert (a1.state, a1.state_since, a1.call_id, a1.reason) == (
        AgentState.LOGGED_OUT,
        desk.now,
        None,
        None,
    )
    assert a1.queues == frozenset({HELPDESK})
    assert desk.events == []


def test_login_makes_the_agent_available_and_says_so(desk: Desk) -> None:
    desk.acd.add_agent("a1", [HELPDESK])
    desk.advance(10)

    assert desk.acd.set_agent_state("a1", AgentState.AVAILABLE) is None

    a1 = desk.acd.agent("a1")
    assert (a1.state, a1.state_since, a1.idle_since) == (AgentState.AVAILABLE, desk.now, desk.now)
    assert desk.events == [
        AgentStateChanged(desk.now, "a1", AgentState.LOGGED_OUT, AgentState.AVAILABLE, None, None)
    ]


def test_pause_keeps_its_reason_and_unpause_clears_it(desk: Desk) -> None:
    desk.login("a1")
    desk.advance(5)
    desk.acd.set_agent_state("a1", AgentState.PAUSED, "lunch")
    assert (desk.state("a1"), desk.acd.agent("a1").reason) == (AgentState.PAUSED, "lunch")
    assert desk.acd.agent("a1").state_since == desk.now

    desk.advance(5)
    desk.acd.set_agent_state("a1", AgentState.AVAILABLE)
    assert (desk.state("a1"), desk.acd.agent("a1").reason) == (AgentState.AVAILABLE, None)
    assert desk.acd.agent("a1").state_since == desk.now


def test_changing_the_pause_reason_is_a_state_change(desk: Desk) -> None:
    desk.login("a1")
    desk.acd.set_agent_state("a1", AgentState.PAUSED, "lunch")
    desk.clear()
    desk.acd.set_agent_state("a1", AgentState.PAUSED, "meeting")

    [changed] = desk.of(AgentStateChanged)
    assert (changed.old, changed.new, changed.reason) == (
        AgentState.PAUSED,
        AgentState.PAUSED,
        "meeting",
    )


def test_repeating_the_current_state_is_not_an_event(desk: Desk) -> None:
    desk.login("a1")
    desk.acd.set_agent_state("a1", AgentState.PAUSED, "lunch")
    since = desk.acd.agent("a1").state_since
    desk.clear()
    desk.advance(3)

    desk.acd.set_agent_state("a1", AgentState.PAUSED, "lunch")

    assert desk.events == []
    assert desk.acd.agent("a1").state_since == since


def test_reason_is_dropped_for_states_other_than_paused(desk: Desk) -> None:
    desk.acd.add_agent("a1", [HELPDESK])
    desk.acd.set_agent_state("a1", AgentState.AVAILABLE, "morning")
    assert desk.acd.agent("a1").reason is None
    desk.acd.set_agent_state("a1", AgentState.LOGGED_OUT, "home")
    assert desk.acd.agent("a1").reason is None


def test_logging_out_a_logged_out_agent_with_a_reason_is_not_an_event(desk: Desk) -> None:
    desk.acd.add_agent("a1", [HELPDESK])
    desk.acd.set_agent_state("a1", AgentState.LOGGED_OUT, "home")

    assert desk.events == []


@pytest.mark.parametrize("state", [AgentState.OFFERED, AgentState.ON_CALL, AgentState.WRAP_UP])
def test_states_that_follow_from_calls_cannot_be_requested(desk: Desk, state: AgentState) -> None:
    desk.login("a1")
    desk.clear()
    with pytest.raises(InvalidTransition):
        desk.acd.set_agent_state("a1", state)
    assert desk.state("a1") is AgentState.AVAILABLE
    assert desk.events == []


def test_request_while_ringing_is_deferred(desk: Desk) -> None:
    desk.login("a1")
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.clear()

    assert desk.acd.set_agent_state("a1", AgentState.PAUSED, "lunch") is AgentState.PAUSED

    a1 = desk.acd.agent("a1")
    assert (a1.state, a1.call_id) == (AgentState.OFFERED, "c1")
    assert (a1.pending_state, a1.pending_reason) == (AgentState.PAUSED, "lunch")
    assert desk.events == []


def test_request_while_on_call_applies_when_the_call_ends(desk: Desk) -> None:
    desk.login("a1")
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.answered("c1")
    assert desk.acd.set_agent_state("a1", AgentState.PAUSED, "lunch") is AgentState.PAUSED
    assert desk.state("a1") is AgentState.ON_CALL
    desk.advance(60)
    desk.acd.enqueue("c2", HELPDESK, "x")

    desk.acd.hangup("c1")

    a1 = desk.acd.agent("a1")
    assert (a1.state, a1.reason, a1.state_since) == (AgentState.PAUSED, "lunch", desk.now)
    assert (a1.pending_state, a1.pending_reason) == (None, None)
    assert desk.acd.call("c2").agent_id is None


def test_later_request_replaces_the_pending_one(desk: Desk) -> None:
    desk.login("a1")
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.answered("c1")
    desk.acd.set_agent_state("a1", AgentState.PAUSED, "lunch")
    desk.acd.set_agent_state("a1", AgentState.LOGGED_OUT)

    desk.acd.hangup("c1")

    assert desk.state("a1") is AgentState.LOGGED_OUT
    assert desk.acd.agent("a1").reason is None


def test_pending_available_after_a_call_is_plain_available(desk: Desk) -> None:
    desk.login("a1")
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.answered("c1")
    desk.acd.set_agent_state("a1", AgentState.AVAILABLE, "ignored")
    desk.acd.hangup("c1")

    a1 = desk.acd.agent("a1")
    assert (a1.state, a1.reason) == (AgentState.AVAILABLE, None)


def test_logged_out_agent_gets_no_more_calls(desk: Desk) -> None:
    desk.login("a1")
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.answered("c1")
    desk.acd.set_agent_state("a1", AgentState.LOGGED_OUT)
    desk.acd.enqueue("c2", HELPDESK, "x")
    desk.acd.hangup("c1")

    assert desk.state("a1") is AgentState.LOGGED_OUT
    assert [e.call_id for e in desk.of(CallOffered)] == ["c1"]


def test_call_cycle_walks_the_agent_through_its_states_with_timestamps(desk: Desk) -> None:
    desk.login("a1")
    t0 = desk.now
    desk.advance(1)
    desk.acd.enqueue("c1", HELPDESK, "x")
    t1 = desk.now
    desk.advance(4)
    desk.acd.answered("c1")
    t2 = desk.now
    assert desk.acd.agent("a1").state_since == t2
    desk.advance(100)
    desk.acd.hangup("c1")
    t3 = desk.now

    changes = [(e.at, e.old, e.new, e.call_id) for e in desk.of(AgentStateChanged)]
    assert changes == [
        (t0, AgentState.LOGGED_OUT, AgentState.AVAILABLE, None),
        (t1, AgentState.AVAILABLE, AgentState.OFFERED, "c1"),
        (t2, AgentState.OFFERED, AgentState.ON_CALL, "c1"),
        (t3, AgentState.ON_CALL, AgentState.AVAILABLE, None),
    ]
    a1 = desk.acd.agent("a1")
    assert (a1.state_since, a1.idle_since, a1.calls_answered) == (t3, t3, 1)


def test_calls_answered_counts_only_answered_calls(desk: Desk) -> None:
    desk.login("a1")
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.offer_failed("c1", OfferFailure.BUSY)
    desk.acd.set_agent_state("a1", AgentState.AVAILABLE)
    desk.acd.answered("c1")
    desk.acd.hangup("c1")
    desk.acd.enqueue("c2", HELPDESK, "x")
    desk.acd.answered("c2")

    assert desk.acd.agent("a1").calls_answered == 2


def test_logout_from_available_is_immediate(desk: Desk) -> None:
    desk.login("a1")
    desk.advance(2)
    assert desk.acd.set_agent_state("a1", AgentState.LOGGED_OUT) is None

    assert (desk.state("a1"), desk.acd.agent("a1").state_since) == (
        AgentState.LOGGED_OUT,
        desk.now,
    )


def test_readding_a_busy_agent_does_not_reset_it(desk: Desk) -> None:
    desk.login("a1")
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.answered("c1")

    desk.acd.add_agent("a1", [HELPDESK])  # e.g. the agent list reloaded

    a1 = desk.acd.agent("a1")
    assert (a1.state, a1.call_id, a1.calls_answered) == (AgentState.ON_CALL, "c1", 1)
    desk.acd.enqueue("c2", HELPDESK, "x")
    assert desk.acd.call("c2").agent_id is None


def test_readding_an_agent_with_a_new_queue_routes_its_waiting_calls() -> None:
    desk = Desk([QueueSettings(HELPDESK), QueueSettings("vip")])
    desk.login("a1", "vip")
    idle_since = desk.acd.agent("a1").idle_since
    desk.advance(5)
    desk.acd.enqueue("c1", HELPDESK, "x")
    assert desk.acd.call("c1").agent_id is None

    desk.acd.add_agent("a1", [HELPDESK, "vip"])

    assert desk.offered_to("c1") == "a1"
    assert desk.acd.agent("a1").queues == frozenset({HELPDESK, "vip"})
    assert desk.acd.agent("a1").idle_since == idle_since
