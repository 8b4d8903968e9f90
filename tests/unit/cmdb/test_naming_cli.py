"""`callcenter naming check`: verdicts with the parts or the wrong part, exit 1 on a failure,
the configured standard (not the built-in one)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from callcenter.cmdb.naming import DEFAULT_STANDARD, NamingError, NamingStandard
from callcenter.cmdb.naming_cli import add_commands, check_names, run
from callcenter.settings import NamingSettings, Settings
from tests.cli import command_parser

ROOT = Path(__file__).resolve().parents[3]
COMMAND = (sys.executable, "-m", "callcenter")


def _run(
    argv: list[str], capsys: pytest.CaptureFixture[str], settings: Settings | None = None
) -> tuple[int, list[str], str]:
    code = run(command_parser(add_commands).parse_args(argv), settings or Settings())
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def test_good_names_print_their_parts_and_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["naming", "check", "0000COM1234", "KJC-PRN-0001", "zhangsanKJC"], capsys)
    assert code == 0
    assert out == [
        "ok    asset number 0000COM1234: contract 0000, type COM (desktop computer), serial 1234",
        "ok    device name KJC-PRN-0001: department KJC, type PRN (printer), serial 0001",
        "ok    user name zhangsanKJC: name zhangsan, department KJC",
    ]


def test_a_bad_name_says_which_part_is_wrong_and_exits_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = _run(["naming", "check", "0000COM1234", "KJC-XYZ-1234", "0000COM12"], capsys)
    assert code == 1
    assert out[0].startswith("ok    asset number 0000COM1234")
    assert out[1] == (
        "FAIL  device name KJC-XYZ-1234: 'KJC-XYZ-1234': unknown device type 'XYZ'"
        " (known: COM, LAP, MON, NET, PHN, PRN, SCN, SOF, SRV)"
    )
    assert out[2].startswith("FAIL  asset number 0000COM12: asset number '0000COM12' does not")
    assert out[2].endswith(r"the serial part '12' is not \d{4}")


@pytest.mark.parametrize(
    ("value", "kind"),
    [("KJC-COM_1234", "device"), ("12AB", "asset"), ("Zhang San", "user")],
)
def test_a_bare_name_that_follows_nothing_is_judged_as_what_it_looks_like(
    value: str, kind: str
) -> None:
    [verdict] = check_names(NamingSettings(), [(None, value)])
    assert (verdict.kind, verdict.ok) == (kind, False)


def test_the_kind_options_force_the_kind(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        ["naming", "check", "--device", "0000COM1234", "--user", "lisiKJC", "--asset", "x"],
        capsys,
    )
    assert code == 1
    assert [line.split()[:2] for line in out] == [
        ["FAIL", "asset"],
        ["FAIL", "device"],
        ["ok", "user"],
    ]


def test_the_configured_standard_is_the_one_checked(capsys: pytest.CaptureFixture[str]) -> None:
    naming = NamingSettings(
        device_pattern=r"(?P<department>[A-Z]{3})_(?P<type>[A-Z]{2})_(?P<serial>\d{3})",
        device_types={"PC": "desktop"},
        departments=["KJC"],
    )
    settings = Settings.model_validate({"ticketing": {"naming": naming.model_dump()}})
    argv = ["naming", "check", "KJC_PC_001", "CGS_PC_001", "KJC-COM-0001"]
    code, out, _ = _run(argv, capsys, settings)
    assert code == 1
    assert out[0] == "ok    device name KJC_PC_001: department KJC, type PC (desktop), serial 001"
    assert out[1] == "FAIL  device name CGS_PC_001: 'CGS_PC_001': unknown department 'CGS'"
    assert out[2].startswith("FAIL  device name KJC-COM-0001: device name 'KJC-COM-0001' does not")


def test_nothing_to_check_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["naming", "check"], capsys)
    assert (code, out) == (2, [])
    assert "give at least one NAME" in err


def test_the_installed_command(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("ticketing:\n  naming:\n    departments: [KJC]\n")
    argv = ["naming", "check", "--user", "lisiKJC", "--user", "lisiCGS"]
    done = subprocess.run(
        [*COMMAND, "--config", str(config), *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines() == [
        "ok    user name lisiKJC: name lisi, department KJC",
        "FAIL  user name lisiCGS: 'lisiCGS': unknown department 'CGS'",
    ]


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("1COM0102", r"the contract part '1' is not \d{4}"),
        ("0000com1234", "the type part 'com' is not [A-Z]{3}"),
        ("0000COM", r"the serial part is missing, wanted \d{4}"),
    ],
)
def test_naming_errors_name_the_wrong_part(text: str, hint: str) -> None:
    with pytest.raises(NamingError) as info:
        DEFAULT_STANDARD.parse_asset_number(text)
    assert str(info.value).endswith(hint)


def test_no_part_is_blamed_when_a_separator_is_wrong() -> None:
    with pytest.raises(NamingError) as info:
        NamingStandard().parse_device_name("KJC_COM_1234")
    assert str(info.value).endswith(r"(?P<serial>\d{4})")
