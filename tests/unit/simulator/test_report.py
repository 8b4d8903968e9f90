"""Reports: Erlang C side by side, the text table, JSON and CSV shapes."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace

import pytest

from callcenter.planning.erlang import staffing_level
from callcenter.simulator import ArrivalProfile, DayPlan, compare, simulate
from callcenter.simulator.report import (
    CSV_FIELDS,
    comparison_lines,
    day_erlang,
    erlang_prediction,
    text_lines,
    to_json,
    write_csv,
)

PLAN = DayPlan(calls=200, profile=ArrivalProfile(9 * 60, (1.0, 2.0, 2.0, 1.0)), staffing=8)


def test_erlang_prediction_is_erlang_c_for_the_interval() -> None:
    prediction = erlang_prediction(100.0, 14, 180.0, 20.0)
    level = staffing_level(14, 100 * 180 / 900, 180.0, 20.0)
    assert prediction.service_level == level.service_level
    assert prediction.asa_seconds == level.asa_seconds
    assert prediction.occupancy == level.occupancy


def test_erlang_prediction_without_calls_or_agents() -> None:
    assert erlang_prediction(0.0, 5, 180.0, 20.0).service_level is None
    nobody = erlang_prediction(10.0, 0, 180.0, 20.0)
    assert (nobody.service_level, nobody.asa_seconds) == (0.0, None)
    unstable = erlang_prediction(100.0, 5, 180.0, 20.0)  # 20 Erlangs on 5 agents
    assert (unstable.service_level, unstable.asa_seconds) == (0.0, None)


def test_the_day_prediction_weights_intervals_by_expected_calls() -> None:
    rows = simulate(replace(PLAN, staffing=30)).intervals
    sl, asa = day_erlang(rows)
    weighted = [
        (r.expected_calls, r.erlang_service_level)
        for r in rows
        if r.expected_calls and r.erlang_service_level is not None
    ]
    total = sum(w for w, _ in weighted)
    assert sl == pytest.approx(sum(w * s for w, s in weighted) / total)
    assert asa is not None
    # One unstable interval makes the day's ASA unbounded.
    assert day_erlang(simulate(replace(PLAN, staffing=2)).intervals)[1] is None


def test_the_text_report_has_a_row_per_interval_and_the_day() -> None:
    report = simulate(PLAN)
    lines = text_lines(report)
    assert lines[0].startswith("200 calls expected over 09:00-10:00")
    header = lines[2]
    for column in ("time", "agents", "offered", "SL", "ASA", "occ", "EWT err", "ErlC SL"):
        assert column in header
    assert [line[:5] for line in lines[3 : 3 + len(report.intervals)]] == [
        r.start for r in report.intervals
    ]
    assert any(line.startswith("Day: ") for line in lines)
    assert any("Erlang C predicted" in line for line in lines)
    assert any("mean absolute error" in line for line in lines)


def test_json_has_intervals_and_day() -> None:
    report = simulate(PLAN)
    data = json.loads(to_json(report.view()))
    assert set(data) == {"plan", "intervals", "day"}
    assert len(data["intervals"]) == len(report.intervals)
    assert set(data["intervals"][0]) == set(CSV_FIELDS)
    assert data["day"]["offered"] == report.day.offered
    assert data["plan"]["agents_per_interval"] == [8, 8, 8, 8]


def test_csv_has_one_line_per_interval() -> None:
    report = simulate(PLAN)
    out = io.StringIO()
    write_csv(out, [("day", report)])
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len(rows) == len(report.intervals)
    assert rows[0]["start"] == "09:00"
    assert int(rows[1]["offered"]) == report.intervals[1].offered


def test_csv_of_a_comparison_names_the_variant() -> None:
    comparison = compare({"few": replace(PLAN, staffing=4), "many": PLAN})
    out = io.StringIO()
    write_csv(out, comparison.variants)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert {r["variant"] for r in rows} == {"few", "many"}


def test_comparison_text_puts_variants_side_by_side() -> None:
    comparison = compare({"4 agents": replace(PLAN, staffing=4), "8 agents": PLAN})
    lines = comparison_lines(comparison)
    assert "staff (varies)" in lines[0]
    assert "4 agents" in lines[2] and "8 agents" in lines[2]
    offered = next(line for line in lines if line.startswith("offered"))
    assert offered.split()[1] == offered.split()[2]
    assert any(line.startswith("09:15") for line in lines)
    assert json.loads(to_json(comparison.view()))["variants"][0]["name"] == "4 agents"
