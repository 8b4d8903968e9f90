"""The monthly client report's figures from hand-made rows (`callcenter.reports.model`)."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from callcenter.reports.model import (
    AssetRow,
    CallRow,
    ClockRow,
    Month,
    ReportError,
    ReportInputs,
    TicketRow,
    compute,
    first_contact,
    percentile,
    ratio,
    resolve_time,
    service_level,
    sla_compliance,
    top_faults,
    warranty_window,
)
from callcenter.reports.render import write

NOV = Month(2026, 11)


def at(day: int, hour: int = 9, month: int = 11, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def ticket(id_: int, created: datetime, **kw: object) -> TicketRow:
    fields: dict[str, object] = {
        "kind": "incident",
        "status": "new",
        "category": None,
        "resolved_at": None,
    }
    fields.update(kw)
    return TicketRow(id=id_, created_at=created, **fields)  # type: ignore[arg-type]


def inputs(**kw: object) -> ReportInputs:
    fields: dict[str, object] = {
        "organisation": "Demo Corp",
        "month": NOV,
        "tickets": [],
        "calls": [],
        "clocks": [],
        "assets": [],
        "thresholds": {"helpdesk": 20.0},
    }
    fields.update(kw)
    return ReportInputs(**fields)  # type: ignore[arg-type]


# -- months --------------------------------------------------------------------------------


def test_a_month_parses_and_spans_its_calendar_days_in_utc() -> None:
    month = Month.parse("2026-11")
    assert month == NOV
    assert str(month) == "2026-11"
    assert (month.start, month.end) == (at(1, 0), at(1, 0, month=12))
    assert month.contains(at(30, 23)) and not month.contains(at(1, 0, month=12))


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "2026-1", "26-11", "november", ""])
def test_a_month_that_is_not_yyyy_mm_is_refused(text: str) -> None:
    with pytest.raises(ReportError, match="YYYY-MM"):
        Month.parse(text)


@pytest.mark.parametrize("text", ["9999-12", "0001-01", "1969-12"])
def test_a_month_whose_history_or_horizon_leaves_the_calendar_is_refused(text: str) -> None:
    with pytest.raises(ReportError, match="year must be from 1970 to 9998"):
        Month.parse(text)


def test_history_runs_twelve_months_across_the_new_year() -> None:
    history = Month(2026, 2).history()
    assert len(history) == 12
    assert (str(history[0]), str(history[-1])) == ("2025-03", "2026-02")
    assert Month(2026, 12).next() == Month(2027, 1)
    assert Month(2026, 1).previous() == Month(2025, 12)


# -- arithmetic ----------------------------------------------------------------------------


def test_percentile_interpolates_between_closest_ranks() -> None:
    values = [float(v) for v in range(1, 11)]  # 1..10
    assert percentile(values, 90) == pytest.approx(9.1)
    assert percentile(values, 50) == pytest.approx(5.5)
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 10.0
    assert percentile([7.0], 90) == 7.0
    assert percentile(reversed(values), 90) == pytest.approx(9.1)  # order does not matter


def test_percentile_of_nothing_is_none_and_out_of_range_is_refused() -> None:
    assert percentile([], 90) is None
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_a_ratio_of_nothing_is_none_not_zero() -> None:
    assert ratio(0, 0) is None
    assert ratio(0, 4) == 0.0
    assert ratio(3, 4) == 0.75


# -- the figures ---------------------------------------------------------------------------


def test_an_empty_month_has_zero_counts_and_no_shares() -> None:
    report = compute(inputs())
    assert report.requests == 0
    assert [n for _, n in report.requests_per_month] == [0] * 12
    assert report.requests_per_category == []
    assert report.service_level.offered == 0 and report.service_level.share is None
    assert report.first_contact.share is None and report.first_contact.met is None
    assert report.first_visit.share is None
    assert report.sla == []
    assert (report.resolve_time.resolved, report.resolve_time.mean_hours) == (0, None)
    assert report.resolve_time.p90_hours is None
    assert report.top_items == [] and report.top_models == [] and report.warranty_ending == []


def test_requests_per_month_and_category() -> None:
    tickets = [
        ticket(1, at(3), category="printer"),
        ticket(2, at(4), category="printer"),
        ticket(3, at(5), category=None),
        ticket(4, at(10, month=10), category="network"),  # October: the series only
        ticket(5, at(20, month=12, year=2025), category="email"),  # first month of the series
    ]
    report = compute(inputs(tickets=tickets))
    series = dict(report.requests_per_month)
    assert (min(series), max(series)) == ("2025-12", "2026-11")
    assert (series["2025-12"], series["2026-10"], series["2026-11"]) == (1, 1, 3)
    assert report.requests == 3
    assert report.requests_per_category == [("printer", 2), ("(none)", 1)]


def test_service_level_counts_answers_within_the_queue_threshold_over_offered() -> None:
    calls = [
        CallRow("helpdesk", "answered", True, True, 5.0),
        CallRow("helpdesk", "answered", True, True, 20.0),  # at the threshold: in time
        CallRow("helpdesk", "answered", True, True, 20.5),
        CallRow("vip", "answered", True, True, 8.0),  # vip threshold 10 s
        CallRow("vip", "answered", True, True, 12.0),
        CallRow("helpdesk", "abandoned", True, False, None),
        CallRow("helpdesk", "called_back", True, True, 3.0),  # a callback is no pickup
        CallRow(None, "ivr_hangup", False, False, None),  # never reached a queue
        CallRow("helpdesk", "in_progress", True, False, None),  # not over
        CallRow("other", "answered", True, True, 19.0),  # unknown queue: 20 s default
    ]
    level = service_level(calls, {"helpdesk": 20.0, "vip": 10.0})
    assert (level.offered, level.answered, level.answered_within) == (8, 6, 4)
    assert level.share == 0.5


def test_first_contact_counts_incidents_with_a_verdict_and_not_reopened() -> None:
    resolved = at(20)
    rows = [
        ticket(1, at(2), resolved_at=resolved, first_contact_resolved=True),
        ticket(2, at(2), resolved_at=resolved, first_contact_resolved=True, reopen_count=1),
        ticket(3, at(2), resolved_at=resolved, first_contact_resolved=False),
        ticket(4, at(2), resolved_at=resolved, first_contact_resolved=None),  # no verdict
        ticket(5, at(2), resolved_at=resolved, first_contact_resolved=True, kind="request"),
    ]
    share = first_contact(rows)
    assert (share.solved_first_time, share.counted) == (1, 3)
    assert share.target == 0.70 and share.met is False


def test_first_visit_uses_the_problem_rules_and_tolerates_uncounted_contacts() -> None:
    resolved = at(20)
    rows = [
        ticket(1, at(2), status="resolved", resolved_at=resolved, contacts=2, onsite_visits=1),
        ticket(2, at(2), status="closed", resolved_at=resolved, contacts=0, onsite_visits=1),
        ticket(3, at(2), status="closed", resolved_at=resolved, contacts=3, onsite_visits=2),
        ticket(4, at(2), status="closed", resolved_at=resolved, contacts=1, onsite_visits=0),
        ticket(5, at(2), status="cancelled", resolved_at=resolved, contacts=1, onsite_visits=1),
        ticket(6, at(2), status="resolved", resolved_at=at(2, month=12), onsite_visits=1),
    ]
    report = compute(inputs(tickets=rows))
    visit = report.first_visit
    assert (visit.solved_first_time, visit.counted) == (2, 3)
    assert visit.target == 0.85 and visit.met is False


def test_sla_compliance_per_clock_kind_in_policy_order() -> None:
    clocks = [
        ClockRow(1, "resolution", "met"),
        ClockRow(1, "first_response", "met"),
        ClockRow(2, "first_response", "breached"),
        ClockRow(3, "first_response", "open"),
        ClockRow(2, "resolution", "open"),
    ]
    rows = sla_compliance(clocks)
    assert [(s.kind, s.met, s.breached, s.open) for s in rows] == [
        ("first_response", 1, 1, 1),
        ("resolution", 1, 0, 1),
    ]
    assert rows[0].share == 0.5
    assert rows[1].share == 1.0
    only_open = sla_compliance([ClockRow(1, "onsite_arrival", "open")])
    assert only_open[0].share is None


def test_an_unknown_clock_state_is_refused() -> None:
    with pytest.raises(ValueError, match="late"):
        sla_compliance([ClockRow(1, "resolution", "late")])


def test_time_to_resolve_mean_and_p90_in_hours() -> None:
    start = at(1)
    rows = [
        ticket(i, start, status="resolved", resolved_at=start + timedelta(hours=i))
        for i in range(1, 11)
    ]
    figures = resolve_time(rows)
    assert figures.resolved == 10
    assert figures.mean_hours == pytest.approx(5.5)
    assert figures.p90_hours == pytest.approx(9.1)


def test_only_tickets_resolved_in_the_month_count_for_resolution() -> None:
    rows = [
        ticket(1, at(25, month=10), status="resolved", resolved_at=at(2)),  # counts: resolved Nov
        ticket(2, at(2), status="resolved", resolved_at=at(3, month=12)),  # resolved December
        ticket(3, at(2), status="cancelled", resolved_at=at(3)),
    ]
    report = compute(inputs(tickets=rows))
    assert report.resolve_time.resolved == 1
    assert report.resolve_time.mean_hours == pytest.approx(8 * 24)


def test_top_faults_keep_repeated_items_most_first() -> None:
    keys = ["PC-1", "PC-2", "PC-1", "PC-3", "PC-3", "PC-3", None, " ", "PC-2", "PC-4"]
    assert top_faults(keys) == [("PC-3", 3), ("PC-1", 2), ("PC-2", 2)]
    assert top_faults(keys, limit=1) == [("PC-3", 3)]
    assert top_faults(["ThinkPad  T14", "ThinkPad T14"]) == [("ThinkPad T14", 2)]


def test_faults_of_the_month_by_item_and_model() -> None:
    rows = [
        ticket(1, at(2), item="KJC-COM-0001", model="ThinkPad T14"),
        ticket(2, at(3), item="KJC-COM-0001", model="ThinkPad T14"),
        ticket(3, at(4), item="KJC-COM-0002", model="ThinkPad T14"),
        ticket(4, at(4, month=10), item="KJC-COM-0002", model="ThinkPad T14"),  # October
    ]
    report = compute(inputs(tickets=rows))
    assert report.top_items == [("KJC-COM-0001", 2)]
    assert report.top_models == [("ThinkPad T14", 3)]


def test_warranty_window_is_the_ninety_days_after_the_month() -> None:
    assert warranty_window(NOV) == (date(2026, 12, 1), date(2027, 2, 28))
    assets = [
        AssetRow("0002", "B", "laptop", None, None, date(2027, 1, 5)),
        AssetRow("0001", "A", "desktop", "M", "zhangsan", date(2026, 12, 1)),
    ]
    report = compute(inputs(assets=assets))
    assert [a.asset_tag for a in report.warranty_ending] == ["0001", "0002"]


# -- files ---------------------------------------------------------------------------------


@pytest.mark.parametrize("formula", ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)"])
def test_csv_cells_never_arrive_as_formulas(formula: str, tmp_path: Path) -> None:
    """OWASP's CSV-injection advice: a text cell that starts like a formula is quoted."""
    report = compute(inputs(tickets=[ticket(1, at(3), category=formula)]))
    write(report, tmp_path)
    with (tmp_path / "requests_per_category.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[1] == ["'" + formula, "1"]
    per_month = (tmp_path / "requests_per_month.csv").read_text()
    assert "'" not in per_month  # numbers, and plain text, are left as they are
