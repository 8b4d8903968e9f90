"""Service-level formulas, 15-minute intervals, the day window, abandon rate, occupancy."""

from __future__ import annotations

import pytest

from callcenter.acd.model import AgentState
from callcenter.acd.service_level import (
    INTERVAL_SECONDS,
    QueueStatistics,
    ServiceLevelFormula,
    interval_start,
)
from tests.unit.acd.desk import HELPDESK, Desk, make_desk

F = ServiceLevelFormula
NOW = 1_800_000.0  # a multiple of 900: an interval starts here


def mixed(formula: F = F.ANSWERED_OVER_ANSWERED_ABANDONED_LONG) -> QueueStatistics:
    """Threshold 20 s, short abandon 5 s, and one of each kind of outcome at NOW."""
    s = QueueStatistics(20.0, 5.0, formula)
    for wait in (10.0, 30.0):
        s.record_answered(NOW, wait)  # 2 answered, 1 within
    for wait in (3.0, 15.0, 40.0):
        s.record_abandoned(NOW, wait)  # 3 abandoned: 1 short, 2 within the threshold
    for wait in (10.0, 50.0):
        s.record_callback(NOW, wait)  # 2 callbacks, 1 within
    s.record_overflowed(NOW, 70.0)
    s.record_transferred(NOW, 5.0)  # 9 calls left the queue in all
    return s


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        (F.ANSWERED_OVER_ANSWERED_ABANDONED_LONG, 1 / 4),  # 1 / (2 + 3 - 1)
        (F.ANSWERED_OVER_ANSWERED, 1 / 2),  # 1 / 2
        (F.ASTERISK_SL2, 3 / 5),  # (1 + 2) / (2 + 3)
        (F.CISCO_IGNORE, 1 / 7),  # 1 / (9 - 2 abandoned within the threshold)
        (F.CISCO_NEGATIVE, 1 / 9),  # 1 / 9
        (F.AMAZON_CONNECT, 4 / 9),  # (1 answered + 2 abandoned + 1 callback within) / 9
    ],
)
def test_each_formula(formula: F, expected: float) -> None:
    assert mixed(formula).window(NOW, 60).service_level == pytest.approx(expected)


@pytest.mark.parametrize("formula", list(F))
def test_no_call_no_service_level_whatever_the_formula(formula: F) -> None:
    assert QueueStatistics(20.0, 5.0, formula).window(NOW, 3600).service_level is None


def test_the_default_formula_is_answered_over_answered_and_long_abandons() -> None:
    assert QueueStatistics(20.0, 5.0).formula is F.ANSWERED_OVER_ANSWERED_ABANDONED_LONG


def test_the_figures_of_a_mixed_window() -> None:
    figures = mixed().window(NOW, 60)

    assert (figures.answered, figures.answered_within) == (2, 1)
    assert (figures.abandoned, figures.short_abandoned, figures.abandoned_within) == (3, 1, 2)
    assert (figures.callbacks, figures.callbacks_within) == (2, 1)
    assert (figures.overflowed, figures.transferred, figures.left_queue) == (1, 1, 9)
    assert figures.abandon_rate == pytest.approx(3 / 9)
    assert figures.asa_seconds == pytest.approx(20.0)


def test_offered_counts_arrivals_in_the_window() -> None:
    s = QueueStatistics(20.0, 5.0)
    s.record_offered(NOW - 4000)
    s.record_offered(NOW - 100)
    s.record_offered(NOW)
    s.record_offered()  # no time: the total only

    assert s.window(NOW, 3600).offered == 2
    assert s.offered_total == 4


def test_intervals_are_aligned_to_the_clock() -> None:
    assert interval_start(NOW) == NOW
    assert interval_start(NOW + 899.9) == NOW
    assert interval_start(NOW - 0.1) == NOW - INTERVAL_SECONDS


def test_an_interval_holds_its_start_but_not_its_end() -> None:
    s = QueueStatistics(20.0, 5.0)
    s.record_answered(NOW - 1, 1.0)
    s.record_answered(NOW, 2.0)
    s.record_answered(NOW + 899, 3.0)
    s.record_abandoned(NOW + 900, 30.0)

    current = s.interval(NOW)
    assert (current.answered, current.abandoned, current.asa_seconds) == (2, 0, 2.5)
    assert s.interval(NOW - INTERVAL_SECONDS).answered == 1
    assert s.interval(NOW + INTERVAL_SECONDS).abandoned == 1


def test_intervals_lists_the_last_ones_oldest_first() -> None:
    s = QueueStatistics(20.0, 5.0)
    s.record_answered(NOW - 1000, 1.0)  # two intervals back
    s.record_handled(NOW + 10, 100.0)

    listed = s.intervals(NOW + 10, count=3)

    assert [start for start, _ in listed] == [NOW - 1800, NOW - 900, NOW]
    assert [f.answered for _, f in listed] == [1, 0, 0]
    assert listed[-1][1].aht_seconds == 100.0


def test_a_day_window_holds_a_day() -> None:
    s = QueueStatistics(20.0, 5.0)
    s.record_answered(NOW - 86_400, 1.0)
    s.record_answered(NOW - 3601, 1.0)
    s.record_answered(NOW, 1.0)

    assert (s.window(NOW, 3600).answered, s.window(NOW, 86_400).answered) == (1, 3)


def test_the_acd_uses_the_queue_formula() -> None:
    desk = make_desk(service_level_formula=F.ASTERISK_SL2)
    desk.acd.enqueue("quick-hangup", HELPDESK, "x")
    desk.advance(10)
    desk.acd.hangup("quick-hangup")  # abandoned within 20 s: counts for the desk in SL2

    assert desk.acd.statistics(HELPDESK).window(desk.now, 60).service_level == 1.0


def test_abandon_rate_is_over_the_calls_that_left_the_queue(desk: Desk) -> None:
    desk.login("a1")
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.answered("c1")
    desk.acd.enqueue("c2", HELPDESK, "x")
    desk.acd.enqueue("c3", HELPDESK, "x")
    desk.acd.hangup("c3")

    assert desk.acd.statistics(HELPDESK).window(desk.now, 60).abandon_rate == 0.5


# ----- occupancy --------------------------------------------------------------------------


def test_occupancy_is_talk_and_wrap_up_over_logged_in_time() -> None:
    desk = make_desk(wrap_up_seconds=40)
    desk.acd.add_agent("a1", [HELPDESK])
    desk.advance(500)  # logged out: does not count
    desk.acd.set_agent_state("a1", AgentState.AVAILABLE)
    desk.acd.set_agent_state("a1", AgentState.PAUSED, "break")
    desk.advance(80)  # paused: logged in, not occupied
    desk.acd.set_agent_state("a1", AgentState.AVAILABLE)
    desk.advance(20)
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.advance(10)  # ringing: logged in, not occupied
    desk.acd.answered("c1")
    desk.advance(60)
    desk.acd.hangup("c1")
    desk.advance(40)
    desk.acd.tick()  # wrap-up over
    desk.advance(90)

    # 60 s talking + 40 s wrap-up over 80 + 20 + 10 + 60 + 40 + 90 = 300 s logged in.
    assert desk.acd.occupancy("a1") == pytest.approx(100 / 300)
    # The last 100 s: 10 s of wrap-up, then 90 s available.
    assert desk.acd.occupancy("a1", 100) == pytest.approx(0.1)


def test_an_agent_never_logged_in_has_no_occupancy(desk: Desk) -> None:
    desk.acd.add_agent("a1", [HELPDESK])
    desk.advance(100)

    assert desk.acd.occupancy("a1") is None


def test_occupancy_of_the_current_state_runs_until_now(desk: Desk) -> None:
    desk.login("a1")
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.answered("c1")
    desk.advance(30)

    assert desk.acd.occupancy("a1") == 1.0
