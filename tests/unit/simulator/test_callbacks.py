"""Queued callbacks in the simulated day: requests, dialling, retries, the report and
`--compare-callback`."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from callcenter.acd import events as ev
from callcenter.acd.model import OverflowKind, OverflowTarget
from callcenter.simulator.cli import add_commands, build_plan, run
from callcenter.simulator.engine import compare, simulate
from callcenter.simulator.model import DayPlan, PlanError, default_queue
from callcenter.simulator.profile import ArrivalProfile
from callcenter.simulator.report import comparison_lines, text_lines
from tests.cli import command_parser, run_command
from tests.unit.simulator.test_engine import assert_one_call_per_agent

#: A short morning: 300 calls over two hours, peaking in the middle.
MORNING = ArrivalProfile(9 * 60, (2.0, 3.0, 4.0, 5.0, 5.0, 4.0, 3.0, 2.0))
#: 300 calls of 6 minutes in two hours is 15 Erlangs on average, 25 at the peak: 12
#: agents are short of it, so callers queue and give up.
UNDERSTAFFED = 12


def small(**changes: Any) -> DayPlan:
    return replace(DayPlan(calls=300, profile=MORNING, staffing=UNDERSTAFFED), **changes)


def events_of(plan: DayPlan) -> tuple[Any, list[ev.AcdEvent]]:
    seen: list[ev.AcdEvent] = []
    return simulate(plan, seen.append), seen


def count(seen: list[ev.AcdEvent], kind: type[ev.AcdEvent]) -> int:
    return sum(isinstance(e, kind) for e in seen)


def test_callbacks_are_deterministic_for_a_seed() -> None:
    plan = small(callback_after_seconds=30.0, seed=5)
    a, b = simulate(plan), simulate(plan)
    assert a == b
    assert a.day.callbacks_requested > 0
    assert simulate(replace(plan, seed=6)) != a


def test_callbacks_off_by_default_change_nothing() -> None:
    report = simulate(small())
    day = report.day
    assert small().callback_after_seconds is None
    assert day.callbacks_requested == day.callbacks_connected == 0
    assert day.callbacks_failed == day.callbacks_dropped == 0


def test_a_short_callback_threshold_turns_abandons_into_callbacks() -> None:
    off = simulate(small()).day
    report, seen = events_of(small(callback_after_seconds=20.0))
    on = report.day
    assert on.abandoned < off.abandoned
    assert on.callbacks_requested > 0 and on.callbacks_connected > 0
    # Asked after 20 s, the agent's phone rings 2 s, the callee answers 10 s after dialling.
    assert on.callback_delay_seconds is not None and on.callback_delay_seconds >= 32.0
    assert off.callback_delay_seconds is None
    # Same callers: every one is answered live, abandons, or asks for a callback.
    assert on.offered == off.offered
    assert on.unfinished == 0
    assert on.offered == on.answered + on.abandoned + on.callbacks_requested
    # A callback is connected or, after its last try, dropped.
    assert on.callbacks_requested == on.callbacks_connected + on.callbacks_dropped
    assert on.callbacks_requested == count(seen, ev.CallbackRequested)
    assert on.callbacks_connected == count(seen, ev.CallbackConnected)
    assert on.callbacks_failed == count(seen, ev.CallbackFailed)
    assert count(seen, ev.CallbackDialing) == on.callbacks_connected + on.callbacks_failed
    # Callbacks are never abandons: the interval rows add up to the day.
    assert sum(r.callbacks_requested for r in report.intervals) == on.callbacks_requested
    assert sum(r.callbacks_connected for r in report.intervals) == on.callbacks_connected
    assert sum(r.abandoned for r in report.intervals) == on.abandoned
    abandoned = {e.call_id for e in seen if isinstance(e, ev.CallAbandoned)}
    requested = {e.call_id for e in seen if isinstance(e, ev.CallbackRequested)}
    assert not abandoned & requested
    assert_one_call_per_agent(seen)


def test_a_callback_is_requested_after_the_threshold_by_a_caller_still_holding() -> None:
    _, seen = events_of(small(callback_after_seconds=45.0))
    arrived = {e.call_id: e.at for e in seen if isinstance(e, ev.CallEnqueued)}
    waits = [e.at - arrived[e.call_id] for e in seen if isinstance(e, ev.CallbackRequested)]
    assert waits and all(w == pytest.approx(45.0) for w in waits)
    # The callee's answer comes the dial delay after the agent took the callback.
    dialed = {(e.call_id, e.attempt): e.at for e in seen if isinstance(e, ev.CallbackDialing)}
    for e in seen:
        if isinstance(e, ev.CallbackConnected):
            attempt = max(a for c, a in dialed if c == e.call_id)
            assert e.at - dialed[(e.call_id, attempt)] == pytest.approx(10.0)


def test_no_callee_answers_every_callback_is_dropped_after_its_retries() -> None:
    queue = replace(default_queue(), callback_retries=1, callback_retry_seconds=60.0)
    plan = small(callback_after_seconds=20.0, callback_answer_rate=0.0, queue=queue)
    report, seen = events_of(plan)
    day = report.day
    assert day.callbacks_requested > 0
    assert day.callbacks_connected == 0 and count(seen, ev.CallbackConnected) == 0
    assert day.callbacks_dropped == day.callbacks_requested
    # A first try and one retry each, the retry no sooner than 60 s after the failure.
    assert day.callbacks_failed == 2 * day.callbacks_requested
    failed = [e for e in seen if isinstance(e, ev.CallbackFailed)]
    retries = {e.call_id: e.retry_at for e in failed if e.retry_at is not None}
    assert all(e.retry_at == pytest.approx(e.at + 60.0) for e in failed if e.attempt == 1)
    assert all(e.retry_at is None for e in failed if e.attempt == 2)
    for e in seen:
        if isinstance(e, ev.CallbackDialing) and e.attempt == 2:
            assert e.at >= retries[e.call_id]
    assert day.unfinished == 0


def test_every_callback_connects_when_every_callee_answers() -> None:
    day = simulate(small(callback_after_seconds=20.0, callback_answer_rate=1.0)).day
    assert day.callbacks_requested > 0
    assert day.callbacks_connected == day.callbacks_requested
    assert day.callbacks_failed == day.callbacks_dropped == 0


def test_an_overflow_to_a_callback_is_dialled_not_left_otherwise() -> None:
    queue = replace(
        default_queue(), max_waiting=3, overflow_target=OverflowTarget(OverflowKind.CALLBACK)
    )
    day = simulate(small(queue=queue)).day
    assert day.left_otherwise == 0
    assert day.callbacks_requested > 0 and day.callbacks_connected > 0
    assert day.offered == day.answered + day.abandoned + day.callbacks_requested


def test_the_report_shows_callbacks() -> None:
    report = simulate(small(callback_after_seconds=20.0))
    lines = text_lines(report)
    assert "callback after 20 s" in lines[0]
    assert "cb req" in lines[2]
    assert any(line.startswith("Day: ") and "callbacks: " in line for line in lines)
    view = report.view()
    assert view["day"]["callbacks_requested"] == report.day.callbacks_requested
    assert "callbacks_connected" in view["intervals"][0]


def test_comparing_callback_settings_meets_the_same_callers() -> None:
    comparison = compare(
        [
            ("off", small()),
            ("60", small(callback_after_seconds=60.0)),
            ("20", small(callback_after_seconds=20.0)),
        ]
    )
    days = [report.day for _, report in comparison.variants]
    assert len({d.offered for d in days}) == 1
    assert days[0].callbacks_requested == 0 < days[1].callbacks_requested
    assert days[1].callbacks_requested < days[2].callbacks_requested
    text = "\n".join(comparison_lines(comparison))
    assert "callbacks requested" in text and "callbacks connected" in text


def test_compared_intervals_show_where_callbacks_were_asked_and_connected() -> None:
    comparison = compare([("off", small()), ("20", small(callback_after_seconds=20.0))])
    lines = comparison_lines(comparison)
    start = lines.index(next(line for line in lines if line.startswith("Per interval")))
    assert "callbacks asked/connected" in lines[start]
    asked = connected = 0
    for line in lines[start + 2 :]:
        off, twenty = (cell.strip() for cell in line[14:].split("  ") if cell.strip())
        assert off == "-" or off.endswith(" / 0/0")  # the run without callbacks has none
        a, c = twenty.rsplit(" / ", 1)[1].split("/")
        asked, connected = asked + int(a), connected + int(c)
    day = comparison.variants[1][1].day
    assert (asked, connected) == (day.callbacks_requested, day.callbacks_connected) != (0, 0)


@pytest.mark.parametrize(
    ("changes", "parameter"),
    [
        ({"callback_after_seconds": -1.0}, "callback_after"),
        ({"callback_answer_rate": 1.5}, "callback_answer_rate"),
        ({"callback_answer_rate": float("nan")}, "callback_answer_rate"),
        ({"callback_dial_seconds": -2.0}, "callback_dial"),
    ],
)
def test_bad_callback_settings(changes: dict[str, Any], parameter: str) -> None:
    with pytest.raises(PlanError) as caught:
        small(**changes)
    assert caught.value.parameter == parameter


# ----- the command ----------------------------------------------------------------------------

QUICK = ["simulate", "--calls", "150", "--staff", "2"]


def call(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    return run_command(add_commands, run, argv, capsys)


def test_callback_options_reach_the_plan() -> None:
    parser = command_parser(add_commands)
    plan = build_plan(parser.parse_args(["simulate"]))
    assert plan.callback_after_seconds is None and plan.callback_answer_rate == 0.8
    args = ["simulate", "--callback-after", "45", "--callback-answer-rate", "0.5"]
    plan = build_plan(parser.parse_args([*args, "--callback-dial", "12"]))
    assert plan.callback_after_seconds == 45.0
    assert plan.callback_answer_rate == 0.5 and plan.callback_dial_seconds == 12.0


def test_compare_callback_lists_each_setting(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = call([*QUICK, "--compare-callback", "OFF,60,30"], capsys)
    assert code == 0
    header = next(line for line in out.splitlines() if "no callback" in line)
    assert "callback 60 s" in header and "callback 30 s" in header
    for label in ("service level", "ASA (s)", "abandoned", "callbacks requested"):
        assert any(line.startswith(label) for line in out.splitlines()), label
    assert any(line.startswith("callbacks connected") for line in out.splitlines())
    assert any(line.startswith("occupancy") for line in out.splitlines())
    assert "in 3 runs" in out.splitlines()[-1]


def test_compare_callback_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = call([*QUICK, "--compare-callback", "off,30", "--json"], capsys)
    assert code == 0
    variants = json.loads(out)["variants"]
    assert [v["name"] for v in variants] == ["no callback", "callback 30 s"]
    assert [v["plan"]["callback_after_seconds"] for v in variants] == [None, 30.0]


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["--callback-after", "soon"], "--callback-after"),
        (["--callback-after", "-5"], "--callback-after"),
        (["--callback-answer-rate", "2"], "--callback-answer-rate"),
        (["--callback-dial", "-1"], "--callback-dial"),
        (["--compare-callback", "30"], "--compare-callback"),
        (["--compare-callback", "OFF,none"], "--compare-callback"),
        (["--compare-callback", "30,x"], "--compare-callback"),
        (["--compare-agents", "1,2", "--compare-callback", "OFF,30"], "--compare-callback"),
    ],
)
def test_bad_callback_input_names_the_option(
    argv: list[str], option: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = call([*QUICK, *argv], capsys)
    assert code == 2 and out == ""
    assert err.startswith(f"callcenter simulate: {option}: "), err
