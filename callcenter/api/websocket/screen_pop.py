"""The screen pop: who is calling, their devices and tickets, read from the ticket store,
the knowledge-base articles for their devices, and the workarounds of known errors on
their devices and open tickets' categories.

The lookup is I/O and may be slow; the hub bounds how long an offer waits for it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from callcenter.api.views import iso
from callcenter.knowledge.store import SqlKnowledgeBase
from callcenter.problems.model import KnownError
from callcenter.tickets.records import Device, TicketStore
from callcenter.tickets.screen_pop import PopDevice, PopEmployee, PopTicket, ScreenPopData
from callcenter.tickets.screen_pop_query import KB_SUGGESTIONS, RECENT_CLOSED

__all__ = ["KB_SUGGESTIONS", "RECENT_CLOSED", "lookup", "pop_view"]


def warranty(device: Device | PopDevice, today: date) -> str:
    if device.warranty_end is None:
        return "unknown"
    return "in" if device.warranty_end >= today else "out"


def today_of(now: float) -> date:
    return datetime.fromtimestamp(now, UTC).date()


async def lookup(
    store: TicketStore,
    caller: str,
    now: float,
    kb: SqlKnowledgeBase | None = None,
    *,
    username: str | None = None,
) -> dict[str, Any]:
    """The screen pop of `caller` (E.164): the employee if exactly one has the number,
    every one of them (`candidates`) if several, the tickets mentioning the number
    (`maybe`) if none; with `username`, that employee (the agent identified the caller;
    LookupError if unknown). With `kb`, the most used articles for their device models."""
    data = await store.screen_pop(caller, username=username, with_kb=kb is not None)
    return pop_view(caller, data, today_of(now))


def pop_view(caller: str, data: ScreenPopData, today: date) -> dict[str, Any]:
    """The `screen_pop` object of the console protocol (callcenter/api/schemas)."""
    return {
        "caller": caller,
        "matches": data.matches,
        "employee": None if data.employee is None else employee_view(data.employee),
        "candidates": [employee_view(e) for e in data.candidates],
        "maybe": [
            {
                "ticket_id": m.ticket_id,
                "subject": m.subject,
                "employee": None if m.employee is None else employee_view(m.employee),
                "number_as_written": m.number_as_written,
            }
            for m in data.maybe
        ],
        "devices": [
            {
                "asset_tag": d.asset_tag,
                "name": d.name,
                "type": d.type,
                "model": d.model,
                "vendor": d.vendor,
                "warranty_end": d.warranty_end.isoformat() if d.warranty_end else None,
                "warranty": warranty(d, today),
            }
            for d in data.devices
        ],
        "open_tickets": [_ticket(t) for t in data.open_tickets],
        "recent_closed_tickets": [_ticket(t) for t in data.recent_closed_tickets],
        "kb_suggestions": [
            {
                "id": a.id,
                "title": a.title,
                "category": a.category,
                "use_count": a.use_count,
                "reason": a.reason,
            }
            for a in data.kb_suggestions
        ],
        "known_errors": [known_error_view(k) for k in data.known_errors],
    }


def employee_view(employee: PopEmployee) -> dict[str, Any]:
    return {
        "username": employee.username,
        "name": employee.name,
        "department": employee.department,
        "organisation": employee.organisation,
        "vip": employee.vip,
    }


def known_error_view(known: KnownError) -> dict[str, Any]:
    """A workaround the agent can read out: which problem, on what, and the text."""
    return {
        "problem_id": known.problem_id,
        "dimension": known.dimension.value,
        "key": known.key,
        "subject": known.subject,
        "workaround": known.workaround,
    }


def _ticket(ticket: PopTicket) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "kind": ticket.kind,
        "status": ticket.status,
        "priority": ticket.priority,
        "subject": ticket.subject,
        "device_id": ticket.device_id,
        "created_at": iso(ticket.created_at),
        "updated_at": iso(ticket.updated_at),
    }
