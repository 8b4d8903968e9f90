"""The database engine with the settings every store relies on: SQLite in WAL mode with
foreign keys and explicit transaction starts, PostgreSQL with bounded connection waits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

#: How long a SQLite writer waits for another before giving up, in milliseconds.
SQLITE_BUSY_TIMEOUT_MS = 10_000
#: The execution option that makes a SQLite transaction start as `BEGIN IMMEDIATE`.
SQLITE_BEGIN = "callcenter_sqlite_begin"


#: How long opening a PostgreSQL connection, or waiting for a pooled one, may take.
CONNECT_TIMEOUT_SECONDS = 5.0


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine with the connection settings the store relies on: a server that
    does not answer costs a request at most CONNECT_TIMEOUT_SECONDS, not asyncpg's 60."""
    if url.startswith("postgresql"):
        kwargs.setdefault("connect_args", {"timeout": CONNECT_TIMEOUT_SECONDS})
        kwargs.setdefault("pool_timeout", CONNECT_TIMEOUT_SECONDS)
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, say when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")
