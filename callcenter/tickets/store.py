"""The ticket database on SQLAlchemy's async engine: SQLite for one box, PostgreSQL beyond.

Every method is one short transaction, so a crash between two steps of a call loses at
most the step in flight. Writes on SQLite begin with `BEGIN IMMEDIATE`: a transaction
that reads and then writes would otherwise fail with "database is locked" the moment
another writer got in between, instead of waiting its turn.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Collection, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, delete, exists, func, literal, select, true, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
)
from sqlalchemy.orm import joinedload, selectinload

from callcenter.accounts.store import SqlAccounts
from callcenter.db import models
from callcenter.db.engine import SQLITE_BEGIN, make_engine
from callcenter.directory.org_sla import choose_calendar
from callcenter.directory.org_store import organisation_sla
from callcenter.directory.phone import normalise
from callcenter.knowledge.store import count_use
from callcenter.tickets.calendar import BusinessCalendar, calendar_data
from callcenter.tickets.records import (
    OPEN_TICKET_STATUSES,
    AcdEventEntry,
    AgentAccount,
    CallOutcome,
    CallRecord,
    Device,
    Employee,
    QueueMembership,
    Ticket,
    TicketStatus,
)
from callcenter.tickets.rules import IncidentCandidate, incident_to_attach
from callcenter.tickets.screen_pop import ScreenPopData
from callcenter.tickets.screen_pop_query import read_screen_pop
from callcenter.tickets.sla import (
    DEFAULT_PAUSE_STATUSES,
    PREMIUM,
    STANDARD,
    ClockKind,
    EventKey,
    Segment,
    SlaClock,
    SlaPolicy,
    follow_status,
    start_clocks,
)
from callcenter.tickets.ticket_phone import REGION_KEY, TicketSession
from callcenter.tickets.ticket_rows import (
    add_note_row,
    apply_state,
    audit_rows,
    field_change,
    ticket_record,
    ticket_state,
)
from callcenter.tickets.workflow import (
    Actor,
    AuditEntry,
    Status,
    TicketState,
    Tier,
    assign,
    new_ticket,
    set_priority,
    transition,
)
from callcenter.tickets.workflow import Kind as WorkflowKind
from callcenter.tickets.workflow import Role as WorkflowRole

#: Who the audit trail names for what the call flow does by itself.
SYSTEM_ACTOR = Actor("system", WorkflowRole.SYSTEM)

#: The key of a call record's media figures naming where the call was transferred out to.
TRANSFER_TARGET = "transfer_target"
INCIDENT = "incident"
#: Device types an incident opened by phone is filed against, most likely culprit first.
COMPUTER_TYPES = ("desktop", "laptop")
DEFAULT_PRIORITY = 3
VIP_PRIORITY = 2


#: The built-in SLA policies an organisation can name (`organisation.sla_policy`).
BUILTIN_SLA_POLICIES: Mapping[str, SlaPolicy] = {STANDARD.name: STANDARD, PREMIUM.name: PREMIUM}


@dataclass(frozen=True)
class SlaSetup:
    """What SLA clocks a new ticket gets; the settings build it (`sla_monitor.sla_setup`).

    The defaults equal the settings' defaults, so a store opened without it (the CLI, the
    demo data) times tickets the way the service does out of the box.
    """

    default_policy: str = STANDARD.name
    warn_at: tuple[float, ...] = (0.8,)
    calendar: BusinessCalendar = field(
        default_factory=lambda: BusinessCalendar.standard("Asia/Shanghai", name="office")
    )
    policies: Mapping[str, SlaPolicy] = field(default_factory=lambda: dict(BUILTIN_SLA_POLICIES))

    def policy(self, name: str | None) -> SlaPolicy:
        """The named policy (an unknown or missing name: the default) with our warn levels."""
        chosen = self.policies.get(name or "") or self.policies[self.default_policy]
        return replace(chosen, warn_at=self.warn_at)


@dataclass(frozen=True)
class SlaWatchList:
    """The clocks the SLA monitor must look at, and what was already announced for them."""

    clocks: list[SlaClock]
    announced: set[EventKey]


class SqlTicketStore:
    """`TicketStore` on a SQLAlchemy async engine."""

    def __init__(
        self, engine: AsyncEngine, default_region: str, sla: SlaSetup | None = None
    ) -> None:
        self._engine = engine
        self._region = default_region
        # TicketSession: every flush keeps the numbers written in tickets indexed.
        self._sessions = async_sessionmaker(
            engine,
            expire_on_commit=False,
            sync_session_class=TicketSession,
            info={REGION_KEY: default_region},
        )
        #: The clocks new tickets get; may be replaced before the first ticket is opened.
        self.sla = sla or SlaSetup()
        self._calendars: dict[str, BusinessCalendar] = {}

    @classmethod
    def open(cls, url: str, default_region: str, sla: SlaSetup | None = None) -> SqlTicketStore:
        return cls(make_engine(url), default_region, sla)

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    async def close(self) -> None:
        await self._engine.dispose()

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session, session.begin():
            yield session

    def read_transaction(self) -> AbstractAsyncContextManager[AsyncSession]:
        """One reading transaction; for the feature stores that share this database."""
        return self._read()

    @asynccontextmanager
    async def write_transaction(self) -> AsyncIterator[AsyncSession]:
        """One writing transaction, committed on leaving; for adapters such as the demo data."""
        async with self._sessions() as session, session.begin():
            await session.connection(execution_options={SQLITE_BEGIN: "IMMEDIATE"})
            yield session

    # -- accounts and configuration items ------------------------------------------------

    async def find_employees_by_phone(self, e164: str) -> list[Employee]:
        """Everyone reachable on the number: a department line identifies a group."""
        number = normalise(e164, self._region)
        if number is None:
            return []
        async with self._read() as session:
            rows = await session.scalars(
                _employee_query()
                .where(
                    models.Employee.id.in_(
                        select(models.EmployeePhone.employee_id).where(
                            models.EmployeePhone.number_e164 == number
                        )
                    )
                )
                .order_by(models.Employee.id)
            )
            return [_employee(row) for row in rows]

    async def screen_pop(
        self, caller: str, *, username: str | None = None, with_kb: bool = True
    ) -> ScreenPopData:
        """Everything the console shows for a caller, in one read transaction
        (tickets/screen_pop_query.py); `username`: that employee (LookupError if none)."""
        number = normalise(caller, self._region)
        # A bare connection: the ORM session's bookkeeping costs more than these reads.
        async with self._engine.connect() as connection, connection.begin():
            return await read_screen_pop(connection, number, username=username, with_kb=with_kb)

    async def employee_by_username(self, username: str) -> Employee | None:
        async with self._read() as session:
            row = await session.scalar(
                _employee_query().where(models.Employee.username == username)
            )
            return None if row is None else _employee(row)

    async def devices_of(self, employee_id: int) -> list[Device]:
        async with self._read() as session:
            rows = await session.scalars(
                select(models.Device)
                .where(models.Device.owner_employee_id == employee_id)
                .order_by(models.Device.name)
            )
            return [_device(row) for row in rows]

    # Accounts live in `accounts.store`; these keep the TicketStore protocol whole.
    async def agent_accounts(self) -> list[AgentAccount]:
        return await SqlAccounts(self).all()

    async def agent_account(self, username: str) -> AgentAccount | None:
        return await SqlAccounts(self).find(username)

    async def set_agent_memberships(
        self, username: str, memberships: Mapping[str, QueueMembership]
    ) -> AgentAccount | None:
        return await SqlAccounts(self).set_memberships(username, memberships)

    async def set_agent_membership(
        self, username: str, queue: str, membership: QueueMembership | None
    ) -> AgentAccount | None:
        return await SqlAccounts(self).set_membership(username, queue, membership)

    async def set_agent_skills(
        self, username: str, skills: Mapping[str, int]
    ) -> AgentAccount | None:
        return await SqlAccounts(self).set_skills(username, skills)

    # -- call records --------------------------------------------------------------------

    async def open_call_record(
        self,
        call_id: str,
        sip_call_id: str | None,
        caller: str,
        employee_id: int | None,
        arrived_at: datetime,
    ) -> None:
        """Record the call at arrival; the caller's number is stored normalised if it can be."""
        number = normalise(caller, self._region) if caller else None
        async with self.write_transaction() as session:
            session.add(
                models.CallRecord(
                    id=call_id,
                    sip_call_id=sip_call_id,
                    caller=number or caller,
                    caller_raw=caller if number is not None and number != caller else None,
                    employee_id=employee_id,
                    arrived_at=arrived_at,
                    outcome=CallOutcome.IN_PROGRESS.value,
                    media={},
                )
            )

    async def update_call_record(
        self,
        call_id: str,
        *,
        queue: str | None = None,
        agent: str | None = None,
        enqueued_at: datetime | None = None,
        answered_at: datetime | None = None,
        ended_at: datetime | None = None,
        outcome: CallOutcome | None = None,
        pickup_latency_seconds: float | None = None,
        media: dict[str, int] | None = None,
        transfer_target: str | None = None,
        ivr_outcome: str | None = None,
        ivr_attributes: dict[str, str] | None = None,
    ) -> None:
        """Set the given fields; None leaves a field as it is. Unknown call: LookupError.

        `transfer_target` (an outside transfer's number) is kept in the media figures under
        "transfer_target", and survives later media updates.
        """
        values: dict[str, Any] = {
            "queue": queue,
            "agent_username": agent,
            "enqueued_at": enqueued_at,
            "answered_at": answered_at,
            "ended_at": ended_at,
            "outcome": None if outcome is None else CallOutcome(outcome).value,
            "pickup_latency_seconds": pickup_latency_seconds,
            "media": None if media is None else dict(media),
            "ivr_outcome": ivr_outcome,
            "ivr_attributes": None if ivr_attributes is None else dict(ivr_attributes),
        }
        values = {name: value for name, value in values.items() if value is not None}
        async with self.write_transaction() as session:
            if media is not None or transfer_target is not None:
                # A transfer's target, once written, stays with later media figures.
                current = await session.scalar(
                    select(models.CallRecord.media).where(models.CallRecord.id == call_id)
                )
                merged: dict[str, Any] = dict(media if media is not None else current or {})
                target = transfer_target or (current or {}).get(TRANSFER_TARGET)
                if target is not None:
                    merged[TRANSFER_TARGET] = target
                values["media"] = merged
            if not values:
                if await session.get(models.CallRecord, call_id) is None:
                    raise LookupError(f"no call record {call_id}")
                return
            result = await session.execute(
                update(models.CallRecord).where(models.CallRecord.id == call_id).values(values)
            )
            if _rowcount(result) == 0:
                raise LookupError(f"no call record {call_id}")

    async def recover_interrupted_calls(
        self, now: datetime, call_ids: Collection[str] | None = None
    ) -> int:
        """Close records a previous process left open; returns how many.

        Calls never answered become interrupted; answered ones keep their outcome (the
        caller did reach an agent). Each ends when it was last known alive (its process's
        heartbeat, else its answer or arrival), never later than `now`. `call_ids` limits
        it to those calls (a lost process's, when several share the database).
        """
        r = models.CallRecord
        only = r.id.in_(list(call_ids)) if call_ids is not None else true()
        last_alive = func.coalesce(r.alive_at, r.answered_at, r.arrived_at, type_=r.ended_at.type)
        at_latest = literal(now, type_=r.ended_at.type)
        ended = case((last_alive < at_latest, last_alive), else_=at_latest)
        async with self.write_transaction() as session:
            unanswered = await session.execute(
                update(r)
                .where(only, r.outcome == CallOutcome.IN_PROGRESS.value)
                .values(outcome=CallOutcome.INTERRUPTED.value, ended_at=ended)
            )
            answered = await session.execute(
                update(r).where(only, r.ended_at.is_(None)).values(ended_at=ended)
            )
            return _rowcount(unanswered) + _rowcount(answered)

    async def mark_calls_alive(self, call_ids: Collection[str], at: datetime) -> None:
        """The heartbeat of this process's open calls (see `recover_interrupted_calls`)."""
        async with self.write_transaction() as session:
            r = models.CallRecord
            await session.execute(
                update(r).where(r.id.in_(list(call_ids)), r.ended_at.is_(None)).values(alive_at=at)
            )

    async def call_record(self, call_id: str) -> CallRecord | None:
        async with self._read() as session:
            row = (
                await session.execute(_call_query().where(models.CallRecord.id == call_id))
            ).one_or_none()
            return None if row is None else _call_record(row[0], row[1])

    async def recent_calls(self, limit: int) -> list[CallRecord]:
        """Newest arrivals first."""
        if limit <= 0:
            return []
        async with self._read() as session:
            rows = await session.execute(
                _call_query()
                .order_by(models.CallRecord.arrived_at.desc(), models.CallRecord.id.desc())
                .limit(limit)
            )
            return [_call_record(record, username) for record, username in rows]

    # -- tickets -------------------------------------------------------------------------

    async def attach_call_to_incident(
        self, call_id: str, employee_id: int | None, now: datetime, window_hours: float
    ) -> int | None:
        """Link the call to the employee's recent open incident or a new one; ticket id.

        The employee's row is locked first (`FOR UPDATE`; SQLite's `BEGIN IMMEDIATE`
        already serialises writers), so two calls of one person at the same moment end
        up on one incident rather than opening two.

        `employee_id` None: the caller the agent identified on a shared line (the call
        record's employee), if any and if the call has no ticket yet; else None.
        """
        async with self.write_transaction() as session:
            if employee_id is None:
                record = await session.scalar(
                    select(models.CallRecord)
                    .where(models.CallRecord.id == call_id)
                    .with_for_update()
                )
                if record is None:
                    raise LookupError(f"no call record {call_id}")
                if record.employee_id is None or record.ticket_id is not None:
                    return record.ticket_id
                employee_id = record.employee_id
            return await self.attach_in(session, call_id, employee_id, now, window_hours)

    async def attach_in(
        self,
        session: AsyncSession,
        call_id: str,
        employee_id: int,
        now: datetime,
        window_hours: float,
    ) -> int:
        """`attach_call_to_incident` in the caller's writing transaction."""
        employee = await session.scalar(
            select(models.Employee).where(models.Employee.id == employee_id).with_for_update()
        )
        if employee is None:
            raise LookupError(f"no employee {employee_id}")
        call = await session.get(models.CallRecord, call_id)
        if call is None:
            raise LookupError(f"no call record {call_id}")
        candidates = await session.execute(
            select(models.Ticket.id, models.Ticket.status, models.Ticket.updated_at).where(
                models.Ticket.employee_id == employee_id,
                models.Ticket.kind == INCIDENT,
                models.Ticket.status.in_([status.value for status in OPEN_TICKET_STATUSES]),
            )
        )
        chosen = incident_to_attach(
            (
                IncidentCandidate(id=id_, status=TicketStatus(status), updated_at=updated_at)
                for id_, status, updated_at in candidates
            ),
            now,
            window_hours,
        )
        if chosen is not None:
            ticket = await session.get_one(models.Ticket, chosen, with_for_update=True)
            ticket.updated_at = now
        else:
            ticket = await self._open_incident(
                session, employee, f"Phone call from {employee.name}", now
            )
        _count_contact(session, ticket, now, call_id)
        ticket_id = ticket.id
        call.ticket_id = ticket_id
        return ticket_id

    async def ticket(self, ticket_id: int) -> Ticket | None:
        async with self._read() as session:
            row = await session.get(models.Ticket, ticket_id)
            if row is None:
                return None
            calls = await _call_ids(session, [row.id])
            return ticket_record(row, calls.get(row.id, ()))

    async def ticket_audit(self, ticket_id: int) -> list[AuditEntry]:
        """The ticket's audit trail, oldest first (empty for an unknown ticket)."""
        async with self._read() as session:
            rows = await session.scalars(
                select(models.TicketAudit)
                .where(models.TicketAudit.ticket_id == ticket_id)
                .order_by(models.TicketAudit.at, models.TicketAudit.id)
            )
            return [
                AuditEntry(r.ticket_id, r.at, r.actor, r.field, r.old, r.new, r.reason)
                for r in rows
            ]

    async def ticket_description(self, ticket_id: int) -> str | None:
        """The ticket's free text (wrap-up descriptions are appended to it; notes are
        `ticket_note` rows since migration 0007); None: no ticket."""
        async with self._read() as session:
            row = await session.get(models.Ticket, ticket_id)
            return None if row is None else row.description

    async def save_wrap_up(
        self,
        call_id: str,
        *,
        author: str,
        now: datetime,
        ticket_id: int | None = None,
        subject: str | None = None,
        category: str | None = None,
        priority: int | None = None,
        status: TicketStatus | None = None,
        resolution: str | None = None,
        device_asset_tag: str | None = None,
        description: str | None = None,
        first_contact_resolved: bool | None = None,
        kb_article_id: int | None = None,
        disposition: str | None = None,
    ) -> int:
        """Record an agent's after-call form on the call's ticket; returns the ticket id.

        The ticket is `ticket_id` if given (the call is linked to it if it had none), else
        the call's; a call without one gets a new incident (for its employee, if known).
        Status and priority go through the workflow (a move it refuses raises
        `WorkflowError`, a ValueError); subject, category, resolution, device and the
        agent's first-contact verdict replace the ticket's; `description` is appended as a
        dated, signed entry. Every change lands in the audit trail, and a status move takes
        the SLA clocks along. Unknown call or ticket: LookupError; unknown device: ValueError.

        `kb_article_id`: the knowledge-base article that solved it, counted once per ticket
        (`knowledge.count_use`); only with a resolving status (resolved, closed), and an
        unknown article is a ValueError. `disposition` goes on the call record.
        """
        actor = Actor(author, WorkflowRole.AGENT)
        solved = status in (TicketStatus.RESOLVED, TicketStatus.CLOSED)
        if kb_article_id is not None and not solved:
            raise ValueError("kb_article_id: only with the status resolved or closed")
        async with self.write_transaction() as session:
            ticket = await self._ticket_of_call(session, call_id, ticket_id, now)
            old = TicketStatus(ticket.status)
            state, entries = ticket_state(ticket), []
            if status is not None and status is not old:
                state, moved = transition(state, status, actor, now, reason=f"call {call_id}")
                entries += moved
            if priority is not None:
                state, changed = set_priority(state, priority, actor, now)
                entries += changed
            apply_state(ticket, state)
            device_id = ticket.device_id
            if device_asset_tag:
                device_id = await session.scalar(
                    select(models.Device.id).where(models.Device.asset_tag == device_asset_tag)
                )
                if device_id is None:
                    raise ValueError(f"no device with the asset tag {device_asset_tag!r}")
            fields: dict[str, str | int | bool | None] = {
                "subject": subject[:200] if subject else ticket.subject,
                "category": category or ticket.category,
                "resolution": resolution or ticket.resolution,
                "device_id": device_id,
                "first_contact_resolved": (
                    ticket.first_contact_resolved
                    if first_contact_resolved is None
                    else first_contact_resolved
                ),
            }
            for name, value in fields.items():
                entry = field_change(ticket, name, value, author, now)
                if entry is not None:
                    entries.append(entry)
            if description and description.strip():
                _append_entry(ticket, now, author, "wrap-up", description)
                entries.append(AuditEntry(ticket.id, now, author, "description", None, "appended"))
            if kb_article_id is not None:
                entries.append(
                    AuditEntry(ticket.id, now, author, "kb_article", None, str(kb_article_id))
                )
            session.add_all(audit_rows(entries))
            ticket.updated_at = now
            ticket.version += 1
            if disposition is not None:
                await session.execute(
                    update(models.CallRecord)
                    .where(models.CallRecord.id == call_id)
                    .values(disposition=disposition)
                )
            await session.flush()
            result = ticket.id
            if kb_article_id is not None:
                if await session.get(models.KbArticle, kb_article_id) is None:
                    raise ValueError(f"no knowledge-base article {kb_article_id}")
                await count_use(session, kb_article_id, result, now)
        if status is not None and status is not old:
            await self.follow_ticket_status(result, Status(old.value), Status(status.value), now)
        return result

    async def escalate_call_ticket(
        self, call_id: str, tier: Tier, *, author: str, now: datetime, reason: str
    ) -> int:
        """Hand the call's ticket (a new incident if it has none) to `tier` through the
        workflow (its queue picks it up: no assignee), with the reason in the audit trail;
        returns the ticket id. Unknown call: LookupError; a refused move: WorkflowError."""
        async with self.write_transaction() as session:
            ticket = await self._ticket_of_call(session, call_id, None, now)
            actor = Actor(author, WorkflowRole.AGENT)
            state, entries = assign(ticket_state(ticket), tier, None, actor, now, reason=reason)
            apply_state(ticket, state)
            session.add_all(audit_rows(entries))
            ticket.updated_at = now
            ticket.version += 1
            await session.flush()
            return ticket.id

    async def add_ticket_note(self, call_id: str, text: str, *, author: str, now: datetime) -> int:
        """Add a dated, signed note (a `ticket_note` row naming the call) to the call's
        ticket (a new incident if it has none); returns the ticket id. Unknown call:
        LookupError."""
        async with self.write_transaction() as session:
            ticket = await self._ticket_of_call(session, call_id, None, now)
            await add_note_row(session, ticket.id, author, text.strip(), now, call_id=call_id)
            ticket.updated_at = now
            ticket.version += 1
            await session.flush()
            return ticket.id

    async def _ticket_of_call(
        self, session: AsyncSession, call_id: str, ticket_id: int | None, now: datetime
    ) -> models.Ticket:
        call = await session.get(models.CallRecord, call_id)
        if call is None:
            raise LookupError(f"no call record {call_id}")
        wanted = ticket_id if ticket_id is not None else call.ticket_id
        if wanted is not None:
            ticket = await session.scalar(
                select(models.Ticket).where(models.Ticket.id == wanted).with_for_update()
            )
            if ticket is None:
                raise LookupError(f"no ticket {wanted}")
            if call.ticket_id is None:
                call.ticket_id = ticket.id
                _count_contact(session, ticket, now, call_id)
            return ticket
        employee = (
            await session.get(models.Employee, call.employee_id) if call.employee_id else None
        )
        subject = f"Phone call from {employee.name if employee else call.caller}"
        ticket = await self._open_incident(session, employee, subject, now)
        _count_contact(session, ticket, now, call_id)
        call.ticket_id = ticket.id
        return ticket

    async def _open_incident(
        self,
        session: AsyncSession,
        employee: models.Employee | None,
        subject: str,
        now: datetime,
    ) -> models.Ticket:
        """A new incident by phone, for `employee` if known: its SLA clocks start and its
        audit trail opens (actor "system": the call flow opened it)."""
        ticket, _, entries = await self.insert_ticket(
            session,
            WorkflowKind.INCIDENT,
            VIP_PRIORITY if employee is not None and employee.vip else DEFAULT_PRIORITY,
            SYSTEM_ACTOR,
            now,
            clocks=True,
            organisation_id=employee.organisation_id if employee is not None else None,
            subject=subject[:200],
            employee_id=employee.id if employee else None,
            device_id=await _first_computer(session, employee.id) if employee else None,
        )
        session.add_all(audit_rows(entries))
        return ticket

    async def insert_ticket(
        self,
        session: AsyncSession,
        kind: WorkflowKind,
        priority: int,
        actor: Actor,
        now: datetime,
        *,
        clocks: bool,
        organisation_id: int | None = None,
        **columns: Any,
    ) -> tuple[models.Ticket, TicketState, list[AuditEntry]]:
        """A new ticket row and its workflow start, whose audit entries the caller adds
        (after moving it on, if it must); with `clocks`, its SLA clocks start on the
        organisation's policy and calendar (`sla_for`)."""
        row = models.Ticket(
            kind=kind.value,
            status=Status.NEW.value,
            priority=priority,
            created_at=now,
            updated_at=now,
            contacts=0,
            version=1,
            **columns,
        )
        session.add(row)
        await session.flush()
        state, entries = new_ticket(row.id, kind, priority, actor, now)
        if clocks:
            policy, calendar = await self.sla_for(session, organisation_id)
            for clock in start_clocks(row.id, policy, calendar, now, priority).values():
                await _save_clock(session, clock)
        return row, state, entries

    async def sla_for(
        self, session: AsyncSession, organisation_id: int | None
    ) -> tuple[SlaPolicy, BusinessCalendar]:
        """The policy and calendar a new ticket of the organisation is timed on: its own
        (`org_store`), else the settings' (`self.sla`)."""
        org = await organisation_sla(session, organisation_id) if organisation_id else None
        return self.sla.policy(org.policy if org else None), choose_calendar(org, self.sla.calendar)

    # -- the ACD's history and saved state ------------------------------------------------

    async def append_acd_events(self, events: Sequence[AcdEventEntry]) -> None:
        if not events:
            return
        async with self.write_transaction() as session:
            session.add_all(
                models.AcdEventRecord(
                    at=e.at,
                    type=e.type,
                    call_id=e.call_id,
                    queue=e.queue,
                    agent=e.agent,
                    data=e.data,
                )
                for e in events
            )

    async def acd_events(self, call_id: str) -> list[AcdEventEntry]:
        async with self._read() as session:
            rows = (
                await session.scalars(
                    select(models.AcdEventRecord)
                    .where(models.AcdEventRecord.call_id == call_id)
                    .order_by(models.AcdEventRecord.id)
                )
            ).all()
            return [
                AcdEventEntry(r.at, r.type, r.call_id, r.queue, r.agent, dict(r.data)) for r in rows
            ]

    async def save_acd_state(self, state: dict[str, Any], saved_at: datetime) -> None:
        async with self.write_transaction() as session:
            row = await session.get(models.AcdSnapshot, 1)
            if row is None:
                session.add(models.AcdSnapshot(id=1, saved_at=saved_at, state=state))
            else:
                row.saved_at, row.state = saved_at, state

    async def load_acd_state(self) -> dict[str, Any] | None:
        async with self._read() as session:
            row = await session.get(models.AcdSnapshot, 1)
            return dict(row.state) if row is not None else None

    async def tickets_of(self, username: str) -> list[Ticket]:
        """The employee's tickets, newest first, each with the calls linked to it."""
        async with self._read() as session:
            rows = list(
                await session.scalars(
                    select(models.Ticket)
                    .join(models.Employee, models.Employee.id == models.Ticket.employee_id)
                    .where(models.Employee.username == username)
                    .order_by(models.Ticket.created_at.desc(), models.Ticket.id.desc())
                )
            )
            calls = await _call_ids(session, [row.id for row in rows])
            return [ticket_record(row, calls.get(row.id, ())) for row in rows]

    # -- SLA clocks ----------------------------------------------------------------------

    async def sla_clocks(self, ticket_id: int) -> dict[ClockKind, SlaClock]:
        """The ticket's clocks (none for a ticket opened before SLA clocks existed)."""
        async with self._read() as session:
            clocks = await self._load_clocks(
                session,
                select(models.SlaClockRecord).where(models.SlaClockRecord.ticket_id == ticket_id),
            )
            return {clock.kind: clock for clock in clocks}

    async def follow_ticket_status(
        self, ticket_id: int, old: Status, new: Status, now: datetime
    ) -> dict[ClockKind, SlaClock]:
        """Move the ticket's clocks with a workflow status move (`sla.follow_status`).

        The clocks only: the caller writes the status, as the workflow layer will once it
        is wired. Pauses follow the pause statuses of the policy the clocks started under.
        """
        async with self.write_transaction() as session:
            query = (
                select(models.SlaClockRecord)
                .where(models.SlaClockRecord.ticket_id == ticket_id)
                .with_for_update()
            )
            before = {c.kind: c for c in await self._load_clocks(session, query)}
            if not before:
                return {}
            after = follow_status(before, old, new, now, self._pause_statuses(before.values()))
            for kind, clock in after.items():
                if clock != before[kind]:
                    await _save_clock(session, clock)
            return after

    async def sla_watch_list(self) -> SlaWatchList:
        """Started clocks that are not settled, and the announcements made for them."""
        async with self._read() as session:
            started = exists().where(
                models.SlaClockSegment.ticket_id == models.SlaClockRecord.ticket_id,
                models.SlaClockSegment.kind == models.SlaClockRecord.kind,
            )
            clocks = await self._load_clocks(
                session,
                select(models.SlaClockRecord).where(
                    models.SlaClockRecord.settled.is_(False), started
                ),
            )
            announced: set[EventKey] = set()
            ticket_ids = sorted({clock.ticket_id for clock in clocks})
            for chunk in _chunks(ticket_ids, 500):
                rows = await session.execute(
                    select(
                        models.SlaEventRecord.ticket_id,
                        models.SlaEventRecord.kind,
                        models.SlaEventRecord.event,
                        models.SlaEventRecord.target_seconds,
                    ).where(models.SlaEventRecord.ticket_id.in_(chunk))
                )
                announced.update((t, k, e, float(s)) for t, k, e, s in rows)
            return SlaWatchList(clocks, announced)

    async def record_sla_scan(
        self,
        events: Sequence[tuple[EventKey, datetime]],
        settled: Sequence[tuple[int, ClockKind, datetime]],
        now: datetime,
    ) -> set[EventKey]:
        """Write the announcements (each key once ever) and settle clocks; the keys this
        call wrote, the only ones the caller may announce.

        Another process (or an earlier run) that wrote a key first wins: the unique key
        and `ON CONFLICT DO NOTHING` make an announcement once only. A clock is settled
        only if it is still stopped at the instant the caller saw, so a clock reopened in
        between stays watched.
        """
        written: set[EventKey] = set()
        dialect = self._engine.dialect.name
        async with self.write_transaction() as session:
            for key, at in events:
                ticket_id, kind, what, target = key
                statement = (
                    _insert(dialect)
                    .values(
                        ticket_id=ticket_id,
                        kind=kind,
                        event=what,
                        target_seconds=target,
                        at=at,
                        announced_at=now,
                    )
                    .on_conflict_do_nothing()
                    .returning(models.SlaEventRecord.id)
                )
                if (await session.execute(statement)).first() is not None:
                    written.add(key)
            for ticket_id, kind, stopped_at in settled:
                await session.execute(
                    update(models.SlaClockRecord)
                    .where(
                        models.SlaClockRecord.ticket_id == ticket_id,
                        models.SlaClockRecord.kind == kind.value,
                        models.SlaClockRecord.stopped_at == stopped_at,
                    )
                    .values(settled=True)
                )
        return written

    async def _load_clocks(
        self, session: AsyncSession, query: Select[models.SlaClockRecord]
    ) -> list[SlaClock]:
        rows = list(await session.scalars(query))
        segments: dict[tuple[int, str], list[Segment]] = {}
        keys = [(row.ticket_id, row.kind) for row in rows]
        for chunk in _chunks(keys, 500):
            found = await session.scalars(
                select(models.SlaClockSegment)
                .where(
                    tuple_(models.SlaClockSegment.ticket_id, models.SlaClockSegment.kind).in_(chunk)
                )
                .order_by(models.SlaClockSegment.id)
            )
            for seg in found:
                segments.setdefault((seg.ticket_id, seg.kind), []).append(
                    Segment(seg.start, seg.end)
                )
        return [
            SlaClock(
                ticket_id=row.ticket_id,
                kind=ClockKind(row.kind),
                target_seconds=row.target_seconds,
                calendar=self._calendar(row.calendar),
                policy=row.policy_key,
                warn_at=tuple(float(level) for level in row.warn_at),
                segments=tuple(segments.get((row.ticket_id, row.kind), ())),
                stopped_at=row.stopped_at,
            )
            for row in rows
        ]

    def _calendar(self, data: dict[str, Any]) -> BusinessCalendar:
        """Calendars are few and parsing them is not free: one per distinct definition."""
        key = json.dumps(data, sort_keys=True)
        calendar = self._calendars.get(key)
        if calendar is None:
            calendar = self._calendars[key] = BusinessCalendar.from_data(data)
        return calendar

    def _pause_statuses(self, clocks: Iterable[SlaClock]) -> frozenset[Status]:
        for clock in clocks:
            policy = self.sla.policies.get(clock.policy.partition("@")[0])
            if policy is not None:
                return policy.pause_statuses
        return DEFAULT_PAUSE_STATUSES


def open_store(url: str, default_region: str, sla: SlaSetup | None = None) -> SqlTicketStore:
    """A store on a new engine for `url`; `await store.close()` when done.

    Connects lazily: an unreachable database shows on the first call, not here.
    """
    return SqlTicketStore.open(url, default_region, sla)


# -- queries and row conversion ----------------------------------------------------------


def _employee_query() -> Select[models.Employee]:
    """The employee with its phones, department and organisation: the two many-to-one are
    joined into the one query (two round trips fewer on every screen pop)."""
    return select(models.Employee).options(
        selectinload(models.Employee.phones),
        joinedload(models.Employee.department),
        joinedload(models.Employee.organisation),
    )


def _call_query() -> Select[models.CallRecord, str | None]:
    return select(models.CallRecord, models.Employee.username).outerjoin(
        models.Employee, models.Employee.id == models.CallRecord.employee_id
    )


async def _first_computer(session: AsyncSession, employee_id: int) -> int | None:
    device_id: int | None = await session.scalar(
        select(models.Device.id)
        .where(
            models.Device.owner_employee_id == employee_id,
            models.Device.type.in_(COMPUTER_TYPES),
        )
        .order_by(models.Device.id)
        .limit(1)
    )
    return device_id


async def _call_ids(session: AsyncSession, ticket_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    if not ticket_ids:
        return {}
    rows = await session.execute(
        select(models.CallRecord.ticket_id, models.CallRecord.id)
        .where(models.CallRecord.ticket_id.in_(ticket_ids))
        .order_by(models.CallRecord.arrived_at, models.CallRecord.id)
    )
    found: dict[int, list[str]] = {}
    for ticket_id, call_id in rows:
        if ticket_id is not None:
            found.setdefault(ticket_id, []).append(call_id)
    return {ticket_id: tuple(ids) for ticket_id, ids in found.items()}


async def _save_clock(session: AsyncSession, clock: SlaClock) -> None:
    """Write the clock whole: its row, then its segments replaced (a clock has a few)."""
    row = await session.get(models.SlaClockRecord, (clock.ticket_id, clock.kind.value))
    if row is None:
        row = models.SlaClockRecord(ticket_id=clock.ticket_id, kind=clock.kind.value)
        session.add(row)
    row.target_seconds = clock.target_seconds
    row.policy_key = clock.policy
    row.calendar = calendar_data(clock.calendar)
    row.warn_at = list(clock.warn_at)
    row.stopped_at = clock.stopped_at
    row.settled = False  # the monitor looks at a changed clock again
    await session.flush()
    await session.execute(
        delete(models.SlaClockSegment).where(
            models.SlaClockSegment.ticket_id == clock.ticket_id,
            models.SlaClockSegment.kind == clock.kind.value,
        )
    )
    session.add_all(
        models.SlaClockSegment(
            ticket_id=clock.ticket_id, kind=clock.kind.value, start=seg.start, end=seg.end
        )
        for seg in clock.segments
    )


def _insert(dialect: str) -> Any:
    """INSERT of an SLA announcement that can be told to skip a duplicate key."""
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(models.SlaEventRecord)


def _count_contact(
    session: AsyncSession, ticket: models.Ticket, now: datetime, call_id: str
) -> None:
    """A call reached the ticket: one more service contact (first-contact resolution)."""
    ticket.contacts += 1
    ticket.version += 1
    session.add(
        models.TicketAudit(
            ticket_id=ticket.id,
            at=now,
            actor=SYSTEM_ACTOR.name,
            field="contacts",
            old=str(ticket.contacts - 1),
            new=str(ticket.contacts),
            reason=f"call {call_id}",
        )
    )


def _append_entry(ticket: models.Ticket, now: datetime, author: str, kind: str, text: str) -> None:
    """One dated, signed entry at the end of the ticket's description."""
    entry = f"[{now.isoformat(timespec='seconds')} {kind} by {author}] {text.strip()}"
    ticket.description = f"{ticket.description}\n{entry}" if ticket.description else entry


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _rowcount(result: Any) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


def _employee(row: models.Employee) -> Employee:
    phones = tuple(dict.fromkeys(phone.number_e164 for phone in row.phones))
    return Employee(
        id=row.id,
        username=row.username,
        name=row.name,
        department=None if row.department is None else row.department.code,
        organisation=row.organisation.name,
        vip=row.vip,
        phones=phones,
    )


def _device(row: models.Device) -> Device:
    return Device(
        id=row.id,
        asset_tag=row.asset_tag,
        name=row.name,
        type=row.type,
        model=row.model,
        vendor=row.vendor,
        warranty_end=row.warranty_end,
        owner_id=row.owner_employee_id,
    )


def _call_record(row: models.CallRecord, employee_username: str | None) -> CallRecord:
    return CallRecord(
        id=row.id,
        sip_call_id=row.sip_call_id,
        caller=row.caller,
        employee_id=row.employee_id,
        employee_username=employee_username,
        queue=row.queue,
        agent=row.agent_username,
        arrived_at=row.arrived_at,
        enqueued_at=row.enqueued_at,
        answered_at=row.answered_at,
        ended_at=row.ended_at,
        outcome=CallOutcome(row.outcome),
        pickup_latency_seconds=row.pickup_latency_seconds,
        ticket_id=row.ticket_id,
        media={str(k): int(v) for k, v in row.media.items() if k != TRANSFER_TARGET},
        transfer_target=row.media.get(TRANSFER_TARGET),
        disposition=row.disposition,
        ivr_outcome=row.ivr_outcome,
        ivr_attributes=dict(row.ivr_attributes or {}),
    )
