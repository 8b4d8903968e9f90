"""Business hours from the injected clock: weekends, holidays, edges, DST, the files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from callcenter.ivr.flowfile import IvrConfigError, load_flows
from callcenter.ivr.hours import BusinessHours, parse_days, parse_interval
from tests.unit.ivr.conftest import PRODUCTION_FILE, WriteFlow

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(zone: ZoneInfo, *args: int) -> float:
    return dt.datetime(*args).replace(tzinfo=zone).timestamp()  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def production() -> BusinessHours:
    return load_flows(PRODUCTION_FILE).get().hours


@pytest.mark.parametrize(
    ("when", "is_open"),
    [
        ((2026, 11, 30, 10, 0), True),  # a Monday
        ((2026, 11, 30, 8, 29), False),  # before opening
        ((2026, 11, 30, 8, 30), True),  # opening minute
        ((2026, 11, 30, 17, 29), True),
        ((2026, 11, 30, 17, 30), False),  # closing is exclusive
        ((2026, 12, 5, 10, 0), False),  # Saturday
        ((2026, 12, 6, 10, 0), False),  # Sunday
        ((2027, 1, 1, 10, 0), False),  # New Year's Day, a Friday
        ((2026, 10, 2, 10, 0), False),  # National Day, a run of days (until)
        ((2026, 10, 5, 10, 0), True),  # after the run: a Monday
    ],
)
def test_production_hours(production: BusinessHours, when: tuple[int, ...], is_open: bool) -> None:
    assert production.is_open(at(SHANGHAI, *when)) is is_open


def test_hours_are_local_to_the_zone_not_utc(production: BusinessHours) -> None:
    # 02:00 UTC is 10:00 in Shanghai: open; 10:00 UTC is 18:00 there: closed.
    assert production.is_open(at(ZoneInfo("UTC"), 2026, 11, 30, 2, 0))
    assert not production.is_open(at(ZoneInfo("UTC"), 2026, 11, 30, 10, 0))


def test_reason_names_the_holiday(production: BusinessHours) -> None:
    is_open, why = production.why(at(SHANGHAI, 2027, 1, 1, 10, 0))
    assert not is_open
    assert "New Year's Day" in why


BERLIN = ZoneInfo("Europe/Berlin")
UTC = ZoneInfo("UTC")
DAILY = BusinessHours(
    timezone="Europe/Berlin", weekly=dict.fromkeys(range(7), ((8 * 60, 18 * 60),))
)


@pytest.mark.parametrize(
    ("utc", "is_open"),
    [
        # Saturday 2026-10-24, summer time (UTC+2): 06:30 UTC is 08:30 local.
        ((2026, 10, 24, 6, 30), True),
        ((2026, 10, 24, 5, 59), False),
        ((2026, 10, 24, 15, 59), True),  # 17:59 local
        ((2026, 10, 24, 16, 0), False),  # 18:00 local
        # Sunday 2026-10-25: clocks go back at 03:00 CEST; from then on UTC+1.
        ((2026, 10, 25, 6, 30), False),  # 07:30 local, though 08:30 yesterday
        ((2026, 10, 25, 7, 0), True),  # 08:00 local
        ((2026, 10, 25, 16, 59), True),  # 17:59 local
        ((2026, 10, 25, 17, 0), False),  # 18:00 local
        # Sunday 2026-03-29: clocks go forward; 06:00 UTC is 08:00 CEST.
        ((2026, 3, 29, 6, 0), True),
        ((2026, 3, 29, 5, 59), False),
    ],
)
def test_dst_change_keeps_wall_clock_hours(utc: tuple[int, ...], is_open: bool) -> None:
    assert DAILY.is_open(at(UTC, *utc)) is is_open


def test_always_is_open() -> None:
    assert BusinessHours(always=True).is_open(at(UTC, 2026, 12, 25, 3, 0))


def test_parsers() -> None:
    assert parse_interval("08:30-17:30") == (510, 1050)
    assert parse_interval("00:00-24:00") == (0, 1440)
    assert parse_days("mon-fri") == [0, 1, 2, 3, 4]
    assert parse_days("sat,sun") == [5, 6]
    for bad in ("8-17", "17:30-08:30", "08:60-09:00", "25:00-26:00"):
        with pytest.raises(ValueError):
            parse_interval(bad)
    for bad in ("monday", "fri-mon"):
        with pytest.raises(ValueError):
            parse_days(bad)


def test_bad_hours_are_rejected_naming_the_flow(write_flow: WriteFlow) -> None:
    nodes = "end: {kind: hangup}"
    for hours, problem in [
        ("{timezone: Mars/Olympus, weekly: {mon: '08:00-17:00'}}", "Mars/Olympus"),
        ("{timezone: UTC, weekly: {mon: '17:00-08:00'}}", "weekly.mon"),
        ("{timezone: UTC, weekly: {funday: '08:00-17:00'}}", "funday"),
        ("{timezone: UTC, weekly: {mon: '08:00-17:00'}, holidays: none.yaml}", "none.yaml"),
    ]:
        path = write_flow(nodes, flow=f"hours: {hours}")
        with pytest.raises(IvrConfigError) as raised:
            load_flows(path)
        assert "flow 'test'" in str(raised.value) or "none.yaml" in str(raised.value)
        assert problem in str(raised.value)


def test_holiday_file_is_relative_to_the_flow_file(write_flow: WriteFlow, tmp_path: Path) -> None:
    (tmp_path / "days.yaml").write_text(
        "holidays:\n  - {date: 2026-12-24, until: 2026-12-26, name: Christmas}\n"
    )
    path = write_flow(
        "end: {kind: hangup}",
        header="hours: {timezone: Europe/Berlin, weekly: {mon-sun: '00:00-24:00'}, "
        "holidays: days.yaml}",
    )
    hours = load_flows(path).get().hours
    assert not hours.is_open(at(BERLIN, 2026, 12, 25, 12, 0))
    assert hours.is_open(at(BERLIN, 2026, 12, 27, 12, 0))
