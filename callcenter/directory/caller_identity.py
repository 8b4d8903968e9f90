"""The agent says who is calling (a department line, a colleague's phone): the call
record and its ticket become that employee's.

Before the answer the call flow attaches the call record's employee at the answer
(`attach_call_to_incident` with no employee); after it this attaches the call here.
A ticket the call already has without an employee gets the employee, in the audit trail;
one that belongs to somebody else is left alone (the agent may link or merge it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from callcenter.db import models
from callcenter.tickets.store import SqlTicketStore
from callcenter.tickets.ticket_rows import audit_rows
from callcenter.tickets.workflow import AuditEntry


class UnknownEmployee(LookupError):
    """No employee has that username."""


class UnknownCall(LookupError):
    """No call record with that id (not written yet, or another database)."""


@dataclass(frozen=True)
class Identified:
    employee_id: int
    #: The call's ticket now (None: not answered yet; the answer attaches it).
    ticket_id: int | None


async def identify_caller(
    store: SqlTicketStore,
    call_id: str,
    username: str,
    *,
    actor: str,
    now: datetime,
    window_hours: float,
) -> Identified:
    async with store.write_transaction() as session:
        call = await session.scalar(
            select(models.CallRecord).where(models.CallRecord.id == call_id).with_for_update()
        )
        if call is None:
            raise UnknownCall(f"no call record {call_id}")
        employee_id = await session.scalar(
            select(models.Employee.id).where(models.Employee.username == username)
        )
        if employee_id is None:
            raise UnknownEmployee(f"no employee {username!r}")
        call.employee_id = employee_id
        if call.ticket_id is not None:
            ticket = await session.get_one(models.Ticket, call.ticket_id, with_for_update=True)
            if ticket.employee_id is None:
                ticket.employee_id = employee_id
                ticket.updated_at = now
                ticket.version += 1
                entry = AuditEntry(
                    ticket.id,
                    now,
                    actor,
                    "employee",
                    None,
                    username,
                    f"caller identified on call {call_id}",
                )
                session.add_all(audit_rows([entry]))
            return Identified(employee_id, call.ticket_id)
        if call.answered_at is None:
            return Identified(employee_id, None)
        ticket_id = await store.attach_in(session, call_id, employee_id, now, window_hours)
        return Identified(employee_id, ticket_id)
