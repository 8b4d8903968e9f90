"""Telephone numbers written in tickets (`ticket_phone`): the screen pop's "maybe" match
for callers no employee record has, found by index rather than by reading every ticket.

Existing tickets and notes are read once here. Numbers without a country code are read
in the region handed over by `migrate.upgrade(default_region=...)` (the `callcenter db
upgrade` command passes `ticketing.default_region`); without one (the plain alembic CLI)
only numbers written with their country code are found.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from callcenter.directory.phone import numbers_in_text

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Rows read per statement while backfilling.
PAGE = 5000
#: "ZZ": the unknown region, where only +-prefixed numbers are understood.
UNKNOWN_REGION = "ZZ"


def upgrade() -> None:
    phones = op.create_table(
        "ticket_phone",
        sa.Column(
            "ticket_id",
            sa.Integer(),
            sa.ForeignKey("ticket.id", ondelete="CASCADE", name="fk_ticket_phone_ticket_id_ticket"),
            nullable=False,
        ),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("number_e164", sa.String(16), nullable=False),
        sa.Column("as_written", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("ticket_id", "source", "number_e164", name="pk_ticket_phone"),
    )
    op.create_index("ix_ticket_phone_number_e164", "ticket_phone", ["number_e164"])
    region = context.config.attributes.get("default_region") or UNKNOWN_REGION
    connection = op.get_bind()
    ticket = sa.table("ticket", sa.column("id"), sa.column("subject"), sa.column("description"))
    note = sa.table("ticket_note", sa.column("id"), sa.column("ticket_id"), sa.column("text"))
    last = 0
    while True:
        rows = connection.execute(
            sa.select(ticket.c.id, ticket.c.subject, ticket.c.description)
            .where(ticket.c.id > last)
            .order_by(ticket.c.id)
            .limit(PAGE)
        ).all()
        if not rows:
            break
        last = rows[-1][0]
        found = [
            _row(ticket_id, "ticket", number, written)
            for ticket_id, subject, description in rows
            for number, written in numbers_in_text(f"{subject or ''}\n{description or ''}", region)
        ]
        if found:
            connection.execute(phones.insert(), found)
    seen: set[tuple[int, str]] = set()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(note.c.id, note.c.ticket_id, note.c.text)
            .where(note.c.id > last)
            .order_by(note.c.id)
            .limit(PAGE)
        ).all()
        if not rows:
            break
        last = rows[-1][0]
        found = []
        for _, ticket_id, text in rows:
            for number, written in numbers_in_text(text or "", region):
                if (ticket_id, number) not in seen:
                    seen.add((ticket_id, number))
                    found.append(_row(ticket_id, "note", number, written))
        if found:
            connection.execute(phones.insert(), found)


def _row(ticket_id: int, source: str, number: str, written: str) -> dict[str, object]:
    return {
        "ticket_id": ticket_id,
        "source": source,
        "number_e164": number,
        "as_written": written[:64],
    }


def downgrade() -> None:
    op.drop_index("ix_ticket_phone_number_e164", table_name="ticket_phone")
    op.drop_table("ticket_phone")
