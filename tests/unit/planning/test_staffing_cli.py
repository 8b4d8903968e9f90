"""`callcenter staffing erlang|plan`: argparse wiring, text, JSON, plot and errors."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from callcenter.planning.cli import add_commands, run
from callcenter.planning.erlang import Workload, required_agents, requirement_view
from callcenter.planning.sizing import Client, plan_desk, plan_view
from tests.cli import command_parser, run_command

REPO = Path(__file__).resolve().parents[2]
WORKED = [
    "staffing",
    "erlang",
    "--calls",
    "100",
    "--interval-minutes",
    "30",
    "--aht",
    "180",
    "--answer-within",
    "20",
    "--target",
    "0.8",
]
CASE_STUDY = ["staffing", "plan", "--pcs", "2600", "--printers", "800"]


def parser() -> argparse.ArgumentParser:
    return command_parser(add_commands)


def call(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    return run_command(add_commands, run, argv, capsys)


def call_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> Any:
    code, out, err = call([*argv, "--json"], capsys)
    assert (code, err) == (0, "")
    return json.loads(out)


# ----- erlang -------------------------------------------------------------------------------


def test_erlang_prints_the_count_and_a_table_around_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = call([*WORKED, "--shrinkage", "0.3"], capsys)
    assert (code, err) == (0, "")
    assert "10.00 Erlangs" in out
    assert "Agents needed: 14 (service level 88.8%, ASA 7.8 s, occupancy 71.4%" in out
    assert "Scheduled after 30% shrinkage: 20" in out
    rows = [line.split() for line in out.splitlines() if line[:6].strip().isdigit()]
    assert [int(row[0]) for row in rows] == list(range(11, 18))
    needed = [row for row in rows if "<-" in row]
    assert len(needed) == 1 and needed[0][:2] == ["14", "88.8%"]
    assert rows[2] == ["13", "79.6%", "17.1", "76.9%", "28.5%"]


def test_erlang_json_has_the_chosen_count_and_the_table(
    capsys: pytest.CaptureFixture[str],
) -> None:
    view = call_json([*WORKED, "--shrinkage", "0.3"], capsys)
    assert view["agents"] == 14
    assert view["service_level"] == pytest.approx(0.8884, abs=5e-5)
    assert view["asa_seconds"] == pytest.approx(7.84, abs=0.005)
    assert view["occupancy"] == pytest.approx(10 / 14)
    assert view["wait_probability"] == pytest.approx(0.1741, abs=5e-5)
    assert view["scheduled_agents"] == 20
    assert [row["agents"] for row in view["table"]] == list(range(11, 18))
    assert set(view["table"][0]) >= {"agents", "service_level", "asa_seconds", "occupancy"}
    expected = requirement_view(required_agents(Workload(100, 30, 180, 20, 0.8, 0.3)))
    assert view == json.loads(json.dumps(expected))


def test_erlang_without_shrinkage_schedules_the_agents_on_the_phones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    view = call_json(WORKED, capsys)
    assert view["scheduled_agents"] == view["agents"] == 14


def test_erlang_occupancy_cap(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = call([*WORKED, "--max-occupancy", "0.7"], capsys)
    assert code == 0
    assert "Agents needed: 15" in out
    assert "set by the 70% occupancy cap" in out
    assert call_json([*WORKED, "--max-occupancy", "0.85"], capsys)["agents"] == 14


# ----- plan ---------------------------------------------------------------------------------


def test_plan_prints_rule_of_thumb_next_to_erlang_c(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = call(CASE_STUDY, capsys)
    assert (code, err) == (0, "")
    assert "4160.0 a month, 198.1 a working day" in out

    def row(name: str) -> list[str]:
        return next(line.split() for line in out.splitlines() if line.startswith(name))

    assert row("phone agents, rule of thumb")[5:7] == ["7.92", "8"]
    erlang_rows = [line.split() for line in out.splitlines() if "Erlang C  " in line]
    assert [r[4] for r in erlang_rows] == ["5", "8"]
    assert row("on-site engineers")[2:4] == ["9.90", "10"]
    assert row("maintenance engineers")[2:4] == ["2.59", "3"]
    assert "arrive evenly over the service hours" in out


def test_plan_options_reach_the_plan(capsys: pytest.CaptureFixture[str]) -> None:
    view = call_json(
        [
            *CASE_STUDY,
            "--peripherals",
            "100",
            "--working-days",
            "20",
            "--service-hours",
            "8",
            "--aht",
            "300",
            "--answer-within",
            "30",
            "--target",
            "0.8",
            "--shrinkage",
            "0.25",
            "--max-occupancy",
            "0.85",
            "--pc-interval-months",
            "3",
            "--peripheral-interval-months",
            "6",
        ],
        capsys,
    )
    assert view["inputs"] == {
        "pcs": 2600,
        "printers": 800,
        "peripherals": 100,
        "working_days": 20,
        "service_hours": 8,
        "pc_interval_months": 3,
        "peripheral_interval_months": 6,
        "aht_seconds": 300,
        "answer_within_seconds": 30,
        "target": 0.8,
        "shrinkage": 0.25,
        "max_occupancy": 0.85,
    }
    assert view["maintenance"]["peripherals_serviced_per_day"] == pytest.approx(900 / 120)


def test_plan_json_is_the_plan_view(capsys: pytest.CaptureFixture[str]) -> None:
    view = call_json(CASE_STUDY, capsys)
    assert view == json.loads(json.dumps(plan_view(plan_desk(Client(pcs=2600, printers=800)))))
    assert view["phone_agents"]["erlang_c"]["agents"] == 5


def test_plan_plot_writes_a_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "service-level.png"
    view = call_json([*CASE_STUDY, "--plot", str(target)], capsys)  # stdout stays pure JSON
    assert view["phone_agents"]["erlang_c"]["agents"] == 5
    data = target.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 5_000  # axes, curve and labels, not an empty canvas


# ----- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        ([*WORKED, "--interval-minutes", "0"], "--interval-minutes"),
        ([*WORKED, "--aht", "0"], "--aht"),
        ([*WORKED, "--answer-within", "-1"], "--answer-within"),
        ([*WORKED, "--target", "80"], "--target"),
        ([*WORKED, "--shrinkage", "1"], "--shrinkage"),
        ([*WORKED, "--max-occupancy", "1.5"], "--max-occupancy"),
        ([*WORKED, "--calls", "nan"], "--calls"),
        ([*WORKED, "--calls", "1e9"], "--calls"),
        ([*CASE_STUDY, "--pcs", "0"], "--pcs"),
        ([*CASE_STUDY, "--printers", "-1"], "--printers"),
        ([*CASE_STUDY, "--working-days", "40"], "--working-days"),
        ([*CASE_STUDY, "--service-hours", "0"], "--service-hours"),
        ([*CASE_STUDY, "--pc-interval-months", "0"], "--pc-interval-months"),
        ([*CASE_STUDY, "--peripheral-interval-months", "-1"], "--peripheral-interval-months"),
        ([*CASE_STUDY, "--target", "1"], "--target"),
        ([*CASE_STUDY, "--plot", "plot.svg"], "--plot"),
    ],
)
def test_bad_values_name_the_option_and_exit_2(
    argv: list[str], option: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = call(argv, capsys)
    assert code == 2
    assert out == ""
    assert err.startswith(f"callcenter staffing {argv[1]}: {option}: ")
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_unwritable_plot_names_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = call([*CASE_STUDY, "--plot", str(tmp_path / "no-dir" / "x.png")], capsys)
    assert (code, out) == (2, "")
    assert err.startswith("callcenter staffing plan: --plot: cannot write ")


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (WORKED[:2], "--calls"),
        ([*WORKED, "--calls", "many"], "--calls"),
        (CASE_STUDY[:4], "--printers"),
        ([*CASE_STUDY, "--pcs", "2.5"], "--pcs"),
        (["staffing"], "erlang"),
    ],
)
def test_unparsable_arguments_are_argparse_usage_errors(
    argv: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        parser().parse_args(argv)
    assert exited.value.code == 2
    assert named in capsys.readouterr().err


# ----- the real command -----------------------------------------------------------------------


def test_python_m_callcenter_staffing_erlang_json() -> None:
    """Through `callcenter.cli`: passes once the lead wires `add_commands` and `run` there."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLCENTER_")}
    done = subprocess.run(
        [sys.executable, "-m", "callcenter", *WORKED, "--shrinkage", "0.3", "--json"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    view = json.loads(done.stdout)
    assert (view["agents"], view["scheduled_agents"]) == (14, 20)
    assert view["service_level"] == pytest.approx(0.8884, abs=5e-5)
