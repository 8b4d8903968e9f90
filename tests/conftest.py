from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.integration.harness import Server
from tests.services import fresh_postgres_database


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database of each supported kind (the schema is not created)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'callcenter.db'}"
    else:
        async with fresh_postgres_database() as url:
            yield url


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'callcenter.db'}"


@pytest.fixture
async def stoppable() -> AsyncIterator[list[Server]]:
    """Servers a test starts with settings of its own; stopped afterwards if still up."""
    servers: list[Server] = []
    yield servers
    for server in servers:
        if server.process is not None and server.process.poll() is None:
            await server.stop()
