"""The ticket workflow in the database: tiers, assignment, category, first-contact facts,
a version for optimistic locking, the audit trail and links between tickets.

Existing tickets start at tier 1 with no assignee, version 1 and one contact per linked
call (what the attach rule recorded); their history before this revision is the text of
their description.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ticket") as batch:
        batch.add_column(
            sa.Column("tier", sa.String(32), server_default="tier1_service_desk", nullable=False)
        )
        batch.add_column(sa.Column("assignee", sa.String(64), nullable=True))
        batch.add_column(sa.Column("category", sa.String(64), nullable=True))
        batch.add_column(sa.Column("resolution", sa.Text(), nullable=True))
        batch.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("reopen_count", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch.add_column(
            sa.Column("escalation_level", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch.add_column(sa.Column("approved_by", sa.String(64), nullable=True))
        batch.add_column(
            sa.Column("contacts", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch.add_column(
            sa.Column("onsite_visits", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch.add_column(sa.Column("first_contact_resolved", sa.Boolean(), nullable=True))
        batch.add_column(
            sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False)
        )
        batch.create_index("ix_ticket_category", ["category"])
    op.execute(
        "UPDATE ticket SET contacts = "
        "(SELECT count(*) FROM call_record WHERE call_record.ticket_id = ticket.id)"
    )
    op.create_table(
        "ticket_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("field", sa.String(32), nullable=False),
        sa.Column("old", sa.Text(), nullable=True),
        sa.Column("new", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ticket_audit"),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["ticket.id"],
            name="fk_ticket_audit_ticket_id_ticket",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_ticket_audit_ticket_id_at", "ticket_audit", ["ticket_id", "at"])
    op.create_table(
        "ticket_link",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("other_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("ticket_id", "other_id", "kind", name="pk_ticket_link"),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["ticket.id"], name="fk_ticket_link_ticket_id_ticket", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["other_id"], ["ticket.id"], name="fk_ticket_link_other_id_ticket", ondelete="CASCADE"
        ),
        sa.CheckConstraint("ticket_id <> other_id", name="ck_ticket_link_not_itself"),
    )
    op.create_index("ix_ticket_link_other_id", "ticket_link", ["other_id"])


def downgrade() -> None:
    op.drop_index("ix_ticket_link_other_id", table_name="ticket_link")
    op.drop_table("ticket_link")
    op.drop_index("ix_ticket_audit_ticket_id_at", table_name="ticket_audit")
    op.drop_table("ticket_audit")
    with op.batch_alter_table("ticket") as batch:
        batch.drop_index("ix_ticket_category")
        for column in (
            "version",
            "first_contact_resolved",
            "onsite_visits",
            "contacts",
            "approved_by",
            "escalation_level",
            "reopen_count",
            "closed_at",
            "resolution",
            "category",
            "assignee",
            "tier",
        ):
            batch.drop_column(column)
