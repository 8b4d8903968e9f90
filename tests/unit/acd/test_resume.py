"""Abandon and redial: a caller calling again soon gets the old place in line back."""

from __future__ import annotations

import pytest

from callcenter.acd.events import CallAbandoned, CallAnswered, CallEnqueued
from callcenter.acd.model import OfferFailure, QueueSettings
from tests.unit.acd.desk import HELPDESK, Desk, make_desk

CALLER = "+4930111"


def resume_desk(window: float = 60.0) -> Desk:
    return make_desk(resume_window_seconds=window)


def waiting_ids(desk: Desk, queue: str = HELPDESK) -> list[str]:
    return [c.call_id for c in desk.acd.waiting_calls(queue)]


def line_with_a_dropped_caller(desk: Desk) -> None:
    """first (t0), CALLER's "old" (t0+10), then "later" (t0+20); "old" hangs up at t0+30."""
    desk.acd.enqueue("first", HELPDESK, "+1")
    desk.advance(10)
    desk.acd.enqueue("old", HELPDESK, CALLER)
    desk.advance(10)
    desk.acd.enqueue("later", HELPDESK, "+2")
    desk.advance(10)
    desk.acd.hangup("old")


def test_redial_within_the_window_resumes_the_old_place() -> None:
    desk = resume_desk()
    t_old = desk.now + 10
    line_with_a_dropped_caller(desk)
    desk.advance(59)

    desk.acd.enqueue("new", HELPDESK, CALLER)

    assert waiting_ids(desk) == ["first", "new", "later"]
    new = desk.acd.call("new")
    assert new.enqueued_at == t_old
    enqueued = desk.of(CallEnqueued)[-1]
    assert (enqueued.position, enqueued.resumed_from, enqueued.waiting_since) == (2, "old", t_old)


def test_the_resumed_call_is_a_new_offer_and_the_hangup_stays_an_abandon() -> None:
    desk = resume_desk()
    line_with_a_dropped_caller(desk)
    desk.acd.enqueue("new", HELPDESK, CALLER)

    stats = desk.acd.statistics(HELPDESK)
    assert (stats.offered_total, stats.abandoned_total) == (4, 1)
    assert len(desk.of(CallAbandoned)) == 1


def test_the_wait_of_a_resumed_call_runs_from_the_first_arrival() -> None:
    desk = resume_desk()
    desk.acd.enqueue("old", HELPDESK, CALLER)
    desk.advance(30)
    desk.acd.hangup("old")
    desk.advance(10)
    desk.acd.enqueue("new", HELPDESK, CALLER)
    desk.advance(5)
    desk.login("a1")
    desk.acd.answered("new")

    [answered] = desk.of(CallAnswered)
    assert answered.wait_seconds == pytest.approx(45.0)
    assert not answered.within_service_level
    assert desk.acd.statistics(HELPDESK).window(desk.now, 3600).asa_seconds == pytest.approx(45.0)


def test_redial_after_the_window_goes_to_the_back() -> None:
    desk = resume_desk(window=60.0)
    line_with_a_dropped_caller(desk)
    desk.advance(61)

    desk.acd.enqueue("new", HELPDESK, CALLER)

    assert waiting_ids(desk) == ["first", "later", "new"]
    assert desk.of(CallEnqueued)[-1].resumed_from is None


def test_resume_is_off_by_default() -> None:
    desk = Desk([QueueSettings(HELPDESK)])
    line_with_a_dropped_caller(desk)
    desk.acd.enqueue("new", HELPDESK, CALLER)

    assert waiting_ids(desk) == ["first", "later", "new"]


def test_only_the_same_caller_and_queue_resume() -> None:
    desk = Desk([QueueSettings(HELPDESK, resume_window_seconds=60), QueueSettings("vip")])
    line_with_a_dropped_caller(desk)

    desk.acd.enqueue("other-caller", HELPDESK, "+3")
    desk.acd.enqueue("other-queue", "vip", CALLER)

    assert waiting_ids(desk) == ["first", "later", "other-caller"]
    assert desk.of(CallEnqueued)[-1].resumed_from is None


def test_a_place_is_resumed_once() -> None:
    desk = resume_desk()
    line_with_a_dropped_caller(desk)
    desk.acd.enqueue("new", HELPDESK, CALLER)
    desk.acd.enqueue("again", HELPDESK, CALLER)

    assert waiting_ids(desk) == ["first", "new", "later", "again"]


def test_a_caller_who_hung_up_while_ringing_resumes_too() -> None:
    desk = resume_desk()
    desk.acd.enqueue("first", HELPDESK, "+1")
    desk.login("a1")
    desk.acd.enqueue("old", HELPDESK, CALLER)
    desk.acd.enqueue("later", HELPDESK, "+2")
    desk.acd.hangup("first")  # a1 now rings with "old"
    assert desk.offered_to("old") == "a1"
    desk.acd.hangup("old")  # a1 rings with "later"
    assert desk.offered_to("later") == "a1"

    desk.acd.enqueue("new", HELPDESK, CALLER)
    desk.acd.offer_failed("later", OfferFailure.BUSY)

    assert waiting_ids(desk) == ["new", "later"]


def test_anonymous_callers_never_resume() -> None:
    desk = resume_desk()
    desk.acd.enqueue("first", HELPDESK, "anonymous")
    desk.advance(1)
    desk.acd.enqueue("second", HELPDESK, "+2")
    desk.acd.hangup("first")
    desk.acd.enqueue("third", HELPDESK, "anonymous")

    assert waiting_ids(desk) == ["second", "third"]
