"""`callcenter ivr check|walk`: exit codes, one-line errors, the printed path."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from callcenter.ivr.cli import add_commands, run
from tests.cli import command_parser, run_command
from tests.unit.ivr.conftest import DEMO_FILE, PRODUCTION_FILE, WriteFlow


def parser() -> argparse.ArgumentParser:
    return command_parser(add_commands)


def call(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    return run_command(add_commands, run, argv, capsys)


def test_check_the_demo_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = call(["ivr", "check", str(DEMO_FILE)], capsys)
    assert (code, err) == (0, "")
    assert "OK, 2 flows" in out and "helpdesk_zh (zh)" in out


def test_check_defaults_to_config_ivr_yaml(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(DEMO_FILE.parents[1])
    code, out, _ = call(["ivr", "check"], capsys)
    assert code == 0 and out.startswith("config/ivr.yaml: OK")


def test_check_a_broken_file_exits_2_with_one_line(
    write_flow: WriteFlow, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_flow("a: {kind: play, prompts: [hello], next: b}")
    code, out, err = call(["ivr", "check", str(path)], capsys)
    assert (code, out) == (2, "")
    assert err.startswith(f"callcenter ivr check: {path}, flow 'test', node 'a': ")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_check_a_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = call(["ivr", "check", str(tmp_path / "nope.yaml")], capsys)
    assert code == 2 and "nope.yaml" in err and err.count("\n") == 1


def test_check_with_another_catalogue(
    write_flow: WriteFlow, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_flow("a: {kind: message, prompts: [hello]}")
    other = tmp_path / "other.yaml"
    other.write_text("en:\n  prompts:\n    bye: {text: Bye.}\n")
    code, _, err = call(["ivr", "check", str(path), "--prompts", str(other)], capsys)
    assert code == 2 and "'hello'" in err


def test_walk_digits_2_hash(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = call(
        ["ivr", "walk", str(DEMO_FILE), "--digits", "2#", "--at", "2026-11-30T10:00"], capsys
    )
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].startswith("flow helpdesk (en)")
    assert "unknown caller, Mon 2026-11-30 10:00" in lines[0]
    nodes = [line.split()[0] for line in lines[1:] if not line.startswith((" ", "=>", "keys"))]
    assert nodes == [
        "welcome",
        "open_now",
        "vip_check",
        "incident_check",
        "main_menu",
        "hardware",
        "connect",
        "to_queue",
    ]
    assert "  plays main_menu" in lines
    assert "  waits 5 s for a key (timeout timer)" in lines
    assert "  key 2 -> hardware" in lines
    assert lines[-2] == (
        "=> enqueue: queue helpdesk, priority 0, skills hardware=1, attributes topic=hardware"
    )
    assert lines[-1] == "keys not used: #"


def test_walk_a_known_caller_with_an_incident_in_mandarin(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = call(
        [
            "ivr",
            "walk",
            str(DEMO_FILE),
            "--flow",
            "helpdesk_zh",
            "--caller",
            "vip",
            "--open-incident",
            "123",
            "--digits",
            "1",
        ],
        capsys,
    )
    assert code == 0
    assert "VIP caller with open incident 123" in out
    assert "  plays incident_intro digits/1 digits/2 digits/3 incident_options" in out
    assert (
        out.splitlines()[-1] == "=> enqueue: queue helpdesk, priority 10, attributes incident=123"
    )


def test_walk_closed_on_a_holiday_with_timeouts(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = call(["ivr", "walk", str(PRODUCTION_FILE), "--at", "2027-01-01T09:00"], capsys)
    assert code == 0
    assert "public holiday (New Year's Day)" in out
    assert "no key within 5 s" in out
    assert out.splitlines()[-1] == "=> hang up (message)"


def test_walk_wait_key_lets_the_timer_expire(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = call(["ivr", "walk", str(DEMO_FILE), "--digits", "..3"], capsys)
    assert out.count("no key within 5 s") == 2
    assert "skills software=1" in out.splitlines()[-1]


def test_walk_barge_in(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = call(["ivr", "walk", str(DEMO_FILE), "--digits", "3", "--barge-in"], capsys)
    assert "key 3 during the prompts" in out
    assert "plays main_menu" not in out
    assert "skills software=1" in out.splitlines()[-1]


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--digits", "2x"], "--digits"),
        (["--at", "monday"], "--at"),
        (["--flow", "nope"], "--flow"),
    ],
)
def test_walk_bad_options_exit_2(
    options: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = call(["ivr", "walk", str(DEMO_FILE), *options], capsys)
    assert (code, out) == (2, "")
    assert err.startswith(f"callcenter ivr walk: {named}: ") and err.count("\n") == 1


def test_walk_caller_choice_is_checked_by_argparse(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        parser().parse_args(["ivr", "walk", "--caller", "boss"])
    assert exited.value.code == 2
    assert "--caller" in capsys.readouterr().err
