"""Call records know when their call was last seen alive.

The process holding a call writes `alive_at` every few seconds; a record a killed process
left open is then closed at that moment, not at the restart that found it.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("call_record", sa.Column("alive_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE call_record DROP COLUMN alive_at")
