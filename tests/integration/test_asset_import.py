"""`callcenter import employees|devices` through the real command line, on SQLite and
PostgreSQL: reports with line numbers, nothing written on a problem, idempotent re-import."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select

from callcenter import cli
from callcenter.cmdb.import_cli import ProgressBar
from callcenter.db import models
from callcenter.tickets.store import SqlTicketStore

REPO = Path(__file__).resolve().parents[2]
COMMAND = (sys.executable, "-m", "callcenter")
EMPLOYEE_HEADER = ["Username", "Name", "Department", "Phones", "Email", "VIP"]
EMPLOYEES = [
    ["chenqiKJC", "Chen Qi", "KJC", "020-8888 1010; 138 0013 8001", "chenqi@x.example", "yes"],
    ["sunbaNET", "Sun Ba", "NET", "(020) 8888 3001", "", "no"],
]
DEVICE_HEADER = [
    "asset number",
    "device name",
    "kind",
    "model",
    "vendor",
    "serial",
    "purchase date",
    "warranty end",
    "status",
    "owner",
    "location",
]
DEVICES: list[list[Any]] = [
    [
        "0001COM0100",
        "KJC-COM-0100",
        "desktop",
        "OptiPlex 7010",
        "Dell",
        "S100",
        "2024-01-15",
        "2027-01-15",
        "in_use",
        "lisiKJC",
        "Building A, room 101",
    ],
    ["0001PRN0100", "KJC-PRN-0100", "printer", "", "", "", "", "", "", "", ""],
]


@pytest.fixture
def config(tmp_path: Path, demo_store: SqlTicketStore) -> Path:
    """A settings file pointing at the migrated demo database of the test."""
    url = demo_store.engine.url.render_as_string(hide_password=False)
    path = tmp_path / "callcenter.yaml"
    path.write_text(f"database:\n  url: {url!r}\nticketing:\n  default_region: CN\n")
    return path


async def _callcenter(
    config: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    """Run `callcenter --config CONFIG ARGV...` as the installed command does (its own
    event loop, so in a thread here)."""
    code = await asyncio.to_thread(cli.main, ["--config", str(config), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _xlsx(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


async def _count(store: SqlTicketStore, model: Any) -> int:
    async with store.write_transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_employees_are_imported_once_and_updated_by_username(
    demo_store: SqlTicketStore, config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = await _count(demo_store, models.Employee)
    path = _csv(tmp_path / "employees.csv", EMPLOYEE_HEADER, EMPLOYEES)

    code, out, _ = await _callcenter(config, ["import", "employees", str(path)], capsys)
    assert code == 0, out
    assert out.splitlines()[-1] == "employees: 2 rows, 2 created, 0 updated, 0 unchanged"
    chen = await demo_store.employee_by_username("chenqiKJC")
    assert chen is not None
    assert (chen.name, chen.department, chen.organisation, chen.vip) == (
        "Chen Qi",
        "KJC",
        "Demo Corp",
        True,
    )
    assert chen.phones == ("+862088881010", "+8613800138001")
    sun = await demo_store.employee_by_username("sunbaNET")
    assert sun is not None and sun.department == "NET"  # a new department
    assert [e.username for e in await demo_store.find_employees_by_phone("+862088883001")] == [
        "sunbaNET"
    ]

    code, out, _ = await _callcenter(config, ["import", "employees", str(path)], capsys)
    assert code == 0
    assert out.splitlines()[-1] == "employees: 2 rows, 0 created, 0 updated, 2 unchanged"

    changed = [[*EMPLOYEES[0][:3], "138 0013 8001; 020 8888 1011", "", "no"], EMPLOYEES[1]]
    path = _csv(tmp_path / "employees-2.csv", EMPLOYEE_HEADER, changed)
    code, out, _ = await _callcenter(config, ["import", "employees", str(path)], capsys)
    assert code == 0
    assert out.splitlines()[-1] == "employees: 2 rows, 0 created, 1 updated, 1 unchanged"
    chen = await demo_store.employee_by_username("chenqiKJC")
    assert chen is not None and not chen.vip
    assert set(chen.phones) == {"+8613800138001", "+862088881011"}
    assert await _count(demo_store, models.Employee) == before + 2


async def test_a_bad_employee_file_is_reported_by_line_and_nothing_is_written(
    demo_store: SqlTicketStore, config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        EMPLOYEES[0],
        ["wuliuKJC", "", "KJC", "12345", "not-an-address", "maybe"],
        ["chenqiKJC", "Chen Qi again", "KJC", "", "", ""],
    ]
    path = _csv(tmp_path / "employees.csv", EMPLOYEE_HEADER, rows)
    before = await _count(demo_store, models.Employee)
    code, out, _ = await _callcenter(config, ["import", "employees", str(path)], capsys)
    assert code == 1
    assert out.splitlines() == [
        "line 3: email: 'not-an-address' is not an e-mail address",
        "line 3: name: required",
        "line 3: phones: '12345' is not a valid number (CN)",
        "line 3: vip: 'maybe' is not yes or no",
        "line 4: username: 'chenqiKJC' already on line 2",
        "employees: 5 problems, nothing written",
    ]
    assert await _count(demo_store, models.Employee) == before
    assert await demo_store.employee_by_username("chenqiKJC") is None


async def test_devices_from_excel_dry_run_then_import_then_reimport(
    demo_store: SqlTicketStore, config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [list(DEVICES[0]), list(DEVICES[1])]
    rows[0][6], rows[0][7] = date(2024, 1, 15), date(2027, 1, 15)  # Excel date cells
    path = _xlsx(tmp_path / "devices.xlsx", DEVICE_HEADER, rows)
    before = await _count(demo_store, models.Device)

    code, out, _ = await _callcenter(config, ["import", "devices", "--dry-run", str(path)], capsys)
    assert code == 0
    assert out.splitlines() == [
        "devices: 2 rows, 2 created, 0 updated, 0 unchanged (dry run: nothing written)"
    ]
    assert await _count(demo_store, models.Device) == before

    code, out, _ = await _callcenter(config, ["import", "devices", str(path)], capsys)
    assert code == 0
    assert out.splitlines() == ["devices: 2 rows, 2 created, 0 updated, 0 unchanged"]
    async with demo_store.write_transaction() as session:
        device = await session.scalar(
            select(models.Device).where(models.Device.asset_tag == "0001COM0100")
        )
        assert device is not None
        owner = await session.get(models.Employee, device.owner_employee_id)
        assert owner is not None and owner.username == "lisiKJC"
        assert (device.name, device.type, device.purchase_date, device.location) == (
            "KJC-COM-0100",
            "desktop",
            date(2024, 1, 15),
            "Building A, room 101",
        )
        printer = await session.scalar(
            select(models.Device).where(models.Device.asset_tag == "0001PRN0100")
        )
        assert printer is not None and (printer.status, printer.model) == ("in_use", None)

    code, out, _ = await _callcenter(config, ["import", "devices", str(path)], capsys)
    assert out.splitlines() == ["devices: 2 rows, 0 created, 0 updated, 2 unchanged"]
    rows[1][9], rows[1][10] = "zhangsanKJC", "Room 2"
    path = _xlsx(tmp_path / "devices-2.xlsx", DEVICE_HEADER, rows)
    code, out, _ = await _callcenter(config, ["import", "devices", str(path)], capsys)
    assert out.splitlines() == ["devices: 2 rows, 0 created, 1 updated, 1 unchanged"]
    assert await _count(demo_store, models.Device) == before + 2


async def test_a_bad_device_file_is_reported_by_line_and_nothing_is_written(
    demo_store: SqlTicketStore, config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = DEVICES[0]
    rows = [
        good,
        ["0001COM0101", "KJC-COM-0101", "desktop", "", "", "", "2024-02-30", "", "", "", ""],
        ["1COM0102", "KJC-LAP-0102", "laptop", "", "", "", "", "", "", "", ""],
        ["0001COM0103", "KJC-COM-0104", "desktop", "", "", "", "", "", "", "", ""],
        ["0001COM0100", "CGS-COM-0100", "desktop", "", "", "", "", "", "broken", "", ""],
        ["0001COM0106", "KJC-COM-0106", "desktop", "", "", "", "", "", "", "nobodyKJC", ""],
        ["0001PRN0001", "KJC-PRN-0001", "printer", "", "", "", "", "", "", "", ""],
    ]
    path = _csv(tmp_path / "devices.csv", DEVICE_HEADER, rows)
    before = await _count(demo_store, models.Device)
    code, out, _ = await _callcenter(config, ["import", "devices", str(path)], capsys)
    assert code == 1
    lines = out.splitlines()
    assert lines[-1] == "devices: 7 problems, nothing written"
    assert lines[:-1] == [
        "line 3: purchase_date: '2024-02-30' is not a date (YYYY-MM-DD)",
        "line 4: asset_number: asset number '1COM0102' does not match "
        r"(?P<contract>\d{4})(?P<type>[A-Z]{3})(?P<serial>\d{4}): "
        r"the contract part '1' is not \d{4}",
        "line 5: device_name: device 'KJC-COM-0104' and asset '0001COM0103' disagree on "
        "type or serial",
        "line 6: asset_number: '0001COM0100' already on line 2",
        "line 6: status: 'broken' is not one of in_use, in_stock, in_repair, retired, lost",
        "line 7: owner: unknown employee 'nobodyKJC'",
        "line 8: device_name: 'KJC-PRN-0001' is asset 0000PRN0001's",
    ]
    assert await _count(demo_store, models.Device) == before


async def test_unreadable_files_and_headers(
    demo_store: SqlTicketStore, config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tmp_path / "devices.txt"
    text.write_text("asset number\n")
    code, out, err = await _callcenter(config, ["import", "devices", str(text)], capsys)
    assert (code, out) == (1, "")
    assert err.strip() == f"callcenter: import: {text}: not a .csv or .xlsx file"

    broken = tmp_path / "devices.xlsx"
    broken.write_bytes(b"not a zip")
    code, _, err = await _callcenter(config, ["import", "devices", str(broken)], capsys)
    assert code == 1 and "not a readable .xlsx file" in err

    path = _csv(tmp_path / "devices.csv", ["asset number", "colour"], [["0001COM0100", "red"]])
    code, out, _ = await _callcenter(config, ["import", "devices", str(path)], capsys)
    assert code == 1
    assert out.splitlines() == [
        "line 1: colour: unknown column",
        "line 1: device_name: required column missing",
        "line 1: kind: required column missing",
        "devices: 3 problems, nothing written",
    ]


async def test_employees_need_a_known_organisation_when_several_exist(
    demo_store: SqlTicketStore, config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with demo_store.write_transaction() as session:
        session.add(models.Organisation(name="Other Corp"))
    path = _csv(tmp_path / "employees.csv", EMPLOYEE_HEADER, EMPLOYEES[:1])
    code, out, _ = await _callcenter(config, ["import", "employees", str(path)], capsys)
    assert code == 1
    assert out.splitlines()[0] == "file: several organisations: name one with --organisation"
    code, out, _ = await _callcenter(
        config, ["import", "employees", "--organisation", "Other Corp", str(path)], capsys
    )
    assert code == 0, out
    chen = await demo_store.employee_by_username("chenqiKJC")
    assert chen is not None and chen.organisation == "Other Corp"


async def test_python_m_callcenter_import_is_the_installed_command(
    demo_store: SqlTicketStore, config: Path, tmp_path: Path
) -> None:
    """The command as operators run it, in its own process: the report and exit status."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLCENTER_")}
    bad = _csv(tmp_path / "bad.csv", EMPLOYEE_HEADER, [["chenqiKJC", "Chen Qi", "", "1", "", ""]])
    good = _csv(tmp_path / "good.csv", EMPLOYEE_HEADER, EMPLOYEES)
    answers = []
    for path in (bad, good):
        done = await asyncio.to_thread(
            subprocess.run,
            [*COMMAND, "--config", str(config), "import", "employees", str(path)],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        answers.append((done.returncode, done.stdout.splitlines()))
    assert answers == [
        (
            1,
            [
                "line 2: phones: '1' is not a valid number (CN)",
                "employees: 1 problem, nothing written",
            ],
        ),
        (0, ["employees: 2 rows, 2 created, 0 updated, 0 unchanged"]),
    ]
    assert await demo_store.employee_by_username("sunbaNET") is not None


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_draws_only_on_a_terminal() -> None:
    terminal = _Terminal()
    bar = ProgressBar("importing devices", terminal)
    for done in range(1, 5):
        bar(done, 4)
    assert terminal.getvalue().endswith("\rimporting devices [" + "#" * 30 + "] 4/4\n")
    assert "] 2/4" in terminal.getvalue()
    pipe = io.StringIO()
    ProgressBar("importing devices", pipe)(1, 1)
    assert pipe.getvalue() == ""
