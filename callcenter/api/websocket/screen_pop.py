"""The screen pop: who is calling, their devices and tickets, read from the ticket store,
the knowledge-base articles for their devices, and the workarounds of known errors on
their devices and open tickets' categories.

The lookup is I/O and may be slow; the hub bounds how long an offer waits for it.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any

from callcenter.api.views import iso, suggestion_view
from callcenter.ticketing.knowledge import SqlKnowledgeBase
from callcenter.ticketing.problem_store import KnownError, SqlProblems
from callcenter.ticketing.records import (
    OPEN_TICKET_STATUSES,
    Device,
    Ticket,
    TicketStore,
)
from callcenter.ticketing.store import SqlTicketStore

#: Closed (resolved or closed) tickets shown besides every open one.
RECENT_CLOSED = 5
#: Knowledge-base articles suggested for the caller's devices.
KB_SUGGESTIONS = 3


def warranty(device: Device, today: date) -> str:
    if device.warranty_end is None:
        return "unknown"
    return "in" if device.warranty_end >= today else "out"


def today_of(now: float) -> date:
    return datetime.fromtimestamp(now, UTC).date()


async def lookup(
    store: TicketStore, caller: str, now: float, kb: SqlKnowledgeBase | None = None
) -> dict[str, Any]:
    """The screen pop of `caller` (E.164): the employee if exactly one has the number;
    with `kb`, the most used articles for the models of their devices."""
    found = await store.find_employees_by_phone(caller)
    pop: dict[str, Any] = {
        "caller": caller,
        "matches": len(found),
        "employee": None,
        "devices": [],
        "open_tickets": [],
        "recent_closed_tickets": [],
        "kb_suggestions": [],
        "known_errors": [],
    }
    if len(found) != 1:
        return pop
    employee = found[0]
    devices, tickets, suggestions, known = await asyncio.gather(
        store.devices_of(employee.id),
        store.tickets_of(employee.username),
        kb.suggest_for_employee(employee.id, KB_SUGGESTIONS) if kb is not None else _none(),
        # Known errors need the problem tables: only a SQL store has them.
        SqlProblems(store).known_errors_for_employee(employee.id)
        if isinstance(store, SqlTicketStore)
        else _none(),
    )
    today = today_of(now)
    pop["employee"] = {
        "username": employee.username,
        "name": employee.name,
        "department": employee.department,
        "organisation": employee.organisation,
        "vip": employee.vip,
    }
    pop["devices"] = [
        {
            "asset_tag": d.asset_tag,
            "name": d.name,
            "type": d.type,
            "model": d.model,
            "vendor": d.vendor,
            "warranty_end": d.warranty_end.isoformat() if d.warranty_end else None,
            "warranty": warranty(d, today),
        }
        for d in sorted(devices, key=lambda d: d.asset_tag)
    ]
    open_tickets = [t for t in tickets if t.status in OPEN_TICKET_STATUSES]
    closed = sorted(
        (t for t in tickets if t.status not in OPEN_TICKET_STATUSES),
        key=lambda t: (_aware(t.updated_at), t.id),
        reverse=True,
    )
    pop["open_tickets"] = [_ticket(t) for t in open_tickets]
    pop["recent_closed_tickets"] = [_ticket(t) for t in closed[:RECENT_CLOSED]]
    pop["kb_suggestions"] = [suggestion_view(s) for s in suggestions]
    pop["known_errors"] = [known_error_view(k) for k in known]
    return pop


async def _none() -> list[Any]:
    return []


def known_error_view(known: KnownError) -> dict[str, Any]:
    """A workaround the agent can read out: which problem, on what, and the text."""
    return {
        "problem_id": known.problem_id,
        "dimension": known.dimension.value,
        "key": known.key,
        "subject": known.subject,
        "workaround": known.workaround,
    }


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _ticket(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "kind": ticket.kind,
        "status": ticket.status.value,
        "priority": ticket.priority,
        "subject": ticket.subject,
        "device_id": ticket.device_id,
        "created_at": iso(ticket.created_at),
        "updated_at": iso(ticket.updated_at),
    }
