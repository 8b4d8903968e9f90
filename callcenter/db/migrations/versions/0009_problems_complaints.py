"""Problems and known errors, complaints, and each organisation's service calendar and
account manager.

- `problem`: what a problem ticket is about (dimension and key of its incidents), with
  its known error and workaround; `open_key` is unique while the problem is open.
- `org_service`: an organisation's own service calendar (None: the settings' one) and
  account manager (who complaints are assigned to).
- `complaint`: the organisation, and optionally the ticket, a complaint is about.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "problem",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("dimension", sa.String(32), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("open_key", sa.String(240), nullable=True),
        sa.Column("known_error", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("workaround", sa.Text(), nullable=True),
        sa.Column("known_error_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("known_error_by", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("ticket_id", name="pk_problem"),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["ticket.id"], name="fk_problem_ticket_id_ticket", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("open_key", name="uq_problem_open_key"),
    )
    op.create_index("ix_problem_dimension_key", "problem", ["dimension", "key"])
    op.create_table(
        "org_service",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("calendar", sa.JSON(), nullable=True),
        sa.Column("account_manager", sa.String(64), nullable=True),
        sa.Column("account_manager_email", sa.String(254), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_by", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("organisation_id", name="pk_org_service"),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name="fk_org_service_organisation_id_organisation",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "complaint",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("about_ticket_id", sa.Integer(), nullable=True),
        sa.Column("filed_by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("ticket_id", name="pk_complaint"),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["ticket.id"], name="fk_complaint_ticket_id_ticket", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name="fk_complaint_organisation_id_organisation",
        ),
        sa.ForeignKeyConstraint(
            ["about_ticket_id"],
            ["ticket.id"],
            name="fk_complaint_about_ticket_id_ticket",
            ondelete="SET NULL",
        ),
    )
    op.create_index("ix_complaint_organisation_id", "complaint", ["organisation_id"])


def downgrade() -> None:
    op.drop_index("ix_complaint_organisation_id", table_name="complaint")
    op.drop_table("complaint")
    op.drop_table("org_service")
    op.drop_index("ix_problem_dimension_key", table_name="problem")
    op.drop_table("problem")
