"""Where the tests find real Redis, PostgreSQL and sipp, and what happens when they are absent.

Outside CI a missing service skips its tests; under CI=true it fails them, so a green CI
run always means the real parts were exercised.
"""

from __future__ import annotations

import itertools
import os
import random
import shutil
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import pytest

REDIS_URL = os.environ.get("CALLCENTER_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
POSTGRES_URL = os.environ.get(
    "CALLCENTER_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(what: str) -> None:
    """Skip locally, fail in CI: a CI run must never pass by not testing."""
    if in_ci():
        pytest.fail(f"{what} is required under CI=true but is not available")
    pytest.skip(f"{what} is not available")


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 1
        ):
            return True
    except OSError:
        return False


def require_redis() -> str:
    if not _reachable(REDIS_URL, 6379):
        unavailable(f"Redis at {REDIS_URL}")
    return REDIS_URL


def require_postgres() -> str:
    if not _reachable(POSTGRES_URL.replace("+asyncpg", ""), 5432):
        unavailable(f"PostgreSQL at {POSTGRES_URL}")
    return POSTGRES_URL


def require_sipp() -> str:
    path = shutil.which("sipp")
    if path is None:
        unavailable("sipp (Debian package sip-tester)")
    assert path is not None
    return path


def require_pjsua2() -> None:
    try:
        import pjsua2  # noqa: F401
    except ImportError:
        unavailable("pjsua2 (built by scripts/build-pjsua2.sh)")


#: Listening ports for test servers and phones come from below the kernel's ephemeral
#: range (32768 and up): a port probed free there can be taken by any outgoing connection
#: (a database client, an HTTP request) before the server binds it, which once failed a
#: fresh-clone run with "Address already in use". Each pytest-xdist worker draws from its
#: own share, so workers never race each other for one; the harness's RTP ranges start at
#: LISTEN_BASE + 4 * LISTEN_SHARE.
LISTEN_BASE, LISTEN_SHARE = 2000, 2000
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
_next_listen = itertools.count(random.randrange(LISTEN_SHARE))


def _bindable(port: int, kinds: tuple[int, ...]) -> bool:
    for kind in kinds:
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def _listen_port(kinds: tuple[int, ...]) -> int:
    first = LISTEN_BASE + (_WORKER % 4) * LISTEN_SHARE
    for _ in range(LISTEN_SHARE):
        port = first + next(_next_listen) % LISTEN_SHARE
        if _bindable(port, kinds):
            return port
    raise RuntimeError(f"no free port in {first}-{first + LISTEN_SHARE - 1}")


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port free now for listening (see LISTEN_BASE)."""
    return _listen_port((kind,))


def free_udp_tcp_port() -> int:
    """A port free for both UDP and TCP, as the SIP listener needs."""
    return _listen_port((socket.SOCK_DGRAM, socket.SOCK_STREAM))


def _ephemeral_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_media_ports(count: int = 4) -> int:
    """The first of `count` consecutive UDP ports free now: SIPp's `-mp` binds the audio
    RTP and RTCP ports and the video pair above them."""
    for _ in range(100):
        base = _ephemeral_udp_port() & ~1
        held: list[socket.socket] = []
        try:
            for port in range(base, base + count):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                held.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in held:
                s.close()
    raise RuntimeError(f"no {count} consecutive free UDP ports")


@asynccontextmanager
async def fresh_postgres_database() -> AsyncIterator[str]:
    """A new, empty PostgreSQL database for one test, dropped afterwards."""
    import asyncpg

    base = require_postgres()
    parts = urlsplit(base.replace("+asyncpg", ""))
    name = f"cc_test_{uuid.uuid4().hex[:12]}"
    admin_dsn = parts._replace(path="/" + (parts.path.lstrip("/") or "postgres")).geturl()
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        yield parts._replace(scheme="postgresql+asyncpg", path="/" + name).geturl()
    finally:
        conn = await asyncpg.connect(admin_dsn)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()
