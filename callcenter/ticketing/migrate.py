"""Bring a ticket database to the newest schema, from code rather than an alembic.ini.

The service and the tests call `upgrade` on start-up: an empty database gets the whole
schema, an up-to-date one is left alone. It runs on the caller's event loop, Alembic
working on the async engine's connection through `run_sync`.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection, make_url

from callcenter.ticketing.store import make_engine

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


async def upgrade(database_url: str) -> None:
    """Apply every migration not yet applied (`alembic upgrade head`)."""
    directory = sqlite_directory(database_url)
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)
    engine = make_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade_head)
    finally:
        await engine.dispose()


def _upgrade_head(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
