"""Tokens that stop counting at once (#14): logout, a new password, another role, a
disabled or deleted account, on REST and on open console sockets; and `serve` refusing
the demo's published passwords or a made-up secret on a network address."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.integration.harness import Server

pytestmark = pytest.mark.sip  # a real `callcenter serve`, pjsua2 included

NEW_PASSWORD = "correct horse battery staple"


def users(server: Server, *args: str, password: str | None = None) -> tuple[int, str]:
    """`callcenter users ...` against the server's database; (exit status, output)."""
    cli = ["users", *args] + (["--password-stdin"] if password is not None else [])
    done = server.cli(*cli, stdin=password + "\n" if password is not None else "")
    return done.returncode, done.stdout + done.stderr


class Console:
    """An open console WebSocket: what the server sends, and how it closed."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    async def ask(self, kind: str, **fields: Any) -> dict[str, Any]:
        await self.ws.send_str(json.dumps({"type": kind, "id": "r1", **fields}))
        while True:
            msg = await self.ws.receive(timeout=10)
            if msg.type is not aiohttp.WSMsgType.TEXT:
                return {"type": "closed", "code": self.ws.close_code}
            data: dict[str, Any] = json.loads(msg.data)
            if data.get("id") == "r1":
                return data

    async def closed(self, timeout: float = 10) -> int | None:
        """Read until the server closes the socket; its close code."""
        async with asyncio.timeout(timeout):
            while True:
                msg = await self.ws.receive()
                if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                    return self.ws.close_code


async def console(session: aiohttp.ClientSession, server: Server, path: str, token: str) -> Console:
    ws = await session.ws_connect(
        server.base_url.replace("http", "ws") + path,
        headers={"Authorization": f"Bearer {token}"},
    )
    return Console(ws)


async def test_logout_voids_the_token_on_rest_and_on_an_open_console(server: Server) -> None:
    token = await server.login("sue", "sue-demo")
    other_device = await server.login("sue", "sue-demo")
    async with aiohttp.ClientSession() as session:
        board = await console(session, server, "/ws/supervisor", other_device)
        assert (await board.ask("ping"))["type"] == "ok"
        assert (await server.request("GET", "/api/v1/calls", token))[0] == 200

        assert (await server.request("POST", "/api/v1/auth/logout", token))[0] == 204

        status, body = await server.request("GET", "/api/v1/calls", token)
        assert status == 401, body
        assert (await server.request("GET", "/api/v1/calls", other_device))[0] == 401
        assert await board.closed() == 4401  # the idle board is closed, not left open
    assert "callcenter.audit: logout of sue" in server.log()
    fresh = await server.login("sue", "sue-demo")
    assert (await server.request("GET", "/api/v1/calls", fresh))[0] == 200


async def test_a_demoted_supervisor_loses_supervisor_data_at_once(server: Server) -> None:
    token = await server.login("sue", "sue-demo")
    assert (await server.request("GET", "/api/v1/calls", token))[0] == 200
    assert users(server, "role", "sue", "agent")[0] == 0
    assert (await server.request("GET", "/api/v1/calls", token))[0] == 401
    # Signed in again she is an agent, and a new password ends that session too.
    agent_token = await server.login("sue", "sue-demo")
    status, body = await server.request("GET", "/api/v1/queues/helpdesk/agents", agent_token)
    assert status == 403, body
    assert users(server, "passwd", "sue", password=NEW_PASSWORD) == (
        0,
        "password of sue changed; its sessions are ended\n",
    )
    assert (await server.request("GET", "/api/v1/tickets", agent_token))[0] == 401
    assert (await server.request("POST", "/api/v1/auth/login", body=_creds("sue")))[0] == 401
    last = await server.login("sue", NEW_PASSWORD)
    await _delete_account(server, "sue")
    assert (await server.request("GET", "/api/v1/tickets", last))[0] == 401


async def test_a_disabled_agent_is_cut_off_mid_session(server: Server) -> None:
    token = await server.login("alice", "alice-demo")
    async with aiohttp.ClientSession() as session:
        agent = await console(session, server, "/ws/agent", token)
        assert (await agent.ask("get_state"))["type"] == "ok"
        assert users(server, "disable", "alice") == (0, "alice disabled; its sessions are ended\n")
        reply = await agent.ask("get_state")
        # Either the check loop closed it first or the message itself was refused.
        assert reply["type"] == "closed" or reply["code"] == "unauthorized", reply
        assert await agent.closed() == 4401
    assert (await server.request("GET", "/api/v1/tickets", token))[0] == 401
    status, body = await server.request("POST", "/api/v1/auth/login", body=_creds("alice"))
    assert status == 401, body
    assert "login refused for 'alice' from 127.0.0.1: account disabled" in server.log()
    assert users(server, "enable", "alice")[0] == 0
    assert await server.login("alice", "alice-demo")


async def test_accounts_are_made_from_the_command_line_under_a_stated_policy(
    server: Server,
) -> None:
    for weak, rule in (
        ("short", "password: at least 12 characters"),
        ("carol-is-my-name", "password: must not contain the username"),
        ("aaaaaaaaaaaaaaaa", "password: too easy to guess"),
    ):
        status, said = users(
            server, "add", "carol", "--role", "agent", "--name", "Carol", password=weak
        )
        assert (status, said.startswith(f"callcenter users: {rule}")) == (1, True), said
    assert users(
        server, "add", "carol", "--role", "agent", "--name", "Carol", password=NEW_PASSWORD
    ) == (0, "account carol (agent) added\n")
    status, said = users(
        server, "add", "carol", "--role", "admin", "--name", "C", password=NEW_PASSWORD
    )
    assert (status, said) == (1, "callcenter users: an account 'carol' exists already\n")
    assert users(server, "passwd", "nobody", password=NEW_PASSWORD) == (
        1,
        "callcenter users: no account 'nobody'\n",
    )
    status, listing = users(server, "list")
    assert "carol\tagent\tactive\tCarol" in listing.splitlines()
    assert await server.login("carol", NEW_PASSWORD)


async def test_serve_on_a_network_address_refuses_published_credentials(tmp_path: Path) -> None:
    server = Server(
        f"sqlite+aiosqlite:///{tmp_path / 'callcenter.db'}",
        tmp_path,
        extra_env={"CALLCENTER_HTTP_HOST": "0.0.0.0"},
    )
    await server.prepare()
    done = server.cli("serve")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "callcenter: accounts alice, bob, sue still have the demo's published passwords while"
        " http.host 0.0.0.0 is reachable from other machines; change them with"
        " `callcenter users passwd NAME` or start with --insecure-demo to accept the risk"
    ]
    server.extra_env["CALLCENTER_AUTH_TOKEN_SECRET"] = ""
    done = server.cli("serve")
    assert done.returncode == 2
    assert done.stderr.startswith("callcenter: auth.token_secret: empty while http.host 0.0.0.0")

    del server.extra_env["CALLCENTER_AUTH_TOKEN_SECRET"]
    for name in ("alice", "bob", "sue"):
        assert users(server, "passwd", name, password=NEW_PASSWORD)[0] == 0
    async with server.running():  # nothing published is left: it serves
        assert await server.login("sue", NEW_PASSWORD)


async def test_insecure_demo_serves_the_demo_on_a_network_address(tmp_path: Path) -> None:
    server = Server(
        f"sqlite+aiosqlite:///{tmp_path / 'callcenter.db'}",
        tmp_path,
        extra_env={"CALLCENTER_HTTP_HOST": "0.0.0.0"},
        serve_args=("--insecure-demo",),
    )
    await server.prepare()
    async with server.running():
        assert await server.login("sue", "sue-demo")


def _creds(username: str) -> dict[str, str]:
    return {"username": username, "password": f"{username}-demo"}


async def _delete_account(server: Server, username: str) -> None:
    engine = create_async_engine(server.database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM agent WHERE username = :u"), {"u": username})
    finally:
        await engine.dispose()
