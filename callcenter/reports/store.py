"""The rows of a monthly client report, read from the ticket database (SQLite or
PostgreSQL) for `report.compute`.

A ticket, call or asset belongs to the organisation its employee (the caller, the
asset's owner) works for.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import and_, or_, select

from callcenter.db import models
from callcenter.reports.model import (
    AssetRow,
    CallRow,
    ClockRow,
    Month,
    ReportError,
    ReportInputs,
    TicketRow,
    warranty_window,
)
from callcenter.tickets.sla import ClockState, evaluate
from callcenter.tickets.store import SqlTicketStore


async def gather(
    store: SqlTicketStore,
    organisation: str,
    month: Month,
    thresholds: Mapping[str, float],
    now: datetime,
) -> ReportInputs:
    """Everything the report needs about `organisation` in `month`; SLA clocks are judged
    as of the month's end (or `now`, for the month in progress). Unknown organisation:
    ReportError."""
    async with store._read() as session:
        org_id = await session.scalar(
            select(models.Organisation.id).where(models.Organisation.name == organisation)
        )
        if org_id is None:
            names = list(await session.scalars(select(models.Organisation.name).limit(6)))
            known = ", ".join(repr(n) for n in names[:5]) or "none"
            raise ReportError(f"no organisation {organisation!r} (known: {known})")
        of_org = models.Employee.organisation_id == org_id
        first = month.history()[0].start
        ticket_rows = await session.execute(
            select(
                models.Ticket.id,
                models.Ticket.kind,
                models.Ticket.status,
                models.Ticket.category,
                models.Ticket.created_at,
                models.Ticket.resolved_at,
                models.Ticket.reopen_count,
                models.Ticket.contacts,
                models.Ticket.onsite_visits,
                models.Ticket.first_contact_resolved,
                models.Device.name,
                models.Device.model,
            )
            .join(models.Employee, models.Employee.id == models.Ticket.employee_id)
            .outerjoin(models.Device, models.Device.id == models.Ticket.device_id)
            .where(
                of_org,
                or_(
                    and_(models.Ticket.created_at >= first, models.Ticket.created_at < month.end),
                    and_(
                        models.Ticket.resolved_at >= month.start,
                        models.Ticket.resolved_at < month.end,
                    ),
                ),
            )
            .order_by(models.Ticket.id)
        )
        tickets = [TicketRow(*row) for row in ticket_rows]
        call_rows = await session.execute(
            select(
                models.CallRecord.queue,
                models.CallRecord.outcome,
                models.CallRecord.enqueued_at,
                models.CallRecord.answered_at,
                models.CallRecord.pickup_latency_seconds,
            )
            .join(models.Employee, models.Employee.id == models.CallRecord.employee_id)
            .where(
                of_org,
                models.CallRecord.arrived_at >= month.start,
                models.CallRecord.arrived_at < month.end,
            )
        )
        calls = [
            CallRow(queue, outcome, enqueued is not None, answered is not None, latency)
            for queue, outcome, enqueued, answered, latency in call_rows
        ]
        month_tickets = (
            select(models.Ticket.id)
            .join(models.Employee, models.Employee.id == models.Ticket.employee_id)
            .where(
                of_org,
                models.Ticket.created_at >= month.start,
                models.Ticket.created_at < month.end,
            )
        )
        as_of = min(month.end, now)
        breaches = {
            (ticket_id, kind)
            for ticket_id, kind in await session.execute(
                select(models.SlaEventRecord.ticket_id, models.SlaEventRecord.kind).where(
                    models.SlaEventRecord.event == "breach",
                    models.SlaEventRecord.at < as_of,
                    models.SlaEventRecord.ticket_id.in_(month_tickets),
                )
            )
        }
        clocks = await store._load_clocks(
            session,
            select(models.SlaClockRecord)
            .where(models.SlaClockRecord.ticket_id.in_(month_tickets))
            .order_by(models.SlaClockRecord.ticket_id, models.SlaClockRecord.kind),
        )
        clock_rows = []
        for clock in clocks:
            state = evaluate(clock, as_of).state
            if (clock.ticket_id, clock.kind.value) in breaches or state is ClockState.BREACHED:
                judged = "breached"
            elif state is ClockState.MET:
                judged = "met"
            else:
                judged = "open"
            clock_rows.append(ClockRow(clock.ticket_id, clock.kind.value, judged))
        first_day, last_day = warranty_window(month)
        asset_rows = await session.execute(
            select(
                models.Device.asset_tag,
                models.Device.name,
                models.Device.type,
                models.Device.model,
                models.Employee.username,
                models.Device.warranty_end,
            )
            .join(models.Employee, models.Employee.id == models.Device.owner_employee_id)
            .where(
                of_org,
                models.Device.warranty_end >= first_day,
                models.Device.warranty_end <= last_day,
            )
        )
        assets = [
            AssetRow(tag, name, type_, model, owner, end)
            for tag, name, type_, model, owner, end in asset_rows
            if end is not None
        ]
    return ReportInputs(organisation, month, tickets, calls, clock_rows, assets, thresholds)
