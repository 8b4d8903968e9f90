"""Complaint escalation in business time: the acknowledge and resolve limits counted on
the organisation's calendar, one level per missed limit, never twice."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from callcenter.complaints.model import (
    ComplaintFact,
    ComplaintLimits,
    Limit,
    escalations_due,
    missed_limits,
)
from callcenter.settings import ConfigError, TicketingSettings, load_settings
from callcenter.tickets.calendar import BusinessCalendar
from callcenter.tickets.workflow import Status

SHANGHAI = ZoneInfo("Asia/Shanghai")
OFFICE = BusinessCalendar.standard(SHANGHAI)  # Mon-Fri 08:30-12:00, 13:00-17:30
LIMITS = ComplaintLimits(acknowledge=4 * 3600, resolve=16 * 3600)


def sh(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant of November 2026 in Shanghai (the 27th is a Friday)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


#: Filed on Friday at 16:30: one business hour left that day.
FILED = ComplaintFact(
    ticket_id=7,
    created_at=sh(27, 16, 30),
    status=Status.ASSIGNED,
    escalation_level=0,
    organisation_id=1,
    account_manager="mei",
)


def test_the_weekend_does_not_count() -> None:
    # Saturday evening: 25 wall-clock hours, one business hour.
    assert escalations_due(FILED, OFFICE, LIMITS, sh(28, 18)) == []


def test_acknowledge_limit_due_on_monday_after_three_more_business_hours() -> None:
    # Friday 16:30-17:30 is one hour; Monday 08:30-11:30 the other three.
    assert escalations_due(FILED, OFFICE, LIMITS, sh(30, 11, 30)) == []  # the due instant
    (event,) = escalations_due(FILED, OFFICE, LIMITS, sh(30, 11, 31))
    assert (event.level, event.limit, event.due_at) == (1, Limit.ACKNOWLEDGE, sh(30, 11, 30))
    assert (event.ticket_id, event.organisation_id, event.account_manager) == (7, 1, "mei")


def test_an_escalation_made_is_not_made_again() -> None:
    escalated = replace(FILED, escalation_level=1)
    assert escalations_due(escalated, OFFICE, LIMITS, sh(30, 15)) == []


def test_both_limits_missed_at_once_escalate_twice() -> None:
    # Resolve: 1 h Friday, 8 h Monday, 7 h Tuesday -> Tuesday 16:30.
    events = escalations_due(FILED, OFFICE, LIMITS, _dec(1, 17))
    assert [(e.level, e.limit) for e in events] == [
        (1, Limit.ACKNOWLEDGE),
        (2, Limit.RESOLVE),
    ]
    assert events[1].due_at == _dec(1, 16, 30)


def _dec(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=SHANGHAI)


def test_acknowledged_in_time_the_resolve_limit_is_the_first_escalation() -> None:
    taken_up = replace(FILED, status=Status.IN_PROGRESS, acknowledged_at=sh(30, 9))
    assert escalations_due(taken_up, OFFICE, LIMITS, _dec(1, 16, 30)) == []
    (event,) = escalations_due(taken_up, OFFICE, LIMITS, _dec(1, 16, 31))
    assert (event.level, event.limit) == (1, Limit.RESOLVE)


def test_acknowledged_late_stays_missed() -> None:
    late = replace(FILED, status=Status.IN_PROGRESS, acknowledged_at=sh(30, 14))
    assert [limit for limit, _ in missed_limits(late, OFFICE, LIMITS, sh(30, 15))] == [
        Limit.ACKNOWLEDGE
    ]


def test_resolved_in_time_misses_nothing_more() -> None:
    solved = replace(
        FILED,
        status=Status.RESOLVED,
        acknowledged_at=sh(30, 9),
        resolved_at=_dec(1, 10),
    )
    assert missed_limits(solved, OFFICE, LIMITS, _dec(10, 10)) == []


def test_moved_on_without_a_known_acknowledgement_is_not_held_against_it() -> None:
    moved = replace(FILED, status=Status.IN_PROGRESS)
    assert missed_limits(moved, OFFICE, LIMITS, sh(30, 15)) == []


def test_a_holiday_on_the_calendar_moves_the_limit() -> None:
    holiday = BusinessCalendar.standard(SHANGHAI, holidays=[datetime(2026, 11, 30).date()])
    assert escalations_due(FILED, holiday, LIMITS, sh(30, 17)) == []
    (event,) = escalations_due(FILED, holiday, LIMITS, _dec(1, 11, 31))
    assert event.due_at == _dec(1, 11, 30)


def test_always_open_counts_wall_time() -> None:
    (event,) = escalations_due(FILED, BusinessCalendar.always_open(SHANGHAI), LIMITS, sh(27, 21))
    assert event.due_at == sh(27, 20, 30)


@pytest.mark.parametrize(("acknowledge", "resolve"), [(0, 10), (10, -1), (20, 10)])
def test_limits_must_be_positive_and_ordered(acknowledge: float, resolve: float) -> None:
    with pytest.raises(ValueError):
        ComplaintLimits(acknowledge, resolve)


@pytest.mark.parametrize(
    ("variable", "value", "key"),
    [
        ("CALLCENTER_TICKETING_PROBLEM_THRESHOLD", "1", "ticketing.problem_threshold"),
        ("CALLCENTER_TICKETING_PROBLEM_WINDOW_DAYS", "0", "ticketing.problem_window_days"),
        ("CALLCENTER_TICKETING_PROBLEM_SCAN_SECONDS", "0", "ticketing.problem_scan_seconds"),
        ("CALLCENTER_TICKETING_COMPLAINT_ACKNOWLEDGE_WITHIN", "1d", "complaint_acknowledge"),
        ("CALLCENTER_TICKETING_COMPLAINT_RESOLVE_WITHIN", "1h", "complaint_resolve_within"),
        ("CALLCENTER_TICKETING_COMPLAINT_SCAN_SECONDS", "0", "ticketing.complaint_scan"),
    ],
)
def test_bad_problem_and_complaint_settings_are_refused(
    variable: str, value: str, key: str, tmp_path: Path
) -> None:
    empty = tmp_path / "callcenter.yaml"
    empty.write_text("")
    with pytest.raises(ConfigError, match=key):
        load_settings(empty, environ={variable: value})


def test_complaint_limits_from_the_settings(tmp_path: Path) -> None:
    empty = tmp_path / "callcenter.yaml"
    empty.write_text("ticketing:\n  complaint_acknowledge_within: 30m\n")
    settings = load_settings(empty, environ={"CALLCENTER_TICKETING_COMPLAINT_RESOLVE_WITHIN": "8h"})
    assert settings.ticketing.complaint_limits_seconds == (1800.0, 8 * 3600.0)
    assert TicketingSettings().complaint_limits_seconds == (4 * 3600.0, 16 * 3600.0)
