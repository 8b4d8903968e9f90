"""What a call record says besides its outcome: the agent's disposition at wrap-up, and
how the IVR ended with what it learnt (topic, incident, urgency).

Existing records have none of the three.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("call_record") as batch:
        batch.add_column(sa.Column("disposition", sa.String(32), nullable=True))
        batch.add_column(sa.Column("ivr_outcome", sa.String(16), nullable=True))
        batch.add_column(sa.Column("ivr_attributes", sa.JSON(), nullable=True))
        batch.create_index("ix_call_record_disposition", ["disposition"])


def downgrade() -> None:
    with op.batch_alter_table("call_record") as batch:
        batch.drop_index("ix_call_record_disposition")
        for column in ("ivr_attributes", "ivr_outcome", "disposition"):
            batch.drop_column(column)
