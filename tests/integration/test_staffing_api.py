"""GET /api/v1/staffing/{erlang,plan} on the real application, behind the real token gate."""

from __future__ import annotations

import argparse
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from prometheus_client import CollectorRegistry
from pytest_aiohttp import AiohttpClient

from callcenter.accounts.store import SqlAccounts
from callcenter.acd.acd import Acd
from callcenter.acd.model import QueueSettings
from callcenter.acd_store import LocalAcdStore
from callcenter.api import ApiDeps, build_app
from callcenter.auth.tokens import TokenSigner
from callcenter.clock import ManualClock
from callcenter.db.migrate import upgrade
from callcenter.demo import load_demo
from callcenter.events import EventBus
from callcenter.planning.cli import add_commands, run
from callcenter.tickets.records import Role
from callcenter.tickets.store import open_store

Client = TestClient[web.Request, web.Application]

SECRET = b"integration-test-secret-0123456789"
ERLANG = "/api/v1/staffing/erlang"
PLAN = "/api/v1/staffing/plan"
WORKED = "calls=100&interval_minutes=30&aht=180&answer_within=20&target=0.8"
CASE_STUDY = "pcs=2600&printers=800"
#: An account of each role (the demo's, and an admin added): tokens are checked against it.
ACCOUNTS = {Role.AGENT: "alice", Role.SUPERVISOR: "sue", Role.ADMIN: "ada"}


@dataclass
class Api:
    client: Client
    tokens: TokenSigner

    async def get(self, path: str, role: Role = Role.AGENT) -> tuple[int, Any]:
        token = self.tokens.issue(ACCOUNTS[role], role)
        resp = await self.client.get(path, headers={"Authorization": f"Bearer {token}"})
        assert resp.content_type == "application/json"
        return resp.status, await resp.json()


@pytest.fixture
async def api(aiohttp_client: AiohttpClient, tmp_path: Path) -> AsyncIterator[Api]:
    clock = ManualClock()
    tokens = TokenSigner(SECRET, 3600, clock)
    # The staffing routes never touch the store; the token check reads alice's account.
    url = f"sqlite+aiosqlite:///{tmp_path / 'accounts.db'}"
    await upgrade(url)
    store = open_store(url, "CN")
    await load_demo(store)
    await SqlAccounts(store).add(ACCOUNTS[Role.ADMIN], "Ada", Role.ADMIN, "x", None)
    deps = ApiDeps(
        acd_store=LocalAcdStore(Acd([QueueSettings("helpdesk")], clock, EventBus().publish)),
        store=store,
        tokens=tokens,
        registry=CollectorRegistry(),
        clock=clock,
        ready=lambda: True,
    )
    try:
        yield Api(await aiohttp_client(build_app(deps)), tokens)
    finally:
        await store.close()


def cli_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> Any:
    parser = argparse.ArgumentParser(prog="callcenter")
    add_commands(parser.add_subparsers(dest="command", required=True))
    assert run(parser.parse_args(["staffing", *argv, "--json"])) == 0
    return json.loads(capsys.readouterr().out)


def error_of(body: Any) -> tuple[str, str]:
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    return body["error"]["code"], body["error"]["message"]


# ----- the token gate -------------------------------------------------------------------------


@pytest.mark.parametrize("path", [f"{ERLANG}?{WORKED}", f"{PLAN}?{CASE_STUDY}"])
async def test_staffing_needs_a_token(api: Api, path: str) -> None:
    resp = await api.client.get(path)
    assert resp.status == 401
    assert error_of(await resp.json())[0] == "unauthorized"


@pytest.mark.parametrize("role", list(Role))
async def test_every_role_may_ask(api: Api, role: Role) -> None:
    status, body = await api.get(f"{ERLANG}?{WORKED}", role)
    assert status == 200
    assert body["agents"] == 14
    status, body = await api.get(f"{PLAN}?{CASE_STUDY}", role)
    assert status == 200
    assert body["phone_agents"]["erlang_c"]["agents"] == 5


# ----- the same answers as the CLI -----------------------------------------------------------


async def test_erlang_is_the_cli_json(api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    status, body = await api.get(f"{ERLANG}?{WORKED}&shrinkage=0.3&max_occupancy=0.85")
    assert status == 200
    assert (body["agents"], body["scheduled_agents"]) == (14, 20)
    assert body["service_level"] == pytest.approx(0.8884, abs=5e-5)
    assert body["asa_seconds"] == pytest.approx(7.84, abs=0.005)
    assert body["occupancy"] == pytest.approx(10 / 14)
    assert [row["agents"] for row in body["table"]] == list(range(11, 18))
    argv = "--calls 100 --interval-minutes 30 --aht 180 --answer-within 20 --target 0.8"
    cli = cli_json(
        ["erlang", *argv.split(), "--shrinkage", "0.3", "--max-occupancy", "0.85"], capsys
    )
    assert body == cli


async def test_erlang_defaults_to_no_shrinkage_and_no_cap(api: Api) -> None:
    _, body = await api.get(f"{ERLANG}?{WORKED}")
    assert body["inputs"]["shrinkage"] == 0.0
    assert body["inputs"]["max_occupancy"] is None
    assert body["scheduled_agents"] == 14


async def test_plan_is_the_cli_json(api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    query = (
        f"{CASE_STUDY}&peripherals=100&working_days=20&service_hours=8&aht=300"
        "&answer_within=30&target=0.8&shrinkage=0.25&max_occupancy=0.85"
        "&pc_interval_months=3&peripheral_interval_months=6"
    )
    status, body = await api.get(f"{PLAN}?{query}")
    assert status == 200
    assert body["inputs"]["peripherals"] == 100
    assert body["inputs"]["aht_seconds"] == 300
    argv = [f"--{pair.replace('=', ' ').replace('_', '-')}" for pair in query.split("&")]
    cli = cli_json(["plan", *" ".join(argv).split()], capsys)
    assert body == cli


async def test_plan_defaults_are_the_sources(api: Api) -> None:
    _, body = await api.get(f"{PLAN}?{CASE_STUDY}")
    assert body["inputs"]["working_days"] == 21
    assert body["inputs"]["service_hours"] == 9
    assert body["inputs"]["target"] == 0.9
    assert body["inputs"]["answer_within_seconds"] == 20
    assert body["phone_agents"]["rule_of_thumb"]["people"] == 8
    assert body["on_site_engineers"]["people"] == 10
    assert body["maintenance"]["engineers"]["people"] == 3


# ----- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        (f"{ERLANG}?interval_minutes=30&aht=180&answer_within=20&target=0.8", "calls"),
        (f"{ERLANG}?{WORKED.replace('aht=180', 'aht=0')}", "aht"),
        (f"{ERLANG}?{WORKED.replace('answer_within=20', 'answer_within=-1')}", "answer_within"),
        (f"{ERLANG}?{WORKED.replace('target=0.8', 'target=1.5')}", "target"),
        (f"{ERLANG}?{WORKED.replace('calls=100', 'calls=nan')}", "calls"),
        (f"{ERLANG}?{WORKED.replace('calls=100', 'calls=1e3')}", "calls"),
        (f"{ERLANG}?{WORKED.replace('calls=100', 'calls=999999999')}", "calls"),
        (f"{ERLANG}?{WORKED}&shrinkage=1", "shrinkage"),
        (f"{ERLANG}?{WORKED}&max_occupancy=0", "max_occupancy"),
        (f"{ERLANG}?{WORKED}&shrinkge=0.3", "shrinkge"),
        (f"{ERLANG}?{WORKED}&calls=200", "calls"),
        (f"{PLAN}?printers=800", "pcs"),
        (f"{PLAN}?pcs=2600", "printers"),
        (f"{PLAN}?pcs=2600.5&printers=800", "pcs"),
        (f"{PLAN}?pcs=0&printers=800", "pcs"),
        (f"{PLAN}?{CASE_STUDY}&working_days=40", "working_days"),
        (f"{PLAN}?{CASE_STUDY}&service_hours=0", "service_hours"),
        (f"{PLAN}?{CASE_STUDY}&aht=0", "aht"),
        (f"{PLAN}?{CASE_STUDY}&pc_interval_months=0", "pc_interval_months"),
        (f"{PLAN}?{CASE_STUDY}&calls=100", "calls"),
    ],
)
async def test_invalid_query_names_the_parameter(api: Api, path: str, parameter: str) -> None:
    status, body = await api.get(path)
    assert status == 400
    code, message = error_of(body)
    assert code == "invalid_query"
    assert message.startswith(f"{parameter}: ")
