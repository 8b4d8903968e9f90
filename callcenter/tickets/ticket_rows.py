"""Between a `ticket` row and the workflow's `TicketState`, and audit entries as rows.

The workflow decides (pure); the store loads a row, asks the workflow, writes the new
state back with `apply_state` and appends what `audit_rows` returns in the same
transaction, so a ticket never changes without its audit trail.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.db import models
from callcenter.tickets.records import Ticket, TicketStatus
from callcenter.tickets.workflow import AuditEntry, Kind, Status, TicketState, Tier

#: TicketState fields stored in columns of the same name.
_STATE_COLUMNS = (
    "status",
    "priority",
    "tier",
    "assignee",
    "updated_at",
    "resolved_at",
    "closed_at",
    "reopen_count",
    "escalation_level",
    "approved_by",
)


def ticket_state(row: models.Ticket) -> TicketState:
    return TicketState(
        id=row.id,
        kind=Kind(row.kind),
        status=Status(row.status),
        priority=row.priority,
        tier=Tier(row.tier),
        assignee=row.assignee,
        created_at=row.created_at,
        updated_at=row.updated_at,
        resolved_at=row.resolved_at,
        closed_at=row.closed_at,
        reopen_count=row.reopen_count,
        escalation_level=row.escalation_level,
        approved_by=row.approved_by,
    )


def ticket_record(row: models.Ticket, call_ids: tuple[str, ...]) -> Ticket:
    """The row as the store's `Ticket` record, with the ids of its calls."""
    return Ticket(
        id=row.id,
        kind=row.kind,
        status=TicketStatus(row.status),
        priority=row.priority,
        subject=row.subject,
        employee_id=row.employee_id,
        device_id=row.device_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        call_ids=call_ids,
        tier=row.tier,
        assignee=row.assignee,
        category=row.category,
        resolution=row.resolution,
        resolved_at=row.resolved_at,
        closed_at=row.closed_at,
        reopen_count=row.reopen_count,
        contacts=row.contacts,
        onsite_visits=row.onsite_visits,
        first_contact_resolved=row.first_contact_resolved,
        version=row.version,
    )


def apply_state(row: models.Ticket, state: TicketState) -> None:
    """Write the workflow's new state onto the row; the caller bumps `version` once."""
    for name in _STATE_COLUMNS:
        value = getattr(state, name)
        setattr(row, name, value.value if isinstance(value, Status | Tier) else value)


def audit_rows(entries: Iterable[AuditEntry]) -> list[models.TicketAudit]:
    return [
        models.TicketAudit(
            ticket_id=e.ticket_id,
            at=e.at,
            actor=e.actor,
            field=e.field,
            old=e.old,
            new=e.new,
            reason=e.reason,
        )
        for e in entries
    ]


def field_change(
    row: models.Ticket, name: str, value: str | int | bool | None, actor: str, at: datetime
) -> AuditEntry | None:
    """Set a column outside the workflow (subject, category, resolution, device, the
    first-contact verdict) and say so; None when the value is the same."""
    old = getattr(row, name)
    if old == value:
        return None
    setattr(row, name, value)
    return AuditEntry(
        row.id,
        at,
        actor,
        name,
        None if old is None else str(old),
        None if value is None else str(value),
    )


async def add_note_row(
    session: AsyncSession,
    ticket_id: int,
    author: str,
    text: str,
    now: datetime,
    *,
    call_id: str | None = None,
    internal: bool = False,
) -> models.TicketNote:
    """A note on the ticket and its audit entry (naming the note); the caller bumps the
    ticket's version its own way."""
    note = models.TicketNote(
        ticket_id=ticket_id, at=now, author=author, text=text, call_id=call_id, internal=internal
    )
    session.add(note)
    await session.flush()
    session.add(
        models.TicketAudit(
            ticket_id=ticket_id, at=now, actor=author, field="note", new=str(note.id)
        )
    )
    return note
