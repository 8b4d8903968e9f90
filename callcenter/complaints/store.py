"""Complaints in the database: filing one (assigned to the organisation's account
manager), listing them, and the escalation scan (`complaints.escalations_due`).

The scan runs in one writing transaction: each open complaint is locked, its missed
limits are decided on its organisation's calendar, and each escalation raises
`escalation_level` with an audit entry. Only what was written is returned for the
caller to publish, so a restart or a second process never escalates a complaint twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.complaints.model import (
    UNACKNOWLEDGED,
    ComplaintEscalated,
    ComplaintFact,
    ComplaintLimits,
    escalations_due,
)
from callcenter.db import models
from callcenter.directory.org_sla import choose_calendar
from callcenter.directory.org_store import organisation_sla
from callcenter.tickets.store import SYSTEM_ACTOR, SqlTicketStore
from callcenter.tickets.ticket_rows import apply_state, audit_rows
from callcenter.tickets.workflow import (
    OPEN_STATUSES,
    Actor,
    AuditEntry,
    Kind,
    Role,
    Status,
    Tier,
    assign,
)

RELATED = "related"
DEFAULT_PRIORITY = 3


class ComplaintError(ValueError):
    """A complaint that cannot be filed as given; `field` names the culprit."""

    def __init__(self, field: str, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.field = field
        #: The thing named does not exist (404) rather than the request being wrong (400).
        self.missing = missing


@dataclass(frozen=True)
class Complaint:
    id: int
    status: Status
    subject: str
    organisation_id: int
    employee_id: int | None
    about_ticket_id: int | None
    assignee: str | None
    tier: str
    escalation_level: int
    filed_by: str
    created_at: datetime
    updated_at: datetime


async def file_complaint(
    store: SqlTicketStore,
    *,
    subject: str,
    description: str,
    filed_by: str,
    now: datetime,
    organisation_id: int | None = None,
    employee: str | None = None,
    about_ticket_id: int | None = None,
    priority: int = DEFAULT_PRIORITY,
) -> Complaint:
    """A complaint for an employee (their organisation) or an organisation, optionally
    about a ticket (linked `related`); assigned to the organisation's account manager
    when it has one, else left at the account-manager tier's queue."""
    async with store.write_transaction() as session:
        employee_id = None
        if employee is not None:
            row = await session.scalar(
                select(models.Employee).where(models.Employee.username == employee)
            )
            if row is None:
                raise ComplaintError("employee", f"no employee {employee!r}", missing=True)
            if organisation_id is not None and organisation_id != row.organisation_id:
                raise ComplaintError(
                    "organisation_id", f"{employee} is not of organisation {organisation_id}"
                )
            employee_id, organisation_id = row.id, row.organisation_id
        if organisation_id is None:
            raise ComplaintError("organisation_id", "give an employee or an organisation_id")
        if await session.get(models.Organisation, organisation_id) is None:
            raise ComplaintError(
                "organisation_id", f"no organisation {organisation_id}", missing=True
            )
        if about_ticket_id is not None and not await session.get(models.Ticket, about_ticket_id):
            raise ComplaintError("ticket_id", f"no ticket {about_ticket_id}", missing=True)
        service = await session.get(models.OrgService, organisation_id)
        manager = service.account_manager if service is not None else None
        actor = Actor(filed_by, Role.AGENT)
        # Timed by its own acknowledge and resolve limits (`complaints.py`), not SLA clocks.
        ticket, state, entries = await store.insert_ticket(
            session,
            Kind.COMPLAINT,
            priority,
            actor,
            now,
            clocks=False,
            subject=subject[:200],
            description=description,
            employee_id=employee_id,
            tier=Tier.ACCOUNT_MANAGER.value,
        )
        if manager is not None:
            state, assigned = assign(
                state, Tier.ACCOUNT_MANAGER, manager, actor, now, reason="account manager"
            )
            entries += assigned
        apply_state(ticket, state)
        session.add_all(audit_rows(entries))
        session.add(
            models.ComplaintRecord(
                ticket_id=ticket.id,
                organisation_id=organisation_id,
                about_ticket_id=about_ticket_id,
                filed_by=filed_by,
            )
        )
        if about_ticket_id is not None:
            session.add(
                models.TicketLink(
                    ticket_id=ticket.id,
                    other_id=about_ticket_id,
                    kind=RELATED,
                    created_at=now,
                    created_by=filed_by,
                )
            )
        await session.flush()
        found = await _complaints(session, models.Ticket.id == ticket.id)
        return found[0]


async def complaints(
    store: SqlTicketStore, *, open_only: bool = False, organisation_id: int | None = None
) -> list[Complaint]:
    """Complaints newest first; `open_only`: not resolved, closed or cancelled."""
    conditions: list[ColumnElement[bool]] = []
    if open_only:
        conditions.append(models.Ticket.status.in_([s.value for s in OPEN_STATUSES]))
    if organisation_id is not None:
        conditions.append(models.ComplaintRecord.organisation_id == organisation_id)
    async with store._read() as session:
        return await _complaints(session, *conditions)


async def escalate_complaints(
    store: SqlTicketStore, limits: ComplaintLimits, now: datetime
) -> list[ComplaintEscalated]:
    """Escalate every open complaint that missed a limit by `now`; what was written."""
    done: list[ComplaintEscalated] = []
    async with store.write_transaction() as session:
        rows = list(
            await session.execute(
                select(models.Ticket, models.ComplaintRecord.organisation_id)
                .join(models.ComplaintRecord, models.ComplaintRecord.ticket_id == models.Ticket.id)
                .where(models.Ticket.status.in_([s.value for s in OPEN_STATUSES]))
                .order_by(models.Ticket.id)
                .with_for_update(of=models.Ticket)
            )
        )
        calendars = {}
        for ticket, organisation_id in rows:
            if organisation_id not in calendars:
                org = await organisation_sla(session, organisation_id)
                calendars[organisation_id] = choose_calendar(org, store.sla.calendar)
            fact = ComplaintFact(
                ticket_id=ticket.id,
                created_at=ticket.created_at,
                status=Status(ticket.status),
                escalation_level=ticket.escalation_level,
                acknowledged_at=await _acknowledged_at(session, ticket.id),
                resolved_at=ticket.resolved_at,
                organisation_id=organisation_id,
                account_manager=ticket.assignee,
            )
            due = escalations_due(fact, calendars[organisation_id], limits, now)
            for event in due:
                session.add_all(
                    audit_rows(
                        [
                            AuditEntry(
                                ticket.id,
                                now,
                                SYSTEM_ACTOR.name,
                                "escalation_level",
                                str(event.level - 1),
                                str(event.level),
                                reason=f"{event.limit.value} limit missed "
                                f"(due {event.due_at.isoformat(timespec='minutes')})",
                            )
                        ]
                    )
                )
            if due:
                ticket.escalation_level = due[-1].level
                ticket.updated_at = now
                ticket.version += 1
                done += due
    return done


async def _acknowledged_at(session: AsyncSession, ticket_id: int) -> datetime | None:
    """When the complaint first left new/assigned, as its audit trail says."""
    at: datetime | None = await session.scalar(
        select(func.min(models.TicketAudit.at)).where(
            models.TicketAudit.ticket_id == ticket_id,
            models.TicketAudit.field == "status",
            models.TicketAudit.new.not_in([s.value for s in UNACKNOWLEDGED]),
        )
    )
    if at is not None and at.tzinfo is None:  # in case an aggregate skips the column's type
        at = at.replace(tzinfo=UTC)
    return at


async def _complaints(session: AsyncSession, *conditions: object) -> list[Complaint]:
    rows = await session.execute(
        select(models.Ticket, models.ComplaintRecord)
        .join(models.ComplaintRecord, models.ComplaintRecord.ticket_id == models.Ticket.id)
        .where(*conditions)  # type: ignore[arg-type]
        .order_by(models.Ticket.created_at.desc(), models.Ticket.id.desc())
    )
    return [
        Complaint(
            id=ticket.id,
            status=Status(ticket.status),
            subject=ticket.subject,
            organisation_id=record.organisation_id,
            employee_id=ticket.employee_id,
            about_ticket_id=record.about_ticket_id,
            assignee=ticket.assignee,
            tier=ticket.tier,
            escalation_level=ticket.escalation_level,
            filed_by=record.filed_by,
            created_at=ticket.created_at,
            updated_at=ticket.updated_at,
        )
        for ticket, record in rows
    ]
