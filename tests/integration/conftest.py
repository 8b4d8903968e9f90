from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest

from callcenter.db.migrate import upgrade
from callcenter.demo import load_demo
from callcenter.tickets.store import SqlTicketStore, open_store
from tests.sipp_cleanup import _stop_leftover_sipp  # noqa: F401


@pytest.fixture
def demo_day() -> date:
    """The day the demo data is dated from. A module whose assertions are dated overrides
    it with the same constant its desk's clock uses, so a run that crosses midnight
    between collection and the test still agrees with itself."""
    return date.today()


@pytest.fixture
async def demo_store(database_url: str, demo_day: date) -> AsyncIterator[SqlTicketStore]:
    """A migrated ticket database of each kind with the demo data loaded."""
    await upgrade(database_url)
    ticket_store = open_store(database_url, "CN")
    try:
        await load_demo(ticket_store, demo_day)
        yield ticket_store
    finally:
        await ticket_store.close()
