"""Wrap-up after a call: its timer, ending it early, and what it holds back."""

from __future__ import annotations

import pytest

from callcenter.acd.errors import InvalidTransition
from callcenter.acd.events import AgentStateChanged, CallCompleted, CallOffered
from callcenter.acd.model import AgentState, CallPhase, QueueSettings
from tests.unit.acd.desk import HELPDESK, Desk, make_desk


def connected_call(desk: Desk, talk: float = 60.0) -> None:
    """a1 answers c1 after 2 s and talks for `talk` seconds; the caller then hangs up."""
    desk.login("a1")
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.advance(2)
    desk.acd.answered("c1")
    desk.advance(talk)
    desk.acd.hangup("c1")


def test_agent_goes_to_wrap_up_after_the_call() -> None:
    desk = make_desk(wrap_up_seconds=30.0)
    connected_call(desk)

    a1 = desk.acd.agent("a1")
    assert (a1.state, a1.call_id, a1.state_since) == (AgentState.WRAP_UP, "c1", desk.now)
    [completed] = desk.of(CallCompleted)
    assert completed.talk_seconds == pytest.approx(60.0)


def test_no_wrap_up_by_default(desk: Desk) -> None:
    connected_call(desk)

    assert desk.state("a1") is AgentState.AVAILABLE


def test_agent_in_wrap_up_is_not_offered_calls() -> None:
    desk = make_desk(wrap_up_seconds=30.0)
    connected_call(desk)
    desk.acd.enqueue("c2", HELPDESK, "x")
    desk.advance(29.9)
    desk.acd.tick()

    assert desk.acd.call("c2").phase is CallPhase.WAITING
    assert desk.state("a1") is AgentState.WRAP_UP


def test_wrap_up_ends_with_its_timer_and_the_agent_takes_the_next_call() -> None:
    desk = make_desk(wrap_up_seconds=30.0)
    connected_call(desk)
    desk.acd.enqueue("c2", HELPDESK, "x")
    desk.advance(30)
    desk.clear()
    desk.acd.tick()

    assert desk.offered_to("c2") == "a1"
    assert [(e.old, e.new) for e in desk.of(AgentStateChanged)] == [
        (AgentState.WRAP_UP, AgentState.AVAILABLE),
        (AgentState.AVAILABLE, AgentState.OFFERED),
    ]
    assert desk.acd.agent("a1").idle_since == desk.now


def test_wrap_up_can_be_ended_early() -> None:
    desk = make_desk(wrap_up_seconds=30.0)
    connected_call(desk)
    desk.advance(5)
    desk.acd.end_wrap_up("a1")

    a1 = desk.acd.agent("a1")
    assert (a1.state, a1.call_id, a1.state_since) == (AgentState.AVAILABLE, None, desk.now)
    # The timer is gone with it: it does not fire later.
    desk.advance(60)
    desk.clear()
    desk.acd.tick()
    assert desk.events == []


def test_ending_wrap_up_early_routes_a_waiting_call() -> None:
    desk = make_desk(wrap_up_seconds=30.0)
    connected_call(desk)
    desk.acd.enqueue("c2", HELPDESK, "x")
    desk.acd.end_wrap_up("a1")

    assert desk.offered_to("c2") == "a1"


@pytest.mark.parametrize("state", [AgentState.AVAILABLE, AgentState.PAUSED])
def test_end_wrap_up_outside_wrap_up_is_refused(desk: Desk, state: AgentState) -> None:
    desk.login("a1")
    desk.acd.set_agent_state("a1", state)
    with pytest.raises(InvalidTransition):
        desk.acd.end_wrap_up("a1")


def test_end_wrap_up_on_a_call_is_refused(desk: Desk) -> None:
    desk.login("a1")
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.answered("c1")
    with pytest.raises(InvalidTransition):
        desk.acd.end_wrap_up("a1")
    assert desk.state("a1") is AgentState.ON_CALL


def test_request_made_on_the_call_waits_for_the_end_of_wrap_up() -> None:
    desk = make_desk(wrap_up_seconds=30.0)
    desk.login("a1")
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.answered("c1")
    desk.acd.set_agent_state("a1", AgentState.PAUSED, "lunch")
    desk.acd.hangup("c1")
    assert desk.state("a1") is AgentState.WRAP_UP
    assert desk.acd.agent("a1").pending_state is AgentState.PAUSED

    desk.advance(30)
    desk.acd.tick()

    a1 = desk.acd.agent("a1")
    assert (a1.state, a1.reason, a1.pending_state) == (AgentState.PAUSED, "lunch", None)


def test_pending_request_applies_when_wrap_up_is_ended_early() -> None:
    desk = make_desk(wrap_up_seconds=30.0)
    desk.login("a1")
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.answered("c1")
    desk.acd.set_agent_state("a1", AgentState.LOGGED_OUT)
    desk.acd.hangup("c1")
    desk.acd.end_wrap_up("a1")

    assert desk.state("a1") is AgentState.LOGGED_OUT


def test_pausing_in_wrap_up_ends_it() -> None:
    desk = make_desk(wrap_up_seconds=30.0)
    connected_call(desk)
    desk.advance(10)
    desk.acd.set_agent_state("a1", AgentState.PAUSED, "break")

    a1 = desk.acd.agent("a1")
    assert (a1.state, a1.reason, a1.call_id) == (AgentState.PAUSED, "break", None)
    handled = desk.acd.statistics(HELPDESK).window(desk.now, 3600)
    assert handled.aht_seconds == pytest.approx(70.0)
    desk.advance(60)
    desk.clear()
    desk.acd.tick()
    assert desk.events == []


def test_handle_time_runs_from_answer_to_the_end_of_wrap_up() -> None:
    desk = make_desk(wrap_up_seconds=30.0)
    connected_call(desk, talk=60.0)
    stats = desk.acd.statistics(HELPDESK)
    assert stats.window(desk.now, 3600).aht_seconds is None  # not handled yet

    desk.advance(30)
    desk.acd.tick()

    assert stats.window(desk.now, 3600).aht_seconds == pytest.approx(90.0)


def test_handle_time_without_wrap_up_is_the_talk_time(desk: Desk) -> None:
    connected_call(desk, talk=45.0)

    assert desk.acd.statistics(HELPDESK).window(desk.now, 3600).aht_seconds == pytest.approx(45.0)


def test_handle_time_of_an_early_ended_wrap_up() -> None:
    desk = make_desk(wrap_up_seconds=30.0)
    connected_call(desk, talk=60.0)
    desk.advance(12)
    desk.acd.end_wrap_up("a1")

    assert desk.acd.statistics(HELPDESK).window(desk.now, 3600).aht_seconds == pytest.approx(72.0)


def test_wrap_up_time_belongs_to_the_queue_of_the_call() -> None:
    desk = Desk([QueueSettings(HELPDESK, wrap_up_seconds=30.0), QueueSettings("vip")])
    desk.login("a1", HELPDESK, "vip")
    desk.acd.enqueue("v1", "vip", "x")
    desk.acd.answered("v1")
    desk.acd.hangup("v1")
    assert desk.state("a1") is AgentState.AVAILABLE

    desk.acd.enqueue("h1", HELPDESK, "x")
    desk.acd.answered("h1")
    desk.acd.hangup("h1")
    assert desk.state("a1") is AgentState.WRAP_UP
    assert desk.acd.statistics("vip").window(desk.now, 60).aht_seconds == 0.0
    assert desk.acd.statistics(HELPDESK).window(desk.now, 60).aht_seconds is None


def test_agent_that_just_wrapped_up_is_not_the_longest_idle() -> None:
    desk = make_desk(wrap_up_seconds=10.0)
    connected_call(desk)
    desk.advance(1)
    desk.login("a2")
    desk.advance(10)
    desk.acd.tick()  # a1 free again, after a2
    desk.acd.enqueue("c2", HELPDESK, "x")

    assert desk.offered_to("c2") == "a2"
    assert desk.of(CallOffered)[-1].agent_id == "a2"
