"""The deployment's naming standard (`ticketing.naming`) where names enter, on SQLite and
PostgreSQL: the CMDB REST item creation and PATCH (400 naming the field, or `warnings`),
the survey import (`callcenter import`, problems or warning lines), and the demo data."""

from __future__ import annotations

import asyncio
import csv
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from pytest_aiohttp import AiohttpClient
from sqlalchemy import select

from callcenter import cli
from callcenter.acd.acd import Acd
from callcenter.acd.model import QueueSettings
from callcenter.acd_store import LocalAcdStore
from callcenter.api import ApiDeps, build_app
from callcenter.api import cmdb as cmdb_api
from callcenter.auth.tokens import TokenSigner
from callcenter.clock import ManualClock
from callcenter.cmdb.naming import DEFAULT_STANDARD, NamingError, NamingPolicy
from callcenter.db import models
from callcenter.demo import load_demo_repair
from callcenter.settings import NamingSettings
from callcenter.tickets.store import SqlTicketStore
from tests.integration.harness import Server
from tests.integration.test_api import QUEUE, SECRET, Desk
from tests.integration.test_kb_api import problem_field

TODAY = date.today()
KNOWN = "(known: COM, LAP, MON, NET, PHN, PRN, SCN, SOF, SRV)"
NEW_ITEM = {"asset_tag": "0000COM0042", "name": "KJC-COM-0042", "type": "desktop"}


@pytest.fixture
def demo_day() -> date:
    """The demo data is dated from the same day as the desk's clock."""
    return TODAY


async def _desk(
    aiohttp_client: AiohttpClient, store: SqlTicketStore, policy: NamingPolicy | None
) -> Desk:
    clock = ManualClock(datetime.combine(TODAY, time(12), tzinfo=UTC).timestamp())
    acd = Acd([QueueSettings(QUEUE, wrap_up_seconds=0)], clock, lambda event: None)
    tokens = TokenSigner(SECRET, 3600 * 24 * 30, clock)
    deps = ApiDeps(
        acd_store=LocalAcdStore(acd),
        store=store,
        tokens=tokens,
        registry=CollectorRegistry(),
        clock=clock,
        ready=lambda: True,
    )
    app = build_app(deps)
    if policy is not None:
        app[cmdb_api.NAMING] = policy
    return Desk(await aiohttp_client(app), acd, store, clock, tokens)


@pytest.fixture
async def rejecting(aiohttp_client: AiohttpClient, demo_store: SqlTicketStore) -> Desk:
    """The default standard, enforced, as when nothing is configured."""
    return await _desk(aiohttp_client, demo_store, None)


@pytest.fixture
async def warning(aiohttp_client: AiohttpClient, demo_store: SqlTicketStore) -> Desk:
    return await _desk(aiohttp_client, demo_store, NamingSettings(enforce="warn").policy())


async def _send(desk: Desk, method: str, path: str, body: Any = None) -> tuple[int, str, Any]:
    resp = await desk.client.request(method, path, json=body, headers=await desk.auth("sue"))
    return resp.status, resp.content_type, await resp.json()


async def _id_of(desk: Desk, name: str) -> int | None:
    async with desk.store.write_transaction() as session:
        return await session.scalar(select(models.Device.id).where(models.Device.name == name))


async def _rejected(desk: Desk, method: str, path: str, body: Any, field: str) -> str:
    status, content_type, reply = await _send(desk, method, path, body)
    assert status == 400, reply
    assert problem_field(status, content_type, reply) == field
    assert reply["code"] == "naming_standard"
    assert "\n" not in reply["detail"]
    return str(reply["detail"])


async def test_rejected_names_are_400_naming_the_field(rejecting: Desk) -> None:
    bad_type = {**NEW_ITEM, "name": "KJC-XYZ-0042"}
    detail = await _rejected(rejecting, "POST", "/api/v1/items", bad_type, "name")
    assert detail == f"'KJC-XYZ-0042': unknown device type 'XYZ' {KNOWN}"
    bad_tag = {**NEW_ITEM, "asset_tag": "42COM0042"}
    detail = await _rejected(rejecting, "POST", "/api/v1/items", bad_tag, "asset_tag")
    assert detail.endswith(r"the contract part '42' is not \d{4}")
    disagree = {**NEW_ITEM, "name": "KJC-COM-0043"}
    detail = await _rejected(rejecting, "POST", "/api/v1/items", disagree, "name")
    assert "disagree on type or serial" in detail
    assert await _id_of(rejecting, "KJC-XYZ-0042") is None
    assert await _id_of(rejecting, "KJC-COM-0043") is None

    status, _, item = await _send(rejecting, "POST", "/api/v1/items", NEW_ITEM)
    assert status == 201, item
    assert (item["asset_tag"], item["name"], item["category"]) == (
        "0000COM0042",
        *["KJC-COM-0042", "pc"],
    )
    assert item["department"] == "KJC" and "warnings" not in item
    path = f"/api/v1/items/{item['id']}"

    await _rejected(rejecting, "PATCH", path, {"asset_tag": "0000COM42"}, "asset_tag")
    detail = await _rejected(rejecting, "PATCH", path, {"name": "KJC-COM-0044"}, "name")
    assert "disagree on type or serial" in detail
    detail = await _rejected(rejecting, "PATCH", path, {"asset_tag": "0001COM0045"}, "asset_tag")
    assert "disagree on type or serial" in detail
    status, _, same = await _send(rejecting, "GET", path)
    assert (same["asset_tag"], same["name"]) == ("0000COM0042", "KJC-COM-0042")

    renamed = {"asset_tag": "0001LAP0050", "name": "CGS-LAP-0050"}
    status, _, item = await _send(rejecting, "PATCH", path, renamed)
    assert status == 200, item
    assert (item["asset_tag"], item["name"], item["department"]) == (*renamed.values(), "CGS")
    taken = {"name": "KJC-COM-0001", "asset_tag": "0000COM0001"}
    status, content_type, reply = await _send(rejecting, "PATCH", path, taken)
    assert status == 409 and problem_field(status, content_type, reply) == "asset_tag"


async def test_warned_names_are_kept_with_warnings(warning: Desk) -> None:
    odd = {**NEW_ITEM, "asset_tag": "A-42", "name": "kjc-pc-42"}
    status, _, item = await _send(warning, "POST", "/api/v1/items", odd)
    assert status == 201, item
    assert [w["field"] for w in item["warnings"]] == ["asset_tag", "name"]
    assert item["warnings"][0]["message"].startswith("asset number 'A-42' does not match")
    assert item["name"] == "kjc-pc-42"
    path = f"/api/v1/items/{item['id']}"
    status, _, stored = await _send(warning, "GET", path)
    assert stored["asset_tag"] == "A-42" and "warnings" not in stored

    status, _, item = await _send(warning, "PATCH", path, {"name": "KJC-XYZ-0042"})
    assert status == 200, item
    assert item["name"] == "KJC-XYZ-0042"
    assert item["warnings"] == [
        {
            "field": "name",
            "message": "'KJC-XYZ-0042': unknown device type 'XYZ' (known: COM, LAP, MON,"
            " NET, PHN, PRN, SCN, SOF, SRV)",
        }
    ]
    status, _, item = await _send(warning, "PATCH", path, {"asset_tag": "0000COM0042"})
    assert status == 200 and "warnings" not in item  # the stored name's breach is not re-told
    status, _, item = await _send(warning, "PATCH", path, {"name": "KJC-COM-0042"})
    assert status == 200 and "warnings" not in item
    # Other client errors still refuse the change.
    status, content_type, reply = await _send(warning, "PATCH", path, {"name": None})
    assert status == 400 and problem_field(status, content_type, reply) == "name"


async def test_the_configured_standard_is_the_one_enforced(
    aiohttp_client: AiohttpClient, demo_store: SqlTicketStore
) -> None:
    naming = NamingSettings(departments=["KJC"], device_types={"COM": "desktop"})
    desk = await _desk(aiohttp_client, demo_store, naming.policy())
    detail = await _rejected(
        desk, "POST", "/api/v1/items", {**NEW_ITEM, "name": "CGS-COM-0042"}, "name"
    )
    assert detail == "'CGS-COM-0042': unknown department 'CGS'"
    printer = {"asset_tag": "0000PRN0042", "name": "KJC-PRN-0042", "type": "printer"}
    detail = await _rejected(desk, "POST", "/api/v1/items", printer, "asset_tag")
    assert "unknown device type 'PRN'" in detail
    status, _, item = await _send(desk, "POST", "/api/v1/items", NEW_ITEM)
    assert status == 201, item


async def test_the_demo_data_follows_the_default_standard(demo_store: SqlTicketStore) -> None:
    await load_demo_repair(demo_store, TODAY)
    async with demo_store.write_transaction() as session:
        usernames = list(await session.scalars(select(models.Employee.username)))
        devices = (await session.execute(select(models.Device.asset_tag, models.Device.name))).all()
        departments = set(await session.scalars(select(models.Department.code)))
    assert usernames and devices
    for username in usernames:
        user = DEFAULT_STANDARD.parse_user_name(username)
        assert user.department in departments, username
    for asset_tag, name in devices:
        DEFAULT_STANDARD.check_device(asset_tag, name)
    with pytest.raises(NamingError):  # the check can fail
        DEFAULT_STANDARD.check_device("0000COM0001", "KJC-PRN-0001")


# -- the import -------------------------------------------------------------------------------

EMPLOYEE_HEADER = ["username", "name", "department"]
DEVICE_HEADER = ["asset number", "device name", "kind"]


def _config(tmp_path: Path, store: SqlTicketStore, naming: str) -> Path:
    url = store.engine.url.render_as_string(hide_password=False)
    path = tmp_path / "callcenter.yaml"
    path.write_text(f"database:\n  url: {url!r}\nticketing:\n  naming:\n{naming}")
    return path


def _csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)
    return path


async def _import(
    config: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> tuple[int, list[str]]:
    code = await asyncio.to_thread(cli.main, ["--config", str(config), "import", *argv])
    return code, capsys.readouterr().out.splitlines()


async def _usernames(store: SqlTicketStore) -> set[str]:
    async with store.write_transaction() as session:
        return set(await session.scalars(select(models.Employee.username)))


EMPLOYEES = [
    ["chenqiKJC", "Chen Qi", "KJC"],
    ["Wang Wu", "Wang Wu", "KJC"],
    ["zhaoliuHR", "Zhao Liu", "HR"],
]
DEVICES = [
    ["0001COM0100", "KJC-COM-0100", "desktop"],
    ["0001TAB0101", "KJC-TAB-0101", "tablet"],
]


@pytest.mark.parametrize("configured", ["", "    enforce: reject\n"])
async def test_import_rejects_names_off_the_standard(
    demo_store: SqlTicketStore,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    configured: str,
) -> None:
    config = _config(tmp_path, demo_store, f"    departments: [KJC, CGS, NET]\n{configured}")
    before = await _usernames(demo_store)
    path = _csv(tmp_path / "employees.csv", EMPLOYEE_HEADER, EMPLOYEES)
    code, out = await _import(config, ["employees", str(path)], capsys)
    assert code == 1
    assert out[0].startswith("line 3: username: user name 'Wang Wu' does not match")
    assert out[1:] == [
        "line 4: department: 'HR': unknown department 'HR'",
        "line 4: username: 'zhaoliuHR': unknown department 'HR'",
        "employees: 3 problems, nothing written",
    ]
    assert await _usernames(demo_store) == before

    path = _csv(tmp_path / "devices.csv", DEVICE_HEADER, DEVICES)
    code, out = await _import(config, ["devices", str(path)], capsys)
    assert code == 1
    assert out == [
        "line 3: asset_number: '0001TAB0101': unknown device type 'TAB' (known: COM, LAP,"
        " MON, NET, PHN, PRN, SCN, SOF, SRV)",
        "line 3: device_name: 'KJC-TAB-0101': unknown device type 'TAB' (known: COM, LAP,"
        " MON, NET, PHN, PRN, SCN, SOF, SRV)",
        "devices: 2 problems, nothing written",
    ]


async def test_import_warns_and_imports_when_the_standard_only_warns(
    demo_store: SqlTicketStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, demo_store, "    departments: [KJC, CGS, NET]\n    enforce: warn\n")
    path = _csv(tmp_path / "employees.csv", EMPLOYEE_HEADER, EMPLOYEES)
    code, out = await _import(config, ["employees", str(path)], capsys)
    assert code == 0, out
    assert out[0].startswith("line 3: username: warning: user name 'Wang Wu' does not match")
    assert out[1:] == [
        "line 4: department: warning: 'HR': unknown department 'HR'",
        "line 4: username: warning: 'zhaoliuHR': unknown department 'HR'",
        "employees: 3 rows, 3 created, 0 updated, 0 unchanged, 3 naming warnings",
    ]
    assert {"chenqiKJC", "Wang Wu", "zhaoliuHR"} <= await _usernames(demo_store)

    path = _csv(tmp_path / "devices.csv", DEVICE_HEADER, DEVICES)
    code, out = await _import(config, ["devices", str(path)], capsys)
    assert code == 0, out
    assert out[-1] == "devices: 2 rows, 2 created, 0 updated, 0 unchanged, 2 naming warnings"
    assert out[0].startswith("line 3: asset_number: warning: '0001TAB0101': unknown device")
    async with demo_store.write_transaction() as session:
        tablet = await session.scalar(
            select(models.Device).where(models.Device.asset_tag == "0001TAB0101")
        )
    assert tablet is not None and tablet.name == "KJC-TAB-0101"
    # Problems other than names still stop the import.
    path = _csv(tmp_path / "dup.csv", DEVICE_HEADER, [DEVICES[1], DEVICES[1]])
    code, out = await _import(config, ["devices", str(path)], capsys)
    assert code == 1 and out[-1] == "devices: 2 problems, nothing written"


async def test_import_uses_the_configured_patterns(
    demo_store: SqlTicketStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    naming = (
        "    asset_pattern: '(?P<contract>[0-9]{2})/(?P<type>[A-Z]{3})/(?P<serial>[0-9]{5})'\n"
        "    device_pattern: '(?P<department>[A-Z]{3})(?P<type>[A-Z]{3})(?P<serial>[0-9]{5})'\n"
    )
    config = _config(tmp_path, demo_store, naming)
    path = _csv(
        tmp_path / "devices.csv",
        DEVICE_HEADER,
        [["01/COM/00100", "KJCCOM00100", "desktop"], ["0001COM0101", "KJC-COM-0101", "desktop"]],
    )
    code, out = await _import(config, ["devices", str(path)], capsys)
    assert code == 1
    assert [line.split(": ")[:2] for line in out[:-1]] == [
        ["line 3", "asset_number"],
        ["line 3", "device_name"],
    ]
    path = _csv(
        tmp_path / "devices.csv", DEVICE_HEADER, [["01/COM/00100", "KJCCOM00100", "desktop"]]
    )
    code, out = await _import(config, ["devices", str(path)], capsys)
    assert (code, out) == (0, ["devices: 1 rows, 1 created, 0 updated, 0 unchanged"])


@pytest.mark.parametrize("enforce", ["warn", "reject"])
async def test_serve_takes_the_standard_from_the_settings(tmp_path: Path, enforce: str) -> None:
    """`callcenter serve` hands the configured policy to the CMDB routes (here through the
    CALLCENTER_TICKETING_NAMING_ENFORCE variable of a nested key)."""
    server = Server(
        f"sqlite+aiosqlite:///{tmp_path / 'callcenter.db'}",
        tmp_path,
        extra_env={"CALLCENTER_TICKETING_NAMING_ENFORCE": enforce},
    )
    await server.prepare()
    async with server.running():
        token = await server.login("sue", "sue-demo")
        odd = {**NEW_ITEM, "name": "KJC-XYZ-0042"}
        status, reply = await server.request("POST", "/api/v1/items", token, odd)
    if enforce == "warn":
        assert status == 201, reply
        assert [w["field"] for w in reply["warnings"]] == ["name"]
    else:
        assert status == 400, reply
        assert (reply["code"], reply["field"]) == ("naming_standard", "name")
