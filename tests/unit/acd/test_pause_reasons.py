"""Pause reasons come from a configured list; the ACD's own reasons are always allowed."""

from __future__ import annotations

import pytest

from callcenter.acd.acd import DEFAULT_PAUSE_REASONS, OFFER_FAILURE_PAUSE_REASON, Acd
from callcenter.acd.core import CONSULT_PAUSE_REASON
from callcenter.acd.errors import InvalidTransition
from callcenter.acd.events import AgentStateChanged
from callcenter.acd.model import AgentState, OfferFailure, QueueSettings
from callcenter.clock import ManualClock
from tests.unit.acd.desk import HELPDESK, Desk


def desk_with_reasons(*reasons: str) -> Desk:
    return Desk(pause_reasons=reasons)


@pytest.mark.parametrize("reason", DEFAULT_PAUSE_REASONS)
def test_every_default_reason_is_accepted(desk: Desk, reason: str) -> None:
    desk.login("a1")
    desk.acd.set_agent_state("a1", AgentState.PAUSED, reason)

    assert (desk.state("a1"), desk.acd.agent("a1").reason) == (AgentState.PAUSED, reason)


def test_a_pause_without_a_reason_is_accepted(desk: Desk) -> None:
    desk.login("a1")
    desk.acd.set_agent_state("a1", AgentState.PAUSED)

    assert (desk.state("a1"), desk.acd.agent("a1").reason) == (AgentState.PAUSED, None)


def test_an_unknown_reason_is_refused_and_changes_nothing(desk: Desk) -> None:
    desk.login("a1")
    desk.clear()

    with pytest.raises(InvalidTransition, match="coffee"):
        desk.acd.set_agent_state("a1", AgentState.PAUSED, "coffee")

    assert desk.state("a1") is AgentState.AVAILABLE
    assert desk.events == []


def test_an_unknown_reason_is_refused_while_on_a_call_too(desk: Desk) -> None:
    desk.login("a1")
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.answered("c1")

    with pytest.raises(InvalidTransition):
        desk.acd.set_agent_state("a1", AgentState.PAUSED, "coffee")

    assert desk.acd.agent("a1").pending_state is None


def test_reasons_of_other_states_are_dropped_not_checked(desk: Desk) -> None:
    desk.acd.add_agent("a1", [HELPDESK])
    desk.acd.set_agent_state("a1", AgentState.AVAILABLE, "coffee")

    assert desk.acd.agent("a1").reason is None


def test_the_configured_list_replaces_the_default() -> None:
    desk = desk_with_reasons("coaching")
    desk.login("a1")
    desk.acd.set_agent_state("a1", AgentState.PAUSED, "coaching")
    with pytest.raises(InvalidTransition):
        desk.acd.set_agent_state("a1", AgentState.PAUSED, "lunch")

    assert desk.acd.agent("a1").reason == "coaching"
    assert desk.acd.pause_reasons >= {"coaching", *OFFER_FAILURE_PAUSE_REASON.values()}


@pytest.mark.parametrize("failure", list(OfferFailure))
def test_system_reasons_work_even_when_not_configured(failure: OfferFailure) -> None:
    desk = desk_with_reasons("coaching")
    desk.login("a1")
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.offer_failed("c1", failure)

    reason = OFFER_FAILURE_PAUSE_REASON[failure]
    assert desk.acd.agent("a1").reason == reason
    # A supervisor may set it too, e.g. to mark a broken phone.
    desk.acd.set_agent_state("a1", AgentState.PAUSED, "unreachable")
    assert desk.of(AgentStateChanged)[-1].reason == "unreachable"


def test_acd_without_the_option_uses_the_default_list() -> None:
    acd = Acd([QueueSettings(HELPDESK)], ManualClock(), lambda e: None)

    # The system's own reasons (offer failures, an attended transfer's consultation) too.
    assert acd.pause_reasons == frozenset(DEFAULT_PAUSE_REASONS) | {CONSULT_PAUSE_REASON}
