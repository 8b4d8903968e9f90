"""Ticket notes in their own table instead of appended to the description.

Notes written before this revision stay in the ticket's description text: they are
not parsed back out (their format was free text).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ticket_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("call_id", sa.String(36), nullable=True),
        sa.Column("internal", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ticket_note"),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["ticket.id"], name="fk_ticket_note_ticket_id_ticket", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["call_record.id"],
            name="fk_ticket_note_call_id_call_record",
            ondelete="SET NULL",
        ),
    )
    op.create_index("ix_ticket_note_ticket_id_at", "ticket_note", ["ticket_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_ticket_note_ticket_id_at", table_name="ticket_note")
    op.drop_table("ticket_note")
