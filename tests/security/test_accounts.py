"""Password guessing against a real server (#14): lock-out, no free scrypt, audit lines."""

from __future__ import annotations

import re

import pytest

from tests.integration.harness import Server

pytestmark = pytest.mark.sip  # a real `callcenter serve`, pjsua2 included


async def login(server: Server, username: str, password: str) -> tuple[int, object]:
    return await server.request(
        "POST", "/api/v1/auth/login", body={"username": username, "password": password}
    )


async def test_fifty_wrong_passwords_lock_the_account_out(server: Server) -> None:
    answers = [(await login(server, "alice", f"guess-{n}"))[0] for n in range(50)]
    assert answers[:5] == [401] * 5
    assert answers[5:] == [429] * 45  # refused before the password is checked
    status, body = await login(server, "alice", "alice-demo")
    assert status == 429, body  # the right password too, while locked out
    assert "too_many_attempts" in str(body)

    log = server.log()
    assert (
        len(re.findall(r"callcenter\.audit: login failed for 'alice' from 127\.0\.0\.1", log)) == 5
    )
    assert "login locked out for user ('alice' from 127.0.0.1)" in log
    assert "login refused for 'alice' from 127.0.0.1: locked out" in log
    assert (await login(server, "bob", "bob-demo"))[0] == 200  # others sign in as usual


async def test_guessing_many_usernames_locks_the_source_out(server: Server) -> None:
    for n in range(20):
        assert (await login(server, f"nobody{n}", "x"))[0] == 401
    assert (await login(server, "bob", "bob-demo"))[0] == 429
    assert "login locked out for source" in server.log()
