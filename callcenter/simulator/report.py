"""What a simulated day reports: per 15-minute interval and for the day, next to Erlang C.

Service level and ASA are the ACD's own statistics (its queue's formula); offered,
occupancy and the wait-estimate error are measured by the simulator from the ACD's
events. The Erlang C columns are what the textbook predicts for the interval's expected
calls and rostered agents: it assumes nobody hangs up and that the interval is in steady
state, so the gap between the two shows where Erlang C is optimistic (or pessimistic:
abandons shorten the line for those who stay).
"""

from __future__ import annotations

import csv
import functools
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, TextIO

from callcenter.planning.erlang import staffing_level, traffic_intensity
from callcenter.simulator.profile import INTERVAL_SECONDS


@dataclass(frozen=True)
class ErlangPrediction:
    service_level: float | None
    asa_seconds: float | None  # None: unstable (agents <= traffic) or no call expected
    occupancy: float | None


@functools.lru_cache(maxsize=1024)
def erlang_prediction(
    expected_calls: float, agents: int, aht_seconds: float, within_seconds: float
) -> ErlangPrediction:
    """Erlang C for one interval; all None when no call is expected. (Cached: a flat
    day asks the same question once per interval.)"""
    if expected_calls <= 0:
        return ErlangPrediction(None, None, None)
    if agents < 1:
        return ErlangPrediction(0.0, None, None)
    traffic = traffic_intensity(expected_calls, INTERVAL_SECONDS, aht_seconds)
    level = staffing_level(agents, traffic, aht_seconds, within_seconds)
    return ErlangPrediction(level.service_level, level.asa_seconds, level.occupancy)


@dataclass(frozen=True)
class IntervalRow:
    start: str  # "HH:MM"; past midnight the hours go on (24:00, 25:15...)
    agents: int  # rostered for the interval
    expected_calls: float  # 0 for the intervals the line drains in after the day
    offered: int  # arrivals
    answered: int
    answered_within: int
    abandoned: int
    short_abandoned: int
    service_level: float | None  # the ACD's, by its queue's formula
    asa_seconds: float | None
    occupancy: float | None  # agent busy time over staffed time; None: nobody staffed
    #: Mean absolute error of the wait estimated on arrival, over the calls answered in
    #: the interval that got an estimate; None when none did (or the ACD has no estimate).
    estimate_mae_seconds: float | None
    estimates: int
    #: Callers who asked for a callback in the interval; callback attempts that reached
    #: their callee, that did not, and callbacks dropped after their last failed try.
    callbacks_requested: int
    callbacks_connected: int
    callbacks_failed: int
    callbacks_dropped: int
    erlang_service_level: float | None
    erlang_asa_seconds: float | None
    erlang_occupancy: float | None


@dataclass(frozen=True)
class DayTotals:
    offered: int
    answered: int
    answered_within: int
    abandoned: int
    short_abandoned: int
    #: Calls that left the ACD otherwise (a queue limit sent them on).
    left_otherwise: int
    #: Callers still in line (waiting or ringing) when the simulation stopped: 0 once the
    #: line drained. offered = answered + abandoned + left_otherwise + unfinished.
    unfinished: int
    service_level: float | None
    asa_seconds: float | None
    occupancy: float | None
    staffed_agent_hours: float
    #: The least and the most occupied agent (of those staffed an hour or more): how
    #: evenly the strategy spreads the work.
    agent_occupancy_min: float | None
    agent_occupancy_max: float | None
    estimate_available: bool
    estimate_mae_seconds: float | None
    estimates: int
    callbacks_requested: int
    callbacks_connected: int
    callbacks_failed: int  # failed dial attempts, retried or not
    callbacks_dropped: int  # callbacks given up after their last failed attempt
    #: Mean seconds from a connected callback's first arrival to its callee's answer
    #: (not in the ASA, which counts live callers only); None: none connected.
    callback_delay_seconds: float | None
    #: Expected-call-weighted means of the intervals' predictions; ASA None when any
    #: interval with calls is unstable.
    erlang_service_level: float | None
    erlang_asa_seconds: float | None
    #: Where the simulation stopped ("HH:MM"): the first interval boundary after the day
    #: with no call left, or the end of the longest drain allowed.
    ended_at: str


@dataclass(frozen=True)
class DayReport:
    plan: dict[str, Any]
    intervals: tuple[IntervalRow, ...]
    day: DayTotals

    def view(self) -> dict[str, Any]:
        """The JSON shape: `plan`, `intervals` (rows) and `day` (totals)."""
        return {
            "plan": self.plan,
            "intervals": [asdict(row) for row in self.intervals],
            "day": asdict(self.day),
        }


@dataclass(frozen=True)
class Comparison:
    """Variants of one day, run on the same callers (same seed)."""

    variants: tuple[tuple[str, DayReport], ...]

    def view(self) -> dict[str, Any]:
        return {"variants": [{"name": name, **report.view()} for name, report in self.variants]}


def day_erlang(rows: Iterable[IntervalRow]) -> tuple[float | None, float | None]:
    """The day's Erlang C service level and ASA, weighted by expected calls."""
    weight = sl = asa = 0.0
    stable = True
    for row in rows:
        if row.expected_calls <= 0 or row.erlang_service_level is None:
            continue
        weight += row.expected_calls
        sl += row.expected_calls * row.erlang_service_level
        if row.erlang_asa_seconds is None:
            stable = False
        else:
            asa += row.expected_calls * row.erlang_asa_seconds
    if weight == 0:
        return None, None
    return sl / weight, (asa / weight if stable else None)


# ----- text -------------------------------------------------------------------------------


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _sec(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


_HEADER = (
    f"{'time':<5}  {'agents':>6}  {'exp':>5}  {'offered':>7}  {'answered':>8}  {'aband':>5}  "
    f"{'SL':>6}  {'ASA s':>6}  {'occ':>6}  {'EWT err':>7}  |  {'ErlC SL':>7}  {'ErlC ASA':>8}"
)


#: Columns shown when the day has callbacks: requested / connected / failed attempts /
#: dropped, in the interval.
_CALLBACK_HEADER = f"{'cb req':>6}  {'cb conn':>7}  {'cb fail':>7}  {'cb drop':>7}  "


def _header(callbacks: bool) -> str:
    if not callbacks:
        return _HEADER
    at = _HEADER.index("    SL")
    return _HEADER[:at] + _CALLBACK_HEADER + _HEADER[at:]


def _row_line(row: IntervalRow, callbacks: bool = False) -> str:
    extra = (
        f"{row.callbacks_requested:>6}  {row.callbacks_connected:>7}  "
        f"{row.callbacks_failed:>7}  {row.callbacks_dropped:>7}  "
        if callbacks
        else ""
    )
    return (
        f"{row.start:<5}  {row.agents:>6}  {row.expected_calls:>5.0f}  {row.offered:>7}  "
        f"{row.answered:>8}  {row.abandoned:>5}  {extra}{_pct(row.service_level):>6}  "
        f"{_sec(row.asa_seconds):>6}  {_pct(row.occupancy):>6}  "
        f"{_sec(row.estimate_mae_seconds):>7}  |  {_pct(row.erlang_service_level):>7}  "
        f"{_sec(row.erlang_asa_seconds):>8}"
    )


def plan_line(plan: dict[str, Any]) -> str:
    """One line of the inputs; a value the compared variants differ in reads "(varies)"."""
    patience = plan["patience_seconds"]
    target = plan["target"]
    share = f"{target:.0%}" if isinstance(target, int | float) else str(target)
    return (
        f"{_g(plan['calls'])} calls expected over {plan['profile']}, "
        f"{plan['handle_time']} talk, wrap-up {_g(plan['wrap_up_seconds'])} s, "
        f"patience {'infinite' if patience is None else f'{_g(patience)} s'}, "
        f"staff {plan['staffing']}, strategy {plan['strategy']}, seed {plan['seed']}; "
        f"target {share} within {_g(plan['answer_within_seconds'])} s" + _callback_words(plan)
    )


def _callback_words(plan: dict[str, Any]) -> str:
    after = plan.get("callback_after_seconds")
    if after is None:
        return ""
    rate = plan["callback_answer_rate"]
    answered = f"{rate:.0%}" if isinstance(rate, int | float) else str(rate)
    unit = "" if isinstance(after, str) else " s"
    return (
        f"; callback after {_g(after)}{unit}, {answered} of callees answer, "
        f"{plan['callback_retries']} retries {_g(plan['callback_retry_seconds'])} s apart"
    )


def _g(value: Any) -> str:
    return f"{value:g}" if isinstance(value, int | float) else str(value)


def _erlang_asa(d: DayTotals) -> str:
    if d.erlang_asa_seconds is not None:
        return f"{d.erlang_asa_seconds:.1f} s"
    if d.erlang_service_level is None:
        return "-"
    return "unbounded: some interval has no more agents than Erlangs"


def text_lines(report: DayReport) -> list[str]:
    d = report.day
    callbacks = report.plan.get("callback_after_seconds") is not None
    lines = [plan_line(report.plan), "", _header(callbacks)]
    lines += [_row_line(row, callbacks) for row in report.intervals]
    lines += [
        "",
        f"Day: {d.offered} offered, {d.answered} answered, {d.abandoned} abandoned "
        f"({d.short_abandoned} short)"
        + (f", {d.left_otherwise} left otherwise" if d.left_otherwise else "")
        + (
            f"; callbacks: {d.callbacks_requested} requested, {d.callbacks_connected} connected, "
            f"{d.callbacks_failed} failed attempts, {d.callbacks_dropped} dropped, "
            f"{_sec(d.callback_delay_seconds)} s from call to callback"
            if d.callbacks_requested
            else ""
        )
        + (f", {d.unfinished} still in line when the simulation stopped" if d.unfinished else "")
        + f"; ran until {d.ended_at}",
        f"Service level {_pct(d.service_level)} (Erlang C predicted "
        f"{_pct(d.erlang_service_level)}), ASA {_sec(d.asa_seconds)} s (Erlang C "
        f"{_erlang_asa(d)}), occupancy {_pct(d.occupancy)}, "
        f"{d.staffed_agent_hours:.1f} agent hours staffed",
        f"Agents' occupancy from {_pct(d.agent_occupancy_min)} to {_pct(d.agent_occupancy_max)}"
        " (agents staffed an hour or more)",
        "Wait estimate: "
        + (
            f"mean absolute error {_sec(d.estimate_mae_seconds)} s over {d.estimates} "
            "answered calls"
            if d.estimate_available
            else "unavailable (this ACD has no estimated_wait)"
        ),
    ]
    return lines


_DAY_FIGURES: tuple[tuple[str, str], ...] = (
    ("offered", "offered"),
    ("answered", "answered"),
    ("abandoned", "abandoned"),
    ("service level", "service_level"),
    ("Erlang C service level", "erlang_service_level"),
    ("ASA (s)", "asa_seconds"),
    ("Erlang C ASA (s)", "erlang_asa_seconds"),
    ("callbacks requested", "callbacks_requested"),
    ("callbacks connected", "callbacks_connected"),
    ("callback attempts failed", "callbacks_failed"),
    ("callbacks dropped", "callbacks_dropped"),
    ("callback delay (s)", "callback_delay_seconds"),
    ("occupancy", "occupancy"),
    ("least busy agent", "agent_occupancy_min"),
    ("busiest agent", "agent_occupancy_max"),
    ("agent hours", "staffed_agent_hours"),
    ("wait estimate MAE (s)", "estimate_mae_seconds"),
    ("ran until", "ended_at"),
)


def _figure(name: str, value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, str | int):
        return str(value)
    if "service_level" in name or "occupancy" in name:
        return f"{value:.1%}"
    return f"{value:.1f}"


def comparison_lines(comparison: Comparison) -> list[str]:
    """Day totals side by side, then per interval: agents, SL, ASA, abandons per variant.

    When a variant offers callbacks, the interval cells add the callbacks asked for and
    connected, since that is where a callback setting moves the load to.
    """
    names = [name for name, _ in comparison.variants]
    reports = [report for _, report in comparison.variants]
    width = max(12, *(len(n) for n in names))
    label = max(len(text) for text, _ in _DAY_FIGURES)
    common = dict(reports[0].plan)
    for key, value in common.items():
        if any(r.plan.get(key) != value for r in reports[1:]):
            common[key] = "(varies)"
    lines = [plan_line(common), ""]
    lines.append(f"{'':<{label}}  " + "  ".join(f"{n:>{width}}" for n in names))
    for text, attr in _DAY_FIGURES:
        cells = [_figure(attr, getattr(r.day, attr)) for r in reports]
        lines.append(f"{text:<{label}}  " + "  ".join(f"{c:>{width}}" for c in cells))
    callbacks = any(r.plan.get("callback_after_seconds") is not None for r in reports)
    columns = "agents / SL / ASA s / abandoned"
    columns += " / callbacks asked/connected" if callbacks else ""
    lines += ["", f"Per interval ({columns}):"]
    cell = 32 if callbacks else 24
    lines.append(f"{'time':<5}  {'exp':>5}  " + "  ".join(f"{n[:cell]:>{cell}}" for n in names))
    rows_by_start: dict[str, list[IntervalRow | None]] = {}
    for n, report in enumerate(reports):
        for row in report.intervals:
            rows_by_start.setdefault(row.start, [None] * len(reports))[n] = row
    for start, rows in rows_by_start.items():
        expected = max((r.expected_calls for r in rows if r is not None), default=0.0)
        cells = ["-" if r is None else _compared_cell(r, callbacks) for r in rows]
        lines.append(f"{start:<5}  {expected:>5.0f}  " + "  ".join(f"{c:>{cell}}" for c in cells))
    return lines


def _compared_cell(row: IntervalRow, callbacks: bool) -> str:
    cell = f"{row.agents} / {_pct(row.service_level)} / {_sec(row.asa_seconds)} / {row.abandoned}"
    if callbacks:
        cell += f" / {row.callbacks_requested}/{row.callbacks_connected}"
    return cell


# ----- JSON and CSV -----------------------------------------------------------------------


def to_json(view: dict[str, Any]) -> str:
    # allow_nan=False: a NaN or infinity would be invalid JSON; it is a bug, not output.
    return json.dumps(view, indent=2, allow_nan=False)


CSV_FIELDS = [f.name for f in fields(IntervalRow)]


def write_csv(out: TextIO, variants: Sequence[tuple[str, DayReport]]) -> None:
    """One line per interval (and variant, when there are several); empty cells for None."""
    named = len(variants) > 1
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow((["variant"] if named else []) + CSV_FIELDS)
    for name, report in variants:
        for row in report.intervals:
            values = ["" if v is None else v for v in asdict(row).values()]
            writer.writerow(([name] if named else []) + values)


def save_csv(path: Path, variants: Sequence[tuple[str, DayReport]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        write_csv(out, variants)
