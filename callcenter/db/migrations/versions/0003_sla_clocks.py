"""SLA clocks of tickets and the warnings and breaches already announced.

`organisation.sla_policy` names the policy its tickets are timed against (null: the
settings' default). `sla_event`'s unique key is what makes an announcement once only.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("organisation") as batch:
        batch.add_column(sa.Column("sla_policy", sa.String(32), nullable=True))
    op.create_table(
        "sla_clock",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("target_seconds", sa.Float(), nullable=False),
        sa.Column("policy_key", sa.String(64), nullable=False),
        sa.Column("calendar", sa.JSON(), nullable=False),
        sa.Column("warn_at", sa.JSON(), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("settled", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.PrimaryKeyConstraint("ticket_id", "kind", name="pk_sla_clock"),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["ticket.id"], name="fk_sla_clock_ticket_id_ticket", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_sla_clock_settled", "sla_clock", ["settled"])
    op.create_table(
        "sla_clock_segment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sla_clock_segment"),
        sa.ForeignKeyConstraint(
            ["ticket_id", "kind"],
            ["sla_clock.ticket_id", "sla_clock.kind"],
            name="fk_sla_clock_segment_ticket_id_sla_clock",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_sla_clock_segment_ticket_id_kind", "sla_clock_segment", ["ticket_id", "kind"]
    )
    op.create_table(
        "sla_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("target_seconds", sa.Float(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("announced_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sla_event"),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["ticket.id"], name="fk_sla_event_ticket_id_ticket", ondelete="CASCADE"
        ),
        sa.UniqueConstraint(
            "ticket_id",
            "kind",
            "event",
            "target_seconds",
            name="uq_sla_event_ticket_id_kind_event_target_seconds",
        ),
    )


def downgrade() -> None:
    op.drop_table("sla_event")
    op.drop_index("ix_sla_clock_segment_ticket_id_kind", "sla_clock_segment")
    op.drop_table("sla_clock_segment")
    op.drop_index("ix_sla_clock_settled", "sla_clock")
    op.drop_table("sla_clock")
    with op.batch_alter_table("organisation") as batch:
        batch.drop_column("sla_policy")
