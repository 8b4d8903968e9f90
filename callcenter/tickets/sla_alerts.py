"""The alerts still open on tickets, for a console that (re)connects: breached SLA clocks
of open tickets, warnings whose clock has not breached (and still runs), and complaints
escalated at least once and still open.

Read from what the monitors wrote (`sla_event`, `ticket.escalation_level` and its audit
row), so a wall board that reconnects shows what it showed before. Live alerts come as
events on the bus (`SlaWarning`, `SlaBreached`, `ComplaintEscalated`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select

from callcenter.db import models
from callcenter.tickets.records import OPEN_TICKET_STATUSES
from callcenter.tickets.sla_monitor import BREACH
from callcenter.tickets.store import SqlTicketStore
from callcenter.tickets.workflow import Kind

#: A board shows at most this many (the newest); more means the board is not the tool.
OPEN_ALERTS_LIMIT = 100
#: Announcements read before grouping per clock: bounds the query on a bad day.
_READ_LIMIT = 2000

SLA_WARNING = "sla_warning"
SLA_BREACH = "sla_breach"
COMPLAINT_ESCALATED = "complaint_escalated"


@dataclass(frozen=True)
class OpenAlert:
    """One alert as a console shows it; `at` is when it was raised."""

    ticket_id: int
    kind: str  # sla_warning | sla_breach | complaint_escalated
    at: datetime
    clock: str | None = None
    level: float | None = None
    escalation_level: int | None = None
    due_at: datetime | None = None
    subject: str | None = None
    priority: int | None = None
    assignee: str | None = None
    tier: str | None = None


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def open_alerts(store: SqlTicketStore, limit: int = OPEN_ALERTS_LIMIT) -> list[OpenAlert]:
    """The open alerts, newest first, at most `limit`: per clock its breach, else its
    highest warning (only while the clock runs: a stopped clock was met)."""
    open_statuses = [s.value for s in OPEN_TICKET_STATUSES]
    ticket = models.Ticket
    event = models.SlaEventRecord
    clock = models.SlaClockRecord
    alerts: list[OpenAlert] = []
    async with store._read() as session:
        rows = await session.execute(
            select(event, clock.stopped_at, ticket)
            .join(ticket, ticket.id == event.ticket_id)
            .join(
                clock,
                (clock.ticket_id == event.ticket_id)
                & (clock.kind == event.kind)
                # A retargeted clock's old announcements say nothing about it now.
                & (clock.target_seconds == event.target_seconds),
            )
            .where(ticket.status.in_(open_statuses))
            .order_by(event.announced_at.desc(), event.id.desc())
            .limit(_READ_LIMIT)
        )
        best: dict[tuple[int, str], OpenAlert] = {}
        for record, stopped_at, row in rows:
            key = (record.ticket_id, record.kind)
            breach = record.event == BREACH
            if not breach and stopped_at is not None:
                continue
            level = None if breach else float(record.event)
            alert = OpenAlert(
                ticket_id=record.ticket_id,
                kind=SLA_BREACH if breach else SLA_WARNING,
                at=_utc(record.announced_at),
                clock=record.kind,
                level=level,
                due_at=_utc(record.at) if breach else None,
                subject=row.subject,
                priority=row.priority,
                assignee=row.assignee,
                tier=row.tier,
            )
            held = best.get(key)
            if held is None or _outranks(alert, held):
                best[key] = alert
        alerts.extend(best.values())

        escalated_at = (
            select(models.TicketAudit.ticket_id, func.max(models.TicketAudit.at).label("at"))
            .where(models.TicketAudit.field == "escalation_level")
            .group_by(models.TicketAudit.ticket_id)
            .subquery()
        )
        complaints = await session.execute(
            select(ticket, escalated_at.c.at)
            .outerjoin(escalated_at, escalated_at.c.ticket_id == ticket.id)
            .where(
                ticket.kind == Kind.COMPLAINT.value,
                ticket.status.in_(open_statuses),
                ticket.escalation_level > 0,
            )
            .order_by(ticket.updated_at.desc())
            .limit(limit)
        )
        for row, at in complaints:
            alerts.append(
                OpenAlert(
                    ticket_id=row.id,
                    kind=COMPLAINT_ESCALATED,
                    at=_utc(at or row.updated_at),
                    escalation_level=row.escalation_level,
                    subject=row.subject,
                    priority=row.priority,
                    assignee=row.assignee,
                    tier=row.tier,
                )
            )
    alerts.sort(key=lambda a: (a.at, a.ticket_id), reverse=True)
    return alerts[:limit]


def _outranks(alert: OpenAlert, held: OpenAlert) -> bool:
    """A breach beats any warning; of two warnings, the higher level."""
    if alert.kind != held.kind:
        return alert.kind == SLA_BREACH
    return (alert.level or 0.0) > (held.level or 0.0)
