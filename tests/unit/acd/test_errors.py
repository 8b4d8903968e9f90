"""Refusals: unknown agents, queues and calls, transitions that make no sense."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from callcenter.acd.acd import Acd
from callcenter.acd.errors import (
    AcdError,
    InvalidTransition,
    UnknownAgent,
    UnknownCall,
    UnknownQueue,
)
from callcenter.acd.model import AgentState, CallPhase, OfferFailure
from tests.unit.acd.desk import HELPDESK, Desk


@pytest.mark.parametrize(
    "action",
    [
        lambda acd: acd.agent("ghost"),
        lambda acd: acd.set_agent_state("ghost", AgentState.AVAILABLE),
        lambda acd: acd.end_wrap_up("ghost"),
    ],
)
def test_unknown_agent(desk: Desk, action: Callable[[Acd], object]) -> None:
    with pytest.raises(UnknownAgent, match="ghost"):
        action(desk.acd)


@pytest.mark.parametrize(
    "action",
    [
        lambda acd: acd.enqueue("c1", "sales", "x"),
        lambda acd: acd.add_agent("a1", [HELPDESK, "sales"]),
        lambda acd: acd.snapshot("sales"),
        lambda acd: acd.statistics("sales"),
        lambda acd: acd.waiting_calls("sales"),
        lambda acd: acd.queue_settings("sales"),
    ],
)
def test_unknown_queue(desk: Desk, action: Callable[[Acd], object]) -> None:
    with pytest.raises(UnknownQueue, match="sales"):
        action(desk.acd)
    assert desk.acd.agents == []
    assert not desk.acd.has_call("c1")


@pytest.mark.parametrize(
    "action",
    [
        lambda acd: acd.call("nope"),
        lambda acd: acd.answered("nope"),
        lambda acd: acd.offer_failed("nope", OfferFailure.BUSY),
        lambda acd: acd.hangup("nope"),
    ],
)
def test_unknown_call(desk: Desk, action: Callable[[Acd], object]) -> None:
    with pytest.raises(UnknownCall, match="nope"):
        action(desk.acd)


def test_all_refusals_are_acd_errors() -> None:
    for error in (UnknownAgent, UnknownQueue, UnknownCall, InvalidTransition):
        assert issubclass(error, AcdError)


def test_double_enqueue_is_refused_and_changes_nothing(desk: Desk) -> None:
    desk.acd.enqueue("c1", HELPDESK, "first", priority=1)
    desk.advance(5)
    desk.clear()

    with pytest.raises(InvalidTransition):
        desk.acd.enqueue("c1", HELPDESK, "second")

    call = desk.acd.call("c1")
    assert (call.caller, call.priority, call.enqueued_at) == ("first", 1, desk.now - 5)
    assert desk.acd.statistics(HELPDESK).offered_total == 1
    assert desk.events == []


def test_enqueue_of_a_ringing_or_connected_call_is_refused(desk: Desk) -> None:
    desk.login("a1")
    desk.acd.enqueue("c1", HELPDESK, "x")
    with pytest.raises(InvalidTransition):
        desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.answered("c1")
    with pytest.raises(InvalidTransition):
        desk.acd.enqueue("c1", HELPDESK, "x")
    assert desk.acd.call("c1").phase is CallPhase.CONNECTED


def test_a_call_id_may_come_back_after_it_ended(desk: Desk) -> None:
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.hangup("c1")
    desk.acd.enqueue("c1", HELPDESK, "x")

    assert desk.acd.call("c1").phase is CallPhase.WAITING


def test_answering_a_waiting_call_is_refused(desk: Desk) -> None:
    desk.acd.enqueue("c1", HELPDESK, "x")
    with pytest.raises(InvalidTransition):
        desk.acd.answered("c1")
    assert desk.acd.statistics(HELPDESK).answered_total == 0


def test_answering_twice_is_refused(desk: Desk) -> None:
    desk.login("a1")
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.answered("c1")
    with pytest.raises(InvalidTransition):
        desk.acd.answered("c1")
    assert desk.acd.agent("a1").calls_answered == 1


def test_failing_an_offer_that_is_not_ringing_is_refused(desk: Desk) -> None:
    desk.acd.enqueue("waiting", HELPDESK, "x")
    with pytest.raises(InvalidTransition):
        desk.acd.offer_failed("waiting", OfferFailure.NO_ANSWER)
    desk.login("a1")
    desk.acd.answered("waiting")
    with pytest.raises(InvalidTransition):
        desk.acd.offer_failed("waiting", OfferFailure.BUSY)
    assert desk.state("a1") is AgentState.ON_CALL


def test_hanging_up_twice_is_refused(desk: Desk) -> None:
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.hangup("c1")
    with pytest.raises(UnknownCall):
        desk.acd.hangup("c1")
    assert desk.acd.statistics(HELPDESK).abandoned_total == 1


def test_refused_state_request_leaves_no_pending_state(desk: Desk) -> None:
    desk.login("a1")
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.answered("c1")
    with pytest.raises(InvalidTransition):
        desk.acd.set_agent_state("a1", AgentState.WRAP_UP)

    assert desk.acd.agent("a1").pending_state is None
