"""Transfers of waiting or connected calls to another queue or to one agent."""

from __future__ import annotations

import pytest

from callcenter.acd import commands
from callcenter.acd import events as ev
from callcenter.acd.core import CONSULT_PAUSE_REASON
from callcenter.acd.errors import InvalidTransition, UnknownQueue
from callcenter.acd.model import AgentState, CallPhase, OfferFailure, QueueSettings
from tests.unit.acd.desk import HELPDESK, Desk

NETWORK = "network"


def two_queue_desk(wrap_up: float = 0.0) -> Desk:
    return Desk([QueueSettings(HELPDESK, wrap_up_seconds=wrap_up), QueueSettings(NETWORK)])


def test_a_waiting_call_moves_and_keeps_its_arrival() -> None:
    desk = two_queue_desk()
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.advance(10)
    desk.acd.enqueue("n1", NETWORK, "x")
    desk.advance(5)
    desk.clear()

    desk.acd.transfer_to_queue("c1", NETWORK)

    assert [c.call_id for c in desk.acd.waiting_calls(NETWORK)] == ["c1", "n1"]
    assert desk.events == [ev.CallTransferred(desk.now, "c1", HELPDESK, NETWORK, None, None)]
    source = desk.acd.statistics(HELPDESK)
    figures = source.window(desk.now, 3600)
    assert (source.transferred_total, figures.transferred, figures.abandoned) == (1, 1, 0)
    assert desk.acd.statistics(NETWORK).offered_total == 2


def test_the_answer_after_a_transfer_counts_in_the_new_queue() -> None:
    desk = two_queue_desk()
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.advance(30)
    desk.acd.transfer_to_queue("c1", NETWORK)
    desk.advance(10)
    desk.login("n-agent", NETWORK)
    desk.acd.answered("c1")

    [answered] = desk.of(ev.CallAnswered)
    # The caller waited 40 s in all; the network queue had it for 10 s.
    assert (answered.queue, answered.wait_seconds, answered.within_service_level) == (
        NETWORK,
        40.0,
        True,
    )
    assert desk.acd.statistics(NETWORK).window(desk.now, 60).asa_seconds == 10.0
    assert desk.acd.statistics(HELPDESK).answered_total == 0


def test_a_connected_call_releases_its_agent_and_queues_as_a_new_arrival() -> None:
    desk = two_queue_desk(wrap_up=30)
    desk.login("h-agent", HELPDESK)
    desk.acd.enqueue("n-early", NETWORK, "x")
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.answered("c1")
    desk.advance(120)
    desk.clear()

    desk.acd.transfer_to_queue("c1", NETWORK)

    [moved] = desk.of(ev.CallTransferred)
    assert (moved.from_queue, moved.to_queue, moved.from_agent, moved.talk_seconds) == (
        HELPDESK,
        NETWORK,
        "h-agent",
        120.0,
    )
    call = desk.acd.call("c1")
    assert (call.phase, call.agent_id, call.enqueued_at) == (CallPhase.WAITING, None, desk.now)
    assert [c.call_id for c in desk.acd.waiting_calls(NETWORK)] == ["n-early", "c1"]
    assert desk.state("h-agent") is AgentState.WRAP_UP
    assert desk.acd.agent("h-agent").talk_seconds_today == 120.0
    assert desk.acd.statistics(HELPDESK).answered_total == 1
    assert desk.acd.statistics(HELPDESK).transferred_total == 0
    desk.advance(30)
    desk.acd.tick()
    assert desk.acd.statistics(HELPDESK).window(desk.now, 3600).aht_seconds == 150.0


@pytest.mark.parametrize("target", [HELPDESK, NETWORK])
def test_transfers_refuse_a_ringing_call(target: str) -> None:
    desk = two_queue_desk()
    desk.login("a1", HELPDESK)
    desk.login("a2", NETWORK)
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.set_agent_state("a2", AgentState.AVAILABLE)

    with pytest.raises(InvalidTransition):
        desk.acd.transfer_to_queue("c1", target)
    with pytest.raises(InvalidTransition):
        desk.acd.transfer_to_agent("c1", "a2")
    assert desk.offered_to("c1") == "a1"


def test_transfer_to_an_unknown_queue_is_refused(desk: Desk) -> None:
    desk.acd.enqueue("c1", HELPDESK, "x")
    with pytest.raises(UnknownQueue):
        desk.acd.transfer_to_queue("c1", "sales")


def test_a_queued_callback_is_not_transferred(desk: Desk) -> None:
    desk.acd.enqueue("c1", HELPDESK, "+1")
    desk.acd.request_callback("c1", "+1")
    with pytest.raises(InvalidTransition):
        desk.acd.transfer_to_queue("c1", HELPDESK)


def test_a_waiting_call_is_offered_to_the_chosen_agent_whatever_its_queues() -> None:
    desk = two_queue_desk()
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.login("specialist", NETWORK)
    desk.clear()

    desk.acd.transfer_to_agent("c1", "specialist")

    assert desk.offered_to("c1") == "specialist"
    assert desk.kinds() == ["CallTransferred", "AgentStateChanged", "CallOffered"]
    [moved] = desk.of(ev.CallTransferred)
    assert (moved.from_queue, moved.to_queue, moved.to_agent) == (HELPDESK, HELPDESK, "specialist")
    assert desk.acd.statistics(HELPDESK).offered_total == 1


def test_the_chosen_agent_must_be_available(desk: Desk) -> None:
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.add_agent("out", [HELPDESK])
    with pytest.raises(InvalidTransition, match="logged_out"):
        desk.acd.transfer_to_agent("c1", "out")
    assert desk.acd.call("c1").phase is CallPhase.WAITING


def test_a_failed_direct_offer_puts_the_call_back_in_its_queue() -> None:
    desk = two_queue_desk()
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.advance(1)
    desk.acd.enqueue("c2", HELPDESK, "x")
    desk.login("chosen", NETWORK)
    desk.acd.transfer_to_agent("c1", "chosen")

    desk.acd.offer_failed("c1", OfferFailure.NO_ANSWER)

    assert (desk.state("chosen"), desk.acd.agent("chosen").reason) == (
        AgentState.PAUSED,
        "no answer",
    )
    assert [c.call_id for c in desk.acd.waiting_calls(HELPDESK)] == ["c1", "c2"]
    desk.login("other", HELPDESK)
    assert desk.offered_to("c1") == "other"


def test_a_connected_call_goes_from_agent_to_agent() -> None:
    desk = two_queue_desk()
    desk.login("first", HELPDESK)
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.answered("c1")
    desk.advance(60)
    desk.login("second", NETWORK)
    desk.clear()

    desk.acd.transfer_to_agent("c1", "second")

    assert desk.offered_to("c1") == "second"
    assert desk.state("first") is AgentState.AVAILABLE
    assert desk.kinds() == [
        "CallTransferred",
        "AgentStateChanged",  # first: free
        "AgentStateChanged",  # second: offered
        "CallOffered",
    ]
    [moved] = desk.of(ev.CallTransferred)
    assert (moved.from_agent, moved.to_agent, moved.talk_seconds) == ("first", "second", 60.0)
    desk.acd.answered("c1")
    stats = desk.acd.statistics(HELPDESK)
    # The transfer is a new offer of the queue, answered in its turn.
    assert (stats.offered_total, stats.answered_total) == (2, 2)


def test_a_call_cannot_be_transferred_to_its_own_agent(desk: Desk) -> None:
    desk.login("a1")
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.answered("c1")
    with pytest.raises(InvalidTransition):
        desk.acd.transfer_to_agent("c1", "a1")


def test_an_agent_reserved_for_a_consultation_is_handed_the_call(desk: Desk) -> None:
    """Attended transfers: the consulted agent is paused for "consultation" (no call is
    offered to it meanwhile), and only a reserved transfer may hand it the call."""
    desk.login("first")
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.answered("c1")
    desk.login("second")
    desk.acd.set_agent_state("second", AgentState.PAUSED, CONSULT_PAUSE_REASON)
    desk.acd.enqueue("c2", HELPDESK, "y")
    assert desk.acd.call("c2").phase is CallPhase.WAITING  # not offered to "second"
    with pytest.raises(InvalidTransition):
        desk.acd.transfer_to_agent("c1", "second")

    commands.decode(commands.encode(commands.TransferToAgent("c1", "second", True))).apply(desk.acd)

    assert desk.offered_to("c1") == "second"
    desk.acd.answered("c1", "second")
    assert desk.state("second") is AgentState.ON_CALL


def test_a_reserved_transfer_still_needs_the_consultation_pause(desk: Desk) -> None:
    desk.login("first")
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.answered("c1")
    desk.login("second")
    desk.acd.set_agent_state("second", AgentState.PAUSED, "lunch")
    with pytest.raises(InvalidTransition):
        desk.acd.transfer_to_agent("c1", "second", reserved=True)
    assert commands.decode('{"op":"transfer_to_agent","call_id":"c1","agent_id":"a"}') == (
        commands.TransferToAgent("c1", "a")  # logs written before the field still read
    )
