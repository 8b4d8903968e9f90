from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from callcenter.db.migrate import upgrade
from callcenter.demo import load_demo
from callcenter.tickets.store import SqlTicketStore, open_store
from tests.sipp_cleanup import _stop_leftover_sipp  # noqa: F401


@pytest.fixture
async def demo_store(database_url: str) -> AsyncIterator[SqlTicketStore]:
    """A migrated ticket database of each kind with the demo data loaded."""
    await upgrade(database_url)
    ticket_store = open_store(database_url, "CN")
    try:
        await load_demo(ticket_store)
        yield ticket_store
    finally:
        await ticket_store.close()
