"""Honest health (#14): Redis and PostgreSQL taken away under a running server. /readyz
names the failing dependency, requests that need it answer 503 with Retry-After within
the stated limit instead of hanging, the rest goes on, and all recovers when it returns."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest

from callcenter.acd_store.store import CHANGE_DEADLINE_SECONDS
from callcenter.api.availability import REQUEST_DEADLINE_SECONDS
from tests.integration.harness import Server, eventually
from tests.outage import PrivateRedis, TcpProxy
from tests.services import fresh_postgres_database

pytestmark = pytest.mark.sip  # a real `callcenter serve`, pjsua2 included

#: A refused request must come back within its stated limit; this much more is slack
#: for a loaded machine, not a promise.
SLACK = 3.0


class Desk:
    def __init__(self, server: Server, database: TcpProxy, redis: PrivateRedis) -> None:
        self.server, self.database, self.redis = server, database, redis

    async def call(
        self, method: str, path: str, token: str | None = None, body: Any = None, *, limit: float
    ) -> tuple[int, dict[str, str], Any]:
        """One request that must be answered within `limit` (+ slack), whatever it says."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with (
            asyncio.timeout(limit + SLACK),
            aiohttp.ClientSession() as session,
            session.request(
                method, self.server.base_url + path, json=body, headers=headers
            ) as resp,
        ):
            text = await resp.text()
            return resp.status, dict(resp.headers), json.loads(text) if text else None

    async def readiness(self) -> tuple[int, Any]:
        status, _, body = await self.call("GET", "/readyz", limit=5)
        return status, body

    async def becomes(self, ready: bool, failing: str | None = None) -> Any:
        async def check() -> Any:
            status, body = await self.readiness()
            if ready:
                return body if status == 200 else None
            return body if status == 503 and failing in body["failing"] else None

        what = "ready" if ready else f"not ready because of {failing}"
        return await eventually(check, f"/readyz says {what}", timeout=15)


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    redis = PrivateRedis(tmp_path)
    await redis.start()
    async with fresh_postgres_database() as url:
        parts = urlsplit(url)
        database = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
        await database.start()
        credentials = f"{parts.username}@" if parts.username else ""
        proxied = parts._replace(netloc=f"{credentials}127.0.0.1:{database.port}").geturl()
        server = Server(proxied, tmp_path, extra_env={"CALLCENTER_REDIS_URL": redis.url})
        await server.prepare()
        try:
            async with server.running():
                yield Desk(server, database, redis)
        finally:
            await database.close()
            await redis.stop()


async def test_redis_stopped_refuses_changes_at_once_and_the_rest_goes_on(desk: Desk) -> None:
    server = desk.server
    token = await server.login("alice", "alice-demo")
    body = await desk.becomes(ready=True)
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True,
        "loop": True,
        "redis": True,
        "sip": True,
    }

    await desk.redis.stop()
    body = await desk.becomes(ready=False, failing="redis")
    assert body["failing"] == ["redis"] and body["checks"]["redis"]["detail"]
    status, headers, reply = await desk.call(
        "PUT",
        "/api/v1/agents/alice/state",
        token,
        {"state": "available"},
        limit=CHANGE_DEADLINE_SECONDS,
    )
    assert status == 503, reply
    assert reply["error"]["code"] == "dependency_unavailable"
    assert reply["error"]["message"].startswith("redis is unavailable")
    assert int(headers["Retry-After"]) > 0
    async with aiohttp.ClientSession() as session:
        console = await session.ws_connect(
            server.base_url.replace("http", "ws") + "/ws/agent",
            headers={"Authorization": f"Bearer {token}"},
        )
        async with asyncio.timeout(CHANGE_DEADLINE_SECONDS + SLACK):
            await console.send_json({"type": "set_state", "id": "s1", "state": "available"})
            while (message := await console.receive_json()).get("id") != "s1":
                pass
        assert (message["type"], message["code"]) == ("error", "unavailable"), message
        await console.close()
    # What needs no Redis goes on: liveness, tickets, the agent's view of itself.
    assert (await desk.call("GET", "/healthz", limit=2))[0] == 200
    assert (await desk.call("GET", "/api/v1/tickets", token, limit=5))[0] == 200
    assert (await desk.call("GET", "/api/v1/agents", token, limit=5))[0] == 200

    await desk.redis.start()
    await desk.becomes(ready=True)
    status, _, reply = await desk.call(
        "PUT", "/api/v1/agents/alice/state", token, {"state": "available"}, limit=10
    )
    assert (status, reply["state"]) == (200, "available")
    log = (server.workdir / "server.log").read_text()
    assert "redis fails: " in log and "redis answers again" in log


async def test_the_database_stopped_answers_503_at_once_until_it_is_back(desk: Desk) -> None:
    server = desk.server
    token = await server.login("sue", "sue-demo")
    await desk.becomes(ready=True)
    session = aiohttp.ClientSession()
    ws_url = server.base_url.replace("http", "ws") + "/ws/supervisor"
    auth = {"Authorization": f"Bearer {token}"}
    board = await session.ws_connect(ws_url, headers=auth)
    assert (await board.receive_json(timeout=10))["type"] == "hello"  # signed in

    await desk.database.stop()
    # The first request may meet the outage before the probe does: 503 all the same.
    status, headers, reply = await desk.call(
        "GET", "/api/v1/tickets", token, limit=REQUEST_DEADLINE_SECONDS
    )
    assert (status, reply["error"]["code"]) == (503, "dependency_unavailable"), reply
    assert reply["error"]["message"].startswith("database is unavailable")
    assert int(headers["Retry-After"]) > 0
    body = await desk.becomes(ready=False, failing="database")
    assert "redis" not in body["failing"]
    for method, path, who, sent in (
        ("GET", "/api/v1/calls", token, None),
        ("POST", "/api/v1/auth/login", None, {"username": "sue", "password": "sue-demo"}),
    ):
        status, _, reply = await desk.call(method, path, who, sent, limit=1)
        assert (status, reply["error"]["code"]) == (503, "dependency_unavailable"), path
    assert (await desk.call("GET", "/healthz", limit=2))[0] == 200  # alive, just not ready
    # An open board stays open through the outage; a new sign-in is told to come back.
    await asyncio.sleep(2)  # two of the open socket's token checks
    await board.send_json({"type": "ping", "id": "p1"})
    async with asyncio.timeout(10):
        while (message := await board.receive_json()).get("id") != "p1":
            pass
    assert message["type"] == "ok"
    late = await session.ws_connect(ws_url, headers=auth)
    async with asyncio.timeout(10):
        await late.receive()
    assert late.close_code == 1013
    await board.close()
    await session.close()

    await desk.database.start()
    await desk.becomes(ready=True)
    assert (await desk.call("GET", "/api/v1/tickets", token, limit=5))[0] == 200
    log = (server.workdir / "server.log").read_text()
    assert "database fails: " in log and "database answers again" in log
