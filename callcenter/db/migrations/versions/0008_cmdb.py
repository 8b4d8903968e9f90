"""Configuration items complete: maintainer and category of every item, relations between
items, the maintenance history, preventive maintenance plans and hardware repair tasks.

Existing items get their category from their surveyed type (desktop -> pc, ...; anything
unknown is a peripheral), as `cmdb.category_for_type` does for new ones.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from callcenter.cmdb.model import TYPE_CATEGORIES

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("device") as batch:
        batch.add_column(sa.Column("maintainer", sa.String(200), nullable=True))
        batch.add_column(
            sa.Column("category", sa.String(16), server_default="peripheral", nullable=False)
        )
        batch.create_index("ix_device_category", ["category"])
    device = sa.table("device", sa.column("type", sa.String), sa.column("category", sa.String))
    for device_type, category in TYPE_CATEGORIES.items():
        op.execute(
            device.update()
            .where(sa.func.lower(sa.func.replace(device.c.type, "_", " ")) == device_type)
            .values(category=category.value)
        )
    op.create_table(
        "ci_relation",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("other_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("item_id", "other_id", "kind", name="pk_ci_relation"),
        sa.ForeignKeyConstraint(
            ["item_id"], ["device.id"], name="fk_ci_relation_item_id_device", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["other_id"], ["device.id"], name="fk_ci_relation_other_id_device", ondelete="CASCADE"
        ),
        sa.CheckConstraint("item_id <> other_id", name="ck_ci_relation_not_itself"),
        sa.CheckConstraint(
            "kind IN ('installed_on', 'connected_to', 'depends_on')", name="ck_ci_relation_kind"
        ),
    )
    op.create_index("ix_ci_relation_other_id", "ci_relation", ["other_id"])
    op.create_table(
        "maintenance_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(200), nullable=False),
        sa.Column("notes", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_maintenance_record"),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["device.id"],
            name="fk_maintenance_record_item_id_device",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["ticket.id"],
            name="fk_maintenance_record_ticket_id_ticket",
            ondelete="SET NULL",
        ),
        sa.CheckConstraint("kind IN ('repair', 'preventive')", name="ck_maintenance_record_kind"),
    )
    op.create_index(
        "ix_maintenance_record_item_id_done_at", "maintenance_record", ["item_id", "done_at"]
    )
    op.create_index("ix_maintenance_record_ticket_id", "maintenance_record", ["ticket_id"])
    op.create_table(
        "maintenance_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("interval_days", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_maintenance_plan"),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["department.id"],
            name="fk_maintenance_plan_department_id_department",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "department_id", "category", name="uq_maintenance_plan_department_id_category"
        ),
        sa.CheckConstraint("interval_days > 0", name="ck_maintenance_plan_interval_days"),
    )
    op.create_table(
        "repair_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("in_warranty", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("quote_cents", sa.BigInteger(), nullable=True),
        sa.Column("approved_by", sa.String(200), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_repair_task"),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["ticket.id"], name="fk_repair_task_ticket_id_ticket", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["device.id"], name="fk_repair_task_item_id_device", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_repair_task_ticket_id", "repair_task", ["ticket_id"])
    op.create_index("ix_repair_task_item_id", "repair_task", ["item_id"])


def downgrade() -> None:
    op.drop_index("ix_repair_task_item_id", table_name="repair_task")
    op.drop_index("ix_repair_task_ticket_id", table_name="repair_task")
    op.drop_table("repair_task")
    op.drop_table("maintenance_plan")
    op.drop_index("ix_maintenance_record_ticket_id", table_name="maintenance_record")
    op.drop_index("ix_maintenance_record_item_id_done_at", table_name="maintenance_record")
    op.drop_table("maintenance_record")
    op.drop_index("ix_ci_relation_other_id", table_name="ci_relation")
    op.drop_table("ci_relation")
    with op.batch_alter_table("device") as batch:
        batch.drop_index("ix_device_category")
        batch.drop_column("category")
        batch.drop_column("maintainer")
