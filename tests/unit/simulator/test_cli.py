"""`callcenter simulate`: argparse wiring, outputs, comparisons and bad input."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest

from callcenter.acd.model import Strategy
from callcenter.simulator.cli import add_commands, build_plan, run
from tests.cli import command_parser, run_command

#: A quick day: 150 calls over the default profile.
QUICK = ["simulate", "--calls", "150"]
SPEED = re.compile(r"^\d+ calls simulated( in \d+ runs)? in \d+\.\d s \(\d+ calls/s\)$")


def parser() -> argparse.ArgumentParser:
    return command_parser(add_commands)


def call(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    return run_command(add_commands, run, argv, capsys)


def test_defaults_are_the_issues_day() -> None:
    plan = build_plan(parser().parse_args(["simulate"]))
    assert plan.calls == 3000
    assert plan.profile.describe() == "08:30-17:30"
    assert (plan.handle_time.mean_seconds, plan.handle_time.cv) == (360.0, 0.8)
    assert plan.handle_time.kind == "lognormal"
    assert plan.patience_seconds == 180.0
    assert plan.staffing == "erlang"
    assert plan.answer_delay_seconds == 2.0
    assert plan.queue.strategy is Strategy.LONGEST_IDLE
    assert (plan.queue.service_level_seconds, plan.queue.service_level_target) == (20.0, 0.8)
    assert plan.tick_seconds is None


def test_options_reach_the_plan() -> None:
    args = parser().parse_args(
        [
            *QUICK,
            "--aht", "240", "--aht-cv", "1.2", "--handle-time", "exponential",
            "--patience", "inf", "--staff", "7", "--strategy", "round-robin",
            "--answer-delay", "4", "--wrap-up", "30", "--answer-within", "30",
            "--target", "0.9", "--short-abandon", "3", "--ring-timeout", "20",
            "--tick", "1", "--seed", "42",
        ]
    )  # fmt: skip
    plan = build_plan(args)
    assert plan.handle_time.mean_seconds == 240.0 and plan.handle_time.kind == "exponential"
    assert plan.patience_seconds is None and plan.staffing == 7
    assert plan.queue.strategy is Strategy.ROUND_ROBIN
    assert plan.queue.wrap_up_seconds == 30.0 and plan.queue.ring_timeout_seconds == 20.0
    assert plan.queue.service_level_target == 0.9 and plan.queue.short_abandon_seconds == 3.0
    assert (plan.answer_delay_seconds, plan.tick_seconds, plan.seed) == (4.0, 1.0, 42)


def test_text_report_and_speed(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = call(QUICK, capsys)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].startswith("150 calls expected over 08:30-17:30")
    assert any(line.startswith("08:30") for line in lines)
    assert SPEED.match(lines[-1]), lines[-1]


def test_json_is_one_object_and_the_speed_goes_to_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = call([*QUICK, "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert {"intervals", "day"} <= set(data)
    assert data["day"]["offered"] == sum(row["offered"] for row in data["intervals"])
    assert SPEED.match(err.strip())


def test_csv_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "day.csv"
    code, _, _ = call([*QUICK, "--csv", str(target)], capsys)
    assert code == 0
    lines = target.read_text().splitlines()
    assert lines[0].startswith("start,agents,expected_calls,offered")
    assert lines[1].startswith("08:30,")


def test_profile_and_staff_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    profile = tmp_path / "profile.yaml"
    profile.write_text("'09:00': 1\n'09:15': 3\n'09:30': 1\n")
    staff = tmp_path / "staff.csv"
    staff.write_text("start,agents\n09:00,2\n09:15,5\n09:30,2\n")
    argv = [*QUICK, "--profile", str(profile), "--staff", str(staff), "--json"]
    code, out, _ = call(argv, capsys)
    assert code == 0
    data = json.loads(out)
    assert data["plan"]["profile"] == "09:00-09:45"
    assert [row["agents"] for row in data["intervals"][:3]] == [2, 5, 2]


def test_compare_strategies(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = call([*QUICK, "--compare-strategy", "longest_idle,round_robin"], capsys)
    assert code == 0
    assert "longest_idle" in out and "round_robin" in out
    assert SPEED.match(out.splitlines()[-1])
    assert "in 2 runs" in out.splitlines()[-1]


def test_compare_agents_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = call([*QUICK, "--compare-agents", "3,6", "--json"], capsys)
    assert code == 0
    names = [v["name"] for v in json.loads(out)["variants"]]
    assert names == ["3 agents", "6 agents"]


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["--calls", "many"], "--calls"),
        (["--calls", "0"], "--calls"),
        (["--calls", "nan"], "--calls"),
        (["--aht", "-3"], "--aht"),
        (["--aht-cv", "0"], "--aht-cv"),
        (["--handle-time", "weibull"], "--handle-time"),
        (["--patience", "-1"], "--patience"),
        (["--patience", "soon"], "--patience"),
        (["--staff", "plenty"], "--staff"),
        (["--staff", "-4"], "--staff"),
        (["--strategy", "telepathy"], "--strategy"),
        (["--answer-delay", "15"], "--answer-delay"),
        (["--wrap-up", "-1"], "--wrap-up"),
        (["--target", "1.5"], "--target"),
        (["--target", "1"], "--target"),  # Erlang C staffing needs a share below 1
        (["--ring-timeout", "0"], "--ring-timeout"),
        (["--tick", "0"], "--tick"),
        (["--seed", "1.5"], "--seed"),
        (["--profile", "/nonexistent/profile.csv"], "--profile"),
        (["--compare-agents", "20"], "--compare-agents"),
        (["--compare-agents", "20,x"], "--compare-agents"),
        (["--compare-agents", "20,20"], "--compare-agents"),
        (["--compare-strategy", "longest_idle,telepathy"], "--compare-strategy"),
        (["--compare-strategy", "a,b", "--compare-agents", "1,2"], "--compare-agents"),
        (["--csv", "/nonexistent/dir/day.csv"], "--csv"),
    ],
)
def test_bad_input_is_one_line_naming_the_option(
    argv: list[str], option: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = call([*QUICK, *argv], capsys)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"callcenter simulate: {option}: "), err


def test_a_staff_file_must_cover_the_profile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    staff = tmp_path / "staff.csv"
    staff.write_text("08:30,3\n")
    code, _, err = call([*QUICK, "--staff", str(staff)], capsys)
    assert code == 2 and "no agent count for 08:45" in err
    staff.write_text("\n".join(f"{h:02d}:{m:02d},3" for h in range(8, 18) for m in (0, 15, 30, 45)))
    code, _, err = call([*QUICK, "--staff", str(staff)], capsys)
    assert code == 2 and "outside the arrival profile" in err
    staff.write_text(
        "\n".join(f"{h:02d}:{m:02d},2.5" for h in range(8, 18) for m in (0, 15, 30, 45))
    )
    code, _, err = call([*QUICK, "--staff", str(staff)], capsys)
    assert code == 2 and "whole number" in err
