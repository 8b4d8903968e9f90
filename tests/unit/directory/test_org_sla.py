"""Which policy and calendar an organisation's new tickets get, and checking a calendar
given over the API."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from callcenter.directory.org_sla import (
    MAX_HOLIDAYS,
    OrgSla,
    OrgSlaError,
    check_calendar,
    check_policy,
    choose_calendar,
    choose_policy,
)
from callcenter.tickets.calendar import BusinessCalendar, calendar_data
from callcenter.tickets.sla import PREMIUM, STANDARD
from callcenter.tickets.store import BUILTIN_SLA_POLICIES

DEFAULT = BusinessCalendar.standard("Asia/Shanghai", name="office")
BERLIN_DATA = {
    "name": "berlin",
    "timezone": "Europe/Berlin",
    "hours": {"mon": ["09:00-17:00"], "tue": ["09:00-17:00"]},
    "holidays": ["2026-12-25"],
}


def test_no_organisation_or_no_own_calendar_gets_the_default() -> None:
    assert choose_calendar(None, DEFAULT) is DEFAULT
    assert choose_calendar(OrgSla(1, "premium", None), DEFAULT) is DEFAULT


def test_an_own_calendar_wins() -> None:
    chosen = choose_calendar(OrgSla(1, None, BERLIN_DATA), DEFAULT)
    assert chosen.zone.key == "Europe/Berlin" and chosen.name == "berlin"
    assert set(chosen.hours) == {0, 1}
    # Christmas 2026 is a Friday, closed anyway; the holiday list is kept.
    assert datetime(2026, 12, 25).date() in chosen.holidays
    # Monday 2026-11-30 08:30 UTC is 09:30 in Berlin: open; in Shanghai 16:30: open too,
    # but Tuesday 17:00 UTC is 18:00 in Berlin: closed.
    assert not chosen.is_open(datetime(2026, 12, 1, 17, 0, tzinfo=UTC))
    assert chosen.is_open(datetime(2026, 12, 1, 8, 30, tzinfo=UTC))


def test_the_calendar_round_trips_through_its_stored_form() -> None:
    chosen = choose_calendar(OrgSla(1, None, BERLIN_DATA), DEFAULT)
    again = choose_calendar(OrgSla(1, None, calendar_data(chosen)), DEFAULT)
    assert again == chosen


def test_policy_named_or_default() -> None:
    assert choose_policy(OrgSla(1, "premium"), BUILTIN_SLA_POLICIES, "standard") == PREMIUM
    assert choose_policy(OrgSla(1, None), BUILTIN_SLA_POLICIES, "standard") == STANDARD
    assert choose_policy(None, BUILTIN_SLA_POLICIES, "premium") == PREMIUM
    # A name the settings no longer know falls back rather than failing a new ticket.
    assert choose_policy(OrgSla(1, "gold"), BUILTIN_SLA_POLICIES, "standard") == STANDARD


def test_check_policy_names_the_field() -> None:
    assert check_policy("premium", BUILTIN_SLA_POLICIES) == "premium"
    assert check_policy(None, BUILTIN_SLA_POLICIES) is None
    with pytest.raises(OrgSlaError, match="policy: 'gold' is not one of premium, standard"):
        check_policy("gold", BUILTIN_SLA_POLICIES)


@pytest.mark.parametrize(
    "data",
    [
        {"hours": {"mon": ["09:00-17:00"]}},  # no time zone
        {"timezone": "Mars/Olympus", "hours": {"mon": ["09:00-17:00"]}},
        {"timezone": "UTC", "hours": {"mon": ["17:00-09:00"]}},
        {"timezone": "UTC", "hours": {"funday": ["09:00-17:00"]}},
        {"timezone": "UTC", "hours": {}},  # never open
        {"timezone": "UTC", "hours": {"mon": 5}},
        {"timezone": "UTC", "always_open": True, "holidays": 5},
        {"timezone": "UTC", "always_open": True, "holidays": ["tomorrow"]},
        {"timezone": "UTC", "always_open": True, "colour": "blue"},
        {"timezone": "UTC", "always_open": "yes"},
        {"timezone": 8, "always_open": True},
        {"timezone": "UTC", "always_open": True, "name": 5},
        {"timezone": "UTC", "always_open": True, "holidays": ["2026-01-01"] * (MAX_HOLIDAYS + 1)},
    ],
)
def test_bad_calendars_are_refused_naming_the_field(data: dict[str, object]) -> None:
    with pytest.raises(OrgSlaError) as caught:
        check_calendar(data)
    assert caught.value.field == "calendar"


def test_an_always_open_calendar_is_accepted() -> None:
    calendar = check_calendar({"timezone": "UTC", "always_open": True})
    assert calendar.is_open(datetime(2026, 11, 28, 3, 0, tzinfo=UTC))  # a Saturday night


def test_holidays_may_be_given_as_the_holidays_file_lists_them() -> None:
    calendar = check_calendar(
        {
            "timezone": "Asia/Shanghai",
            "hours": {"mon": ["08:30-17:30"], "thu": ["08:30-17:30"]},
            "holidays": [
                "2026-01-01",
                {"date": "2026-10-01", "until": "2026-10-03", "name": "National Day"},
                {"date": "2026-05-01", "name": "Labour Day"},
            ],
        }
    )
    assert sorted(d.isoformat() for d in calendar.holidays) == [
        "2026-01-01",
        "2026-05-01",
        "2026-10-01",
        "2026-10-02",
        "2026-10-03",
    ]
    # Thursday 2026-10-01 is a holiday: closed all day.
    assert not calendar.is_open(datetime(2026, 10, 1, 3, 0, tzinfo=UTC))
    assert calendar.is_open(datetime(2026, 10, 8, 3, 0, tzinfo=UTC))


@pytest.mark.parametrize(
    ("holidays", "message"),
    [
        ("2026-01-01", "holidays must be a list"),
        ([{"date": "2026-10-03", "until": "2026-10-01"}], "until is before date"),
        ([{"date": "2026-10-01", "colour": "red"}], "unknown key 'colour'"),
        ([{"name": "no date"}], "is not YYYY-MM-DD"),
        ([{"date": "2026-01-01", "until": "2029-01-01"}], f"at most {MAX_HOLIDAYS}"),
    ],
)
def test_bad_holiday_entries(holidays: object, message: str) -> None:
    with pytest.raises(OrgSlaError, match=message):
        check_calendar({"timezone": "UTC", "always_open": True, "holidays": holidays})
