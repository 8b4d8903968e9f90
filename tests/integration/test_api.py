"""The HTTP API against a real ticket database (SQLite and PostgreSQL) and a real ACD."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from prometheus_client import CollectorRegistry
from pytest_aiohttp import AiohttpClient

from callcenter.acd import events as ev
from callcenter.acd.acd import Acd
from callcenter.acd.model import AgentState, QueueSettings
from callcenter.acd_store import LocalAcdStore
from callcenter.api import ApiDeps, build_app, openapi
from callcenter.auth.tokens import TokenSigner
from callcenter.clock import ManualClock
from callcenter.events import EventBus
from callcenter.knowledge.store import SqlKnowledgeBase
from callcenter.metrics import AcdMetrics
from callcenter.tickets.priority import DEFAULT_MATRIX, PriorityMatrix
from callcenter.tickets.records import CallOutcome, Role
from callcenter.tickets.store import SqlTicketStore

Client = TestClient[web.Request, web.Application]

SECRET = b"integration-test-secret-0123456789"
QUEUE = "helpdesk"
PASSWORDS = {"alice": "alice-demo", "bob": "bob-demo", "sue": "sue-demo"}
EMPLOYEE = "zhangsanKJC"

#: Every protected route, with a path that would otherwise be valid.
PROTECTED = [
    ("GET", "/api/v1/agents"),
    ("PUT", "/api/v1/agents/alice/state"),
    ("GET", "/api/v1/queues"),
    ("GET", "/api/v1/calls"),
    ("GET", "/api/v1/tickets?employee=zhangsanKJC"),
    ("GET", "/api/v1/tickets/1"),
    ("GET", "/api/v1/no-such-route"),
    ("POST", "/api/v1/queues"),
    ("GET", "/api/v1"),
]


@dataclass
class Desk:
    """The API under test and the real parts behind it."""

    client: Client
    acd: Acd
    store: SqlTicketStore
    clock: ManualClock
    tokens: TokenSigner
    readiness: list[bool] = field(default_factory=lambda: [True])
    _tokens: dict[str, str] = field(default_factory=dict)

    async def token(self, username: str) -> str:
        """A token from a real login, once per user (scrypt makes logins slow on purpose)."""
        if username in self._tokens:
            return self._tokens[username]
        resp = await self.client.post(
            "/api/v1/auth/login", json={"username": username, "password": PASSWORDS[username]}
        )
        assert resp.status == 200, await resp.text()
        token = (await resp.json())["token"]
        assert isinstance(token, str)
        self._tokens[username] = token
        return token

    async def get(self, path: str, who: str) -> tuple[int, Any]:
        resp = await self.client.get(path, headers=await self.auth(who))
        return resp.status, await resp.json()

    async def put_state(self, agent: str, who: str, body: dict[str, Any]) -> tuple[int, Any]:
        resp = await self.client.put(
            f"/api/v1/agents/{agent}/state", json=body, headers=await self.auth(who)
        )
        return resp.status, await resp.json()

    async def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self.token(who)}"}


async def plain_desk(
    aiohttp_client: AiohttpClient,
    store: SqlTicketStore,
    at: datetime,
    *,
    token_ttl: int = 3600,
    kb: SqlKnowledgeBase | None = None,
    priority_matrix: PriorityMatrix = DEFAULT_MATRIX,
) -> Desk:
    """The REST API on `store` with an idle ACD, its clock at `at`: for the resource
    tests (tickets, CMDB, problems, knowledge base) that need no agents."""
    clock = ManualClock(at.timestamp())
    acd = Acd([QueueSettings(QUEUE, wrap_up_seconds=0)], clock, lambda event: None)
    tokens = TokenSigner(SECRET, token_ttl, clock)
    deps = ApiDeps(
        acd_store=LocalAcdStore(acd),
        store=store,
        tokens=tokens,
        registry=CollectorRegistry(),
        clock=clock,
        ready=lambda: True,
        kb=kb,
        priority_matrix=priority_matrix,
    )
    client = await aiohttp_client(build_app(deps))
    return Desk(client, acd, store, clock, tokens)


@pytest.fixture
def store(demo_store: SqlTicketStore) -> SqlTicketStore:
    return demo_store


@pytest.fixture
async def desk(aiohttp_client: AiohttpClient, store: SqlTicketStore) -> Desk:
    clock = ManualClock(datetime.now(UTC).timestamp())
    bus = EventBus()
    acd = Acd([QueueSettings(QUEUE, wrap_up_seconds=0)], clock, bus.publish)
    for account in await store.agent_accounts():
        if account.role is Role.AGENT:
            acd.add_agent(account.username, [QUEUE])
    registry = CollectorRegistry()
    metrics = AcdMetrics(registry, acd, clock)
    bus.subscribe(ev.AcdEvent, metrics.on_event)
    tokens = TokenSigner(SECRET, 3600, clock)
    readiness = [True]
    deps = ApiDeps(
        acd_store=LocalAcdStore(acd),
        store=store,
        tokens=tokens,
        registry=registry,
        clock=clock,
        ready=lambda: readiness[0],
    )
    client = await aiohttp_client(build_app(deps))
    return Desk(client, acd, store, clock, tokens, readiness)


def error_code(body: Any) -> str:
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    code = body["error"]["code"]
    assert isinstance(code, str)
    return code


# ----- public endpoints ----------------------------------------------------------------


async def test_healthz_needs_no_token(desk: Desk) -> None:
    resp = await desk.client.get("/healthz")
    assert resp.status == 200
    assert await resp.json() == {"status": "ok"}

    desk.readiness[0] = False
    resp = await desk.client.get("/healthz")
    assert resp.status == 503
    assert await resp.json() == {"status": "starting"}


async def test_the_openapi_document_is_for_token_holders_only(desk: Desk) -> None:
    resp = await desk.client.get(openapi.DOCUMENT_PATH)
    assert resp.status == 401
    resp = await desk.client.get(openapi.DOCUMENT_PATH, headers=await desk.auth("sue"))
    assert resp.status == 200 and resp.content_type == "application/json"
    assert await resp.json() == openapi.document()


async def test_metrics_exposition_needs_no_token(desk: Desk) -> None:
    desk.acd.enqueue("c1", QUEUE, "+8613800000000")
    resp = await desk.client.get("/metrics")
    assert resp.status == 200
    assert resp.content_type == "text/plain"
    text = await resp.text()
    for name in (
        "callcenter_calls_offered_total",
        "callcenter_calls_answered_total",
        "callcenter_calls_abandoned_total",
        "callcenter_queue_wait_seconds_bucket",
        "callcenter_queue_waiting_calls",
        "callcenter_queue_longest_wait_seconds",
        "callcenter_agents",
        "callcenter_service_level_target_ratio",
    ):
        assert f"\n{name}{{" in text, name
    assert 'callcenter_calls_offered_total{queue="helpdesk"} 1.0' in text
    assert 'callcenter_queue_wait_seconds_bucket{le="20.0",queue="helpdesk"} 0.0' in text


# ----- login ---------------------------------------------------------------------------


@pytest.mark.parametrize(("username", "role"), [("alice", "agent"), ("sue", "supervisor")])
async def test_login_returns_a_working_token(desk: Desk, username: str, role: str) -> None:
    resp = await desk.client.post(
        "/api/v1/auth/login", json={"username": username, "password": PASSWORDS[username]}
    )
    assert resp.status == 200
    body = await resp.json()
    assert set(body) == {"token", "role"}
    assert body["role"] == role
    principal = desk.tokens.verify(body["token"])
    assert principal is not None and principal.username == username

    resp = await desk.client.get(
        "/api/v1/queues", headers={"Authorization": f"Bearer {body['token']}"}
    )
    assert resp.status == 200


async def test_wrong_password_and_unknown_user_look_the_same(desk: Desk) -> None:
    answers = []
    for username, password in [("alice", "bob-demo"), ("mallory", "alice-demo"), ("alice", "")]:
        resp = await desk.client.post(
            "/api/v1/auth/login", json={"username": username, "password": password}
        )
        assert resp.status == 401
        body = await resp.json()
        assert error_code(body) == "invalid_credentials"
        answers.append(body)
    assert answers[0] == answers[1] == answers[2]


#: Malformed login bodies, each with the field its error message must name first.
MALFORMED_LOGINS = [
    (b"", "body"),
    (b"not json", "body"),
    (b"[]", "body"),
    (b'"alice"', "body"),
    (b'{"username": "alice"}', "password"),
    (b'{"password": "alice-demo"}', "username"),
    (b'{"username": 42, "password": "alice-demo"}', "username"),
    (b'{"username": "alice", "password": null}', "password"),
    (b'{"username": "", "password": "alice-demo"}', "username"),
    (b'{"username": "alice", "password": "alice-demo", "admin": true}', "admin"),
]


async def test_malformed_login_is_a_bad_request(desk: Desk) -> None:
    for body, named in MALFORMED_LOGINS:
        resp = await desk.client.post(
            "/api/v1/auth/login", data=body, headers={"Content-Type": "application/json"}
        )
        assert resp.status == 400, body
        answer = await resp.json()
        assert error_code(answer) == "invalid_body"
        assert answer["error"]["message"].startswith(f"{named}:"), (body, answer)


# ----- the token gate ------------------------------------------------------------------


def _bad_authorizations(desk: Desk) -> dict[str, dict[str, str]]:
    expired = TokenSigner(SECRET, 60, ManualClock(desk.clock.now() - 61)).issue(
        "sue", Role.SUPERVISOR
    )
    forged = TokenSigner(b"another-secret", 3600, desk.clock).issue("sue", Role.ADMIN)
    return {
        "missing": {},
        "garbage": {"Authorization": "Bearer not-a-token"},
        "empty": {"Authorization": "Bearer "},
        "wrong scheme": {"Authorization": f"Basic {expired}"},
        "expired": {"Authorization": f"Bearer {expired}"},
        "forged": {"Authorization": f"Bearer {forged}"},
    }


async def test_protected_routes_refuse_without_a_valid_token(desk: Desk) -> None:
    bad = _bad_authorizations(desk)
    for method, path in PROTECTED:
        for what, headers in bad.items():
            resp = await desk.client.request(
                method, path, headers=headers, json={"state": "available"}
            )
            assert resp.status == 401, (method, path, what, await resp.text())
            assert resp.headers["WWW-Authenticate"] == "Bearer"
            assert error_code(await resp.json()) == "unauthorized"
    assert desk.acd.agent("alice").state is AgentState.LOGGED_OUT


async def test_token_expires_with_the_clock(desk: Desk) -> None:
    headers = await desk.auth("sue")
    assert (await desk.client.get("/api/v1/queues", headers=headers)).status == 200
    desk.clock.advance(3600)
    assert (await desk.client.get("/api/v1/queues", headers=headers)).status == 401


async def test_unknown_routes_are_404_once_authenticated(desk: Desk) -> None:
    headers = await desk.auth("alice")
    resp = await desk.client.get("/api/v1/no-such-route", headers=headers)
    assert resp.status == 404
    assert error_code(await resp.json()) == "not_found"

    resp = await desk.client.post("/api/v1/queues", headers=headers)
    assert resp.status == 405
    assert error_code(await resp.json()) == "method_not_allowed"


# ----- agents --------------------------------------------------------------------------


async def test_agent_sets_its_own_state(desk: Desk) -> None:
    status, body = await desk.put_state("alice", "alice", {"state": "available"})
    assert status == 200
    assert body == {
        "agent": "alice",
        "state": "available",
        "pending_state": None,
        "reason": None,
        "pending_reason": None,
    }
    status, body = await desk.put_state("alice", "alice", {"state": "paused", "reason": "lunch"})
    assert status == 200
    assert (body["state"], body["reason"]) == ("paused", "lunch")
    assert desk.acd.agent("alice").state is AgentState.PAUSED


async def test_agent_cannot_set_another_agents_state(desk: Desk) -> None:
    status, body = await desk.put_state("bob", "alice", {"state": "available"})
    assert status == 403
    assert error_code(body) == "forbidden"
    assert desk.acd.agent("bob").state is AgentState.LOGGED_OUT


async def test_supervisor_sets_anyones_state(desk: Desk) -> None:
    status, body = await desk.put_state("bob", "sue", {"state": "available"})
    assert status == 200
    assert body["state"] == "available"
    assert desk.acd.agent("bob").state is AgentState.AVAILABLE

    status, body = await desk.put_state("nobody", "sue", {"state": "available"})
    assert status == 404
    assert error_code(body) == "unknown_agent"


async def test_state_asked_during_a_call_is_pending(desk: Desk) -> None:
    desk.acd.set_agent_state("alice", AgentState.AVAILABLE)
    desk.acd.enqueue("c1", QUEUE, "+8613800000000")
    desk.acd.answered("c1")
    status, body = await desk.put_state("alice", "alice", {"state": "paused", "reason": "break"})
    assert status == 200
    assert body["state"] == "on_call"
    assert (body["pending_state"], body["pending_reason"]) == ("paused", "break")
    desk.acd.hangup("c1")
    assert desk.acd.agent("alice").state is AgentState.PAUSED


async def test_invalid_state_request(desk: Desk) -> None:
    bodies: list[dict[str, Any]] = [
        {"state": "on_call"},
        {"state": "busy"},
        {},
        {"state": "paused", "reason": 5},
        {"state": "paused", "until": "tomorrow"},
    ]
    for body in bodies:
        status, answer = await desk.put_state("alice", "alice", body)
        assert status == 400, body
        assert error_code(answer) == "invalid_body"
    assert desk.acd.agent("alice").state is AgentState.LOGGED_OUT


async def test_unknown_pause_reason_is_a_bad_request(desk: Desk) -> None:
    status, body = await desk.put_state("alice", "alice", {"state": "paused", "reason": "nap"})
    assert status == 400
    assert error_code(body) == "unknown_pause_reason"
    assert desk.acd.agent("alice").state is AgentState.LOGGED_OUT


async def test_agent_list_by_role(desk: Desk) -> None:
    desk.acd.set_agent_state("alice", AgentState.PAUSED, "training")
    desk.clock.advance(30)

    status, body = await desk.get("/api/v1/agents", "alice")
    assert status == 200
    assert body == {
        "agents": [
            {
                "username": "alice",
                "state": "paused",
                "reason": "training",
                "time_in_state_seconds": 30.0,
                "queues": [QUEUE],
                "call_id": None,
                "pending_state": None,
            }
        ]
    }

    status, body = await desk.get("/api/v1/agents", "sue")
    assert status == 200
    assert [a["username"] for a in body["agents"]] == ["alice", "bob"]


# ----- queues --------------------------------------------------------------------------


async def test_queues_payload(desk: Desk) -> None:
    status, body = await desk.get("/api/v1/queues", "alice")
    assert status == 200
    (empty,) = body["queues"]
    assert empty["service_level"] is None
    assert empty["asa_seconds"] is None

    desk.acd.set_agent_state("alice", AgentState.AVAILABLE)
    desk.acd.enqueue("c1", QUEUE, "+8613800000001")
    desk.clock.advance(8)
    desk.acd.answered("c1")
    desk.clock.advance(120)
    desk.acd.hangup("c1")
    desk.acd.enqueue("c2", QUEUE, "+8613800000002")  # rings alice again
    desk.acd.enqueue("c3", QUEUE, "+8613800000003")
    desk.clock.advance(10)

    status, body = await desk.get("/api/v1/queues", "sue")
    assert status == 200
    (queue,) = body["queues"]
    assert queue == {
        "name": QUEUE,
        "waiting": 2,
        "longest_wait_seconds": 10.0,
        "agents": {
            "logged_out": 1,
            "available": 0,
            "offered": 1,
            "on_call": 0,
            "wrap_up": 0,
            "paused": 0,
        },
        "offered": 3,
        "answered": 1,
        "abandoned": 0,
        "service_level": 1.0,
        "service_level_target": 0.9,
        "service_level_seconds": 20.0,
        "asa_seconds": 8.0,
        "aht_seconds": 120.0,
    }


# ----- calls ---------------------------------------------------------------------------


async def _record_call(store: SqlTicketStore, call_id: str, agent: str, at: datetime) -> None:
    employee = await store.employee_by_username(EMPLOYEE)
    assert employee is not None
    await store.open_call_record(call_id, f"sip-{call_id}", "+8613800000000", employee.id, at)
    await store.update_call_record(
        call_id,
        queue=QUEUE,
        agent=agent,
        enqueued_at=at + timedelta(seconds=5),
        answered_at=at + timedelta(seconds=12),
        ended_at=at + timedelta(seconds=200),
        outcome=CallOutcome.ANSWERED,
        pickup_latency_seconds=7.0,
        media={"caller_rx": 9000, "agent_rx": 8990},
    )


async def test_calls_visible_per_role(desk: Desk) -> None:
    start = datetime(2025, 11, 24, 9, 0, tzinfo=UTC)
    await _record_call(desk.store, "00000000-0000-0000-0000-00000000000a", "alice", start)
    await _record_call(
        desk.store, "00000000-0000-0000-0000-00000000000b", "bob", start + timedelta(minutes=1)
    )
    await _record_call(
        desk.store, "00000000-0000-0000-0000-00000000000c", "alice", start + timedelta(minutes=2)
    )

    status, body = await desk.get("/api/v1/calls", "alice")
    assert status == 200
    assert [c["id"][-1] for c in body["calls"]] == ["c", "a"]
    first = body["calls"][0]
    assert first == {
        "id": "00000000-0000-0000-0000-00000000000c",
        "caller": "+8613800000000",
        "employee": EMPLOYEE,
        "queue": QUEUE,
        "agent": "alice",
        "outcome": "answered",
        "arrived_at": "2025-11-24T09:02:00+00:00",
        "enqueued_at": "2025-11-24T09:02:05+00:00",
        "answered_at": "2025-11-24T09:02:12+00:00",
        "ended_at": "2025-11-24T09:05:20+00:00",
        "pickup_latency_seconds": 7.0,
        "ticket_id": None,
        "transfer_target": None,
        "media": {"caller_rx": 9000, "agent_rx": 8990},
        "disposition": None,
        "ivr_outcome": None,
        "ivr": {},
    }

    status, body = await desk.get("/api/v1/calls", "bob")
    assert [c["id"][-1] for c in body["calls"]] == ["b"]

    status, body = await desk.get("/api/v1/calls", "sue")
    assert [c["id"][-1] for c in body["calls"][:3]] == ["c", "b", "a"]

    status, body = await desk.get("/api/v1/calls?limit=1", "sue")
    assert [c["id"][-1] for c in body["calls"]] == ["c"]
    status, body = await desk.get("/api/v1/calls?limit=1", "alice")
    assert [c["id"][-1] for c in body["calls"]] == ["c"]


async def test_calls_limit_is_validated(desk: Desk) -> None:
    for limit in ["0", "501", "abc", "-1", "1.5", "", "5_0", " 5"]:
        status, body = await desk.get(f"/api/v1/calls?limit={limit}", "sue")
        assert status == 400, limit
        assert error_code(body) == "invalid_query"
        assert body["error"]["message"].startswith("limit:")


# ----- tickets -------------------------------------------------------------------------


async def test_tickets_of_an_employee_and_one_ticket(desk: Desk) -> None:
    call_id = "00000000-0000-0000-0000-0000000000d1"
    now = datetime.now(UTC)
    await _record_call(desk.store, call_id, "alice", now)
    employee = await desk.store.employee_by_username(EMPLOYEE)
    assert employee is not None
    ticket_id = await desk.store.attach_call_to_incident(call_id, employee.id, now, 8.0)

    status, body = await desk.get(f"/api/v1/tickets?employee={EMPLOYEE}", "alice")
    assert status == 200
    tickets = {t["id"]: t for t in body["tickets"]}
    assert ticket_id in tickets

    status, ticket = await desk.get(f"/api/v1/tickets/{ticket_id}", "alice")
    assert status == 200
    # One ticket is its listing entry plus its description, links, notes, calls and the
    # workarounds of known errors that apply (none here).
    assert {k: v for k, v in ticket.items() if k in tickets[ticket_id]} == tickets[ticket_id]
    assert set(ticket) - set(tickets[ticket_id]) == {
        "description",
        "links",
        "notes",
        "calls",
        "known_errors",
    }
    assert ticket["known_errors"] == []
    assert set(ticket) >= {
        "id",
        "kind",
        "status",
        "priority",
        "subject",
        "employee_id",
        "device_id",
        "created_at",
        "updated_at",
        "call_ids",
        "version",
    }
    assert ticket["employee_id"] == employee.id
    assert call_id in ticket["call_ids"]
    assert [c["id"] for c in ticket["calls"]] == ticket["call_ids"]
    assert datetime.fromisoformat(ticket["created_at"]).utcoffset() == timedelta(0)


async def test_ticket_errors(desk: Desk) -> None:
    cases = [
        ("/api/v1/tickets?employee=", 400, "invalid_query"),
        ("/api/v1/tickets?employee=nobody-here", 404, "unknown_employee"),
        ("/api/v1/tickets/abc", 400, "invalid_path"),
        ("/api/v1/tickets/-3", 400, "invalid_path"),
        ("/api/v1/tickets/999999", 404, "unknown_ticket"),
        ("/api/v1/tickets/99999999999999", 404, "unknown_ticket"),
    ]
    for path, status, code in cases:
        resp = await desk.client.get(path, headers=await desk.auth("alice"))
        assert resp.content_type == "application/problem+json", path
        body = await resp.json()
        assert (resp.status, body["code"]) == (status, code), path


# ----- failures ------------------------------------------------------------------------


async def test_crash_in_a_handler_is_a_500_without_details(
    desk: Desk, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(limit: int) -> list[Any]:
        raise RuntimeError("password=hunter2 in a connection string")

    headers = await desk.auth("sue")
    monkeypatch.setattr(desk.store, "recent_calls", broken)
    with caplog.at_level(logging.ERROR, logger="callcenter.api.errors"):
        resp = await desk.client.get("/api/v1/calls", headers=headers)
    assert resp.status == 500
    text = await resp.text()
    assert "hunter2" not in text
    assert await resp.json() == {"error": {"code": "internal", "message": "internal error"}}
    assert any(r.exc_info and "hunter2" in str(r.exc_info[1]) for r in caplog.records)

    monkeypatch.undo()
    assert (await desk.client.get("/api/v1/calls", headers=headers)).status == 200
