"""The initial ticket database: accounts, configuration items, agents, tickets, calls.

Written by hand to match `callcenter.db.models`; constraint names follow the
models' naming convention so later migrations can address them on every database.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, *, nullable: bool) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "organisation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_organisation"),
        sa.UniqueConstraint("name", name="uq_organisation_name"),
    )
    op.create_table(
        "department",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_department"),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name="fk_department_organisation_id_organisation",
        ),
        sa.UniqueConstraint("organisation_id", "code", name="uq_department_organisation_id_code"),
    )
    op.create_table(
        "employee",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("vip", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_employee"),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name="fk_employee_organisation_id_organisation",
        ),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name="fk_employee_department_id_department"
        ),
        sa.UniqueConstraint("username", name="uq_employee_username"),
    )
    op.create_index("ix_employee_organisation_id", "employee", ["organisation_id"])
    op.create_index("ix_employee_department_id", "employee", ["department_id"])
    op.create_table(
        "employee_phone",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("number_raw", sa.String(64), nullable=False),
        sa.Column("number_e164", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_employee_phone"),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employee.id"],
            name="fk_employee_phone_employee_id_employee",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "employee_id", "number_e164", name="uq_employee_phone_employee_id_number_e164"
        ),
    )
    op.create_index("ix_employee_phone_number_e164", "employee_phone", ["number_e164"])
    op.create_table(
        "device",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asset_tag", sa.String(32), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("model", sa.String(200), nullable=True),
        sa.Column("vendor", sa.String(200), nullable=True),
        sa.Column("serial", sa.String(100), nullable=True),
        sa.Column("purchase_date", sa.Date(), nullable=True),
        sa.Column("warranty_end", sa.Date(), nullable=True),
        sa.Column("status", sa.String(32), server_default="in_use", nullable=False),
        sa.Column("owner_employee_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_device"),
        sa.ForeignKeyConstraint(
            ["owner_employee_id"],
            ["employee.id"],
            name="fk_device_owner_employee_id_employee",
            ondelete="SET NULL",
        ),
        sa.UniqueConstraint("asset_tag", name="uq_device_asset_tag"),
        sa.UniqueConstraint("name", name="uq_device_name"),
    )
    op.create_index("ix_device_owner_employee_id", "device", ["owner_employee_id"])
    op.create_table(
        "agent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("sip_uri", sa.String(255), nullable=True),
        sa.Column("queues", sa.JSON(), nullable=False),
        sa.Column("skills", sa.JSON(), nullable=False),
        _timestamp("created_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_agent"),
        sa.UniqueConstraint("username", name="uq_agent_username"),
    )
    op.create_table(
        "ticket",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(32), server_default="incident", nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=True),
        sa.Column("device_id", sa.Integer(), nullable=True),
        _timestamp("created_at", nullable=False),
        _timestamp("updated_at", nullable=False),
        _timestamp("resolved_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_ticket"),
        sa.ForeignKeyConstraint(
            ["employee_id"], ["employee.id"], name="fk_ticket_employee_id_employee"
        ),
        sa.ForeignKeyConstraint(["device_id"], ["device.id"], name="fk_ticket_device_id_device"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_ticket_employee_id_status_updated_at", "ticket", ["employee_id", "status", "updated_at"]
    )
    op.create_index("ix_ticket_device_id", "ticket", ["device_id"])
    op.create_table(
        "call_record",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("sip_call_id", sa.String(255), nullable=True),
        sa.Column("caller", sa.String(255), nullable=False),
        sa.Column("caller_raw", sa.String(255), nullable=True),
        sa.Column("employee_id", sa.Integer(), nullable=True),
        sa.Column("queue", sa.String(64), nullable=True),
        sa.Column("agent_username", sa.String(64), nullable=True),
        _timestamp("arrived_at", nullable=False),
        _timestamp("enqueued_at", nullable=True),
        _timestamp("answered_at", nullable=True),
        _timestamp("ended_at", nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("pickup_latency_seconds", sa.Float(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("media", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_call_record"),
        sa.ForeignKeyConstraint(
            ["employee_id"], ["employee.id"], name="fk_call_record_employee_id_employee"
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["ticket.id"], name="fk_call_record_ticket_id_ticket"
        ),
    )
    op.create_index("ix_call_record_arrived_at", "call_record", [sa.text("arrived_at DESC")])
    op.create_index("ix_call_record_employee_id", "call_record", ["employee_id"])
    op.create_index("ix_call_record_outcome", "call_record", ["outcome"])
    op.create_index("ix_call_record_ticket_id", "call_record", ["ticket_id"])


def downgrade() -> None:
    for table in (
        "call_record",
        "ticket",
        "agent",
        "device",
        "employee_phone",
        "employee",
        "department",
        "organisation",
    ):
        op.drop_table(table)
