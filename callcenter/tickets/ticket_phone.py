"""The `ticket_phone` index: telephone numbers written in tickets, kept on every write.

Tickets are written from many places (the call flow, the REST API's repository, problems,
complaints, the demo data), mostly through the ORM. Rather than a call in each, the
store's sessions are `TicketSession`s whose `after_flush` hook re-reads the subject and
description of every new or changed ticket and the text of every new note. Statements
that bypass the unit of work (`update(Ticket)` with new text) call `reindex_ticket`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, event, insert, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, UOWTransaction

from callcenter.db import models
from callcenter.directory.phone import numbers_in_text

#: `Session.info` key: the region numbers without a country code are read in.
REGION_KEY = "phone_region"
#: `ticket_phone.source` of numbers in the ticket's own subject and description.
TICKET_SOURCE = "ticket"
#: ... and of numbers in its notes.
NOTE_SOURCE = "note"
AS_WRITTEN_LENGTH = 64


class TicketSession(Session):
    """The store's session class: its flushes keep `ticket_phone` current."""


def ticket_text(subject: str | None, description: str | None) -> str:
    # A line break between them: a number cannot run from the subject into the text.
    return f"{subject or ''}\n{description or ''}"


def reindex_ticket_sync(
    session: Session,
    ticket_id: int,
    subject: str | None,
    description: str | None,
    *,
    fresh: bool = False,
) -> None:
    """Replace the numbers of the ticket's own text (its notes' numbers stay); `fresh`:
    a ticket just inserted, which has none yet."""
    region = session.info.get(REGION_KEY)
    if region is None:
        return
    if not fresh:
        session.connection().execute(
            delete(models.TicketPhone).where(
                models.TicketPhone.ticket_id == ticket_id,
                models.TicketPhone.source == TICKET_SOURCE,
            )
        )
    _insert(
        session,
        ticket_id,
        TICKET_SOURCE,
        numbers_in_text(ticket_text(subject, description), region),
    )


def add_note_numbers_sync(session: Session, ticket_id: int, text: str) -> None:
    region = session.info.get(REGION_KEY)
    if region is None:
        return
    found = numbers_in_text(text, region)
    if not found:
        return
    known = set(
        session.connection().scalars(
            select(models.TicketPhone.number_e164).where(
                models.TicketPhone.ticket_id == ticket_id,
                models.TicketPhone.source == NOTE_SOURCE,
            )
        )
    )
    _insert(session, ticket_id, NOTE_SOURCE, [(n, w) for n, w in found if n not in known])


def _insert(
    session: Session, ticket_id: int, source: str, found: Iterable[tuple[str, str]]
) -> None:
    rows = [
        {
            "ticket_id": ticket_id,
            "source": source,
            "number_e164": number,
            "as_written": written[:AS_WRITTEN_LENGTH],
        }
        for number, written in found
    ]
    if rows:
        session.connection().execute(insert(models.TicketPhone), rows)


async def reindex_ticket(session: AsyncSession, ticket_id: int) -> None:
    """After a Core `update(Ticket)` that may have changed its subject or description."""
    row = (
        await session.execute(
            select(models.Ticket.subject, models.Ticket.description).where(
                models.Ticket.id == ticket_id
            )
        )
    ).one_or_none()
    if row is None:
        return
    subject, description = row
    await session.run_sync(lambda s: reindex_ticket_sync(s, ticket_id, subject, description))


async def move_note_numbers(session: AsyncSession, from_id: int, to_id: int) -> None:
    """A merge moved the duplicate's notes to the survivor: their numbers follow."""

    def move(sync: Session) -> None:
        phone = models.TicketPhone
        connection = sync.connection()
        rows = connection.execute(
            select(phone.number_e164, phone.as_written).where(
                phone.ticket_id == from_id, phone.source == NOTE_SOURCE
            )
        ).all()
        if not rows:
            return
        connection.execute(
            delete(phone).where(phone.ticket_id == from_id, phone.source == NOTE_SOURCE)
        )
        known = set(
            connection.scalars(
                select(phone.number_e164).where(
                    phone.ticket_id == to_id, phone.source == NOTE_SOURCE
                )
            )
        )
        _insert(sync, to_id, NOTE_SOURCE, [(n, w) for n, w in rows if n not in known])

    await session.run_sync(move)


def _text_changed(ticket: models.Ticket) -> bool:
    attrs = inspect(ticket).attrs
    return bool(attrs.subject.history.has_changes() or attrs.description.history.has_changes())


@event.listens_for(TicketSession, "after_flush")
def _after_flush(session: Session, context: UOWTransaction) -> None:
    if session.info.get(REGION_KEY) is None:
        return
    objects: list[Any] = [*session.new, *session.dirty]
    for obj in objects:
        if isinstance(obj, models.Ticket):
            fresh = obj in session.new
            if fresh or _text_changed(obj):
                reindex_ticket_sync(session, obj.id, obj.subject, obj.description, fresh=fresh)
        elif isinstance(obj, models.TicketNote) and obj in session.new:
            add_note_numbers_sync(session, obj.ticket_id, obj.text)
