"""Service level, ASA and AHT: the figures a supervisor is judged by."""

from __future__ import annotations

import pytest

from callcenter.acd.events import CallAnswered
from callcenter.acd.model import AgentState
from callcenter.acd.service_level import QueueStatistics, service_level
from tests.unit.acd.desk import HELPDESK, Desk, make_desk

NOW = 100_000.0


def stats() -> QueueStatistics:
    return QueueStatistics(threshold_seconds=20.0, short_abandon_seconds=5.0)


def test_service_level_is_none_when_no_call_counts() -> None:
    assert service_level(0, 0, 0) is None


def test_service_level_ratio() -> None:
    assert service_level(3, 4, 2) == pytest.approx(0.5)
    assert service_level(0, 0, 3) == 0.0


def test_empty_window_has_no_figures() -> None:
    figures = stats().window(NOW, 3600)

    assert (figures.answered, figures.abandoned, figures.short_abandoned) == (0, 0, 0)
    assert (figures.asa_seconds, figures.aht_seconds, figures.service_level) == (None, None, None)


def test_answered_at_the_threshold_counts_as_within() -> None:
    s = stats()
    s.record_answered(NOW, 20.0)
    s.record_answered(NOW, 20.01)

    figures = s.window(NOW, 60)
    assert (figures.answered, figures.answered_within) == (2, 1)
    assert figures.service_level == pytest.approx(0.5)


def test_long_abandons_count_against_the_service_level() -> None:
    s = stats()
    s.record_answered(NOW, 10.0)
    s.record_answered(NOW, 30.0)
    s.record_abandoned(NOW, 45.0)
    s.record_abandoned(NOW, 5.0)  # at the threshold: not short

    figures = s.window(NOW, 60)
    assert (figures.abandoned, figures.short_abandoned) == (2, 0)
    assert figures.service_level == pytest.approx(1 / 4)


def test_short_abandons_count_neither_way() -> None:
    s = stats()
    s.record_answered(NOW, 10.0)
    s.record_abandoned(NOW, 4.9)
    s.record_abandoned(NOW, 0.0)

    figures = s.window(NOW, 60)
    assert (figures.abandoned, figures.short_abandoned) == (2, 2)
    assert figures.service_level == 1.0


def test_only_short_abandons_give_no_service_level() -> None:
    s = stats()
    s.record_abandoned(NOW, 1.0)

    assert s.window(NOW, 60).service_level is None


def test_window_keeps_only_outcomes_inside_it() -> None:
    s = stats()
    # Recorded as the clock runs, oldest first.
    s.record_abandoned(NOW - 7200, 60.0)
    s.record_answered(NOW - 3601, 60.0)
    s.record_answered(NOW - 3600, 60.0)  # exactly at the edge: inside
    s.record_answered(NOW - 10, 5.0)

    figures = s.window(NOW, 3600)
    assert (figures.answered, figures.abandoned) == (2, 0)
    assert s.window(NOW, 600).answered == 1
    assert s.window(NOW, 86_400).abandoned == 1


def test_average_speed_of_answer_is_over_answered_calls_of_the_window() -> None:
    s = stats()
    s.record_answered(NOW - 5000, 100.0)
    s.record_answered(NOW - 10, 4.0)
    s.record_answered(NOW - 5, 8.0)
    s.record_abandoned(NOW, 300.0)

    assert s.window(NOW, 60).asa_seconds == pytest.approx(6.0)


def test_average_handle_time_is_over_calls_handled_in_the_window() -> None:
    s = stats()
    s.record_handled(NOW - 5000, 1000.0)
    s.record_handled(NOW - 10, 100.0)
    s.record_handled(NOW, 200.0)

    assert s.window(NOW, 60).aht_seconds == pytest.approx(150.0)


def test_outcomes_older_than_a_day_are_forgotten() -> None:
    s = stats()
    s.record_answered(NOW, 1.0)
    s.record_handled(NOW, 1.0)
    later = NOW + QueueStatistics.RETENTION_SECONDS + 1
    s.record_abandoned(later, 60.0)
    s.record_handled(later, 2.0)

    figures = s.window(later, 10 * QueueStatistics.RETENTION_SECONDS)
    assert (figures.answered, figures.abandoned, figures.aht_seconds) == (0, 1, 2.0)
    # Totals are counters since start, not windowed.
    assert (s.answered_total, s.abandoned_total) == (1, 1)


def test_acd_flags_answers_within_the_threshold(desk: Desk) -> None:
    desk.acd.enqueue("fast", HELPDESK, "x")
    desk.acd.enqueue("slow", HELPDESK, "x")
    desk.advance(20)
    desk.login("a1")
    desk.acd.answered("fast")
    desk.login("a2")
    desk.advance(0.5)
    desk.acd.answered("slow")

    [fast, slow] = desk.of(CallAnswered)
    assert (fast.wait_seconds, fast.within_service_level) == (20.0, True)
    assert (slow.wait_seconds, slow.within_service_level) == (20.5, False)
    assert desk.acd.statistics(HELPDESK).window(desk.now, 60).service_level == 0.5


def test_acd_uses_the_queue_threshold() -> None:
    desk = make_desk(service_level_seconds=10.0)
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.advance(15)
    desk.login("a1")
    desk.acd.answered("c1")

    assert not desk.of(CallAnswered)[0].within_service_level
    assert desk.acd.statistics(HELPDESK).window(desk.now, 60).service_level == 0.0


def test_service_level_of_a_mixed_hour_through_the_acd(desk: Desk) -> None:
    desk.login("a1")
    # answered after 3 s, within
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.advance(3)
    desk.acd.answered("c1")
    desk.acd.hangup("c1")
    desk.acd.set_agent_state("a1", AgentState.PAUSED)
    # short abandon: does not count
    desk.acd.enqueue("c2", HELPDESK, "x")
    desk.advance(2)
    desk.acd.hangup("c2")
    # long abandon: counts against
    desk.acd.enqueue("c3", HELPDESK, "x")
    desk.advance(40)
    desk.acd.hangup("c3")
    # answered after 30 s: counts, but not within
    desk.acd.enqueue("c4", HELPDESK, "x")
    desk.advance(30)
    desk.acd.set_agent_state("a1", AgentState.AVAILABLE)
    desk.acd.answered("c4")

    figures = desk.acd.statistics(HELPDESK).window(desk.now, 3600)
    assert (figures.answered, figures.answered_within) == (2, 1)
    assert (figures.abandoned, figures.short_abandoned) == (2, 1)
    assert figures.service_level == pytest.approx(1 / 3)
    assert figures.asa_seconds == pytest.approx(16.5)


def test_window_through_the_acd_drops_old_calls(desk: Desk) -> None:
    desk.login("a1")
    desk.acd.enqueue("old", HELPDESK, "x")
    desk.advance(30)
    desk.acd.answered("old")
    desk.acd.hangup("old")
    desk.advance(3600)
    desk.acd.enqueue("new", HELPDESK, "x")
    desk.acd.answered("new")

    figures = desk.acd.statistics(HELPDESK).window(desk.now, 900)
    assert (figures.answered, figures.service_level, figures.asa_seconds) == (1, 1.0, 0.0)
    assert desk.acd.statistics(HELPDESK).window(desk.now, 7200).service_level == 0.5
