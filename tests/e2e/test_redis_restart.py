"""Redis restarted empty under two live `callcenter serve` processes sharing one ACD.

The test runs its own `redis-server` (no persistence) on a free port, puts a call from
one process through to an agent, kills Redis and starts it again, empty, on the same
port. The call must go on and end normally with one correct record, both processes must
reconnect (heartbeats back, the shared state published again), both must agree on the
agent's state, and a new call must be routed.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from tests.integration.harness import Server, agent_phone, caller, eventually
from tests.services import free_port, fresh_postgres_database, unavailable

pytestmark = [pytest.mark.sip, pytest.mark.slow]

PREFIX = "callcenter:acd"


@dataclass
class PrivateRedis:
    """A `redis-server` of the test's own, which it may kill and start again."""

    binary: str
    port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--save", "", "--appendonly", "no", "--dir", str(self.directory)]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)

        async def answers() -> bool:
            client = aioredis.from_url(self.url)
            try:
                return bool(await client.ping())
            except (OSError, RedisError):
                return False
            finally:
                await client.aclose()

        await eventually(answers, "the private redis-server answers", timeout=10)

    async def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        await asyncio.to_thread(self.process.wait)

    async def keys(self, pattern: str) -> list[str]:
        client = aioredis.from_url(self.url, decode_responses=True)
        try:
            return sorted([k async for k in client.scan_iter(pattern)])
        finally:
            await client.aclose()


@pytest.fixture
async def private_redis(tmp_path: Path) -> AsyncIterator[PrivateRedis]:
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(binary).exists():
        unavailable("redis-server (Debian package redis-server)")
    redis = PrivateRedis(binary, free_port(), tmp_path)
    await redis.start()
    try:
        yield redis
    finally:
        if redis.process is not None and redis.process.poll() is None:
            await redis.kill()


@pytest.fixture
async def two_processes(
    private_redis: PrivateRedis, tmp_path: Path
) -> AsyncIterator[tuple[Server, Server]]:
    shared = {
        "CALLCENTER_REDIS_URL": private_redis.url,
        "CALLCENTER_REDIS_KEY_PREFIX": PREFIX,
        "CALLCENTER_REDIS_LEASE_SECONDS": "1.5",
    }
    async with fresh_postgres_database() as database_url:
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        a = Server(database_url, tmp_path / "a", extra_env=dict(shared))
        await a.prepare()
        b = Server(database_url, tmp_path / "b", agents=a.agents, extra_env=dict(shared))
        await a.start()
        await b.start()
        try:
            yield a, b
        finally:
            for server in (a, b):
                if server.process is not None and server.process.poll() is None:
                    await server.stop()


async def test_calls_go_on_and_the_processes_rebuild_the_shared_acd_after_redis_restarts(
    private_redis: PrivateRedis, two_processes: tuple[Server, Server], tmp_path: Path
) -> None:
    a, b = two_processes
    alice = await agent_phone("agent_answer.xml", a.agents["alice"], tmp_path).start()
    await a.set_state("alice", "available")

    async def available_on_b() -> bool:
        return await b.agent_state("alice") == "available"

    await eventually(available_on_b, "b sees alice available", timeout=5)
    # The call's leg is on b; the leader (the first process) must not end it as lost
    # while b's heartbeat is missing from the empty Redis.
    phone = await caller("caller.xml", b, tmp_path, talk_ms=12000).start()

    async def talking() -> bool:
        return await a.agent_state("alice") == "on_call"

    await eventually(talking, "alice talks with the caller")
    await private_redis.kill()
    await asyncio.sleep(1.0)  # both processes notice: heartbeats and reads fail
    await private_redis.start()

    async def rejoined() -> list[str] | None:
        keys = await private_redis.keys(f"{PREFIX}:*")
        beats = [k for k in keys if k.startswith(f"{PREFIX}:node:")]
        return keys if len(beats) == 2 and f"{PREFIX}:snapshot" in keys else None

    keys = await eventually(rejoined, "both processes beat again and the ACD is published")
    assert f"{PREFIX}:leader" in keys, keys
    assert await a.agent_state("alice") == "on_call"
    assert await b.agent_state("alice") == "on_call"

    code, out = await phone.wait(60)
    assert code == 0, out + phone.traces() + b.log()
    code, out = await alice.wait(30)
    assert code == 0, out + alice.traces() + b.log()

    async def first_record() -> list[dict[str, Any]] | None:
        calls = await a.calls()
        return calls if calls and all(c["ended_at"] is not None for c in calls) else None

    records = await eventually(first_record, "the call's record is complete")
    assert [(r["agent"], r["outcome"]) for r in records] == [("alice", "answered")], records

    async def free_on_both() -> bool:
        return await a.agent_state("alice") == await b.agent_state("alice") == "available"

    await eventually(free_on_both, "both processes see alice available again")

    # A new call, entering the other process, is routed to alice through the new log.
    alice = await agent_phone(
        "answers_then_hangs_up.xml", a.agents["alice"], tmp_path, talk_ms=1000
    ).start()
    phone = await caller("caller_until_bye.xml", a, tmp_path).start()
    code, out = await phone.wait(60)
    assert code == 0, out + phone.traces() + a.log()
    code, out = await alice.wait(30)
    assert code == 0, out + alice.traces() + a.log()

    async def both_records() -> list[dict[str, Any]] | None:
        calls = await b.calls()
        done = [c for c in calls if c["ended_at"] is not None]
        return done if len(done) == 2 else None

    records = await eventually(both_records, "the second call's record is complete")
    assert sorted((r["agent"], r["outcome"]) for r in records) == [("alice", "answered")] * 2
    assert len({r["id"] for r in records}) == 2, records
