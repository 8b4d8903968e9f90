"""Agent administration over HTTP (memberships, skills) against a real ticket database
(SQLite and PostgreSQL), a real ACD behind its store and a real aiohttp test server."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from prometheus_client import CollectorRegistry
from pytest_aiohttp import AiohttpClient
from sqlalchemy import select, text

from callcenter.acd.acd import Acd
from callcenter.acd.commands import AddAgent
from callcenter.acd.model import AgentState, Membership, QueueSettings
from callcenter.acd_store import LocalAcdStore
from callcenter.api import ApiDeps, build_app
from callcenter.api.admin import membership_command
from callcenter.auth.passwords import hash_password
from callcenter.auth.tokens import TokenSigner
from callcenter.clock import ManualClock
from callcenter.db import models
from callcenter.db.engine import make_engine
from callcenter.db.migrate import migrate_to
from callcenter.events import EventBus
from callcenter.tickets.records import QueueMembership, Role
from callcenter.tickets.store import SqlTicketStore, open_store

Client = TestClient[web.Request, web.Application]

SECRET = b"integration-test-secret-0123456789"
HELPDESK, VIP = "helpdesk", "vip"
PASSWORDS = {"alice": "alice-demo", "bob": "bob-demo", "sue": "sue-demo"}


@dataclass
class Desk:
    client: Client
    acd: Acd
    store: SqlTicketStore
    clock: ManualClock
    _tokens: dict[str, str] = field(default_factory=dict)

    async def token(self, username: str) -> str:
        if username not in self._tokens:
            resp = await self.client.post(
                "/api/v1/auth/login", json={"username": username, "password": PASSWORDS[username]}
            )
            assert resp.status == 200, await resp.text()
            self._tokens[username] = (await resp.json())["token"]
        return self._tokens[username]

    async def call(
        self, method: str, path: str, who: str = "sue", body: Any = None, raw: bytes | None = None
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {await self.token(who)}"}
        if raw is not None:
            resp = await self.client.request(method, path, data=raw, headers=headers)
        else:
            resp = await self.client.request(method, path, json=body, headers=headers)
        return resp.status, await resp.json()


async def start_acd(store: SqlTicketStore, clock: ManualClock) -> LocalAcdStore:
    """An ACD loaded as `callcenter.app.serve` loads it: AddAgent, then the persisted
    levels and penalties."""
    acd = Acd([QueueSettings(HELPDESK), QueueSettings(VIP)], clock, EventBus().publish)
    acd_store = LocalAcdStore(acd)
    for account in await store.agent_accounts():
        if account.role is Role.AGENT:
            queues = tuple(q for q in account.queues if q in acd.queue_names)
            await acd_store.submit(AddAgent(account.username, queues, dict(account.skills)))
            await acd_store.submit(membership_command(account, acd.queue_names))
    return acd_store


@pytest.fixture
async def desk(aiohttp_client: AiohttpClient, demo_store: SqlTicketStore) -> Desk:
    clock = ManualClock(datetime.now(UTC).timestamp())
    acd_store = await start_acd(demo_store, clock)
    deps = ApiDeps(
        acd_store=acd_store,
        store=demo_store,
        tokens=TokenSigner(SECRET, 3600, clock),
        registry=CollectorRegistry(),
        clock=clock,
        ready=lambda: True,
    )
    client = await aiohttp_client(build_app(deps))
    return Desk(client, acd_store.acd, demo_store, clock)


def error(body: Any) -> tuple[str, str]:
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    return body["error"]["code"], body["error"]["message"]


def available(desk: Desk, *agents: str) -> None:
    for agent in agents:
        desk.acd.set_agent_state(agent, AgentState.AVAILABLE)
        desk.clock.advance(1)


# ----- reading ---------------------------------------------------------------------------


async def test_supervisor_reads_an_agent_with_memberships_and_skills(desk: Desk) -> None:
    available(desk, "alice")
    desk.clock.advance(4)
    status, body = await desk.call("GET", "/api/v1/agents/alice")
    assert status == 200
    assert body == {
        "username": "alice",
        "display_name": "Alice",
        "state": "available",
        "reason": None,
        "time_in_state_seconds": 5.0,
        "queues": [HELPDESK],
        "call_id": None,
        "pending_state": None,
        "memberships": {HELPDESK: {"level": 5, "penalty": 0}},
        "skills": {"accounts": 8, "general": 5, "software": 7},
    }


async def test_queue_members(desk: Desk) -> None:
    status, body = await desk.call("GET", f"/api/v1/queues/{HELPDESK}/agents")
    assert status == 200
    assert body == {
        "queue": HELPDESK,
        "agents": [
            {
                "username": name,
                "level": 5,
                "penalty": 0,
                "state": "logged_out",
                "time_in_state_seconds": 0.0,
                "call_id": None,
            }
            for name in ("alice", "bob")
        ],
    }
    status, body = await desk.call("GET", f"/api/v1/queues/{VIP}/agents")
    assert (status, body) == (200, {"queue": VIP, "agents": []})


# ----- changes take effect at once -------------------------------------------------------


async def test_waiting_call_is_offered_to_an_agent_added_to_its_queue(desk: Desk) -> None:
    available(desk, "bob")
    desk.acd.enqueue("c1", VIP, "+8613800000001")
    assert desk.acd.agent("bob").state is AgentState.AVAILABLE  # bob serves helpdesk only

    status, body = await desk.call("PUT", f"/api/v1/queues/{VIP}/agents/bob", body={"level": 7})
    assert status == 200
    assert body["agents"] == [
        {
            "username": "bob",
            "level": 7,
            "penalty": 0,
            "state": "offered",
            "time_in_state_seconds": 0.0,
            "call_id": "c1",
        }
    ]
    bob = desk.acd.agent("bob")
    assert (bob.state, bob.call_id) == (AgentState.OFFERED, "c1")
    assert bob.memberships == {HELPDESK: Membership(5, 0), VIP: Membership(7, 0)}
    account = await desk.store.agent_account("bob")
    assert account is not None
    assert account.memberships == {HELPDESK: QueueMembership(5, 0), VIP: QueueMembership(7, 0)}


async def test_replaced_memberships_route_by_penalty(desk: Desk) -> None:
    available(desk, "alice", "bob")  # alice idle longest: she would be offered first
    status, body = await desk.call(
        "PUT", "/api/v1/agents/alice/memberships", body={"queues": {HELPDESK: {"penalty": 3}}}
    )
    assert status == 200
    assert body["memberships"] == {HELPDESK: {"level": 5, "penalty": 3}}
    status, body = await desk.call(
        "PUT",
        "/api/v1/agents/bob/memberships",
        body={"queues": {HELPDESK: {"level": 9, "penalty": 0}, VIP: {}}},
    )
    assert status == 200
    assert body["memberships"] == {
        HELPDESK: {"level": 9, "penalty": 0},
        VIP: {"level": 5, "penalty": 0},
    }
    assert body["queues"] == [HELPDESK, VIP]

    desk.acd.enqueue("c1", HELPDESK, "+8613800000001")
    assert desk.acd.agent("bob").call_id == "c1"
    assert desk.acd.agent("alice").state is AgentState.AVAILABLE
    assert desk.acd.agent("alice").memberships == {HELPDESK: Membership(5, 3)}


async def test_removed_member_gets_no_more_calls(desk: Desk) -> None:
    available(desk, "alice")
    status, body = await desk.call("DELETE", f"/api/v1/queues/{HELPDESK}/agents/alice")
    assert status == 200
    assert [a["username"] for a in body["agents"]] == ["bob"]
    assert desk.acd.agent("alice").queues == frozenset()
    desk.acd.enqueue("c1", HELPDESK, "+8613800000001")
    assert desk.acd.agent("alice").state is AgentState.AVAILABLE

    # Removing again changes nothing and is no error.
    status, body = await desk.call("DELETE", f"/api/v1/queues/{HELPDESK}/agents/alice")
    assert (status, [a["username"] for a in body["agents"]]) == (200, ["bob"])


async def test_skills_change_routing_at_once(desk: Desk) -> None:
    available(desk, "alice", "bob")
    status, body = await desk.call(
        "PUT", "/api/v1/agents/bob/skills", body={"skills": {"printers": 8}}
    )
    assert status == 200
    assert body["skills"] == {"printers": 8}
    assert desk.acd.agent("bob").skills == {"printers": 8}

    desk.acd.enqueue("c1", HELPDESK, "+8613800000001", skills={"printers": 7})
    assert desk.acd.agent("bob").call_id == "c1"
    assert desk.acd.agent("alice").state is AgentState.AVAILABLE


async def test_changes_survive_a_restart(desk: Desk, database_url: str) -> None:
    await desk.call(
        "PUT",
        "/api/v1/agents/bob/memberships",
        body={"queues": {HELPDESK: {"level": 8, "penalty": 2}}},
    )
    await desk.call("PUT", f"/api/v1/queues/{VIP}/agents/bob", body={"level": 3, "penalty": 1})
    await desk.call("PUT", "/api/v1/agents/bob/skills", body={"skills": {"printers": 9}})
    await desk.call("DELETE", f"/api/v1/queues/{HELPDESK}/agents/alice")

    restarted = open_store(database_url, "CN")
    try:
        bob = await restarted.agent_account("bob")
        alice = await restarted.agent_account("alice")
        assert bob is not None and alice is not None
        assert bob.memberships == {HELPDESK: QueueMembership(8, 2), VIP: QueueMembership(3, 1)}
        assert bob.queues == (HELPDESK, VIP)
        assert bob.skills == {"printers": 9}
        assert alice.memberships == {}

        acd = (await start_acd(restarted, ManualClock(desk.clock.now()))).acd
        assert acd.agent("bob").memberships == {
            HELPDESK: Membership(8, 2, order=acd.agent("bob").memberships[HELPDESK].order),
            VIP: Membership(3, 1, order=acd.agent("bob").memberships[VIP].order),
        }
        assert acd.agent("bob").skills == {"printers": 9}
        assert acd.agent("alice").queues == frozenset()
        acd.set_agent_state("bob", AgentState.AVAILABLE)
        acd.enqueue("c1", VIP, "+8613800000001")
        assert acd.agent("bob").call_id == "c1"
    finally:
        await restarted.close()


async def test_an_agent_the_acd_does_not_have_yet_is_only_persisted(desk: Desk) -> None:
    async with desk.store.write_transaction() as session:
        session.add(
            models.Agent(
                username="carol",
                display_name="Carol",
                password_hash=hash_password("carol-demo"),
                role=Role.AGENT.value,
                sip_uri=None,
                queues=[HELPDESK],
                skills={},
            )
        )
    status, body = await desk.call(
        "PUT", "/api/v1/agents/carol/memberships", body={"queues": {VIP: {"level": 6}}}
    )
    assert status == 200
    assert (body["state"], body["queues"]) == (None, [])
    assert body["memberships"] == {VIP: {"level": 6, "penalty": 0}}
    assert "carol" not in {a.agent_id for a in desk.acd.agents}


# ----- refusals --------------------------------------------------------------------------

ADMIN_REQUESTS: list[tuple[str, str, Any]] = [
    ("GET", "/api/v1/agents/bob", None),
    ("GET", "/api/v1/agents/alice", None),
    ("PUT", "/api/v1/agents/alice/memberships", {"queues": {VIP: {}}}),
    ("PUT", "/api/v1/agents/alice/skills", {"skills": {"printers": 8}}),
    ("GET", f"/api/v1/queues/{HELPDESK}/agents", None),
    ("PUT", f"/api/v1/queues/{VIP}/agents/alice", {}),
    ("DELETE", f"/api/v1/queues/{HELPDESK}/agents/alice", None),
]


async def test_agents_may_not_administer(desk: Desk) -> None:
    before = await desk.store.agent_account("alice")
    for method, path, body in ADMIN_REQUESTS:
        status, answer = await desk.call(method, path, "alice", body)
        assert (status, error(answer)[0]) == (403, "forbidden"), (method, path)
    assert await desk.store.agent_account("alice") == before
    assert desk.acd.agent("alice").memberships == {HELPDESK: Membership(5, 0)}


async def test_without_a_token_is_401(desk: Desk) -> None:
    for method, path, body in ADMIN_REQUESTS:
        resp = await desk.client.request(method, path, json=body)
        assert resp.status == 401, (method, path)


#: Bad bodies: route, body, the field the message must name first.
BAD_BODIES: list[tuple[str, bytes, str]] = [
    ("/api/v1/agents/bob/memberships", b"not json", "body"),
    ("/api/v1/agents/bob/memberships", b"{}", "queues"),
    ("/api/v1/agents/bob/memberships", b'{"queues": []}', "queues"),
    ("/api/v1/agents/bob/memberships", b'{"queues": {"vip": {"level": 11}}}', "queues.vip.level"),
    ("/api/v1/agents/bob/memberships", b'{"queues": {"vip": {"level": 0}}}', "queues.vip.level"),
    ("/api/v1/agents/bob/memberships", b'{"queues": {"vip": {"level": 7.5}}}', "queues.vip.level"),
    (
        "/api/v1/agents/bob/memberships",
        b'{"queues": {"vip": {"penalty": -1}}}',
        "queues.vip.penalty",
    ),
    ("/api/v1/agents/bob/memberships", b'{"queues": {"vip": {"lvl": 3}}}', "queues.vip.lvl"),
    ("/api/v1/agents/bob/memberships", b'{"queues": {}, "extra": 1}', "extra"),
    ("/api/v1/agents/bob/skills", b'{"skills": {"printers": 0}}', "skills.printers"),
    ("/api/v1/agents/bob/skills", b'{"skills": {"printers": "8"}}', "skills.printers"),
    ("/api/v1/agents/bob/skills", b'{"skills": {"printers": true}}', "skills.printers"),
    ("/api/v1/agents/bob/skills", b'{"skill": {}}', "skills"),
    (f"/api/v1/queues/{VIP}/agents/bob", b'{"level": 12}', "level"),
    (f"/api/v1/queues/{VIP}/agents/bob", b'{"penalty": "high"}', "penalty"),
    (f"/api/v1/queues/{VIP}/agents/bob", b"[]", "body"),
]


async def test_bad_bodies_are_400_naming_the_field(desk: Desk) -> None:
    before = await desk.store.agent_account("bob")
    for path, raw, named in BAD_BODIES:
        status, answer = await desk.call("PUT", path, raw=raw)
        code, message = error(answer)
        assert (status, code) == (400, "invalid_body"), (path, raw)
        assert message.startswith(f"{named}:"), (raw, message)
    assert await desk.store.agent_account("bob") == before


async def test_whole_valued_json_numbers_are_integers(desk: Desk) -> None:
    """JSON (and JSON Schema, so the OpenAPI document) has one number type: 7.0 is 7."""
    status, body = await desk.call(
        "PUT", f"/api/v1/queues/{VIP}/agents/alice", raw=b'{"level": 7.0, "penalty": 2e1}'
    )
    assert status == 200
    assert [(a["username"], a["level"], a["penalty"]) for a in body["agents"]] == [("alice", 7, 20)]


async def test_empty_body_adds_with_default_level_and_penalty(desk: Desk) -> None:
    status, body = await desk.call("PUT", f"/api/v1/queues/{VIP}/agents/alice", raw=b"")
    assert status == 200
    assert [(a["username"], a["level"], a["penalty"]) for a in body["agents"]] == [("alice", 5, 0)]


async def test_unknown_agent_is_404(desk: Desk) -> None:
    for method, path, body in [
        ("GET", "/api/v1/agents/nobody", None),
        ("GET", "/api/v1/agents/sue", None),  # a supervisor is no ACD agent
        ("PUT", "/api/v1/agents/nobody/memberships", {"queues": {VIP: {}}}),
        ("PUT", "/api/v1/agents/sue/memberships", {"queues": {VIP: {}}}),
        ("PUT", "/api/v1/agents/nobody/skills", {"skills": {}}),
        ("PUT", f"/api/v1/queues/{VIP}/agents/nobody", {}),
        ("DELETE", f"/api/v1/queues/{VIP}/agents/nobody", None),
    ]:
        status, answer = await desk.call(method, path, body=body)
        assert (status, error(answer)[0]) == (404, "unknown_agent"), (method, path)
    sue = await desk.store.agent_account("sue")
    assert sue is not None and sue.memberships == {}


async def test_unknown_queue(desk: Desk) -> None:
    before = await desk.store.agent_account("bob")
    status, answer = await desk.call(
        "PUT", "/api/v1/agents/bob/memberships", body={"queues": {VIP: {}, "sales": {}}}
    )
    code, message = error(answer)
    assert (status, code) == (400, "unknown_queue")
    assert "'sales'" in message and message.startswith("queues:")
    assert await desk.store.agent_account("bob") == before
    assert desk.acd.agent("bob").queues == frozenset({HELPDESK})

    for method in ("GET", "PUT", "DELETE"):
        path = "/api/v1/queues/sales/agents" + ("" if method == "GET" else "/bob")
        status, answer = await desk.call(method, path, body={} if method == "PUT" else None)
        assert (status, error(answer)[0]) == (404, "unknown_queue"), method


# ----- the migration ---------------------------------------------------------------------


async def test_migration_keeps_queue_lists_as_default_memberships(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(migrate_to, "0003")
            await connection.execute(
                text(
                    "INSERT INTO agent (username, display_name, password_hash, role, queues,"
                    " skills, created_at) VALUES ('dora', 'Dora', 'x', 'agent',"
                    " :queues, '{}', CURRENT_TIMESTAMP)"
                ),
                {"queues": '["vip", "helpdesk", "vip"]'},
            )
            await connection.run_sync(migrate_to, "head")
            rows = await connection.execute(
                select(
                    models.AgentQueue.queue, models.AgentQueue.level, models.AgentQueue.penalty
                ).order_by(models.AgentQueue.queue)
            )
            assert rows.all() == [(HELPDESK, 5, 0), (VIP, 5, 0)]
            await connection.run_sync(migrate_to, "0003", True)
            queues = await connection.execute(
                text("SELECT queues FROM agent WHERE username = 'dora'")
            )
            value = queues.scalar_one()
            assert sorted(json.loads(value) if isinstance(value, str) else value) == [HELPDESK, VIP]
            await connection.run_sync(migrate_to, "head")
    finally:
        await engine.dispose()
