"""Queued callbacks: the caller leaves the line but keeps its place; an agent calls back."""

from __future__ import annotations

import json

import pytest

from callcenter.acd import events as ev
from callcenter.acd.errors import InvalidSetting, InvalidTransition, UnknownQueue
from callcenter.acd.model import AgentState, CallPhase, OfferFailure, QueueSettings
from tests.unit.acd.desk import HELPDESK, Desk, make_desk

NUMBER = "+4930111"


def line_with_a_callback(desk: Desk) -> None:
    """c1, then "cb" (a callback since 20 s), then c3."""
    desk.acd.enqueue("c1", HELPDESK, "+1")
    desk.advance(1)
    desk.acd.enqueue("cb", HELPDESK, NUMBER)
    desk.advance(1)
    desk.acd.enqueue("c3", HELPDESK, "+3")
    desk.advance(20)
    desk.acd.request_callback("cb", NUMBER)


def dialing(desk: Desk, agent: str = "a1") -> None:
    """The callback reaches `agent`, who answers: the callee is to be dialled."""
    desk.acd.answered("cb", agent)
    assert desk.acd.call("cb").dialing


def test_a_callback_keeps_its_place_in_line(desk: Desk) -> None:
    line_with_a_callback(desk)

    assert [c.call_id for c in desk.acd.waiting_calls(HELPDESK)] == ["c1", "cb", "c3"]
    cb = desk.acd.call("cb")
    assert (cb.phase, cb.callback) == (CallPhase.WAITING, NUMBER)
    [requested] = desk.of(ev.CallbackRequested)
    assert (requested.call_id, requested.queue, requested.number, requested.position) == (
        "cb",
        HELPDESK,
        NUMBER,
        2,
    )


def test_the_callers_hangup_after_the_request_is_not_an_abandon(desk: Desk) -> None:
    line_with_a_callback(desk)
    desk.clear()

    desk.acd.hangup("cb")

    assert desk.acd.has_call("cb")
    assert desk.events == []
    stats = desk.acd.statistics(HELPDESK)
    assert (stats.abandoned_total, stats.callbacks_total) == (0, 1)
    figures = stats.window(desk.now, 3600)
    assert (figures.callbacks, figures.abandoned, figures.service_level) == (1, 0, None)


def test_the_offer_goes_to_the_agent_first_with_the_number(desk: Desk) -> None:
    line_with_a_callback(desk)
    desk.acd.hangup("c1")
    desk.clear()

    desk.login("a1")

    [offered] = desk.of(ev.CallOffered)
    assert (offered.call_id, offered.agent_id, offered.callback) == ("cb", "a1", NUMBER)


def test_when_the_agent_answers_the_callee_is_dialled(desk: Desk) -> None:
    line_with_a_callback(desk)
    desk.acd.hangup("c1")
    desk.login("a1")
    desk.clear()

    dialing(desk)

    assert desk.state("a1") is AgentState.ON_CALL
    [dial] = desk.of(ev.CallbackDialing)
    assert (dial.call_id, dial.agent_id, dial.number, dial.attempt) == ("cb", "a1", NUMBER, 1)
    assert desk.of(ev.CallAnswered) == []
    assert desk.acd.statistics(HELPDESK).answered_total == 0


def test_a_connected_callback_is_a_call_like_any_other(desk: Desk) -> None:
    line_with_a_callback(desk)
    desk.acd.hangup("c1")
    desk.login("a1")
    dialing(desk)
    desk.advance(8)

    desk.acd.callback_answered("cb")
    desk.advance(60)
    desk.acd.hangup("cb")

    kinds = desk.kinds()
    assert kinds.index("CallbackConnected") < kinds.index("CallCompleted")
    assert desk.offered_to("c3") == "a1"  # free again, it takes the next caller
    assert desk.of(ev.CallCompleted)[0].talk_seconds == pytest.approx(60.0)
    stats = desk.acd.statistics(HELPDESK)
    assert (stats.callbacks_connected_total, stats.abandoned_total) == (1, 1)  # c1
    assert desk.acd.agent("a1").calls_answered == 1
    assert not desk.acd.has_call("cb")


def test_a_failed_dial_retries_after_the_delay_at_the_head_of_the_line() -> None:
    desk = make_desk(callback_retries=1, callback_retry_seconds=120)
    line_with_a_callback(desk)
    desk.acd.hangup("c1")
    desk.login("a1")
    dialing(desk)
    desk.advance(30)

    desk.acd.callback_failed("cb")

    [failed] = desk.of(ev.CallbackFailed)
    assert (failed.agent_id, failed.attempt, failed.retry_at) == ("a1", 1, desk.now + 120)
    # The agent is free and takes the next caller; the callback waits for its time.
    assert desk.offered_to("c3") == "a1"
    desk.acd.answered("c3")
    desk.acd.hangup("c3")
    desk.advance(119)
    desk.acd.tick()
    assert (desk.acd.call("cb").phase, desk.state("a1")) == (
        CallPhase.WAITING,
        AgentState.AVAILABLE,
    )
    desk.advance(1)
    desk.acd.tick()
    assert desk.offered_to("cb") == "a1"
    assert desk.of(ev.CallOffered)[-1].callback == NUMBER


def test_a_callback_due_again_goes_before_later_calls() -> None:
    desk = make_desk(callback_retry_seconds=60)
    line_with_a_callback(desk)
    desk.acd.hangup("c1")
    desk.login("a1")
    dialing(desk)
    desk.acd.set_agent_state("a1", AgentState.PAUSED, "break")  # pending until free
    desk.acd.callback_failed("cb")
    desk.advance(60)

    desk.acd.set_agent_state("a1", AgentState.AVAILABLE)

    assert desk.offered_to("cb") == "a1"
    assert [c.call_id for c in desk.acd.waiting_calls(HELPDESK)] == ["c3"]


def test_the_callback_is_dropped_after_the_last_try() -> None:
    desk = make_desk(callback_retries=1, callback_retry_seconds=0)
    line_with_a_callback(desk)
    desk.acd.hangup("c1")
    desk.acd.hangup("c3")
    desk.login("a1")
    dialing(desk)
    desk.acd.callback_failed("cb")
    dialing(desk)  # the retry, at once

    desk.acd.callback_failed("cb")

    assert not desk.acd.has_call("cb")
    assert [(f.attempt, f.retry_at) for f in desk.of(ev.CallbackFailed)] == [
        (1, desk.now),
        (2, None),
    ]
    stats = desk.acd.statistics(HELPDESK)
    assert (stats.callbacks_dropped_total, stats.abandoned_total) == (1, 2)  # c1 and c3
    assert desk.state("a1") is AgentState.AVAILABLE


def test_a_hangup_while_dialling_is_a_failed_dial(desk: Desk) -> None:
    line_with_a_callback(desk)
    desk.acd.hangup("c1")
    desk.login("a1")
    dialing(desk)

    desk.acd.hangup("cb")

    assert desk.of(ev.CallbackFailed)[0].retry_at is not None
    assert desk.acd.call("cb").phase is CallPhase.WAITING


def test_a_callback_offer_that_fails_pauses_the_agent_and_keeps_the_place(desk: Desk) -> None:
    line_with_a_callback(desk)
    desk.acd.hangup("c1")
    desk.login("a1")
    desk.acd.offer_failed("cb", OfferFailure.NO_ANSWER)

    assert desk.state("a1") is AgentState.PAUSED
    assert [c.call_id for c in desk.acd.waiting_calls(HELPDESK)] == ["cb", "c3"]


def test_a_callback_can_be_cancelled_even_while_ringing_an_agent(desk: Desk) -> None:
    line_with_a_callback(desk)
    desk.acd.hangup("c1")
    desk.login("a1")
    desk.clear()

    desk.acd.cancel_callback("cb")

    assert not desk.acd.has_call("cb")
    assert desk.kinds()[:3] == ["OfferWithdrawn", "AgentStateChanged", "CallbackCancelled"]
    assert desk.offered_to("c3") == "a1"


def test_callback_operations_refuse_calls_in_the_wrong_phase(desk: Desk) -> None:
    desk.login("a1")
    desk.acd.enqueue("ringing", HELPDESK, NUMBER)
    desk.acd.enqueue("waiting", HELPDESK, NUMBER)
    with pytest.raises(InvalidTransition):
        desk.acd.request_callback("ringing", NUMBER)
    with pytest.raises(InvalidTransition):
        desk.acd.callback_answered("waiting")
    with pytest.raises(InvalidTransition):
        desk.acd.callback_failed("waiting")
    with pytest.raises(InvalidTransition):
        desk.acd.cancel_callback("waiting")
    with pytest.raises(InvalidSetting):
        desk.acd.request_callback("waiting", "anonymous")
    desk.acd.request_callback("waiting", NUMBER)
    with pytest.raises(InvalidTransition):
        desk.acd.request_callback("waiting", NUMBER)


def test_export_and_import_put_callbacks_back_in_line() -> None:
    desk = make_desk()
    line_with_a_callback(desk)
    desk.acd.enqueue("cb2", HELPDESK, "+5", priority=1, skills={"german": 3})
    desk.acd.request_callback("cb2", "+5")
    saved = json.loads(json.dumps(desk.acd.export_callbacks()))
    assert [e["call_id"] for e in saved] == ["cb2", "cb"]

    restarted = make_desk()
    restarted.clock.set(desk.now + 300)
    restarted.acd.enqueue("fresh", HELPDESK, "+9")
    restarted.acd.import_callbacks(saved)

    assert [c.call_id for c in restarted.acd.waiting_calls(HELPDESK)] == ["cb2", "cb", "fresh"]
    cb2 = restarted.acd.call("cb2")
    assert (cb2.callback, cb2.priority, cb2.skills) == ("+5", 1, {"german": 3})
    assert restarted.acd.export_callbacks() == saved
    assert restarted.of(ev.CallbackRequested) == []


def test_a_callback_being_dialled_is_exported_without_its_unfinished_attempt(desk: Desk) -> None:
    line_with_a_callback(desk)
    desk.acd.hangup("c1")
    desk.login("a1")
    dialing(desk)

    [entry] = desk.acd.export_callbacks()
    assert entry["attempts"] == 0


def test_import_is_all_or_nothing(desk: Desk) -> None:
    line_with_a_callback(desk)
    [entry] = desk.acd.export_callbacks()
    other = Desk([QueueSettings(HELPDESK)])
    other.acd.enqueue("cb", HELPDESK, "+1")

    with pytest.raises(InvalidTransition):
        other.acd.import_callbacks([{**entry, "call_id": "new"}, entry])
    with pytest.raises(UnknownQueue):
        other.acd.import_callbacks([{**entry, "call_id": "new", "queue": "sales"}])
    with pytest.raises(InvalidSetting):
        other.acd.import_callbacks([{"call_id": "new"}])
    assert not other.acd.has_call("new")


def test_a_callback_is_not_counted_in_the_longest_wait_but_in_the_line(desk: Desk) -> None:
    line_with_a_callback(desk)
    desk.acd.hangup("c1")
    desk.acd.hangup("c3")

    snap = desk.acd.snapshot(HELPDESK)
    assert (snap.waiting, snap.callbacks_waiting, snap.longest_wait_seconds) == (1, 1, 0.0)
