"""Bring a ticket database to the newest schema, from code rather than an alembic.ini.

The service and the tests call `upgrade` on start-up: an empty database gets the whole
schema, an up-to-date one is left alone. It runs on the caller's event loop, Alembic
working on the async engine's connection through `run_sync`.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from callcenter.db.engine import make_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str | None = None) -> Config:
    """Alembic's configuration for the ticket database; the URL only for the alembic CLI."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if database_url is not None:
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def sqlite_directory(database_url: str) -> Path | None:
    """The directory a SQLite file database lives in; None for other databases and memory."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database).parent


async def upgrade(database_url: str, default_region: str | None = None) -> None:
    """Apply every migration not yet applied (`alembic upgrade head`); `default_region`
    reads national numbers in existing tickets (migration 0012)."""
    directory = sqlite_directory(database_url)
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)
    engine = make_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade_head, default_region)
    finally:
        await engine.dispose()


def _upgrade_head(connection: Connection, default_region: str | None) -> None:
    migrate_to(connection, "head", default_region=default_region)


def migrate_to(
    connection: Connection,
    revision: str,
    down: bool = False,
    default_region: str | None = None,
) -> None:
    """Upgrade (or downgrade) the database on `connection` to `revision`; for `run_sync`.
    `default_region` reads the national numbers in ticket texts (migration 0012)."""
    config = alembic_config()
    config.attributes["connection"] = connection
    config.attributes["default_region"] = default_region
    (command.downgrade if down else command.upgrade)(config, revision)


async def pending_revision(engine: AsyncEngine) -> str | None:
    """None when the database is at the newest revision; else the revision it is at
    (or "none" for an empty one): code newer than its schema fails only later, mid-call."""
    async with engine.connect() as connection:
        current = await connection.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    return None if current == head else (current or "none")
