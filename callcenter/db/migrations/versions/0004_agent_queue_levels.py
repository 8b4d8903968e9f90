"""Queue memberships with a level and a penalty: `agent.queues` becomes `agent_queue`.

Each name of an agent's `queues` list becomes a row at the default level (5) and
penalty (0), which is how the ACD took a bare queue name; the list column is dropped.
Downgrading writes the names back and loses the levels and penalties.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-08
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_agent = sa.table("agent", sa.column("id", sa.Integer()), sa.column("queues", sa.JSON()))
_agent_queue = sa.table(
    "agent_queue",
    sa.column("agent_id", sa.Integer()),
    sa.column("queue", sa.String(64)),
    sa.column("level", sa.Integer()),
    sa.column("penalty", sa.Integer()),
)


def _names(value: Any) -> list[str]:
    """The queue names of a stored list (a JSON text on drivers that do not decode it)."""
    if isinstance(value, str):
        value = json.loads(value)
    return list(dict.fromkeys(str(name) for name in value or ()))


def upgrade() -> None:
    # The lists are read and the column dropped before `agent_queue` exists: on SQLite the
    # batch operation recreates `agent`, and dropping the old table would cascade into
    # rows referring to it.
    bind = op.get_bind()
    rows = [
        {"agent_id": agent_id, "queue": name, "level": 5, "penalty": 0}
        for agent_id, queues in bind.execute(sa.select(_agent.c.id, _agent.c.queues))
        for name in _names(queues)
    ]
    with op.batch_alter_table("agent") as batch:
        batch.drop_column("queues")
    op.create_table(
        "agent_queue",
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("queue", sa.String(64), nullable=False),
        sa.Column("level", sa.Integer(), server_default=sa.text("5"), nullable=False),
        sa.Column("penalty", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("agent_id", "queue", name="pk_agent_queue"),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agent.id"], name="fk_agent_queue_agent_id_agent", ondelete="CASCADE"
        ),
        sa.CheckConstraint("level >= 1 AND level <= 10", name="ck_agent_queue_level"),
        sa.CheckConstraint("penalty >= 0", name="ck_agent_queue_penalty"),
    )
    op.create_index("ix_agent_queue_queue", "agent_queue", ["queue"])
    if rows:
        op.bulk_insert(_agent_queue, rows)


def downgrade() -> None:
    # `agent_queue` goes before `agent` is altered, for the reason given in `upgrade`.
    bind = op.get_bind()
    queues: dict[int, list[str]] = {
        agent_id: [] for (agent_id,) in bind.execute(sa.select(_agent.c.id))
    }
    for agent_id, name in bind.execute(
        sa.select(_agent_queue.c.agent_id, _agent_queue.c.queue).order_by(
            _agent_queue.c.agent_id, _agent_queue.c.queue
        )
    ):
        queues[agent_id].append(name)
    op.drop_index("ix_agent_queue_queue", "agent_queue")
    op.drop_table("agent_queue")
    with op.batch_alter_table("agent") as batch:
        batch.add_column(sa.Column("queues", sa.JSON(), nullable=True))
    for agent_id, names in queues.items():
        bind.execute(_agent.update().where(_agent.c.id == agent_id).values(queues=names))
    with op.batch_alter_table("agent") as batch:
        batch.alter_column("queues", existing_type=sa.JSON(), nullable=False)
