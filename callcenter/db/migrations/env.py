"""Alembic environment for the ticket database.

`callcenter.db.migrate.upgrade` hands over an open connection (the async engine's,
through `run_sync`), so migrations run inside the caller's event loop. Run by the
`alembic` command instead, this opens its own async engine on `sqlalchemy.url`.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from callcenter.db.models import Base, in_models

target_metadata = Base.metadata


def _run_on(connection: Connection) -> None:
    context.configure(
        connection=connection, target_metadata=target_metadata, include_name=in_models
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_on_own_engine(url: str) -> None:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run_on)
    finally:
        await engine.dispose()


def _main() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
    elif url:
        asyncio.run(_run_on_own_engine(url))
    else:
        raise RuntimeError("no connection handed over and no sqlalchemy.url configured")


_main()
