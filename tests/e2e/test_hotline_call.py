"""The whole hotline path on real parts: SIPp caller -> pjsua2 bridge -> ACD -> SIPp agent phone.

Each test runs once on SQLite and once on PostgreSQL (the `database_url` fixture).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from callcenter.app import CALL_HEARTBEAT_SECONDS
from callcenter.tickets.store import open_store
from tests.integration.harness import (
    DEMO_NUMBER,
    Server,
    agent_phone,
    caller,
    metric_value,
)

pytestmark = pytest.mark.sip


@pytest.fixture
async def server(database_url: str, tmp_path: Path) -> AsyncIterator[Server]:
    srv = Server(database_url, tmp_path)
    await srv.prepare()
    async with srv.running():
        yield srv


async def wait_for_call(server: Server, predicate: Any, timeout: float = 30) -> dict[str, Any]:
    """The newest call record once it satisfies predicate (records are written asynchronously)."""
    deadline = asyncio.get_running_loop().time() + timeout
    calls: list[dict[str, Any]] = []
    while asyncio.get_running_loop().time() < deadline:
        calls = await server.calls()
        if calls and predicate(calls[0]):
            return calls[0]
        await asyncio.sleep(0.2)
    raise AssertionError(f"no call record matched; newest: {calls[:1]}\n{server.log()[-5000:]}")


async def run_pair(caller_sipp: Any, phones: list[Any]) -> None:
    code, out = await caller_sipp.wait(60)
    assert code == 0, f"caller failed: {out}\n{caller_sipp.traces()}"
    for phone in phones:
        code, out = await phone.wait(30)
        assert code == 0, f"agent phone failed: {out}\n{phone.traces()}"


async def test_answered_call_leaves_record_ticket_and_metrics(
    server: Server, tmp_path: Path
) -> None:
    alice = await agent_phone("agent_answer.xml", server.agents["alice"], tmp_path).start()
    await server.set_state("alice", "available")
    phone = await caller("caller.xml", server, tmp_path, talk_ms=7000).start()
    await run_pair(phone, [alice])

    record = await wait_for_call(server, lambda c: c["ended_at"] is not None and c["media"])
    assert record["caller"] == DEMO_NUMBER
    assert record["employee"] == "zhangsanKJC"
    assert record["queue"] == "helpdesk"
    assert record["agent"] == "alice"
    assert record["outcome"] == "answered"
    latency = record["pickup_latency_seconds"]
    assert latency is not None and 0 < latency < 5
    # Audio crossed the bridge both ways: each party heard the other's recording.
    media = record["media"]
    assert media["agent_heard_level_peak"] > 0, media
    assert media["caller_heard_level_peak"] > 0, media
    assert media["caller_rx_packets"] > 100 and media["agent_rx_packets"] > 100, media

    token = await server.login("sue", "sue-demo")
    status, ticket = await server.request("GET", f"/api/v1/tickets/{record['ticket_id']}", token)
    assert status == 200
    assert ticket["kind"] == "incident"
    assert record["id"] in ticket["call_ids"]
    status, tickets = await server.request("GET", "/api/v1/tickets?employee=zhangsanKJC", token)
    assert status == 200 and [t["id"] for t in tickets["tickets"]] == [record["ticket_id"]]

    metrics = await server.metrics()
    assert metric_value(metrics, "callcenter_calls_offered_total", queue="helpdesk") == 1
    assert metric_value(metrics, "callcenter_calls_answered_total", queue="helpdesk") == 1
    assert metric_value(metrics, "callcenter_calls_abandoned_total", queue="helpdesk") == 0
    assert metric_value(metrics, "callcenter_queue_wait_seconds_count", queue="helpdesk") == 1
    assert (
        metric_value(metrics, "callcenter_queue_wait_seconds_bucket", queue="helpdesk", le="20.0")
        == 1
    )
    assert (
        metric_value(metrics, "callcenter_service_level_ratio", queue="helpdesk", window="1h") == 1
    )
    assert metric_value(metrics, "callcenter_queue_waiting_calls", queue="helpdesk") == 0


async def test_second_call_attaches_to_the_open_incident(server: Server, tmp_path: Path) -> None:
    alice = await agent_phone(
        "answers_then_hangs_up.xml", server.agents["alice"], tmp_path, calls=2, talk_ms=1000
    ).start()
    await server.set_state("alice", "available")
    tickets = []
    for _ in range(2):
        phone = await caller("caller_until_bye.xml", server, tmp_path).start()
        code, out = await phone.wait(60)
        assert code == 0, out
        record = await wait_for_call(server, lambda c: c["ticket_id"] is not None and c["ended_at"])
        tickets.append(record["ticket_id"])
    code, out = await alice.wait(30)
    assert code == 0, out
    assert tickets[0] == tickets[1]
    calls = await server.calls()
    assert len({c["id"] for c in calls}) == 2


async def test_caller_hanging_up_in_queue_is_abandoned(server: Server, tmp_path: Path) -> None:
    # No agent is available: the caller hears the greeting, then music, and gives up.
    phone = await caller("caller.xml", server, tmp_path, talk_ms=8000).start()
    code, out = await phone.wait(60)
    assert code == 0, out
    record = await wait_for_call(server, lambda c: c["outcome"] == "abandoned" and c["ended_at"])
    assert record["agent"] is None and record["pickup_latency_seconds"] is None
    assert record["ticket_id"] is None
    metrics = await server.metrics()
    assert metric_value(metrics, "callcenter_calls_abandoned_total", queue="helpdesk") == 1
    assert metric_value(metrics, "callcenter_calls_answered_total", queue="helpdesk") == 0
    # Waited ~6 s, past the 5 s short-abandon threshold: it counts against the service level.
    assert (
        metric_value(metrics, "callcenter_service_level_ratio", queue="helpdesk", window="1h") == 0
    )


async def test_busy_agent_phone_is_paused_and_call_reoffered(
    server: Server, tmp_path: Path
) -> None:
    alice = await agent_phone("agent_busy.xml", server.agents["alice"], tmp_path).start()
    bob = await agent_phone("agent_answer.xml", server.agents["bob"], tmp_path).start()
    await server.set_state("alice", "available")  # alice has been idle longest: offered first
    await asyncio.sleep(0.1)
    await server.set_state("bob", "available")
    phone = await caller("caller.xml", server, tmp_path, talk_ms=6000).start()
    await run_pair(phone, [alice, bob])
    record = await wait_for_call(server, lambda c: c["ended_at"] is not None)
    assert record["outcome"] == "answered" and record["agent"] == "bob"
    token = await server.login("sue", "sue-demo")
    status, agents = await server.request("GET", "/api/v1/agents", token)
    assert status == 200
    states = {a["username"]: (a["state"], a["reason"]) for a in agents["agents"]}
    assert states["alice"] == ("paused", "busy")
    assert states["bob"] == ("available", None)


async def test_sigterm_during_a_call_sends_bye_and_writes_the_record(
    server: Server, tmp_path: Path, database_url: str
) -> None:
    alice = await agent_phone("agent_answer.xml", server.agents["alice"], tmp_path).start()
    await server.set_state("alice", "available")
    phone = await caller("caller_until_bye.xml", server, tmp_path).start()
    answered = await wait_for_call(server, lambda c: c["outcome"] == "answered")
    assert answered["ended_at"] is None
    assert await server.stop(signal.SIGTERM) == 0  # by itself, before the harness kills it
    await run_pair(phone, [alice])  # both phones received our BYE and answered it

    store = open_store(database_url, "CN")
    try:
        record = await store.call_record(answered["id"])
    finally:
        await store.close()
    assert record is not None
    assert record.outcome == "answered" and record.ended_at is not None
    assert record.agent == "alice"


async def test_a_call_cut_by_sigkill_ends_when_it_was_last_alive(
    server: Server, tmp_path: Path, database_url: str
) -> None:
    """No BYE, no record update: the restart closes the record at the last heartbeat of
    the killed process (every CALL_HEARTBEAT_SECONDS), not at the restart's own time."""
    alice = await agent_phone("agent_answer.xml", server.agents["alice"], tmp_path).start()
    await server.set_state("alice", "available")
    phone = await caller("caller_until_bye.xml", server, tmp_path).start()
    answered = await wait_for_call(server, lambda c: c["outcome"] == "answered")
    await asyncio.sleep(CALL_HEARTBEAT_SECONDS + 2)  # at least one heartbeat
    killed_at = datetime.now(UTC)
    await server.stop(signal.SIGKILL)
    await asyncio.sleep(5)  # down for a while: a restart-time end would show it
    await server.start()
    record = await wait_for_call(
        server, lambda c: c["id"] == answered["id"] and c["ended_at"] is not None
    )
    ended = datetime.fromisoformat(record["ended_at"])
    answered_at = datetime.fromisoformat(record["answered_at"])
    assert record["outcome"] == "answered"
    assert answered_at < ended <= killed_at  # stamped after the answer, before the kill
    assert ended >= killed_at - timedelta(seconds=CALL_HEARTBEAT_SECONDS + 1)
    for sipp in (phone, alice):
        await sipp.stop()


async def test_history_and_statistics_survive_a_restart(server: Server, tmp_path: Path) -> None:
    alice = await agent_phone(
        "answers_then_hangs_up.xml", server.agents["alice"], tmp_path, talk_ms=1000
    ).start()
    await server.set_state("alice", "available")
    phone = await caller("caller_until_bye.xml", server, tmp_path).start()
    await run_pair(phone, [alice])
    record = await wait_for_call(server, lambda c: c["ended_at"] is not None)

    token = await server.login("sue", "sue-demo")
    status, history = await server.request("GET", f"/api/v1/calls/{record['id']}/events", token)
    assert status == 200
    calls = [e for e in history["events"] if e["type"] != "AgentStateChanged"]
    assert [e["type"] for e in calls] == [
        "CallEnqueued",
        "CallOffered",
        "CallAnswered",
        "CallCompleted",
    ]
    assert calls[2]["agent"] == "alice"
    # The agent's state changes for this call are in its history too.
    assert any(e["type"] == "AgentStateChanged" for e in history["events"])

    assert await server.stop() == 0
    await server.start()
    token = await server.login("sue", "sue-demo")
    status, body = await server.request("GET", "/api/v1/queues", token)
    assert status == 200
    [helpdesk] = [q for q in body["queues"] if q["name"] == "helpdesk"]
    assert (helpdesk["offered"], helpdesk["answered"], helpdesk["abandoned"]) == (1, 1, 0)
    assert helpdesk["service_level"] == 1
    status, agents = await server.request("GET", "/api/v1/agents", token)
    states = {a["username"]: a["state"] for a in agents["agents"]}
    assert states["alice"] == "available" and states["bob"] == "logged_out"
