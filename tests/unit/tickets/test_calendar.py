"""Business calendars: open hours, holidays, time zones, daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from callcenter.tickets.calendar import BusinessCalendar, CalendarError, OpenInterval

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
HOUR = 3600.0


def sh(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SHANGHAI)


def be(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=BERLIN)


@pytest.fixture
def office() -> BusinessCalendar:
    """Mon-Fri 08:30-12:00 and 13:00-17:30 in Shanghai; 2026-11-27 is a Friday."""
    return BusinessCalendar.standard("Asia/Shanghai")


def test_the_fixture_dates_are_what_the_tests_think() -> None:
    assert date(2026, 11, 27).weekday() == 4  # Friday
    assert date(2026, 3, 29).weekday() == 6  # Sunday, Europe springs forward
    assert date(2026, 10, 25).weekday() == 6  # Sunday, Europe falls back


@pytest.mark.parametrize(
    ("t", "expected"),
    [
        (sh(2026, 11, 27, 8, 29), False),
        (sh(2026, 11, 27, 8, 30), True),
        (sh(2026, 11, 27, 11, 59), True),
        (sh(2026, 11, 27, 12, 0), False),  # lunch: the split day
        (sh(2026, 11, 27, 12, 59), False),
        (sh(2026, 11, 27, 13, 0), True),
        (sh(2026, 11, 27, 17, 30), False),  # the end is exclusive
        (sh(2026, 11, 28, 10, 0), False),  # Saturday
        (sh(2026, 11, 29, 10, 0), False),  # Sunday
    ],
)
def test_is_open(office: BusinessCalendar, t: datetime, expected: bool) -> None:
    assert office.is_open(t) is expected


def test_instants_in_another_zone_are_read_on_the_calendars_clock(
    office: BusinessCalendar,
) -> None:
    # 00:30 UTC is 08:30 in Shanghai; 09:30 UTC is 17:30 there.
    assert office.is_open(datetime(2026, 11, 27, 0, 30, tzinfo=UTC))
    assert not office.is_open(datetime(2026, 11, 27, 9, 30, tzinfo=UTC))
    # 23:00 UTC on Thursday is already Friday 07:00 in Shanghai: closed, opens 08:30.
    assert office.next_open(datetime(2026, 11, 26, 23, 0, tzinfo=UTC)) == sh(2026, 11, 27, 8, 30)
    assert office.business_seconds_between(
        datetime(2026, 11, 27, 0, 0, tzinfo=UTC), datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    ) == pytest.approx(1.5 * HOUR)


def test_next_open(office: BusinessCalendar) -> None:
    assert office.next_open(sh(2026, 11, 27, 9, 0)) == sh(2026, 11, 27, 9, 0)
    assert office.next_open(sh(2026, 11, 27, 12, 15)) == sh(2026, 11, 27, 13, 0)
    assert office.next_open(sh(2026, 11, 27, 17, 30)) == sh(2026, 11, 30, 8, 30)
    assert office.next_open(sh(2026, 11, 28, 10, 0)) == sh(2026, 11, 30, 8, 30)


def test_business_seconds_skip_lunch_and_the_weekend(office: BusinessCalendar) -> None:
    # Friday 16:00-17:30 and Monday 08:30-09:30.
    assert office.business_seconds_between(
        sh(2026, 11, 27, 16, 0), sh(2026, 11, 30, 9, 30)
    ) == pytest.approx(2.5 * HOUR)
    # A whole working day is 8 hours: 3.5 before lunch and 4.5 after.
    assert office.business_seconds_between(sh(2026, 11, 30), sh(2026, 12, 1)) == pytest.approx(
        8 * HOUR
    )
    # Reversed arguments give the negative.
    assert office.business_seconds_between(
        sh(2026, 11, 30, 9, 30), sh(2026, 11, 27, 16, 0)
    ) == pytest.approx(-2.5 * HOUR)
    assert office.business_seconds_between(sh(2026, 11, 28), sh(2026, 11, 29)) == 0


def test_add_business_seconds(office: BusinessCalendar) -> None:
    assert office.add_business_seconds(sh(2026, 11, 27, 17, 0), HOUR) == sh(2026, 11, 30, 9, 0)
    assert office.add_business_seconds(sh(2026, 11, 27, 11, 30), HOUR) == sh(2026, 11, 27, 13, 30)
    # Landing exactly on the close is the close, not Monday's opening.
    assert office.add_business_seconds(sh(2026, 11, 27, 17, 0), 1800) == sh(2026, 11, 27, 17, 30)
    # Starting while closed counts from the next opening.
    assert office.add_business_seconds(sh(2026, 11, 28, 3, 0), 1800) == sh(2026, 11, 30, 9, 0)
    # Zero leaves the instant alone, even when closed.
    assert office.add_business_seconds(sh(2026, 11, 28, 3, 0), 0) == sh(2026, 11, 28, 3, 0)
    # Two business days of 8 hours from Friday 10:00 is Tuesday 10:00.
    assert office.add_business_seconds(sh(2026, 11, 27, 10, 0), 16 * HOUR) == sh(2026, 12, 1, 10, 0)
    with pytest.raises(CalendarError, match="negative"):
        office.add_business_seconds(sh(2026, 11, 27, 10, 0), -1)


def test_add_and_between_are_inverse(office: BusinessCalendar) -> None:
    start = sh(2026, 11, 26, 16, 45)
    for seconds in (1, 59, 1800, 3 * HOUR, 8 * HOUR, 20 * HOUR, 100 * HOUR):
        end = office.add_business_seconds(start, seconds)
        assert office.business_seconds_between(start, end) == pytest.approx(seconds)


def test_holidays_are_closed_all_day() -> None:
    calendar = BusinessCalendar.standard("Asia/Shanghai", holidays=[date(2026, 11, 30)])
    assert not calendar.is_open(sh(2026, 11, 30, 10, 0))
    assert calendar.add_business_seconds(sh(2026, 11, 27, 17, 0), HOUR) == sh(2026, 12, 1, 9, 0)
    assert calendar.next_open(sh(2026, 11, 28)) == sh(2026, 12, 1, 8, 30)
    assert calendar.business_seconds_between(sh(2026, 11, 27, 17, 0), sh(2026, 12, 1, 9, 0)) == (
        pytest.approx(HOUR)
    )


def test_office_hours_follow_the_wall_clock_across_spring_forward() -> None:
    berlin = BusinessCalendar.standard("Europe/Berlin", [OpenInterval(time(8), time(17))])
    # Friday 16:00 CET + 2 h: one hour on Friday, one on Monday from 08:00 CEST.
    due = berlin.add_business_seconds(be(2026, 3, 27, 16, 0), 2 * HOUR)
    assert due == be(2026, 3, 30, 9, 0)
    assert due.astimezone(UTC) == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    assert berlin.business_seconds_between(be(2026, 3, 27, 16, 0), be(2026, 3, 30, 9, 0)) == (
        pytest.approx(2 * HOUR)
    )
    # 07:30 UTC on Monday is 09:30 CEST: open; on the Friday before it was 08:30 CET.
    assert berlin.is_open(datetime(2026, 3, 30, 6, 30, tzinfo=UTC))
    assert not berlin.is_open(datetime(2026, 3, 27, 6, 30, tzinfo=UTC))


def test_office_hours_follow_the_wall_clock_across_fall_back() -> None:
    berlin = BusinessCalendar.standard("Europe/Berlin", [OpenInterval(time(8), time(17))])
    due = berlin.add_business_seconds(be(2026, 10, 23, 16, 0), 2 * HOUR)
    assert due.astimezone(UTC) == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)  # 09:00 CET


def test_24x7_counts_real_time_over_dst_nights() -> None:
    always = BusinessCalendar.always_open("Europe/Berlin")
    assert always.business_seconds_between(be(2026, 3, 28), be(2026, 3, 30)) == 47 * HOUR
    assert always.business_seconds_between(be(2026, 10, 24), be(2026, 10, 26)) == 49 * HOUR
    # Python compares and adds datetimes of one zone on the wall clock: check in UTC.
    start = be(2026, 3, 28, 22, 0)
    due = always.add_business_seconds(start, 5 * HOUR)
    assert due.astimezone(UTC) == start.astimezone(UTC) + timedelta(hours=5)
    assert due.utcoffset() == timedelta(hours=2)
    assert (due.hour, due.minute) == (4, 0)
    # Starting inside the spring-forward day itself: 01:00 CET + 2 h is 04:00 CEST.
    due = always.add_business_seconds(be(2026, 3, 29, 1, 0), 2 * HOUR)
    assert due.astimezone(UTC) == datetime(2026, 3, 29, 2, 0, tzinfo=UTC)
    assert (due.hour, due.utcoffset()) == (4, timedelta(hours=2))
    # ... and on the fall-back day 01:30 CEST + 2 h is 02:30 CET (the second 02:30).
    due = always.add_business_seconds(be(2026, 10, 25, 1, 30), 2 * HOUR)
    assert due.astimezone(UTC) == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert (due.hour, due.minute, due.utcoffset()) == (2, 30, timedelta(hours=1))
    assert all(always.is_open(start + timedelta(minutes=17 * n)) for n in range(300))
    assert always.next_open(start) == start


def test_24x7_in_utc_is_plain_arithmetic() -> None:
    always = BusinessCalendar.always_open()
    start = datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert always.add_business_seconds(start, 86_400 * 3 + 1) == start + timedelta(
        days=3, seconds=1
    )


def test_from_data() -> None:
    calendar = BusinessCalendar.from_data(
        {
            "name": "traffic-police",
            "timezone": "Asia/Shanghai",
            "hours": {
                "mon": ["08:30-12:00", "13:00-17:30"],
                "Tuesday": ["08:30-17:30"],
                "sat": [],
            },
            "holidays": ["2026-12-01"],
        }
    )
    assert calendar.name == "traffic-police"
    assert calendar.is_open(sh(2026, 11, 30, 9, 0))
    assert not calendar.is_open(sh(2026, 12, 1, 9, 0))  # holiday
    assert not calendar.is_open(sh(2026, 12, 2, 9, 0))  # Wednesday not listed
    assert calendar.open_intervals(date(2026, 12, 8))[0][0] == sh(2026, 12, 8, 8, 30)
    always = BusinessCalendar.from_data({"timezone": "UTC", "always_open": True})
    assert always.is_open(datetime(2026, 11, 28, 3, 0, tzinfo=UTC))
    whole = BusinessCalendar.from_data({"timezone": "UTC", "hours": {"sun": ["00:00-24:00"]}})
    assert whole.business_seconds_between(
        datetime(2026, 11, 29, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC)
    ) == pytest.approx(24 * HOUR)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"hours": {"mon": ["08:00-17:00"]}}, "timezone missing"),
        ({"timezone": "Mars/Olympus", "hours": {"mon": ["08:00-17:00"]}}, "unknown time zone"),
        ({"timezone": "UTC", "hours": {"mon": ["8:00-17"]}}, "is not HH:MM"),
        ({"timezone": "UTC", "hours": {"mon": ["08:00"]}}, "expected HH:MM-HH:MM"),
        ({"timezone": "UTC", "hours": {"mon": ["25:00-26:00"]}}, "not a time of day"),
        ({"timezone": "UTC", "hours": {"mon": ["17:00-08:00"]}}, "end must be after start"),
        (
            {"timezone": "UTC", "hours": {"mon": ["08:00-12:00", "11:00-13:00"]}},
            "overlap",
        ),
        ({"timezone": "UTC", "hours": {"funday": ["08:00-12:00"]}}, "is not a weekday"),
        ({"timezone": "UTC", "hours": {"mon": "08:00-12:00"}}, "must list intervals"),
        ({"timezone": "UTC", "hours": {"sat": []}}, "no working day"),
        (
            {"timezone": "UTC", "hours": {"mon": ["08:00-12:00"]}, "holidays": ["1/10/2026"]},
            "is not YYYY-MM-DD",
        ),
        ({"timezone": "UTC", "always_open": True, "hours": {}}, "both given"),
        ({"timezone": "UTC", "hourz": {}}, "unknown key 'hourz'"),
    ],
)
def test_invalid_calendars_give_one_line_errors(data: dict[str, object], message: str) -> None:
    with pytest.raises(CalendarError, match=message) as caught:
        BusinessCalendar.from_data(data)
    assert "\n" not in str(caught.value)


def test_naive_instants_are_refused(office: BusinessCalendar) -> None:
    with pytest.raises(CalendarError, match="naive"):
        office.is_open(datetime(2026, 11, 27, 9, 0))
    with pytest.raises(CalendarError, match="naive"):
        office.business_seconds_between(datetime(2026, 11, 27), sh(2026, 11, 28))


def test_a_calendar_that_never_opens_fails_instead_of_looping() -> None:
    mondays = [date(2026, 11, 30) + timedelta(weeks=n) for n in range(60 * 4)]
    calendar = BusinessCalendar.standard("UTC", workdays=[0], holidays=mondays)
    with pytest.raises(CalendarError, match="never open"):
        calendar.next_open(datetime(2026, 11, 28, tzinfo=UTC))
