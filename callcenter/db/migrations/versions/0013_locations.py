"""Locations: a client's sites, where its employees work and its items stand.

Items whose owner is known get the location their survey text names (`device.location`,
one location per organisation and name); employees start without one.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "location",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("address", sa.String(400), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_location"),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name="fk_location_organisation_id_organisation",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("organisation_id", "name", name="uq_location_organisation_id_name"),
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in ("employee", "device"):
        # ADD COLUMN with its reference, not a batch rebuild: on SQLite a rebuild drops the
        # old table, and dropping `employee` would fire its children's ON DELETE actions
        # (the employees' phones deleted, their items' owners nulled).
        fk = f"fk_{table}_location_id_location"
        if sqlite:
            op.execute(
                f"ALTER TABLE {table} ADD COLUMN location_id INTEGER "
                f"CONSTRAINT {fk} REFERENCES location (id) ON DELETE SET NULL"
            )
        else:
            op.add_column(table, sa.Column("location_id", sa.Integer(), nullable=True))
            op.create_foreign_key(
                fk, table, "location", ["location_id"], ["id"], ondelete="SET NULL"
            )
        op.create_index(f"ix_{table}_location_id", table, ["location_id"])
    op.execute(
        "INSERT INTO location (organisation_id, name) "
        "SELECT DISTINCT employee.organisation_id, device.location FROM device "
        "JOIN employee ON employee.id = device.owner_employee_id "
        "WHERE device.location IS NOT NULL AND device.location <> ''"
    )
    op.execute(
        "UPDATE device SET location_id = (SELECT location.id FROM location "
        "JOIN employee ON employee.organisation_id = location.organisation_id "
        "WHERE employee.id = device.owner_employee_id AND location.name = device.location) "
        "WHERE device.location IS NOT NULL"
    )


def downgrade() -> None:
    for table in ("device", "employee"):
        op.drop_index(f"ix_{table}_location_id", table_name=table)
        if op.get_bind().dialect.name == "sqlite":
            # SQLite (3.35+) drops a column in place, its inline reference with it.
            op.execute(f"ALTER TABLE {table} DROP COLUMN location_id")
        else:
            op.drop_constraint(f"fk_{table}_location_id_location", table, type_="foreignkey")
            op.drop_column(table, "location_id")
    op.drop_table("location")
