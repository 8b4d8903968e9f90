"""`serve` starts only on a database at the newest migration: code newer than its schema
would otherwise fail mid-call, writing a call record."""

from __future__ import annotations

import pytest

from callcenter.app import StartupError, _check_schema
from callcenter.db.engine import make_engine
from callcenter.db.migrate import migrate_to, pending_revision, upgrade
from callcenter.tickets.store import open_store


async def test_a_database_at_the_newest_revision_passes(database_url: str) -> None:
    await upgrade(database_url)
    store = open_store(database_url, "CN")
    try:
        assert await pending_revision(store.engine) is None
        await _check_schema(store)
    finally:
        await store.close()


async def test_a_database_one_migration_behind_is_refused_naming_its_revision(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(migrate_to, "0010")
    finally:
        await engine.dispose()
    store = open_store(database_url, "CN")
    try:
        assert await pending_revision(store.engine) == "0010"
        with pytest.raises(
            StartupError, match=r"revision 0010, not the newest: run `callcenter db upgrade`"
        ):
            await _check_schema(store)
    finally:
        await store.close()


async def test_an_empty_database_is_refused(database_url: str) -> None:
    store = open_store(database_url, "CN")
    try:
        assert await pending_revision(store.engine) == "none"
        with pytest.raises(StartupError, match="callcenter db upgrade"):
            await _check_schema(store)
    finally:
        await store.close()
