"""Schemathesis fuzzes the real application against its own OpenAPI document.

The server is the real aiohttp app on a real SQLite database with the demo data (plus one
answered call, its ticket and queue log, which the document's examples name), served on a
loopback port from a thread of its own: schemathesis calls it synchronously. Every
operation gets up to `MAX_EXAMPLES` generated requests with a supervisor's token, valid
and invalid, and `AGENT_EXAMPLES` valid ones with an agent's; all derandomised, so that a
failure repeats. Each reply must not be a 5xx, must have a status and content type the
document gives for the operation, and must match its schemas (body and headers); invalid
requests must be refused. Nothing is skipped: the server is thrown away afterwards.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, settings
from prometheus_client import CollectorRegistry
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from callcenter.acd.acd import Acd
from callcenter.acd.model import QueueSettings
from callcenter.acd_store import LocalAcdStore
from callcenter.api import ApiDeps, build_app, openapi
from callcenter.auth.throttle import ThrottlePolicy
from callcenter.auth.tokens import TokenSigner
from callcenter.clock import SystemClock
from callcenter.db.migrate import upgrade
from callcenter.demo import load_demo
from callcenter.knowledge.store import SqlKnowledgeBase
from callcenter.tickets.records import AcdEventEntry, CallOutcome, Role
from callcenter.tickets.store import SqlTicketStore, open_store

#: Enough to reach every documented status of these operations; the whole run stays
#: well under a minute on one core.
MAX_EXAMPLES = 25
AGENT_EXAMPLES = 8
SECRET = b"openapi-fuzz-secret-0123456789abcdef"
QUEUES = ("helpdesk", "vip")
EMPLOYEE = "zhangsanKJC"
#: The call id and ticket id the document uses as examples (so that the examples reach
#: the success replies, not only 404).
EXAMPLE_CALL = "7d0c5e0e-3a0f-4a51-9a55-2b8f3c1f9e11"
EXAMPLE_TICKET = 1
START = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def invalid_data_is_rejected(ctx: Any, response: Any, case: Any) -> bool | None:
    """Schemathesis's `negative_data_rejection`, except for requests with a query
    parameter the operation does not declare: most routes ignore those by design (the
    staffing calculators refuse them), and OpenAPI has no way to say so."""
    declared = {parameter.name for parameter in case.operation.query}
    if set(case.query or {}) - declared:
        return None
    return negative_data_rejection(ctx, response, case)


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    invalid_data_is_rejected,
]

schema = schemathesis.openapi.from_dict(openapi.document())
schema.config.generation.update(
    modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
    max_examples=MAX_EXAMPLES,
    deterministic=True,
)
#: The same document from an agent's side: valid requests only, fewer of them.
agent_schema = schemathesis.openapi.from_dict(openapi.document())
agent_schema.config.generation.update(
    modes=[schemathesis.GenerationMode.POSITIVE],
    max_examples=AGENT_EXAMPLES,
    deterministic=True,
)


@dataclass
class LiveServer:
    base_url: str
    #: Authorization headers by username: a supervisor ("sue") and an agent ("alice").
    headers: dict[str, dict[str, str]]


class _Served:
    """The application and what it runs on, set up and torn down on the server's loop."""

    def __init__(self, database: Path) -> None:
        self.url = f"sqlite+aiosqlite:///{database}"
        self.store: SqlTicketStore | None = None
        self.runner: web.AppRunner | None = None

    async def start(self) -> tuple[int, TokenSigner]:
        await upgrade(self.url)
        self.store = open_store(self.url, "CN")
        await load_demo(self.store)
        await _answered_call(self.store)
        clock = SystemClock()
        acd = Acd([QueueSettings(name) for name in QUEUES], clock, lambda event: None)
        for account in await self.store.agent_accounts():
            if account.role is Role.AGENT:
                acd.add_agent(account.username, [QUEUES[0]])
        tokens = TokenSigner(SECRET, 3600, clock)
        deps = ApiDeps(
            acd_store=LocalAcdStore(acd),
            store=self.store,
            tokens=tokens,
            registry=CollectorRegistry(),
            clock=clock,
            ready=lambda: True,
            kb=SqlKnowledgeBase(self.store),
            # The fuzzer's thousands of made-up logins all come from 127.0.0.1; locking
            # that address out would turn the real logins after them into 429s.
            login_policy=ThrottlePolicy(per_user=10**6, per_source=10**6),
        )
        self.runner = web.AppRunner(build_app(deps))
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = self.runner.addresses[0][1]
        return port, tokens

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
        if self.store is not None:
            await self.store.close()


async def _answered_call(store: SqlTicketStore) -> None:
    """The call (and so the ticket) the document's examples name, with its queue log."""
    employee = await store.employee_by_username(EMPLOYEE)
    assert employee is not None
    await store.open_call_record(EXAMPLE_CALL, None, "+862088881001", employee.id, START)
    await store.update_call_record(
        EXAMPLE_CALL,
        queue=QUEUES[0],
        agent="alice",
        enqueued_at=START + timedelta(seconds=6),
        answered_at=START + timedelta(seconds=9),
        ended_at=START + timedelta(seconds=250),
        outcome=CallOutcome.ANSWERED,
        pickup_latency_seconds=3.0,
        media={"caller_rx_packets": 12160, "agent_rx_packets": 11990},
    )
    ticket_id = await store.attach_call_to_incident(EXAMPLE_CALL, employee.id, START, 8.0)
    assert ticket_id == EXAMPLE_TICKET, "the document's examples name ticket 1"
    await store.append_acd_events(
        [
            AcdEventEntry(START, "CallEnqueued", EXAMPLE_CALL, QUEUES[0], None, {"position": 1}),
            AcdEventEntry(START, "CallAnswered", EXAMPLE_CALL, QUEUES[0], "alice", {}),
        ]
    )


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="openapi-fuzz-server", daemon=True)
    thread.start()
    served = _Served(tmp_path_factory.mktemp("openapi") / "callcenter.db")
    try:
        port, tokens = asyncio.run_coroutine_threadsafe(served.start(), loop).result(60)
        yield LiveServer(
            f"http://127.0.0.1:{port}",
            {
                username: {"Authorization": f"Bearer {tokens.issue(username, role)}"}
                for username, role in (("sue", Role.SUPERVISOR), ("alice", Role.AGENT))
            },
        )
    finally:
        asyncio.run_coroutine_threadsafe(served.stop(), loop).result(60)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@schema.parametrize()
@settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_the_server_keeps_to_its_openapi_document(case: Any, live_server: LiveServer) -> None:
    case.call_and_validate(
        base_url=live_server.base_url, headers=live_server.headers["sue"], checks=CHECKS
    )


@agent_schema.parametrize()
@settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_an_agent_gets_documented_replies_too(case: Any, live_server: LiveServer) -> None:
    """403 where supervisors administer, its own records only where it reads."""
    case.call_and_validate(
        base_url=live_server.base_url, headers=live_server.headers["alice"], checks=CHECKS
    )


def test_a_login_that_succeeds_matches_the_document(live_server: LiveServer) -> None:
    """The fuzzer cannot guess a password: one real login, checked the same way."""
    case = schema["/api/v1/auth/login"]["POST"].Case(
        body={"username": "alice", "password": "alice-demo"}
    )
    response = case.call_and_validate(base_url=live_server.base_url, checks=CHECKS)
    assert response.status_code == 200
    assert response.json()["role"] == "agent"
