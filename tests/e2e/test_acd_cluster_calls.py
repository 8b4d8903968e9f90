"""Two `callcenter serve` processes, one ACD in Redis, one PostgreSQL: real calls.

A call that enters one process is offered to an agent made available through the other;
both show the same queue; killing the process that holds a live call frees its agent
and closes its record from the survivor, after the lease. An agent whose console is
connected to the process without the call gets its offer there and controls the call
from there (hold and resume are forwarded to the process holding the legs); a browser
agent accepts there too and gets the call's audio from the process holding the legs.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from websockets.asyncio.client import connect

from tests.e2e.test_browser_audio import AUDIO_CLOSE_NO_CALL, make_browser_agent, refused, talk
from tests.e2e.test_callback import finished
from tests.e2e.test_console_call_control import console, ok
from tests.integration.harness import Server, agent_phone, caller, eventually, metric_value
from tests.services import fresh_postgres_database, require_redis

pytestmark = [pytest.mark.sip, pytest.mark.slow]


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[tuple[Server, Server]]:
    async with two_processes(tmp_path) as pair:
        yield pair


@pytest.fixture
async def browser_cluster(tmp_path: Path) -> AsyncIterator[tuple[Server, Server]]:
    """alice's phone is her console (`browser:`)."""
    async with two_processes(tmp_path, browser_agents=("alice",)) as pair:
        yield pair


@contextlib.asynccontextmanager
async def two_processes(
    tmp_path: Path, browser_agents: tuple[str, ...] = ()
) -> AsyncIterator[tuple[Server, Server]]:
    url = require_redis()
    prefix = f"test:e2e:{uuid.uuid4().hex[:8]}"
    shared = {
        "CALLCENTER_REDIS_URL": url,
        "CALLCENTER_REDIS_KEY_PREFIX": prefix,
        "CALLCENTER_REDIS_LEASE_SECONDS": "1.5",
    }
    async with fresh_postgres_database() as database_url:
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        a = Server(database_url, tmp_path / "a", extra_env=dict(shared))
        await a.prepare()
        for username in browser_agents:
            await make_browser_agent(a, username)
        b = Server(database_url, tmp_path / "b", agents=a.agents, extra_env=dict(shared))
        await a.start()
        await b.start()
        try:
            yield a, b
        finally:
            for server in (a, b):
                if server.process is not None and server.process.poll() is None:
                    await server.stop()
            client = aioredis.from_url(url)
            keys = [k async for k in client.scan_iter(f"{prefix}:*")]
            if keys:
                await client.delete(*keys)
            await client.aclose()


async def test_a_call_on_one_process_reaches_an_agent_made_available_on_the_other(
    cluster: tuple[Server, Server], tmp_path: Path
) -> None:
    a, b = cluster
    alice = await agent_phone("agent_answer.xml", a.agents["alice"], tmp_path).start()
    await b.set_state("alice", "available")  # through the process without the call

    async def seen_by_a() -> bool:
        return await a.agent_state("alice") == "available"

    await eventually(seen_by_a, "the process with the call sees alice available", timeout=2)
    phone = await caller("caller.xml", a, tmp_path, talk_ms=4000).start()
    code, out = await phone.wait(60)
    assert code == 0, out + phone.traces()
    code, out = await alice.wait(30)
    assert code == 0, out + alice.traces()

    async def answered() -> dict[str, Any] | None:
        calls = await b.calls()  # one database: either process shows the record
        done = [c for c in calls if c["ended_at"] is not None]
        return done[0] if done else None

    record = await eventually(answered, "the call record is complete")
    assert (record["agent"], record["outcome"]) == ("alice", "answered")
    # The counters count once, on the process that took the call; the queue gauges are
    # the shared ACD's, the same on both.
    metrics_a, metrics_b = await a.metrics(), await b.metrics()
    assert metric_value(metrics_a, "callcenter_calls_answered_total", queue="helpdesk") == 1
    assert metric_value(metrics_b, "callcenter_calls_answered_total", queue="helpdesk") == 0
    for metrics in (metrics_a, metrics_b):
        ratio = metric_value(
            metrics, "callcenter_service_level_ratio", queue="helpdesk", window="1h"
        )
        assert ratio == 1


async def test_a_killed_process_frees_its_agent_and_its_record_is_closed(
    cluster: tuple[Server, Server], tmp_path: Path
) -> None:
    a, b = cluster
    alice = await agent_phone("agent_answer.xml", a.agents["alice"], tmp_path).start()
    await a.set_state("alice", "available")
    phone = await caller("caller.xml", a, tmp_path, talk_ms=60000).start()

    async def talking() -> bool:
        return await b.agent_state("alice") == "on_call"

    await eventually(talking, "alice talks with the caller")
    await a.stop(signal.SIGKILL)  # no BYE, no record update, no goodbye to Redis

    async def freed() -> bool:
        return await b.agent_state("alice") in ("wrap_up", "available")

    await eventually(freed, "the survivor ends the lost call and frees alice")

    async def closed() -> dict[str, Any] | None:
        calls = [c for c in await b.calls() if c["ended_at"] is not None]
        return calls[0] if calls else None

    record = await eventually(closed, "the survivor closes the lost call's record")
    assert (record["agent"], record["outcome"]) == ("alice", "answered")
    for sipp in (phone, alice):
        await sipp.stop()


async def test_a_console_on_the_other_process_controls_the_call(
    cluster: tuple[Server, Server], tmp_path: Path
) -> None:
    a, b = cluster
    alice_phone = await agent_phone("agent_answer.xml", a.agents["alice"], tmp_path).start()
    async for alice in console(b, "alice"):  # b holds no leg of the call
        await ok(alice, "set_state", state="available")

        async def seen_by_a() -> bool:
            return await a.agent_state("alice") == "available"

        await eventually(seen_by_a, "the process with the call sees alice available", timeout=2)
        phone = await caller("caller_until_bye.xml", a, tmp_path).start()
        offer = await alice.expect("offer", timeout=20)
        call_id = offer["call_id"]
        await alice.expect("call_connected", timeout=10)

        await ok(alice, "hold", call_id=call_id)  # done by a, on its legs
        held = await alice.expect("call_held", timeout=5)
        assert (held["call_id"], held["held"]) == (call_id, True)
        error = await alice.request("hold", call_id=call_id)  # a's refusal, passed back
        assert (error["type"], error["code"]) == ("error", "invalid_call_state"), error
        await asyncio.sleep(3)  # the caller hears music meanwhile
        await ok(alice, "resume", call_id=call_id)
        assert (await alice.expect("call_held", timeout=5))["held"] is False
        await ok(alice, "hangup", call_id=call_id)
        ended = await alice.expect("call_ended", timeout=10)
        assert (ended["call_id"], ended["reason"]) == (call_id, "completed")
        await finished(phone, alice_phone)  # both legs got BYE from a

    async def recorded() -> dict[str, Any] | None:
        calls = [c for c in await b.calls() if c["ended_at"] is not None and c["media"]]
        return calls[0] if calls else None

    record = await eventually(recorded, "the call's record is complete")
    assert (record["id"], record["outcome"], record["agent"]) == (call_id, "answered", "alice")
    assert record["media"]["caller_music_ms"] >= 2500, record["media"]  # the hold


async def test_a_browser_agent_on_the_other_process_accepts_and_gets_the_audio(
    browser_cluster: tuple[Server, Server], tmp_path: Path
) -> None:
    a, b = browser_cluster
    async for alice in console(b, "alice"):  # b holds no leg of the call
        await ok(alice, "set_state", state="available")

        async def seen_by_a() -> bool:
            return await a.agent_state("alice") == "available"

        await eventually(seen_by_a, "the process with the call sees alice available", timeout=2)
        phone = await caller("caller_until_bye.xml", a, tmp_path).start()
        offer = await alice.expect("offer", timeout=20)
        call_id = offer["call_id"]
        audio_url = f"ws://127.0.0.1:{a.http_port}/ws/agent/audio"
        assert offer["audio_url"] == audio_url, offer  # a's, not b's
        await ok(alice, "accept", call_id=call_id)  # forwarded to a, which answers its leg
        connected = await alice.expect("call_connected", timeout=10)
        assert connected["audio_url"] == audio_url, connected
        assert await refused(b, "alice") == AUDIO_CLOSE_NO_CALL  # no audio on b

        token = await b.login("alice", "alice-demo")  # the cluster shares the token secret
        headers = {"Authorization": f"Bearer {token}"}
        async with connect(audio_url, additional_headers=headers, open_timeout=5) as ws:
            hello = await asyncio.wait_for(ws.recv(), 5)
            assert isinstance(hello, str) and '"call_id": "' + call_id in hello
            received, loud = await talk(ws, 150)  # 3 s of tone to the caller
            assert received > 0 and loud > 0, (received, loud)
            await ok(alice, "hangup", call_id=call_id)
            await alice.expect("call_ended", timeout=10)
        await finished(phone)

    async def recorded() -> dict[str, Any] | None:
        calls = [c for c in await b.calls() if c["ended_at"] is not None and c["media"]]
        return calls[0] if calls else None

    record = await eventually(recorded, "the call's record is complete")
    assert (record["id"], record["outcome"], record["agent"]) == (call_id, "answered", "alice")
    assert record["media"]["caller_heard_level_peak"] > 0, record["media"]  # the tone
    assert record["media"]["agent_heard_level_peak"] > 0, record["media"]
