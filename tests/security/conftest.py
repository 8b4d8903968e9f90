"""The security suite's shared fixture: a real `callcenter serve` on SQLite with the demo."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.integration.harness import Server
from tests.sipp_cleanup import _stop_leftover_sipp  # noqa: F401


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    server = Server(f"sqlite+aiosqlite:///{tmp_path / 'callcenter.db'}", tmp_path)
    await server.prepare()
    async with server.running():
        yield server
