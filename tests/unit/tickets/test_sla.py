"""SLA policies, clocks counted in business time, and the breach monitor."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from callcenter.tickets.calendar import BusinessCalendar
from callcenter.tickets.sla import (
    PREMIUM,
    STANDARD,
    ClockKind,
    ClockState,
    SlaBreached,
    SlaClock,
    SlaError,
    SlaMonitor,
    SlaPolicy,
    SlaWarning,
    evaluate,
    follow_status,
    new_clock,
    parse_duration,
    retarget,
    start_clocks,
)
from callcenter.tickets.workflow import Status

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
HOUR = 3600.0
FR = ClockKind.FIRST_RESPONSE
RES = ClockKind.RESOLUTION
ONSITE = ClockKind.ONSITE_ARRIVAL
#: Mon-Fri 08:30-12:00, 13:00-17:30 (8 h); Monday 2026-11-30 is a public holiday.
OFFICE = BusinessCalendar.standard("Asia/Shanghai", holidays=[date(2026, 11, 30)])


def sh(d: int, h: int = 0, mi: int = 0, mo: int = 11) -> datetime:
    return datetime(2026, mo, d, h, mi, tzinfo=SHANGHAI)


def be(mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(2026, mo, d, h, mi, tzinfo=BERLIN)


def clock(
    kind: ClockKind = RES, policy: SlaPolicy = STANDARD, calendar: BusinessCalendar = OFFICE
) -> SlaClock:
    made = new_clock(1, kind, policy, calendar)
    assert made is not None
    return made


# -- policies --------------------------------------------------------------------------


def test_the_mission_policies() -> None:
    assert STANDARD.target(ONSITE) == 4 * HOUR
    assert STANDARD.target(FR) == 30 * 60
    assert STANDARD.target(RES) == 16 * HOUR  # 2 business days of 8 hours
    assert PREMIUM.target(ONSITE) == 30 * 60
    assert STANDARD.warn_at == (0.75, 0.9)


def test_policy_from_data_with_priority_overrides() -> None:
    policy = SlaPolicy.from_data(
        "gold",
        {
            "first_response": "15m",
            "onsite_arrival": "1h",
            "resolution": "8h",
            "by_priority": {1: {"resolution": "2h"}, "2": {"resolution": "4h"}},
            "warn_at": [0.9, 0.5],
            "pause_statuses": ["waiting_customer", "waiting_vendor"],
            "version": 3,
        },
    )
    assert policy.key == "gold@3"
    assert policy.target(RES) == 8 * HOUR
    assert policy.target(RES, priority=1) == 2 * HOUR
    assert policy.target(RES, priority=2) == 4 * HOUR
    assert policy.target(FR, priority=1) == 15 * 60
    assert policy.warn_at == (0.5, 0.9)
    assert Status.WAITING_VENDOR in policy.pause_statuses
    assert SlaPolicy.from_data("bare", {"resolution": 60}).target(FR) is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"resolution": "2d"}, "not a duration like 30m"),
        ({"resolution": "0m"}, "must be positive"),
        ({"resolution": True}, "True is not a duration"),
        ({"resolve": "1h"}, "unknown key 'resolve'"),
        ({"resolution": "1h", "warn_at": [1.5]}, "warning level 1.5 not in"),
        ({"resolution": "1h", "warn_at": "0.75"}, "warn_at must be a list"),
        ({"resolution": "1h", "pause_statuses": ["sleeping"]}, "unknown status 'sleeping'"),
        ({"resolution": "1h", "pause_statuses": ["resolved"]}, "cannot pause"),
        ({"resolution": "1h", "by_priority": {9: {"resolution": "1h"}}}, "by_priority 9"),
        ({"resolution": "1h", "by_priority": {1: {"fix": "1h"}}}, "unknown clock 'fix'"),
        ({"resolution": "1h", "version": "2"}, "version must be a whole number"),
    ],
)
def test_invalid_policies_give_one_line_errors(data: dict[str, object], message: str) -> None:
    with pytest.raises(SlaError, match=message) as caught:
        SlaPolicy.from_data("bad", data)
    assert "\n" not in str(caught.value)


def test_durations() -> None:
    assert parse_duration("30m") == 1800
    assert parse_duration("4h") == 4 * HOUR
    assert parse_duration("1.5h") == 5400
    assert parse_duration("90 s") == 90
    assert parse_duration(120) == 120


# -- clocks ----------------------------------------------------------------------------


def test_first_response_opened_after_hours_is_due_next_business_morning() -> None:
    # Friday 17:15: 15 minutes count on Friday, Monday is a holiday, Tuesday 08:45.
    status = evaluate(clock(FR).start(sh(27, 17, 15)), sh(28, 10, 0))
    assert status.state is ClockState.RUNNING
    assert status.due_at == datetime(2026, 12, 1, 8, 45, tzinfo=SHANGHAI)
    assert status.elapsed == timedelta(minutes=15)
    assert status.remaining == timedelta(minutes=15)


def test_running_met_and_breached_at_the_boundary() -> None:
    c = clock(FR).start(sh(26, 9, 0))  # Thursday
    due = sh(26, 9, 30)
    assert evaluate(c, due).state is ClockState.RUNNING  # the due instant is still in time
    assert evaluate(c, due).remaining == timedelta(0)
    late = evaluate(c, due + timedelta(seconds=1))
    assert (late.state, late.due_at) == (ClockState.BREACHED, due)
    assert late.remaining == timedelta(seconds=-1)
    assert evaluate(c.stop(due), sh(27, 12, 0)).state is ClockState.MET
    stopped_late = evaluate(c.stop(sh(26, 10, 0)), sh(27, 12, 0))
    assert (stopped_late.state, stopped_late.due_at) == (ClockState.BREACHED, due)
    assert stopped_late.elapsed == timedelta(hours=1)


def test_a_pause_spanning_a_weekend_and_a_holiday_does_not_count() -> None:
    # Resolution (16 business hours) from Friday 16:00; waiting for the customer from
    # Friday 17:00 to Tuesday 10:00 (the weekend and the Monday holiday inside).
    c = clock(RES).start(sh(27, 16, 0)).pause(sh(27, 17, 0))
    paused = evaluate(c, sh(29, 12, 0))
    assert (paused.state, paused.due_at) == (ClockState.PAUSED, None)
    assert paused.elapsed == timedelta(hours=1)
    c = c.resume(datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI))
    status = evaluate(c, datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI))
    assert status.elapsed == timedelta(hours=1)
    # 15 h left from Tuesday 10:00: Tuesday 6.5 h, Wednesday 8 h, Thursday 08:30-09:00.
    assert status.due_at == datetime(2026, 12, 3, 9, 0, tzinfo=SHANGHAI)


def test_a_pause_inside_business_hours_across_a_holiday() -> None:
    # Paused Friday 11:00 to Tuesday 11:00: only Friday 09:00-11:00 counts.
    c = clock(RES).start(sh(27, 9, 0)).pause(sh(27, 11, 0))
    c = c.resume(datetime(2026, 12, 1, 11, 0, tzinfo=SHANGHAI))
    status = evaluate(c, datetime(2026, 12, 1, 12, 0, tzinfo=SHANGHAI))
    assert status.elapsed == timedelta(hours=3)  # 2 h Friday + 1 h Tuesday


def test_a_policy_changed_while_a_ticket_is_open_does_not_move_its_clock() -> None:
    c = clock(FR).start(sh(26, 9, 0))
    edited = SlaPolicy("standard", {FR: 15 * 60, RES: 16 * HOUR}, version=2)
    # The open ticket keeps the target it started with ...
    assert c.policy == "standard@1"
    assert evaluate(c, sh(26, 9, 20)).state is ClockState.RUNNING
    assert evaluate(c, sh(26, 9, 20)).due_at == sh(26, 9, 30)
    # ... a new ticket gets the edited one ...
    fresh = new_clock(2, FR, edited, OFFICE)
    assert fresh is not None and fresh.target_seconds == 15 * 60
    # ... and re-targeting is explicit, keeping the elapsed time.
    moved = retarget(c, edited)
    status = evaluate(moved, sh(26, 9, 20))
    assert (moved.policy, status.state, status.due_at) == (
        "standard@2",
        ClockState.BREACHED,
        sh(26, 9, 15),
    )
    assert status.elapsed == timedelta(minutes=20)
    with pytest.raises(SlaError, match="no onsite_arrival target"):
        retarget(clock(ONSITE), SlaPolicy("x", {RES: 60}))


def test_retarget_on_a_priority_change() -> None:
    policy = SlaPolicy("p", {RES: 16 * HOUR}, by_priority={1: {RES: 2 * HOUR}})
    c = new_clock(1, RES, policy, OFFICE, priority=3)
    assert c is not None
    c = c.start(sh(26, 9, 0))
    urgent = retarget(c, policy, priority=1)
    assert evaluate(urgent, sh(26, 9, 30)).due_at == sh(26, 11, 0)


def test_a_reopened_ticket_resumes_its_resolution_clock() -> None:
    # Resolved after 3.5 business hours (lunch excluded), reopened days later.
    c = clock(RES).start(sh(26, 9, 0)).stop(sh(26, 13, 30))
    assert evaluate(c, sh(26, 14, 0)).state is ClockState.MET
    assert evaluate(c, datetime(2026, 12, 9, tzinfo=SHANGHAI)).elapsed == timedelta(hours=3.5)
    reopened = c.resume(datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI))
    status = evaluate(reopened, datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI))
    assert status.state is ClockState.RUNNING
    assert status.elapsed == timedelta(hours=4.5)  # not 1 h (a restart)
    # 11.5 h left from Tuesday 10:00: Tuesday 6.5 h, Wednesday 3.5 h + 1.5 h -> 14:30.
    assert status.due_at == datetime(2026, 12, 2, 14, 30, tzinfo=SHANGHAI)


def test_a_calendar_in_another_zone_than_utc() -> None:
    # Instants arrive in UTC; Friday 09:00 UTC is 17:00 in Shanghai.
    c = clock(FR).start(datetime(2026, 11, 27, 9, 0, tzinfo=UTC))
    status = evaluate(c, datetime(2026, 11, 27, 12, 0, tzinfo=UTC))
    assert status.elapsed == timedelta(minutes=30)  # only until 17:30 local
    assert status.state is ClockState.RUNNING
    assert status.due_at == datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
    c = clock(RES).start(datetime(2026, 11, 27, 9, 0, tzinfo=UTC))
    # 30 min Friday, Monday holiday, 8 h Tuesday, 7.5 h Wednesday -> 17:00 local, 09:00 UTC.
    assert evaluate(c, datetime(2026, 11, 28, tzinfo=UTC)).due_at == datetime(
        2026, 12, 2, 9, 0, tzinfo=UTC
    )


def test_a_daylight_saving_change_inside_the_counted_period() -> None:
    berlin = BusinessCalendar.standard("Europe/Berlin")
    # Friday 16:00 CET, 16 business hours: Friday 1.5, Monday 8 (CEST now), Tuesday 6.5
    # -> Tuesday 16:00 CEST, which is 14:00 UTC (a fixed CET offset would say 15:00).
    c = clock(RES, calendar=berlin).start(be(3, 27, 16, 0))
    due = evaluate(c, be(3, 28)).due_at
    assert due is not None
    assert due.astimezone(UTC) == datetime(2026, 3, 31, 14, 0, tzinfo=UTC)
    # Premium on-site arrival, 30 min on a 24x7 calendar across the spring-forward gap:
    # 01:45 CET + 30 min is 03:15 CEST.
    always = BusinessCalendar.always_open("Europe/Berlin")
    onsite = clock(ONSITE, PREMIUM, always).start(be(3, 29, 1, 45))
    due = evaluate(onsite, be(3, 29, 1, 50)).due_at
    assert due is not None
    assert due.astimezone(UTC) == datetime(2026, 3, 29, 1, 15, tzinfo=UTC)
    assert (due.astimezone(BERLIN).hour, due.astimezone(BERLIN).minute) == (3, 15)
    # Elapsed across the fall-back hour counts real time: 01:30 CEST to 02:30 CET is 2 h.
    fall = clock(RES, PREMIUM, always).start(be(10, 25, 1, 30))
    later = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET, the second 02:30
    assert evaluate(fall, later).elapsed == timedelta(hours=2)


def test_clock_operations_refuse_impossible_moves() -> None:
    c = clock(FR)
    assert evaluate(c, sh(26, 9)).state is ClockState.NOT_STARTED
    with pytest.raises(SlaError, match="not running"):
        c.pause(sh(26, 9))
    with pytest.raises(SlaError, match="never started"):
        c.stop(sh(26, 9))
    running = c.start(sh(26, 9))
    with pytest.raises(SlaError, match="already started"):
        running.start(sh(26, 10))
    with pytest.raises(SlaError, match="already running"):
        running.resume(sh(26, 10))
    with pytest.raises(SlaError, match="cannot stop before"):
        running.pause(sh(26, 8))
    paused = running.pause(sh(26, 10))
    with pytest.raises(SlaError, match="resumed before it last stopped"):
        paused.resume(sh(26, 9, 30))
    stopped = paused.stop(sh(26, 11))
    assert stopped.stopped_at == sh(26, 11)
    with pytest.raises(SlaError, match="already stopped"):
        stopped.stop(sh(26, 12))
    with pytest.raises(SlaError, match="naive"):
        c.start(datetime(2026, 11, 26, 9, 0))


# -- clocks following the ticket ----------------------------------------------------------


def test_clocks_follow_the_ticket_status() -> None:
    clocks = start_clocks(1, STANDARD, OFFICE, sh(26, 9, 0))
    assert set(clocks) == {FR, RES, ONSITE}
    assert not clocks[ONSITE].segments  # starts only on dispatch
    clocks = follow_status(clocks, Status.NEW, Status.ASSIGNED, sh(26, 9, 5))
    assert clocks[FR].running  # being assigned is not a response
    clocks = follow_status(clocks, Status.ASSIGNED, Status.IN_PROGRESS, sh(26, 9, 10))
    assert evaluate(clocks[FR], sh(26, 12)).state is ClockState.MET
    clocks[ONSITE] = clocks[ONSITE].start(sh(26, 9, 10))
    clocks = follow_status(clocks, Status.IN_PROGRESS, Status.WAITING_CUSTOMER, sh(26, 10, 0))
    assert not clocks[RES].running and not clocks[ONSITE].running
    clocks = follow_status(clocks, Status.WAITING_CUSTOMER, Status.IN_PROGRESS, sh(26, 11, 0))
    assert clocks[RES].running and clocks[ONSITE].running
    clocks = follow_status(clocks, Status.IN_PROGRESS, Status.WAITING_VENDOR, sh(26, 11, 30))
    assert clocks[RES].running  # waiting for our own vendor does not stop our clock
    clocks = follow_status(clocks, Status.WAITING_VENDOR, Status.RESOLVED, sh(26, 14, 0))
    assert clocks[RES].stopped and clocks[ONSITE].stopped
    assert evaluate(clocks[RES], sh(26, 15)).elapsed == timedelta(hours=3)  # 1 h paused
    clocks = follow_status(clocks, Status.RESOLVED, Status.IN_PROGRESS, sh(26, 15, 0))
    assert clocks[RES].running and clocks[FR].stopped and clocks[ONSITE].stopped
    clocks = follow_status(clocks, Status.IN_PROGRESS, Status.CANCELLED, sh(26, 16, 0))
    assert all(c.stopped for c in clocks.values())
    assert evaluate(clocks[RES], sh(27, 9)).elapsed == timedelta(hours=4)


def test_a_policy_can_pause_while_waiting_for_the_vendor() -> None:
    clocks = start_clocks(1, STANDARD, OFFICE, sh(26, 9, 0))
    vendor = frozenset({Status.WAITING_CUSTOMER, Status.WAITING_VENDOR})
    clocks = follow_status(clocks, Status.IN_PROGRESS, Status.WAITING_VENDOR, sh(26, 10, 0), vendor)
    assert not clocks[RES].running


def test_priority_specific_targets_at_start() -> None:
    policy = SlaPolicy("p", {RES: 16 * HOUR}, by_priority={1: {RES: 2 * HOUR}})
    clocks = start_clocks(1, policy, OFFICE, sh(26, 9), priority=1)
    assert set(clocks) == {RES}
    assert clocks[RES].target_seconds == 2 * HOUR


# -- monitor -------------------------------------------------------------------------------


def test_monitor_warns_at_75_and_90_percent_then_breaches_once() -> None:
    monitor = SlaMonitor()
    c = clock(FR).start(sh(26, 9, 0))  # due 09:30
    monitor.track(c)
    assert monitor.tick(sh(26, 9, 22)) == []
    assert monitor.tick(sh(26, 9, 23)) == [
        SlaWarning(
            1,
            FR,
            0.75,
            sh(
                26,
                9,
                22,
            )
            + timedelta(seconds=30),
        )
    ]
    assert monitor.tick(sh(26, 9, 26)) == []  # not again
    assert monitor.tick(sh(26, 9, 28)) == [SlaWarning(1, FR, 0.9, sh(26, 9, 27))]
    assert monitor.tick(sh(26, 9, 30)) == []  # due, not late
    assert monitor.tick(sh(26, 9, 31)) == [SlaBreached(1, FR, sh(26, 9, 30))]
    assert monitor.tick(sh(26, 10, 0)) == []
    assert monitor.tick(sh(27, 10, 0)) == []


def test_monitor_event_instants_do_not_depend_on_how_often_it_ticks() -> None:
    monitor = SlaMonitor()
    monitor.track(clock(FR).start(sh(27, 17, 15)))  # Friday evening; due Tuesday 08:45
    # 75 % is 22.5 minutes: 15 on Friday, 7.5 on Tuesday (Monday is a holiday).
    events = monitor.tick(datetime(2026, 12, 1, 8, 40, tzinfo=SHANGHAI))
    assert events == [SlaWarning(1, FR, 0.75, datetime(2026, 12, 1, 8, 37, 30, tzinfo=SHANGHAI))]
    events = monitor.tick(datetime(2026, 12, 3, tzinfo=SHANGHAI))
    assert events == [SlaBreached(1, FR, datetime(2026, 12, 1, 8, 45, tzinfo=SHANGHAI))]


def test_a_breach_found_late_replaces_the_warnings() -> None:
    monitor = SlaMonitor()
    monitor.track(clock(FR).start(sh(26, 9, 0)))
    assert monitor.tick(sh(26, 12, 0)) == [SlaBreached(1, FR, sh(26, 9, 30))]
    assert monitor.tick(sh(26, 13, 0)) == []


def test_a_paused_clock_does_not_advance_towards_warnings() -> None:
    monitor = SlaMonitor()
    monitor.track(clock(FR).start(sh(26, 9, 0)).pause(sh(26, 9, 20)))
    assert monitor.tick(sh(26, 17, 0)) == []
    monitor.track(clock(FR).start(sh(26, 9, 0)).pause(sh(26, 9, 25)))
    assert monitor.tick(sh(26, 17, 0)) == [
        SlaWarning(1, FR, 0.75, sh(26, 9, 22) + timedelta(seconds=30))
    ]


def test_met_clocks_raise_nothing_and_forgotten_tickets_are_not_watched() -> None:
    monitor = SlaMonitor()
    monitor.track(clock(FR).start(sh(26, 9, 0)).stop(sh(26, 9, 10)))
    assert monitor.tick(sh(26, 12, 0)) == []
    other = new_clock(2, RES, STANDARD, OFFICE)
    assert other is not None
    monitor.track(other.start(sh(26, 9, 0)))
    monitor.forget(2)
    assert monitor.tick(sh(30, 12, 0)) == []
    assert [c.ticket_id for c in monitor.clocks()] == [1]


def test_emitted_events_survive_a_restart() -> None:
    first = SlaMonitor()
    c = clock(FR).start(sh(26, 9, 0))
    first.track(c)
    assert len(first.tick(sh(26, 9, 25))) == 1
    second = SlaMonitor(emitted=first.emitted)
    second.track(c)
    assert second.tick(sh(26, 9, 25)) == []
    assert second.tick(sh(26, 9, 28)) == [SlaWarning(1, FR, 0.9, sh(26, 9, 27))]


def test_a_retargeted_clock_warns_again() -> None:
    monitor = SlaMonitor()
    c = clock(FR).start(sh(26, 9, 0))
    monitor.track(c)
    assert [e.level for e in monitor.tick(sh(26, 9, 25)) if isinstance(e, SlaWarning)] == [0.75]
    monitor.track(retarget(c, SlaPolicy("longer", {FR: HOUR})))
    assert monitor.tick(sh(26, 9, 40)) == []  # 40 of 60 minutes
    assert monitor.tick(sh(26, 9, 46)) == [SlaWarning(1, FR, 0.75, sh(26, 9, 45))]


def test_events_of_several_tickets_come_in_time_order() -> None:
    monitor = SlaMonitor()
    late = new_clock(9, FR, STANDARD, OFFICE)
    early = new_clock(3, FR, STANDARD, OFFICE)
    assert late is not None and early is not None
    monitor.track(late.start(sh(26, 9, 0)))
    monitor.track(early.start(sh(26, 8, 50)))
    events = monitor.tick(sh(26, 9, 50))
    assert [(type(e).__name__, e.ticket_id) for e in events] == [
        ("SlaBreached", 3),
        ("SlaBreached", 9),
    ]


def test_a_clock_stopped_after_its_breach_reports_the_breach_once() -> None:
    monitor = SlaMonitor()
    monitor.track(clock(FR).start(sh(26, 9, 0)).stop(sh(26, 10, 0)))
    assert monitor.tick(sh(26, 11, 0)) == [SlaBreached(1, FR, sh(26, 9, 30))]
    assert monitor.tick(sh(26, 12, 0)) == []
