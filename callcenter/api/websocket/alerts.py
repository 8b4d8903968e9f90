"""Ticket alerts on the consoles: SLA warnings and breaches, complaint escalations.

Pure: the bus events and the store's open alerts as `OpenAlert`, and `OpenAlert` as the
`ticket_alert` message (docs/websocket.md). The hub adds the ticket's fields it reads.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from callcenter.api.views import iso
from callcenter.complaints.model import ComplaintEscalated
from callcenter.tickets.records import Ticket
from callcenter.tickets.sla_alerts import (
    COMPLAINT_ESCALATED,
    SLA_BREACH,
    SLA_WARNING,
    OpenAlert,
)
from callcenter.tickets.sla_monitor import SlaBreached, SlaWarning

#: What the hub subscribes to for alerts.
AlertEvent = SlaWarning | SlaBreached | ComplaintEscalated


def from_event(event: object, now: float) -> OpenAlert | None:
    """The alert a bus event raises at `now` (None: not an alert)."""
    at = datetime.fromtimestamp(now, UTC)
    if isinstance(event, SlaWarning):
        return OpenAlert(
            event.ticket_id,
            SLA_WARNING,
            at,
            clock=event.clock.value,
            level=event.level,
            due_at=event.due_at,
        )
    if isinstance(event, SlaBreached):
        return OpenAlert(
            event.ticket_id, SLA_BREACH, at, clock=event.clock.value, due_at=event.due_at
        )
    if isinstance(event, ComplaintEscalated):
        return OpenAlert(
            event.ticket_id,
            COMPLAINT_ESCALATED,
            at,
            escalation_level=event.level,
            due_at=event.due_at,
            assignee=event.account_manager,
        )
    return None


def with_ticket(alert: OpenAlert, ticket: Ticket) -> OpenAlert:
    """The alert with what the ticket says now (subject, priority, assignee, tier)."""
    return replace(
        alert,
        subject=ticket.subject,
        priority=ticket.priority,
        assignee=ticket.assignee,
        tier=ticket.tier,
    )


def alert_item(alert: OpenAlert) -> dict[str, Any]:
    """One alert as sent (in `ticket_alert` and the snapshot's `ticket_alerts`)."""
    return {
        "at": alert.at.timestamp(),
        "ticket_id": alert.ticket_id,
        "kind": alert.kind,
        "clock": alert.clock,
        "level": alert.level,
        "escalation_level": alert.escalation_level,
        "due_at": iso(alert.due_at),
        "subject": alert.subject,
        "priority": alert.priority,
        "assignee": alert.assignee,
        "tier": alert.tier,
    }


def alert_message(alert: OpenAlert) -> dict[str, Any]:
    return {"type": "ticket_alert", **alert_item(alert)}


def concerns_agent(ticket: Ticket | None, agent_id: str, call_ids: tuple[str | None, ...]) -> bool:
    """An agent sees the alerts of its tickets and of the ticket of its current or
    just-ended call; without the ticket nothing says it is theirs."""
    if ticket is None:
        return False
    if ticket.assignee == agent_id:
        return True
    return any(c is not None and c in ticket.call_ids for c in call_ids)
