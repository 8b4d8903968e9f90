"""Accounts whose tokens can be revoked: a token version and a disabled mark.

A token carries the version its account had when it was issued; bumping the version
(logout, a new password, another role, disabling) makes every older token invalid at once.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "agent", sa.Column("token_version", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column("agent", sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+): a batch copy of `agent` would drop the old table,
    # and with foreign keys on that deletes every agent_queue row by cascade.
    op.execute("ALTER TABLE agent DROP COLUMN disabled_at")
    op.execute("ALTER TABLE agent DROP COLUMN token_version")
