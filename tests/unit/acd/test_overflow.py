"""Queue limits (max waiting, max wait, join when empty) and where overflowing calls go."""

from __future__ import annotations

from typing import Any

import pytest

from callcenter.acd.errors import InvalidSetting, UnknownCall, UnknownQueue
from callcenter.acd.events import CallbackRequested, CallEnqueued, CallOverflowed
from callcenter.acd.model import (
    AgentState,
    CallPhase,
    JoinEmpty,
    OfferFailure,
    OverflowCause,
    OverflowKind,
    OverflowTarget,
    QueueSettings,
)
from tests.unit.acd.desk import HELPDESK, Desk

BACKUP = "backup"
TO_BACKUP = OverflowTarget(OverflowKind.QUEUE, BACKUP)


def overflow_desk(**settings: Any) -> Desk:
    return Desk([QueueSettings(HELPDESK, **settings), QueueSettings(BACKUP)])


def overflowed(desk: Desk) -> list[tuple[str, str, OverflowKind, str | None, OverflowCause]]:
    return [(e.call_id, e.queue, e.target_kind, e.target, e.cause) for e in desk.of(CallOverflowed)]


def test_a_full_queue_sends_the_new_call_to_the_target_queue() -> None:
    desk = overflow_desk(max_waiting=2, overflow_target=TO_BACKUP)
    for n in range(3):
        desk.acd.enqueue(f"c{n}", HELPDESK, "x")

    assert [c.call_id for c in desk.acd.waiting_calls(HELPDESK)] == ["c0", "c1"]
    assert desk.acd.call("c2").queue == BACKUP
    assert overflowed(desk) == [
        ("c2", HELPDESK, OverflowKind.QUEUE, BACKUP, OverflowCause.MAX_WAITING)
    ]
    assert desk.kinds()[-2:] == ["CallEnqueued", "CallOverflowed"]
    source, target = desk.acd.statistics(HELPDESK), desk.acd.statistics(BACKUP)
    assert (source.offered_total, source.overflowed_total) == (3, 1)
    assert target.offered_total == 1


def test_an_overflowed_call_keeps_its_arrival_order_in_the_target() -> None:
    desk = overflow_desk(max_waiting=1, overflow_target=TO_BACKUP)
    desk.acd.enqueue("h1", HELPDESK, "x")
    desk.acd.enqueue("h2", HELPDESK, "x")  # overflows at once, arrived before b1
    desk.advance(1)
    desk.acd.enqueue("b1", BACKUP, "x")

    assert [c.call_id for c in desk.acd.waiting_calls(BACKUP)] == ["h2", "b1"]
    desk.login("b-agent", BACKUP)
    assert desk.offered_to("h2") == "b-agent"


def test_ringing_calls_hold_a_line_but_queued_callbacks_do_not() -> None:
    desk = overflow_desk(max_waiting=2, overflow_target=TO_BACKUP)
    desk.login("a1")
    desk.acd.enqueue("ringing", HELPDESK, "+1")
    desk.acd.enqueue("callback", HELPDESK, "+2")
    desk.acd.request_callback("callback", "+2")
    desk.acd.enqueue("waiting", HELPDESK, "+3")
    desk.acd.enqueue("fourth", HELPDESK, "+4")

    assert [e.call_id for e in desk.of(CallOverflowed)] == ["fourth"]


def test_connected_calls_do_not_hold_a_line() -> None:
    desk = overflow_desk(max_waiting=1, overflow_target=TO_BACKUP)
    desk.login("a1")
    desk.acd.enqueue("talking", HELPDESK, "x")
    desk.acd.answered("talking")
    desk.acd.enqueue("next", HELPDESK, "x")

    assert desk.of(CallOverflowed) == []


def test_a_call_waiting_too_long_overflows_at_the_tick() -> None:
    desk = overflow_desk(max_wait_seconds=60, overflow_target=TO_BACKUP)
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.advance(59)
    desk.acd.tick()
    assert desk.acd.call("c1").queue == HELPDESK

    desk.advance(1)
    desk.acd.tick()

    call = desk.acd.call("c1")
    assert (call.queue, call.queued_at, call.enqueued_at) == (BACKUP, desk.now, desk.now - 60)
    assert overflowed(desk) == [
        ("c1", HELPDESK, OverflowKind.QUEUE, BACKUP, OverflowCause.MAX_WAIT)
    ]
    figures = desk.acd.statistics(HELPDESK).window(desk.now, 3600)
    assert (figures.overflowed, figures.abandoned, figures.answered) == (1, 0, 0)


def test_the_target_measures_its_own_max_wait_from_the_overflow() -> None:
    desk = Desk(
        [
            QueueSettings(HELPDESK, max_wait_seconds=60, overflow_target=TO_BACKUP),
            QueueSettings(BACKUP, max_wait_seconds=30),
        ]
    )
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.advance(60)
    desk.acd.tick()
    desk.advance(29)
    desk.acd.tick()
    assert desk.acd.call("c1").queue == BACKUP

    desk.advance(1)
    desk.acd.tick()  # the backup queue has no target: the call leaves the ACD

    assert not desk.acd.has_call("c1")
    assert [e.target_kind for e in desk.of(CallOverflowed)] == [
        OverflowKind.QUEUE,
        OverflowKind.TICKET_ONLY,
    ]


def test_a_ringing_call_is_not_taken_from_the_agent() -> None:
    desk = overflow_desk(max_wait_seconds=10, overflow_target=TO_BACKUP, ring_timeout_seconds=30)
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.advance(5)
    desk.login("a1")
    desk.advance(10)
    desk.acd.tick()

    assert desk.offered_to("c1") == "a1"
    desk.acd.offer_failed("c1", OfferFailure.BUSY)
    desk.acd.tick()
    assert desk.acd.call("c1").queue == BACKUP


def test_ticket_only_takes_the_call_out_of_the_acd() -> None:
    desk = overflow_desk(max_waiting=1, overflow_target=OverflowTarget(OverflowKind.TICKET_ONLY))
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.enqueue("c2", HELPDESK, "x")

    assert not desk.acd.has_call("c2")
    assert overflowed(desk) == [
        ("c2", HELPDESK, OverflowKind.TICKET_ONLY, None, OverflowCause.MAX_WAITING)
    ]
    with pytest.raises(UnknownCall):
        desk.acd.hangup("c2")
    stats = desk.acd.statistics(HELPDESK)
    assert (stats.abandoned_total, stats.overflowed_total) == (0, 1)


def test_without_a_target_an_overflow_is_ticket_only() -> None:
    desk = overflow_desk(max_waiting=1)
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.enqueue("c2", HELPDESK, "x")

    assert overflowed(desk)[0][2] is OverflowKind.TICKET_ONLY


def test_a_callback_overflow_turns_the_call_into_a_queued_callback() -> None:
    desk = overflow_desk(max_wait_seconds=60, overflow_target=OverflowTarget(OverflowKind.CALLBACK))
    desk.acd.enqueue("c1", HELPDESK, "+4930111")
    desk.advance(30)
    desk.acd.enqueue("c2", HELPDESK, "+4930222")
    desk.advance(30)
    desk.acd.tick()

    c1 = desk.acd.call("c1")
    assert (c1.phase, c1.callback, c1.queue) == (CallPhase.WAITING, "+4930111", HELPDESK)
    assert overflowed(desk) == [
        ("c1", HELPDESK, OverflowKind.CALLBACK, HELPDESK, OverflowCause.MAX_WAIT)
    ]
    [requested] = desk.of(CallbackRequested)
    assert (requested.call_id, requested.number, requested.position) == ("c1", "+4930111", 1)
    stats = desk.acd.statistics(HELPDESK)
    assert (stats.callbacks_total, stats.overflowed_total, stats.abandoned_total) == (1, 0, 0)
    # A callback never overflows again; c2 does once it has waited long enough.
    desk.advance(600)
    desk.acd.tick()
    assert [e.call_id for e in desk.of(CallOverflowed)] == ["c1", "c2"]


def test_a_callback_overflow_may_wait_in_another_queue() -> None:
    desk = overflow_desk(
        max_waiting=1, overflow_target=OverflowTarget(OverflowKind.CALLBACK, BACKUP)
    )
    desk.acd.enqueue("c1", HELPDESK, "+1")
    desk.acd.enqueue("c2", HELPDESK, "+2")

    assert (desk.acd.call("c2").queue, desk.acd.call("c2").callback) == (BACKUP, "+2")
    assert desk.of(CallbackRequested)[0].queue == BACKUP


def test_an_anonymous_caller_cannot_get_a_callback_and_leaves_as_ticket_only() -> None:
    desk = overflow_desk(max_waiting=1, overflow_target=OverflowTarget(OverflowKind.CALLBACK))
    desk.acd.enqueue("c1", HELPDESK, "+1")
    desk.acd.enqueue("c2", HELPDESK, "anonymous")

    assert not desk.acd.has_call("c2")
    assert overflowed(desk)[0][2] is OverflowKind.TICKET_ONLY


def test_join_empty_overflow_when_no_agent_is_logged_in() -> None:
    desk = overflow_desk(join_empty=JoinEmpty.OVERFLOW, overflow_target=TO_BACKUP)
    desk.acd.add_agent("out", [HELPDESK])
    desk.acd.enqueue("c1", HELPDESK, "x")

    assert overflowed(desk) == [
        ("c1", HELPDESK, OverflowKind.QUEUE, BACKUP, OverflowCause.JOIN_EMPTY)
    ]


def test_join_empty_counts_paused_agents_as_logged_in() -> None:
    desk = overflow_desk(join_empty=JoinEmpty.OVERFLOW, overflow_target=TO_BACKUP)
    desk.login("a1")
    desk.acd.set_agent_state("a1", AgentState.PAUSED, "lunch")
    desk.acd.enqueue("c1", HELPDESK, "x")

    assert desk.of(CallOverflowed) == []
    assert desk.acd.call("c1").queue == HELPDESK


def test_joining_an_empty_queue_is_allowed_by_default(desk: Desk) -> None:
    desk.acd.enqueue("c1", HELPDESK, "x")

    assert desk.acd.call("c1").phase is CallPhase.WAITING
    assert len(desk.of(CallEnqueued)) == 1


def test_a_call_overflowed_into_a_full_queue_still_joins_it() -> None:
    desk = Desk(
        [
            QueueSettings(HELPDESK, max_waiting=1, overflow_target=TO_BACKUP),
            QueueSettings(BACKUP, max_waiting=1),
        ]
    )
    desk.acd.enqueue("b1", BACKUP, "x")
    desk.acd.enqueue("h1", HELPDESK, "x")
    desk.acd.enqueue("h2", HELPDESK, "x")

    assert desk.acd.call("h2").queue == BACKUP


def test_a_target_must_be_a_configured_other_queue() -> None:
    with pytest.raises(UnknownQueue):
        Desk([QueueSettings(HELPDESK, overflow_target=OverflowTarget(OverflowKind.QUEUE, "x"))])
    with pytest.raises(InvalidSetting):
        Desk(
            [QueueSettings(HELPDESK, overflow_target=OverflowTarget(OverflowKind.QUEUE, HELPDESK))]
        )
    with pytest.raises(InvalidSetting):
        OverflowTarget(OverflowKind.QUEUE)
