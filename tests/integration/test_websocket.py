"""The console WebSocket protocol: a real `websockets` client against the real aiohttp
application (REST gate included), a real ticket store (SQLite and PostgreSQL) and a real
ACD driven directly. Everything the server sends is checked against the JSON Schemas.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import jsonschema
import pytest
from aiohttp.test_utils import TestServer
from prometheus_client import CollectorRegistry
from pytest_aiohttp import AiohttpServer
from sqlalchemy import select, update
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from callcenter.accounts.store import SqlAccounts
from callcenter.acd import events as ev
from callcenter.acd.acd import Acd
from callcenter.acd.model import DEFAULT_PAUSE_REASONS, AgentState, OfferFailure, QueueSettings
from callcenter.acd_store import LocalAcdStore
from callcenter.api import ApiDeps, build_app
from callcenter.api.websocket import (
    CallControl,
    CallControlError,
    Hub,
    Monitoring,
    TransferTarget,
    WebSocketConfig,
    WrapUpForm,
)
from callcenter.auth.tokens import TokenSigner
from callcenter.calls.events import MonitoringChanged
from callcenter.clock import ManualClock
from callcenter.complaints.model import ComplaintEscalated, ComplaintLimits
from callcenter.complaints.store import file_complaint
from callcenter.db import models
from callcenter.directory.org_store import set_org_service
from callcenter.events import EventBus
from callcenter.knowledge.store import SqlKnowledgeBase
from callcenter.tickets.records import Role, TicketStore
from callcenter.tickets.screen_pop import ScreenPopData
from callcenter.tickets.service_monitor import ComplaintMonitor
from callcenter.tickets.sla import ClockKind
from callcenter.tickets.sla_monitor import LiveSlaMonitor, SlaBreached, SlaWarning
from callcenter.tickets.store import SqlTicketStore
from callcenter.tickets.ticket_repo import NewTicket, TicketRepo
from callcenter.tickets.workflow import Actor, Kind
from callcenter.tickets.workflow import Role as WorkflowRole

SECRET = b"websocket-test-secret-0123456789"
QUEUE, VIP = "helpdesk", "vip"
ORIGIN = "https://desk.example"
ZHANG_SAN = "+862088881001"
ROLES = {"alice": Role.AGENT, "bob": Role.AGENT, "sue": Role.SUPERVISOR}
WRAP_UP_SECONDS = 30.0
TTL = 3600

SCHEMAS = Path(__file__).parents[2] / "callcenter" / "api" / "schemas"


def _schema(name: str) -> dict[str, Any]:
    schema = json.loads((SCHEMAS / name).read_text())
    assert isinstance(schema, dict)
    return schema


def _validator(name: str) -> jsonschema.Draft202012Validator:
    schema = _schema(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


SERVER = _validator("websocket-server.json")
REQUESTS = {
    "agent": _validator("websocket-agent-requests.json"),
    "supervisor": _validator("websocket-supervisor-requests.json"),
}


def check_server_message(message: Any) -> None:
    SERVER.validate(message)


def check_result(message: dict[str, Any], definition: str) -> None:
    """A reply's result against one of the server schema's $defs."""
    defs = _schema("websocket-server.json")["$defs"]
    schema = {"$ref": f"#/$defs/{definition}", "$defs": defs}
    jsonschema.Draft202012Validator(schema).validate(message["result"])


# ----- a fake call flow ----------------------------------------------------------------


@dataclass
class RecordingControl:
    """Records what the console asked of the call flow; fails when told to."""

    calls: list[tuple[Any, ...]] = field(default_factory=list)
    refuse: CallControlError | None = None

    async def _record(self, *what: Any) -> None:
        self.calls.append(what)
        if self.refuse is not None:
            raise self.refuse

    async def accept(self, agent_id: str, call_id: str) -> None:
        await self._record("accept", agent_id, call_id)

    async def reject(self, agent_id: str, call_id: str) -> None:
        await self._record("reject", agent_id, call_id)

    async def hangup(self, agent_id: str, call_id: str) -> None:
        await self._record("hangup", agent_id, call_id)

    async def hold(self, agent_id: str, call_id: str) -> None:
        await self._record("hold", agent_id, call_id)

    async def resume(self, agent_id: str, call_id: str) -> None:
        await self._record("resume", agent_id, call_id)

    async def transfer(self, agent_id: str, call_id: str, target: TransferTarget) -> None:
        await self._record("transfer", agent_id, call_id, target)

    async def complete_transfer(self, agent_id: str, call_id: str) -> None:
        await self._record("transfer_complete", agent_id, call_id)

    async def cancel_transfer(self, agent_id: str, call_id: str) -> None:
        await self._record("transfer_cancel", agent_id, call_id)

    async def send_dtmf(self, agent_id: str, call_id: str, digits: str) -> None:
        await self._record("dtmf", agent_id, call_id, digits)

    async def submit_wrap_up(self, agent_id: str, call_id: str, form: WrapUpForm) -> int | None:
        await self._record("wrap_up", agent_id, call_id, form)
        return 42

    async def add_note(self, agent_id: str, call_id: str, text: str) -> int | None:
        await self._record("add_note", agent_id, call_id, text)
        return 42

    async def escalate(
        self, agent_id: str, call_id: str, tier: str, reason: str, queue: str | None
    ) -> int:
        await self._record("escalate", agent_id, call_id, tier, reason, queue)
        return 42

    async def move_call(self, call_id: str, target: TransferTarget, by: str) -> None:
        await self._record("move_call", call_id, target, by)

    async def monitor(
        self, supervisor: str, mode: str, agent: str | None, call_id: str | None
    ) -> Monitoring:
        await self._record("monitor", supervisor, mode, agent, call_id)
        return Monitoring(call_id or "c1", agent or "alice", mode, "ringing")

    async def stop_monitoring(self, supervisor: str) -> Monitoring:
        await self._record("stop_monitoring", supervisor)
        return Monitoring("c1", "alice", "barge", "ended")


def _is_call_control(control: RecordingControl) -> CallControl:
    return control  # mypy checks the fake against the Protocol here


class SlowStore:
    """The real store, with a caller lookup that takes `delay` seconds (then fails if
    told to)."""

    def __init__(self, store: SqlTicketStore, delay: float, fail: bool = False) -> None:
        self._store = store
        self._delay = delay
        self._fail = fail

    async def screen_pop(self, caller: str, **options: Any) -> ScreenPopData:
        await asyncio.sleep(self._delay)
        if self._fail:
            raise ConnectionError("database went away")
        return await self._store.screen_pop(caller, **options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


# ----- the desk under test -------------------------------------------------------------


class Console:
    """A real websockets client speaking the protocol, checking every server message."""

    def __init__(self, ws: ClientConnection, role: str) -> None:
        self.ws = ws
        self.role = role
        self.pushes: list[dict[str, Any]] = []
        self.hello: dict[str, Any] = {}
        self._ids = 0

    async def recv(self, timeout: float = 10.0) -> dict[str, Any]:
        """The next message; the timeout only ends a test that would hang (a fresh-clone
        run on two loaded cores once took over 3 s to answer a snapshot request)."""
        raw = await asyncio.wait_for(self.ws.recv(), timeout)
        assert isinstance(raw, str)
        message = json.loads(raw)
        check_server_message(message)
        assert isinstance(message, dict)
        return message

    async def expect(self, kind: str, timeout: float = 3.0) -> dict[str, Any]:
        """The next message of this type: pushes kept earlier first, then new ones."""
        for i, message in enumerate(self.pushes):
            if message["type"] == kind:
                return self.pushes.pop(i)
        while True:
            message = await self.recv(timeout)
            if message["type"] == kind:
                return message
            self.pushes.append(message)

    async def nothing_more(self, wait: float = 0.3) -> None:
        with pytest.raises(TimeoutError):
            message = await self.recv(wait)
            pytest.fail(f"unexpected message {message}")

    async def request(self, kind: str, **fields: Any) -> dict[str, Any]:
        self._ids += 1
        message = {"type": kind, "id": f"r{self._ids}", **fields}
        REQUESTS[self.role].validate(message)  # the schema accepts what the server should
        await self.ws.send(json.dumps(message))
        return await self.reply(message["id"])

    async def reply(self, request_id: Any) -> dict[str, Any]:
        while True:
            message = await self.recv()
            if message["type"] in ("ok", "error") and message["id"] == request_id:
                return message
            self.pushes.append(message)

    async def send_raw(self, text: str | bytes) -> None:
        await self.ws.send(text)


@dataclass
class Desk:
    server: TestServer
    acd: Acd
    clock: ManualClock
    tokens: TokenSigner
    hub: Hub
    registry: CollectorRegistry
    control: RecordingControl | None
    sockets: list[ClientConnection] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"ws://127.0.0.1:{self.server.port}{path}"

    def token(self, username: str) -> str:
        return self.tokens.issue(username, ROLES[username])

    async def open(
        self,
        username: str,
        path: str | None = None,
        *,
        header: bool = True,
        origin: str | None = None,
        token: str | None = None,
    ) -> Console:
        """A console, authenticated by header or first message, up to its hello."""
        role = "supervisor" if ROLES[username] is Role.SUPERVISOR else "agent"
        ws = await self.raw(path or f"/ws/{role}", username if header else None, origin, token)
        if not header:
            await ws.send(json.dumps({"type": "auth", "token": token or self.token(username)}))
        console = Console(ws, role)
        hello = await console.expect("hello")
        assert hello["protocol"] == 1
        assert hello["username"] == username and hello["role"] == role
        console.hello = hello
        return console

    async def raw(
        self,
        path: str,
        username: str | None = None,
        origin: str | None = None,
        token: str | None = None,
    ) -> ClientConnection:
        headers = {}
        if username is not None or token is not None:
            headers["Authorization"] = f"Bearer {token or self.token(username or '')}"
        ws = await connect(
            self.url(path),
            additional_headers=headers,
            origin=origin,  # type: ignore[arg-type]
            open_timeout=5,
            compression=None,
            max_size=None,
        )
        self.sockets.append(ws)
        return ws

    def gauge(self, role: str) -> float | None:
        return self.registry.get_sample_value("callcenter_websocket_connections", {"role": role})


async def closed_with(ws: ClientConnection, timeout: float = 5.0) -> tuple[int | None, str]:
    """Read until the server closes; its close code and reason."""
    async with asyncio.timeout(timeout):
        while True:
            try:
                await ws.recv()
            except ConnectionClosed as exc:
                assert exc.rcvd is not None, "the server sent no close frame"
                return exc.rcvd.code, exc.rcvd.reason


MakeDesk = Callable[..., Awaitable[Desk]]


@pytest.fixture
def store(demo_store: SqlTicketStore) -> SqlTicketStore:
    return demo_store


@pytest.fixture
async def make_desk(
    aiohttp_server: AiohttpServer, store: SqlTicketStore
) -> AsyncIterator[MakeDesk]:
    desks: list[Desk] = []

    async def make(
        *,
        control: RecordingControl | None = None,
        ticket_store: TicketStore | None = None,
        pause_reasons: tuple[str, ...] = DEFAULT_PAUSE_REASONS,
        **config: Any,
    ) -> Desk:
        clock = ManualClock(datetime.now(UTC).timestamp())
        bus = EventBus()
        acd = Acd(
            [QueueSettings(QUEUE, wrap_up_seconds=WRAP_UP_SECONDS), QueueSettings(VIP)],
            clock,
            bus.publish,
            pause_reasons=pause_reasons,
        )
        for account in await store.agent_accounts():
            if account.role is Role.AGENT:
                acd.add_agent(account.username, [QUEUE])
        registry = CollectorRegistry()
        tokens = TokenSigner(SECRET, TTL, clock)
        settings: dict[str, Any] = {
            "allowed_origins": frozenset({ORIGIN}),
            "auth_timeout_seconds": 0.5,
            "max_message_bytes": 4096,
            # The ticker is driven by hand (hub.tick()) unless a test asks for it.
            "update_interval_seconds": 3600.0,
            "auth_check_interval_seconds": 0.05,
            # Content tests must not depend on the database's speed; the timing test
            # sets its own.
            "screen_pop_timeout_seconds": 3.0,
            **config,
        }
        hub = Hub(
            acd_store=LocalAcdStore(acd),
            store=ticket_store or store,
            tokens=tokens,
            clock=clock,
            registry=registry,
            config=WebSocketConfig(**settings),
            call_control=control,
            kb=SqlKnowledgeBase(store),
        )
        bus.subscribe(ev.AcdEvent, hub.on_event)
        deps = ApiDeps(LocalAcdStore(acd), store, tokens, registry, clock, lambda: True)
        app = build_app(deps, hub)
        server = await aiohttp_server(app)
        desk = Desk(server, acd, clock, tokens, hub, registry, control)
        desks.append(desk)
        return desk

    yield make
    for desk in desks:
        for ws in desk.sockets:
            await ws.close()
        # Before the store closes: the hub's screen-pop lookups end with the application.
        await desk.server.close()


@pytest.fixture
async def desk(make_desk: MakeDesk) -> Desk:
    return await make_desk()


def offer_call(
    desk: Desk, call_id: str = "c1", caller: str = ZHANG_SAN, agent: str = "alice"
) -> None:
    """A caller waits, then `agent` becomes available: the ACD offers it the call."""
    desk.acd.enqueue(call_id, QUEUE, caller)
    desk.acd.set_agent_state(agent, AgentState.AVAILABLE)


# ----- authentication --------------------------------------------------------------------


async def test_header_auth_says_hello_then_the_agents_state(desk: Desk) -> None:
    console = await desk.open("alice")
    state = await console.recv()
    assert state["type"] == "state"
    assert state["state"] == "logged_out" and state["call_id"] is None
    assert desk.gauge("agent") == 1
    assert desk.gauge("supervisor") == 0

    await console.ws.close()
    await asyncio.sleep(0.1)
    assert desk.gauge("agent") == 0


@pytest.mark.parametrize("username", ["alice", "sue"])
async def test_first_message_auth_gets_past_the_rest_gate(desk: Desk, username: str) -> None:
    """Browsers cannot set headers on an upgrade: the token comes in the first message.
    (Needs the two handlers in build_app's public set.)"""
    console = await desk.open(username, header=False, origin=ORIGIN)
    first = await console.recv()
    assert first["type"] == ("snapshot" if username == "sue" else "state")


async def test_no_token_is_closed_4401_after_the_auth_timeout(desk: Desk) -> None:
    ws = await desk.raw("/ws/agent")
    assert await closed_with(ws) == (4401, "no auth message in time")


@pytest.mark.parametrize(
    "first",
    [
        '{"type":"auth","token":"not-a-token"}',
        '{"type":"get_state","id":1}',
        "not json",
        '{"type":"auth"}',
    ],
)
async def test_a_bad_first_message_is_closed_4401(desk: Desk, first: str) -> None:
    ws = await desk.raw("/ws/agent")
    await ws.send(first)
    code, reason = await closed_with(ws)
    assert code == 4401
    assert reason in ("invalid or expired token", "the first message must be an auth message")
    assert desk.gauge("agent") == 0


async def test_a_bad_or_expired_header_token_is_closed_4401(desk: Desk) -> None:
    ws = await desk.raw("/ws/agent", token="forged.token")
    assert await closed_with(ws) == (4401, "invalid or expired token")

    old = desk.token("alice")
    desk.clock.advance(TTL + 1)
    ws = await desk.raw("/ws/agent", token=old)
    assert await closed_with(ws) == (4401, "invalid or expired token")


@pytest.mark.parametrize(("username", "path"), [("alice", "/ws/supervisor"), ("sue", "/ws/agent")])
async def test_the_wrong_role_is_closed_4403(desk: Desk, username: str, path: str) -> None:
    ws = await desk.raw(path, username)
    code, reason = await closed_with(ws)
    assert code == 4403
    assert "console" in reason


async def test_an_agent_account_unknown_to_the_acd_is_closed_4403(desk: Desk) -> None:
    assert isinstance(desk.hub.store, SqlTicketStore)
    await SqlAccounts(desk.hub.store).add("carol", "Carol", Role.AGENT, "x", None)
    token = desk.tokens.issue("carol", Role.AGENT)
    ws = await desk.raw("/ws/agent", token=token)
    assert (await closed_with(ws))[0] == 4403


async def test_a_foreign_origin_gets_no_socket(desk: Desk) -> None:
    with pytest.raises(InvalidStatus) as caught:
        await desk.raw("/ws/agent", "alice", origin="https://evil.example")
    assert caught.value.response.status_code == 403
    body = json.loads(caught.value.response.body or b"{}")
    assert body["error"]["code"] == "origin_not_allowed"

    console = await desk.open("alice", origin=ORIGIN)  # the configured origin works
    assert (await console.recv())["type"] == "state"


async def test_the_token_expiring_closes_4401_and_a_fresh_one_keeps_it_open(desk: Desk) -> None:
    console = await desk.open("alice")
    desk.clock.advance(TTL - 10)
    fresh = desk.token("alice")
    reply = await console.request("auth", token=fresh)
    assert reply["type"] == "ok" and reply["result"]["expires_at"] > desk.clock.now() + 10
    reply = await console.request("auth", token=desk.token("bob"))
    assert reply["type"] == "error" and reply["code"] == "forbidden"

    desk.clock.advance(20)  # past the first token, not the fresh one
    await asyncio.sleep(0.2)
    assert (await console.request("get_state"))["type"] == "ok"

    desk.clock.advance(TTL)
    assert await closed_with(console.ws) == (4401, "token expired")


async def test_a_client_that_does_not_answer_pings_is_closed_4408(make_desk: MakeDesk) -> None:
    """websockets always answers pings, so this one client is aiohttp's, told not to."""
    desk = await make_desk(ping_interval_seconds=0.1)
    answering = await desk.open("bob")
    headers = {"Authorization": f"Bearer {desk.token('alice')}"}
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(desk.url("/ws/agent"), headers=headers, autoping=False) as silent,
    ):
        async with asyncio.timeout(3):
            while (msg := await silent.receive()).type is not aiohttp.WSMsgType.CLOSE:
                pass
        assert (msg.data, msg.extra) == (4408, "no pong in time")
    assert (await answering.request("get_state"))["type"] == "ok"  # pongs keep it open


async def test_a_second_console_of_the_same_agent_replaces_the_first(desk: Desk) -> None:
    first = await desk.open("alice")
    second = await desk.open("alice")
    assert await closed_with(first.ws) == (4409, "another console of this agent connected")
    assert (await second.request("get_state"))["type"] == "ok"
    assert desk.gauge("agent") == 1


# ----- agent requests ------------------------------------------------------------------


async def test_agent_state_requests(desk: Desk) -> None:
    console = await desk.open("alice")
    await console.expect("state")

    reply = await console.request("get_state")
    assert reply["type"] == "ok" and reply["id"] == "r1"
    check_result(reply, "StateResult")
    assert reply["result"]["state"] == "logged_out"

    reply = await console.request("set_state", state="available")
    assert reply["result"]["state"] == "available"
    assert desk.acd.agent("alice").state is AgentState.AVAILABLE
    assert (await console.expect("state"))["state"] == "available"

    reply = await console.request("set_state", state="paused", reason="lunch")
    check_result(reply, "StateResult")
    assert (reply["result"]["state"], reply["result"]["reason"]) == ("paused", "lunch")
    pushed = await console.expect("state")
    assert (pushed["state"], pushed["reason"]) == ("paused", "lunch")

    reply = await console.request("set_state", state="paused", reason="nap")
    assert (reply["type"], reply["code"]) == ("error", "unknown_pause_reason")

    reply = await console.request("end_wrap_up")
    assert (reply["type"], reply["code"]) == ("error", "invalid_transition")

    reply = await console.request("set_state", state="logged_out")
    assert reply["result"]["state"] == "logged_out"
    assert desk.acd.agent("alice").state is AgentState.LOGGED_OUT

    reply = await console.request("ping")
    assert reply["type"] == "ok" and reply["result"]["at"] == desk.clock.now()


async def test_end_wrap_up_frees_the_agent(desk: Desk) -> None:
    console = await desk.open("alice")
    offer_call(desk)
    desk.acd.answered("c1")
    desk.acd.hangup("c1")
    wrap = await console.expect("wrap_up")
    assert (wrap["call_id"], wrap["seconds"]) == ("c1", WRAP_UP_SECONDS)
    reply = await console.request("end_wrap_up")
    assert reply["type"] == "ok" and reply["result"]["state"] == "available"
    assert desk.acd.agent("alice").state is AgentState.AVAILABLE


CALL_REQUESTS: list[tuple[str, dict[str, Any]]] = [
    ("accept", {}),
    ("reject", {}),
    ("hangup", {}),
    ("hold", {}),
    ("resume", {}),
    ("transfer", {"queue": VIP}),
    ("transfer", {"agent": "bob"}),
    ("transfer", {"number": "+862088881002"}),
    ("dtmf", {"digits": "12#"}),
    (
        "wrap_up",
        {"subject": "printer jam", "priority": 3, "status": "resolved", "kb_article_id": 4},
    ),
    ("add_note", {"text": "asked to restart"}),
    ("transfer", {"agent": "bob", "mode": "attended"}),
    ("transfer_complete", {}),
    ("transfer_cancel", {}),
    ("escalate", {"tier": "onsite", "reason": "fuser broken", "queue": VIP}),
]


async def test_call_requests_are_not_supported_without_call_control(desk: Desk) -> None:
    console = await desk.open("alice")
    offer_call(desk)
    await console.expect("offer")
    for kind, fields in CALL_REQUESTS:
        reply = await console.request(kind, call_id="c1", **fields)
        assert (reply["type"], reply["code"]) == ("error", "not_supported"), kind


async def test_call_requests_reach_the_call_control(make_desk: MakeDesk) -> None:
    control = RecordingControl()
    desk = await make_desk(control=control)
    console = await desk.open("alice")
    offer_call(desk)
    await console.expect("offer")
    for kind, fields in CALL_REQUESTS:
        reply = await console.request(kind, call_id="c1", **fields)
        assert reply["type"] == "ok", (kind, reply)
        assert reply["result"]["call_id"] == "c1"
    assert [c[0] for c in control.calls] == [kind for kind, _ in CALL_REQUESTS]
    assert all(c[1:3] == ("alice", "c1") for c in control.calls)
    assert control.calls[5][3] == TransferTarget(queue=VIP)
    assert control.calls[7][3] == TransferTarget(number="+862088881002")
    assert control.calls[8][3] == "12#"
    form = control.calls[9][3]
    assert form == WrapUpForm(subject="printer jam", priority=3, status="resolved", kb_article_id=4)
    assert control.calls[11][3] == TransferTarget(agent="bob", attended=True)
    assert control.calls[14][3:] == ("onsite", "fuser broken", VIP)

    control.refuse = CallControlError("the phone is gone", code="leg_gone")
    reply = await console.request("hold", call_id="c1")
    assert (reply["type"], reply["code"], reply["message"]) == (
        "error",
        "leg_gone",
        "the phone is gone",
    )


async def test_the_wrap_up_form_may_follow_the_ended_call(make_desk: MakeDesk) -> None:
    control = RecordingControl()
    desk = await make_desk(control=control)
    console = await desk.open("alice")
    offer_call(desk)
    desk.acd.answered("c1")
    desk.acd.hangup("c1")
    desk.acd.end_wrap_up("alice")
    await console.expect("call_ended")
    reply = await console.request("wrap_up", call_id="c1", resolution="replaced toner")
    assert reply["type"] == "ok" and reply["result"]["ticket_id"] == 42
    reply = await console.request("hangup", call_id="c1")  # the call itself is over
    assert (reply["type"], reply["code"]) == ("error", "forbidden")


async def test_the_wrap_up_disposition_is_one_of_the_configured_codes(make_desk: MakeDesk) -> None:
    control = RecordingControl()
    desk = await make_desk(control=control, dispositions=("resolved", "wrong_number"))
    console = await desk.open("alice")
    assert console.hello["dispositions"] == ["resolved", "wrong_number"]
    offer_call(desk)
    desk.acd.answered("c1")
    desk.acd.hangup("c1")
    await console.expect("call_ended")
    reply = await console.request("wrap_up", call_id="c1", disposition="fixed")
    assert (reply["type"], reply["code"]) == ("error", "invalid_field")
    assert reply["message"] == "disposition: not one of resolved, wrong_number"
    assert control.calls == []
    reply = await console.request("wrap_up", call_id="c1", disposition="wrong_number")
    assert reply["type"] == "ok"
    (_, _, _, form) = control.calls[0]
    assert form.disposition == "wrong_number"


async def test_an_agent_cannot_act_on_another_agents_call(make_desk: MakeDesk) -> None:
    control = RecordingControl()
    desk = await make_desk(control=control)
    alice = await desk.open("alice")
    bob = await desk.open("bob")
    offer_call(desk, "bobs-call", agent="bob")
    assert (await bob.expect("offer"))["call_id"] == "bobs-call"
    for kind, fields in CALL_REQUESTS:
        reply = await alice.request(kind, call_id="bobs-call", **fields)
        assert (reply["type"], reply["code"]) == ("error", "forbidden"), kind
    reply = await alice.request("hangup", call_id="no-such-call")
    assert (reply["type"], reply["code"]) == ("error", "forbidden")
    assert control.calls == []
    assert desk.acd.agent("bob").state is AgentState.OFFERED


# ----- malformed input -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "code", "reply_id"),
    [
        ("{not json", "invalid_json", None),
        ("[1, 2]", "invalid_message", None),
        ('"get_state"', "invalid_message", None),
        ('{"id": 7}', "invalid_message", 7),
        ('{"type": 5, "id": 7}', "invalid_message", 7),
        ('{"type": "get_state", "id": true}', "invalid_message", None),
        ('{"type": "fly", "id": "x"}', "unknown_type", "x"),
        (
            '{"type": "force_state", "id": "x", "agent": "bob", "state": "paused"}',
            "unknown_type",
            "x",
        ),
        ('{"type": "get_state"}', "invalid_message", None),
        ('{"type": "set_state", "id": 1}', "invalid_field", 1),
        ('{"type": "set_state", "id": 1, "state": 3}', "invalid_field", 1),
        ('{"type": "set_state", "id": 1, "state": "on_call"}', "invalid_field", 1),
        ('{"type": "set_state", "id": 1, "state": "paused", "colour": "red"}', "invalid_field", 1),
        ('{"type": "dtmf", "id": 1, "call_id": "c1", "digits": "12x"}', "invalid_field", 1),
        ('{"type": "transfer", "id": 1, "call_id": "c1"}', "invalid_field", 1),
        (
            '{"type": "transfer", "id": 1, "call_id": "c1", "queue": "a", "agent": "b"}',
            "invalid_field",
            1,
        ),
        ('{"type": "wrap_up", "id": 1, "call_id": "c1", "priority": 9}', "invalid_field", 1),
        (
            '{"type": "transfer", "id": 1, "call_id": "c1", "agent": "b", "mode": "warm"}',
            "invalid_field",
            1,
        ),
        ('{"type": "transfer_complete", "id": 1}', "invalid_field", 1),
        ('{"type": "wrap_up", "id": 1, "call_id": "c1", "kb_article_id": 0}', "invalid_field", 1),
    ],
)
async def test_malformed_messages_get_an_error_and_the_connection_stays(
    desk: Desk, raw: str, code: str, reply_id: Any
) -> None:
    console = await desk.open("alice")
    await console.expect("state")
    try:
        data = json.loads(raw)
    except ValueError:
        data = None
    if isinstance(data, dict):  # the schema refuses it too
        assert not REQUESTS["agent"].is_valid(data)
    await console.send_raw(raw)
    reply = await console.expect("error")
    assert (reply["code"], reply["id"]) == (code, reply_id)
    assert (await console.request("get_state"))["type"] == "ok"


async def test_a_binary_frame_gets_an_error(desk: Desk) -> None:
    console = await desk.open("alice")
    await console.send_raw(b"\x00\x01")
    assert (await console.expect("error"))["code"] == "invalid_message"
    assert (await console.request("get_state"))["type"] == "ok"


async def test_a_frame_over_the_limit_closes_1009_and_the_server_stays(desk: Desk) -> None:
    console = await desk.open("alice")
    await console.send_raw(json.dumps({"type": "add_note", "id": 1, "text": "x" * 5000}))
    code, _ = await closed_with(console.ws)
    assert code == 1009
    again = await desk.open("alice")
    assert (await again.request("get_state"))["type"] == "ok"


# ----- agent pushes --------------------------------------------------------------------


async def test_an_offer_pops_the_callers_details(desk: Desk) -> None:
    console = await desk.open("alice")
    await console.expect("state")
    desk.clock.advance(0)
    desk.acd.enqueue("c1", QUEUE, ZHANG_SAN, attributes={"topic": "hardware"})
    desk.clock.advance(7)
    desk.acd.set_agent_state("alice", AgentState.AVAILABLE)

    offer = await console.expect("offer")
    assert offer["call_id"] == "c1" and offer["queue"] == QUEUE
    assert offer["caller"] == ZHANG_SAN
    assert offer["waited_seconds"] == pytest.approx(7)
    assert offer["ivr"] == {"topic": "hardware"}
    assert offer["screen_pop_pending"] is False
    pop = offer["screen_pop"]
    assert pop["matches"] == 1
    assert pop["employee"]["name"] == "Zhang San"
    assert pop["employee"]["username"] == "zhangsanKJC"
    warranty = {d["name"]: d["warranty"] for d in pop["devices"]}
    assert warranty == {"KJC-COM-0001": "in", "KJC-PRN-0001": "out"}
    assert all(t["status"] in ("new", "in_progress") for t in pop["open_tickets"])
    # Articles for his ThinkCentre and his LaserJet (the demo's), most used first.
    assert {s["title"] for s in pop["kb_suggestions"]} == {
        "Printer shows a paper jam but no paper is stuck",
        "Desktop is slow after starting up",
    }
    assert {s["reason"] for s in pop["kb_suggestions"]} == {"model"}
    states = [m["state"] for m in console.pushes if m["type"] == "state"]
    assert states == ["available", "offered"]
    console.pushes.clear()

    desk.clock.advance(3)
    desk.acd.answered("c1")
    connected = await console.expect("call_connected")
    assert connected["call_id"] == "c1" and connected["wait_seconds"] == pytest.approx(10)
    assert (await console.expect("state"))["state"] == "on_call"

    desk.clock.advance(60)
    desk.acd.hangup("c1")
    ended = await console.expect("call_ended")
    assert (ended["reason"], ended["talk_seconds"]) == ("completed", pytest.approx(60))
    assert (await console.expect("state"))["state"] == "wrap_up"
    wrap = await console.expect("wrap_up")
    assert (wrap["call_id"], wrap["seconds"], wrap["remaining_seconds"]) == (
        "c1",
        WRAP_UP_SECONDS,
        WRAP_UP_SECONDS,
    )


async def test_a_browser_agents_offer_names_where_the_calls_audio_is(desk: Desk) -> None:
    """In a cluster the audio is on the process holding the call (app.py's function);
    an agent with a SIP phone gets no `audio_url`."""
    url = "ws://node-a:8081/ws/agent/audio"
    desk.hub.audio_url = lambda agent, call: url if agent == "alice" else None
    alice, bob = await desk.open("alice"), await desk.open("bob")
    offer_call(desk, "c1", agent="alice")
    offer_call(desk, "c2", agent="bob")
    assert (await alice.expect("offer"))["audio_url"] == url  # the schema allows it
    assert "audio_url" not in await bob.expect("offer")
    desk.acd.answered("c1")
    desk.acd.answered("c2")
    assert (await alice.expect("call_connected"))["audio_url"] == url
    assert "audio_url" not in await bob.expect("call_connected")


async def test_an_unknown_caller_gets_an_empty_screen_pop(desk: Desk) -> None:
    console = await desk.open("alice")
    offer_call(desk, caller="+8613800000000")
    offer = await console.expect("offer")
    assert offer["screen_pop"]["matches"] == 0
    assert offer["screen_pop"]["employee"] is None
    assert offer["screen_pop"]["devices"] == []
    assert offer["screen_pop"]["kb_suggestions"] == []


KJC_LINE = "+862088881000"  # the demo's office line: Li Si and Wang Wu


async def test_a_shared_line_offers_its_employees_and_the_agent_picks_one(
    desk: Desk, store: SqlTicketStore
) -> None:
    console = await desk.open("alice")
    offer_call(desk, caller=KJC_LINE)
    pop = (await console.expect("offer"))["screen_pop"]
    assert pop["matches"] == 2 and pop["employee"] is None and pop["maybe"] == []
    assert [c["username"] for c in pop["candidates"]] == ["lisiKJC", "wangwuKJC"]
    assert [c["vip"] for c in pop["candidates"]] == [False, True]
    # The call flow's record of the call, answered without an employee (shared line).
    await store.open_call_record("c1", None, KJC_LINE, None, datetime.now(UTC))
    desk.acd.answered("c1")
    await store.update_call_record("c1", answered_at=datetime.now(UTC))

    reply = await console.request("identify_caller", call_id="c1", username="wangwuKJC")
    assert reply["type"] == "ok", reply
    result = reply["result"]
    assert result["screen_pop"]["employee"]["username"] == "wangwuKJC"
    assert result["screen_pop"]["devices"] != []  # Wang Wu's own screen pop
    pushed = await console.expect("screen_pop")
    assert pushed["call_id"] == "c1" and pushed["screen_pop"] == result["screen_pop"]
    record = await store.call_record("c1")
    wang = await store.employee_by_username("wangwuKJC")
    assert record is not None and wang is not None
    assert (record.employee_id, record.ticket_id) == (wang.id, result["ticket_id"])
    ticket = await store.ticket(result["ticket_id"])
    assert ticket is not None and ticket.employee_id == wang.id

    # A console that reconnects gets the identified caller's pop with the offer again.
    await console.ws.close()
    again = await desk.open("alice")
    replayed = [m for m in again.pushes if m["type"] == "offer"] or [await again.expect("offer")]
    assert replayed[0]["screen_pop"]["employee"]["username"] == "wangwuKJC"


async def test_identify_caller_is_refused_for_others_calls_and_unknown_people(
    desk: Desk, store: SqlTicketStore
) -> None:
    alice, bob = await desk.open("alice"), await desk.open("bob")
    offer_call(desk, "c1", caller=KJC_LINE, agent="alice")
    offer_call(desk, "c2", caller=KJC_LINE, agent="bob")
    await alice.expect("offer")
    await bob.expect("offer")
    await store.open_call_record("c1", None, KJC_LINE, None, datetime.now(UTC))
    reply = await alice.request("identify_caller", call_id="c2", username="lisiKJC")
    assert (reply["type"], reply["code"]) == ("error", "forbidden")
    reply = await alice.request("identify_caller", call_id="c1", username="nobodyKJC")
    assert (reply["type"], reply["code"]) == ("error", "unknown_employee")
    record = await store.call_record("c2")
    assert record is None  # nothing was written for bob's call


async def test_an_unknown_number_in_ticket_text_is_a_maybe(
    desk: Desk, store: SqlTicketStore
) -> None:
    repo = TicketRepo(store)
    ticket = await repo.create(
        NewTicket(Kind.INCIDENT, "Fax broken", 3, description="fax line: 020-8888 9999"),
        Actor("alice", WorkflowRole.AGENT),
        datetime.now(UTC),
    )
    console = await desk.open("alice")
    offer_call(desk, caller="+862088889999")
    pop = (await console.expect("offer"))["screen_pop"]
    assert pop["matches"] == 0 and pop["employee"] is None and pop["candidates"] == []
    assert pop["maybe"] == [
        {
            "ticket_id": ticket.ticket.id,
            "subject": "Fax broken",
            "employee": None,
            "number_as_written": "020-8888 9999",
        }
    ]


async def test_a_slow_lookup_does_not_hold_the_offer_back(
    make_desk: MakeDesk, store: SqlTicketStore
) -> None:
    desk = await make_desk(ticket_store=SlowStore(store, 2.0), screen_pop_timeout_seconds=0.2)
    console = await desk.open("alice")
    await console.expect("state")
    offer_call(desk)
    offer = await console.expect("offer")
    # Sent without the pop, still being read: the offer did not wait for the lookup.
    assert offer["screen_pop"] is None and offer["screen_pop_pending"] is True
    desk.acd.answered("c1")
    # Pushes after the offer keep their order; the screen pop follows when it is read.
    assert (await console.expect("call_connected"))["call_id"] == "c1"
    follow_up = await console.expect("screen_pop")
    assert follow_up["call_id"] == "c1"
    assert follow_up["screen_pop"]["employee"]["name"] == "Zhang San"


async def test_a_failed_late_lookup_is_reported_after_the_offer(
    make_desk: MakeDesk, store: SqlTicketStore
) -> None:
    desk = await make_desk(
        ticket_store=SlowStore(store, 1.5, fail=True), screen_pop_timeout_seconds=0.2
    )
    console = await desk.open("alice")
    offer_call(desk)
    offer = await console.expect("offer")
    assert offer["screen_pop"] is None and offer["screen_pop_pending"] is True
    failed = await console.expect("error")
    assert (failed["id"], failed["code"], failed["call_id"]) == (None, "screen_pop_failed", "c1")


async def test_a_withdrawn_offer_ends_the_call_on_the_console(desk: Desk) -> None:
    console = await desk.open("alice")
    offer_call(desk)
    await console.expect("offer")
    desk.acd.offer_failed("c1", OfferFailure.NO_ANSWER)
    ended = await console.expect("call_ended")
    assert (ended["call_id"], ended["reason"], ended["cause"]) == ("c1", "withdrawn", "no_answer")
    states: list[dict[str, Any]] = []
    while not states or states[-1]["state"] != "paused":
        states.append(await console.expect("state"))
    assert states[-1]["reason"] == "no answer"


async def test_another_agents_events_are_not_pushed(desk: Desk) -> None:
    alice = await desk.open("alice")
    await alice.expect("state")
    offer_call(desk, agent="bob")
    await alice.nothing_more()


# ----- supervisor ----------------------------------------------------------------------


async def test_the_supervisor_gets_a_snapshot(desk: Desk) -> None:
    desk.acd.set_agent_state("bob", AgentState.AVAILABLE)
    desk.acd.enqueue("c1", QUEUE, ZHANG_SAN)  # offered to bob
    desk.acd.enqueue("c2", QUEUE, "+8613800000000")  # waits
    desk.clock.advance(5)
    sue = await desk.open("sue")
    snapshot = await sue.expect("snapshot")
    queues = {q["name"]: q for q in snapshot["queues"]}
    assert set(queues) == {QUEUE, VIP}
    helpdesk = queues[QUEUE]
    assert helpdesk["waiting"] == 2
    assert helpdesk["longest_wait_seconds"] == pytest.approx(5)
    assert helpdesk["service_level_target"] == 0.9
    assert set(helpdesk["windows"]) == {"15m", "24h", "today"}
    assert helpdesk["agents"]["offered"] == 1 and helpdesk["agents"]["logged_out"] == 1
    agents = {a["username"]: a for a in snapshot["agents"]}
    assert agents["bob"]["state"] == "offered"
    assert agents["bob"]["time_in_state_seconds"] == pytest.approx(5)
    assert agents["bob"]["call"] == {
        "call_id": "c1",
        "queue": QUEUE,
        "caller": ZHANG_SAN,
        "phase": "offered",
    }
    assert agents["alice"]["call"] is None and agents["alice"]["console"] is False

    reply = await sue.request("get_snapshot")
    assert reply["type"] == "ok" and len(reply["result"]["agents"]) == 2


async def test_supervisor_updates_are_coalesced_per_tick(desk: Desk) -> None:
    sue = await desk.open("sue")
    await sue.expect("snapshot")
    for n in range(5):
        desk.acd.enqueue(f"c{n}", QUEUE, f"+86138000000{n:02d}")
    await sue.nothing_more(0.2)  # nothing before the tick
    desk.hub.tick()
    update = await sue.expect("queue")
    assert (update["name"], update["waiting"]) == (QUEUE, 5)
    await sue.nothing_more(0.2)  # one message for five changes

    desk.acd.set_agent_state("alice", AgentState.AVAILABLE)  # takes c0 at once
    desk.hub.tick()
    agent = await sue.expect("agent")
    assert (agent["username"], agent["state"]) == ("alice", "offered")
    assert agent["call"]["call_id"] == "c0"
    queue = await sue.expect("queue")
    assert queue["agents"]["offered"] == 1
    await sue.nothing_more(0.2)
    desk.hub.tick()  # no change since: nothing
    await sue.nothing_more(0.2)


async def test_the_ticker_runs_with_the_application(make_desk: MakeDesk) -> None:
    desk = await make_desk(update_interval_seconds=0.05)
    sue = await desk.open("sue")
    await sue.expect("snapshot")
    desk.acd.enqueue("c1", QUEUE, ZHANG_SAN)
    assert (await sue.expect("queue"))["waiting"] == 1


async def test_a_slow_supervisor_gets_a_fresh_snapshot_instead_of_a_backlog(
    make_desk: MakeDesk,
) -> None:
    desk = await make_desk(send_queue_size=2)
    sue = await desk.open("sue")
    await sue.expect("snapshot")
    for n in range(6):
        desk.acd.enqueue(f"c{n}", VIP, f"+86138000000{n:02d}")
        desk.acd.add_agent(f"temp{n}", [QUEUE])
        desk.acd.set_agent_state(f"temp{n}", AgentState.PAUSED, "break")
    desk.hub.tick()  # 1 queue + 1 queue + 6 agents: more than the queue holds
    fresh = await sue.recv()
    assert fresh["type"] == "snapshot"
    assert len(fresh["agents"]) == 8
    await sue.nothing_more(0.2)


async def test_supervisor_requests(desk: Desk) -> None:
    sue = await desk.open("sue")
    reply = await sue.request("force_state", agent="alice", state="paused", reason="meeting")
    assert reply["type"] == "ok"
    assert (reply["result"]["agent"], reply["result"]["state"]) == ("alice", "paused")
    assert desk.acd.agent("alice").reason == "meeting"
    reply = await sue.request("force_state", agent="nobody", state="available")
    assert (reply["type"], reply["code"]) == ("error", "unknown_agent")

    desk.acd.enqueue("c1", QUEUE, ZHANG_SAN)
    reply = await sue.request("move_call", call_id="c1", queue=VIP)
    assert reply["type"] == "ok"
    assert desk.acd.call("c1").queue == VIP
    reply = await sue.request("move_call", call_id="c1", queue="nowhere")
    assert (reply["type"], reply["code"]) == ("error", "unknown_queue")
    reply = await sue.request("move_call", call_id="c1", agent="bob")  # bob is logged out
    assert (reply["type"], reply["code"]) == ("error", "invalid_transition")
    desk.acd.set_agent_state("bob", AgentState.AVAILABLE)  # bob serves helpdesk, not vip
    assert desk.acd.agent("bob").state is AgentState.AVAILABLE
    reply = await sue.request("move_call", call_id="c1", agent="bob")
    assert reply["type"] == "ok"
    assert desk.acd.call("c1").agent_id == "bob"
    desk.acd.answered("c1")
    reply = await sue.request("move_call", call_id="c1", queue=QUEUE)
    assert (reply["type"], reply["code"]) == ("error", "not_supported")
    assert desk.acd.call("c1").queue == VIP
    reply = await sue.request("move_call", call_id="gone", queue=VIP)
    assert (reply["type"], reply["code"]) == ("error", "unknown_call")

    for kind in ("listen", "whisper", "barge"):
        reply = await sue.request(kind, agent="alice")
        assert (reply["type"], reply["code"]) == ("error", "not_supported"), kind
    reply = await sue.request("stop_monitoring")
    assert (reply["type"], reply["code"]) == ("error", "not_supported")


async def test_supervision_requests_reach_the_call_control_and_push_to_the_supervisor(
    make_desk: MakeDesk,
) -> None:
    control = RecordingControl()
    desk = await make_desk(control=control)
    sue = await desk.open("sue")
    alice = await desk.open("alice")
    await alice.expect("state")
    reply = await sue.request("listen", agent="alice")
    assert reply["type"] == "ok", reply
    check_result(reply, "MonitoringResult")
    assert (reply["result"]["mode"], reply["result"]["state"]) == ("listen", "ringing")
    reply = await sue.request("barge", call_id="c1")
    assert reply["type"] == "ok", reply
    reply = await sue.request("stop_monitoring")
    assert (reply["type"], reply["result"]["state"]) == ("ok", "ended")
    assert control.calls == [
        ("monitor", "sue", "listen", "alice", None),
        ("monitor", "sue", "barge", None, "c1"),
        ("stop_monitoring", "sue"),
    ]
    both = {"type": "listen", "id": "both", "agent": "alice", "call_id": "c1"}
    await sue.send_raw(json.dumps(both))
    reply = await sue.reply("both")
    assert (reply["type"], reply["code"]) == ("error", "invalid_field")
    control.refuse = CallControlError("the legs are elsewhere", code="call_elsewhere")
    reply = await sue.request("whisper", agent="alice")
    assert (reply["type"], reply["code"]) == ("error", "call_elsewhere")

    desk.hub.on_monitoring_changed(
        MonitoringChanged(desk.clock.now(), "sue", "c1", "alice", "listen", "ended", "hung_up")
    )
    pushed = await sue.expect("monitoring")
    assert (pushed["call_id"], pushed["state"], pushed["reason"]) == ("c1", "ended", "hung_up")
    await alice.nothing_more(0.3)  # only the supervisor who monitors hears of it


async def test_move_call_goes_through_the_call_control_when_there(make_desk: MakeDesk) -> None:
    control = RecordingControl()
    desk = await make_desk(control=control)
    sue = await desk.open("sue")
    desk.acd.enqueue("c1", QUEUE, ZHANG_SAN)
    reply = await sue.request("move_call", call_id="c1", agent="bob")
    assert reply["type"] == "ok"
    assert control.calls == [("move_call", "c1", TransferTarget(agent="bob"), "sue")]
    assert desk.acd.call("c1").queue == QUEUE  # the call flow moves it, not the hub


# ----- reconnection --------------------------------------------------------------------


async def test_a_console_reconnecting_gets_its_state_and_live_call_back(desk: Desk) -> None:
    console = await desk.open("alice")
    offer_call(desk)
    await console.expect("offer")
    desk.acd.answered("c1")
    await console.expect("call_connected")
    await console.ws.close()
    await asyncio.sleep(0.1)
    # A closed console changes nothing for the call.
    assert desk.acd.agent("alice").state is AgentState.ON_CALL
    assert desk.acd.call("c1").agent_id == "alice"

    desk.clock.advance(30)
    desk.hub.tick()
    again = Console(await desk.raw("/ws/agent", "alice"), "agent")
    hello = await again.recv()
    assert hello["type"] == "hello" and hello["resumed"] is True
    state = await again.recv()
    assert (state["type"], state["state"], state["call_id"]) == ("state", "on_call", "c1")
    offer = await again.recv()
    assert offer["type"] == "offer" and offer["call_id"] == "c1"
    assert offer["screen_pop"]["employee"]["name"] == "Zhang San"
    assert (await again.recv())["type"] == "call_connected"
    assert desk.acd.agent("alice").state is AgentState.ON_CALL


async def test_hello_offers_the_configured_pause_reasons_not_the_acds_own(
    make_desk: MakeDesk,
) -> None:
    desk = await make_desk(pause_reasons=(*DEFAULT_PAUSE_REASONS, "golf"))
    console = await desk.open("alice")
    assert console.hello["pause_reasons"] == ["break", "golf", "lunch", "meeting", "training"]


@pytest.mark.parametrize(
    ("reasons", "expected"),
    [((*DEFAULT_PAUSE_REASONS, "console closed"), "console closed"), (("break",), "unreachable")],
)
async def test_an_available_agent_is_paused_after_the_grace_period(
    make_desk: MakeDesk, reasons: tuple[str, ...], expected: str
) -> None:
    desk = await make_desk(pause_reasons=reasons)
    console = await desk.open("alice")
    await console.request("set_state", state="available")
    await console.ws.close()
    await asyncio.sleep(0.1)

    desk.clock.advance(59)
    desk.hub.tick()
    assert desk.acd.agent("alice").state is AgentState.AVAILABLE
    desk.clock.advance(2)
    desk.hub.tick()
    agent = desk.acd.agent("alice")
    assert (agent.state, agent.reason) == (AgentState.PAUSED, expected)

    again = await desk.open("alice")
    assert (await again.expect("state"))["state"] == "paused"


async def test_a_reconnect_within_the_grace_period_keeps_the_agent_available(
    desk: Desk,
) -> None:
    console = await desk.open("alice")
    await console.request("set_state", state="available")
    await console.ws.close()
    await asyncio.sleep(0.1)
    desk.clock.advance(50)
    desk.hub.tick()
    again = await desk.open("alice")
    desk.clock.advance(60)
    desk.hub.tick()
    assert desk.acd.agent("alice").state is AgentState.AVAILABLE
    assert (await again.expect("state"))["state"] == "available"


async def test_an_agent_on_a_call_is_not_paused_after_the_grace_period(desk: Desk) -> None:
    console = await desk.open("alice")
    offer_call(desk)
    desk.acd.answered("c1")
    await console.ws.close()
    await asyncio.sleep(0.1)
    desk.clock.advance(120)
    desk.hub.tick()
    assert desk.acd.agent("alice").state is AgentState.ON_CALL


# ----- shutdown ------------------------------------------------------------------------


async def test_shutdown_closes_every_console_1001(desk: Desk) -> None:
    alice = await desk.open("alice")
    sue = await desk.open("sue")
    async with asyncio.timeout(3):  # the close handshake is bounded (close_timeout_seconds)
        await desk.server.close()
    assert await closed_with(alice.ws) == (1001, "server shutting down")
    assert await closed_with(sue.ws) == (1001, "server shutting down")
    assert desk.gauge("agent") == 0 and desk.gauge("supervisor") == 0


# ----- ticket alerts (SLA warnings and breaches, complaint escalations) --------------------

SHANGHAI_MONDAY = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, office hours


class BrokenTicketStore(SlowStore):
    """The real store whose ticket reads fail (the database went away)."""

    async def ticket(self, ticket_id: int) -> None:
        raise ConnectionError("database went away")


def alert_bus(desk: Desk) -> EventBus:
    """A bus with the hub subscribed to alerts, as callcenter/app.py wires it."""
    bus = EventBus()
    bus.subscribe(SlaWarning, desk.hub.on_ticket_alert)
    bus.subscribe(SlaBreached, desk.hub.on_ticket_alert)
    bus.subscribe(ComplaintEscalated, desk.hub.on_ticket_alert)
    return bus


async def timed_ticket(store: SqlTicketStore, call_id: str, assignee: str | None = None) -> int:
    """An incident opened by a call of Zhang San at 10:00 Monday: its clocks run."""
    employee = await store.employee_by_username("zhangsanKJC")
    assert employee is not None
    await store.open_call_record(call_id, None, ZHANG_SAN, employee.id, SHANGHAI_MONDAY)
    ticket_id = await store.attach_call_to_incident(call_id, employee.id, SHANGHAI_MONDAY, 8.0)
    assert ticket_id is not None
    async with store.write_transaction() as session:
        await session.execute(
            update(models.Ticket)
            .where(models.Ticket.id == ticket_id)
            .values(assignee=assignee, subject="Printer on fire", priority=2)
        )
    return ticket_id


async def alert_for(console: Console, ticket_id: int, kind: str) -> dict[str, Any]:
    """The next `ticket_alert` of this ticket and kind (others are kept)."""
    while True:
        alert = await console.expect("ticket_alert")
        if (alert["ticket_id"], alert["kind"]) == (ticket_id, kind):
            return alert
        console.pushes.append({**alert, "type": "other_alert"})


def alerts_of(snapshot: dict[str, Any], ticket_id: int) -> set[tuple[str, str | None]]:
    return {
        (a["kind"], a["clock"]) for a in snapshot["ticket_alerts"] if a["ticket_id"] == ticket_id
    }


async def test_sla_alerts_reach_the_supervisors_and_the_assignee_and_the_snapshot(
    desk: Desk, store: SqlTicketStore
) -> None:
    ticket_id = await timed_ticket(store, "call-sla-1", assignee="bob")
    monitor = LiveSlaMonitor(store, alert_bus(desk).publish, desk.clock)
    sue = await desk.open("sue")
    first = await sue.expect("snapshot")
    assert alerts_of(first, ticket_id) == set()
    alice, bob = await desk.open("alice"), await desk.open("bob")
    await alice.expect("state")
    await bob.expect("state")

    # 24 of the first response's 30 business minutes: the 80 % warning.
    await monitor.scan(SHANGHAI_MONDAY + timedelta(minutes=25))
    warning = await alert_for(sue, ticket_id, "sla_warning")
    assert warning["clock"] == "first_response" and warning["level"] == pytest.approx(0.8)
    assert warning["escalation_level"] is None
    assert warning["due_at"] == "2026-11-30T02:30:00+00:00"
    assert (warning["subject"], warning["priority"], warning["assignee"], warning["tier"]) == (
        "Printer on fire",
        2,
        "bob",
        "tier1_service_desk",
    )
    assert await alert_for(bob, ticket_id, "sla_warning") == warning
    await alice.nothing_more()  # not hers

    reply = await sue.request("get_snapshot")
    assert alerts_of(reply["result"], ticket_id) == {("sla_warning", "first_response")}

    await monitor.scan(SHANGHAI_MONDAY + timedelta(minutes=31))
    breach = await alert_for(sue, ticket_id, "sla_breach")
    assert (breach["clock"], breach["level"], breach["assignee"]) == ("first_response", None, "bob")
    assert (await alert_for(bob, ticket_id, "sla_breach"))["clock"] == "first_response"
    await alice.nothing_more()

    # A wall board that reconnects shows the breach (not the warning it superseded).
    again = await desk.open("sue")
    snapshot = await again.expect("snapshot")
    assert alerts_of(snapshot, ticket_id) == {("sla_breach", "first_response")}
    (item,) = [a for a in snapshot["ticket_alerts"] if a["ticket_id"] == ticket_id]
    assert (item["subject"], item["assignee"], item["due_at"]) == (
        "Printer on fire",
        "bob",
        "2026-11-30T02:30:00+00:00",
    )

    # Resolved: nothing open any more.
    async with store.write_transaction() as session:
        await session.execute(
            update(models.Ticket).where(models.Ticket.id == ticket_id).values(status="resolved")
        )
    reply = await again.request("get_snapshot")
    assert alerts_of(reply["result"], ticket_id) == set()


async def test_the_agent_on_the_tickets_call_gets_its_alerts(
    desk: Desk, store: SqlTicketStore
) -> None:
    ticket_id = await timed_ticket(store, "c1")  # nobody's
    alice, bob = await desk.open("alice"), await desk.open("bob")
    await bob.expect("state")
    offer_call(desk, "c1")
    await alice.expect("offer")
    due = SHANGHAI_MONDAY + timedelta(minutes=30)
    alert_bus(desk).publish(SlaBreached(ticket_id, ClockKind.FIRST_RESPONSE, due))
    alert = await alert_for(alice, ticket_id, "sla_breach")
    assert alert["assignee"] is None and alert["subject"] == "Printer on fire"

    desk.acd.answered("c1")
    desk.acd.hangup("c1")
    await alice.expect("call_ended")
    warning = SlaWarning(ticket_id, ClockKind.RESOLUTION, None, 0.8, due)
    alert_bus(desk).publish(warning)  # the call just ended: still hers
    alert = await alert_for(alice, ticket_id, "sla_warning")
    assert (alert["clock"], alert["due_at"]) == ("resolution", None)
    await bob.nothing_more()


async def test_an_alert_whose_ticket_cannot_be_read_still_reaches_the_supervisors(
    make_desk: MakeDesk, store: SqlTicketStore
) -> None:
    desk = await make_desk(ticket_store=BrokenTicketStore(store, 0.0))
    sue = await desk.open("sue")
    snapshot = await sue.expect("snapshot")
    assert snapshot["ticket_alerts"] == []  # only a SQL store keeps announcements
    due = SHANGHAI_MONDAY + timedelta(minutes=30)
    alert_bus(desk).publish(SlaBreached(4711, ClockKind.ONSITE_ARRIVAL, due))
    alert = await alert_for(sue, 4711, "sla_breach")
    assert alert["clock"] == "onsite_arrival"
    assert (alert["subject"], alert["priority"], alert["assignee"], alert["tier"]) == (
        None,
        None,
        None,
        None,
    )


async def test_complaint_escalations_reach_the_consoles_and_the_snapshot(
    desk: Desk, store: SqlTicketStore
) -> None:
    async with store.write_transaction() as session:
        org_id = await session.scalar(
            select(models.Employee.organisation_id).where(models.Employee.username == "zhangsanKJC")
        )
    assert org_id is not None
    await set_org_service(
        store,
        org_id,
        policy=None,
        calendar=None,
        account_manager="bob",
        account_manager_email="bob@desk.example",
        actor="sue",
        now=SHANGHAI_MONDAY,
    )
    complaint = await file_complaint(
        store,
        subject="Nobody came",
        description="The engineer never arrived.",
        filed_by="alice",
        now=SHANGHAI_MONDAY,
        employee="zhangsanKJC",
    )
    sue, bob = await desk.open("sue"), await desk.open("bob")
    await sue.expect("snapshot")
    await bob.expect("state")
    monitor = ComplaintMonitor(
        store, alert_bus(desk).publish, desk.clock, ComplaintLimits(4 * 3600, 16 * 3600)
    )
    (event,) = await monitor.scan(SHANGHAI_MONDAY + timedelta(hours=6))
    assert (event.ticket_id, event.level) == (complaint.id, 1)
    alert = await alert_for(sue, complaint.id, "complaint_escalated")
    assert (alert["escalation_level"], alert["clock"], alert["level"]) == (1, None, None)
    assert (alert["assignee"], alert["subject"], alert["tier"]) == (
        "bob",
        "Nobody came",
        "account_manager",
    )
    assert (await alert_for(bob, complaint.id, "complaint_escalated"))["escalation_level"] == 1

    again = await desk.open("sue")
    snapshot = await again.expect("snapshot")
    (item,) = [a for a in snapshot["ticket_alerts"] if a["ticket_id"] == complaint.id]
    assert (item["kind"], item["escalation_level"], item["assignee"]) == (
        "complaint_escalated",
        1,
        "bob",
    )
