"""The ACD's event history and its saved state.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "acd_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("call_id", sa.String(36), nullable=True),
        sa.Column("queue", sa.String(64), nullable=True),
        sa.Column("agent", sa.String(64), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_acd_event"),
    )
    op.create_index("ix_acd_event_at", "acd_event", ["at"])
    op.create_index("ix_acd_event_call_id", "acd_event", ["call_id"])
    op.create_table(
        "acd_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_acd_snapshot"),
    )


def downgrade() -> None:
    op.drop_table("acd_snapshot")
    op.drop_index("ix_acd_event_call_id", "acd_event")
    op.drop_index("ix_acd_event_at", "acd_event")
    op.drop_table("acd_event")
