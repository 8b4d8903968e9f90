"""The ticket API's database work: listing, creation, workflow edits with optimistic
locking, notes, links and merging duplicates.

Every change goes through `workflow.py` and lands in `ticket_audit` in the same
transaction. An edit names the version it was made against: the row is written with
`UPDATE ... WHERE version = :expected`, so of two concurrent edits of one version only
one can win; the loser gets `StaleVersion` with the version that beat it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, false, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.db import models
from callcenter.tickets.errors import (
    Conflict,
    Impossible,
    NoSuchFilter,
    StaleVersion,
    TicketNotFound,
    TicketRefused,
)
from callcenter.tickets.records import CallRecord, Ticket
from callcenter.tickets.store import (
    SqlTicketStore,
    _call_ids,
    _call_query,
    _call_record,
    _rowcount,
)
from callcenter.tickets.ticket_phone import move_note_numbers, reindex_ticket
from callcenter.tickets.ticket_query import (
    LinkKind,
    TicketQuery,
    creates_cycle,
    seen_from,
    sort_with_tiebreak,
    stored_link,
)
from callcenter.tickets.ticket_rows import add_note_row, audit_rows, ticket_record, ticket_state
from callcenter.tickets.workflow import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    Actor,
    AuditEntry,
    Kind,
    Role,
    Status,
    TicketState,
    Tier,
    WorkflowError,
    assign,
    escalate,
    escalate_to_manager,
    set_priority,
    transition,
)

log = logging.getLogger(__name__)

#: Who the audit trail names for closing a resolved ticket nobody reopened.
AUTO_CLOSER = Actor("system", Role.SYSTEM)
#: Kinds whose clocks start at creation; problems and changes are not timed against the
#: caller's SLA (a problem's incidents are, a change is planned work).
TIMED_KINDS = frozenset({Kind.INCIDENT, Kind.SERVICE_REQUEST, Kind.COMPLAINT})
#: Workflow columns a `TicketState` carries, written back after a move.
_STATE_COLUMNS = (
    "status",
    "priority",
    "tier",
    "assignee",
    "resolved_at",
    "closed_at",
    "reopen_count",
    "escalation_level",
    "approved_by",
)


@dataclass(frozen=True)
class Note:
    id: int
    ticket_id: int
    at: datetime
    author: str
    text: str
    call_id: str | None
    internal: bool


@dataclass(frozen=True)
class Link:
    """Another ticket and how this one relates to it (`LinkKind`, seen from this one)."""

    other: int
    kind: LinkKind
    created_at: datetime
    created_by: str


@dataclass(frozen=True)
class TicketDetail:
    ticket: Ticket
    description: str
    escalation_level: int
    approved_by: str | None
    links: tuple[Link, ...] = ()
    notes: tuple[Note, ...] = ()
    calls: tuple[CallRecord, ...] = ()


@dataclass(frozen=True)
class TicketPage:
    tickets: list[TicketDetail]
    #: The key values of the last row when more follow (for the next cursor), else None.
    after: tuple[object, ...] | None


@dataclass(frozen=True)
class NewTicket:
    kind: Kind
    subject: str
    priority: int
    description: str = ""
    employee: str | None = None
    device: str | None = None  # asset tag
    category: str | None = None


class TicketRepo:
    """The ticket API's queries and changes on a `SqlTicketStore`'s database."""

    def __init__(self, store: SqlTicketStore) -> None:
        self._store = store

    # -- reads -----------------------------------------------------------------------

    async def page(self, query: TicketQuery) -> TicketPage:
        """One page of tickets; an unknown employee or device is `NoSuchFilter`."""
        async with self._store._read() as session:
            statement = select(models.Ticket).where(*await _filters(session, query))
            keys = sort_with_tiebreak(query.sort)
            if query.after is not None:
                statement = statement.where(_after(keys, query.after))
            for name, descending in keys:
                column = getattr(models.Ticket, name)
                statement = statement.order_by(column.desc() if descending else column.asc())
            statement = statement.offset(query.offset).limit(query.limit + 1)
            rows = list(await session.scalars(statement))
            more = len(rows) > query.limit
            rows = rows[: query.limit]
            calls = await _call_ids(session, [row.id for row in rows])
            page = [_summary(row, calls.get(row.id, ())) for row in rows]
            after = tuple(getattr(rows[-1], name) for name, _ in keys) if more else None
            return TicketPage(page, after)

    async def detail(self, ticket_id: int) -> TicketDetail | None:
        async with self._store._read() as session:
            row = await session.get(models.Ticket, ticket_id)
            return None if row is None else await _detail(session, row)

    async def audit(self, ticket_id: int) -> list[AuditEntry]:
        if await self.detail(ticket_id) is None:
            raise TicketNotFound(ticket_id)
        return await self._store.ticket_audit(ticket_id)

    async def notes(self, ticket_id: int) -> list[Note]:
        async with self._store._read() as session:
            if await session.get(models.Ticket, ticket_id) is None:
                raise TicketNotFound(ticket_id)
            return await _notes(session, ticket_id)

    # -- changes ---------------------------------------------------------------------

    async def create(self, draft: NewTicket, actor: Actor, now: datetime) -> TicketDetail:
        """A new ticket of any kind; a change goes straight on to pending_approval."""
        async with self._store.write_transaction() as session:
            employee = None
            if draft.employee is not None:
                employee = await session.scalar(
                    select(models.Employee).where(models.Employee.username == draft.employee)
                )
                if employee is None:
                    raise Impossible(
                        "unknown_employee", "employee", f"no employee {draft.employee!r}"
                    )
            device_id = await _device_id(session, draft.device, "device")
            row, state, entries = await self._store.insert_ticket(
                session,
                draft.kind,
                draft.priority,
                actor,
                now,
                # The organisation's own policy and calendar, as for a ticket opened by phone.
                clocks=draft.kind in TIMED_KINDS,
                organisation_id=None if employee is None else employee.organisation_id,
                subject=draft.subject,
                description=draft.description,
                employee_id=None if employee is None else employee.id,
                device_id=device_id,
                category=draft.category,
            )
            if draft.kind is Kind.CHANGE:
                state, moved = _workflow(
                    "kind", transition, state, Status.PENDING_APPROVAL, actor, now
                )
                entries += moved
            for name, value in _state_values(state).items():
                setattr(row, name, value)
            if draft.category is not None:
                entries.append(
                    AuditEntry(row.id, now, actor.name, "category", None, draft.category)
                )
            session.add_all(audit_rows(entries))
            await session.flush()
            return await _detail(session, row)

    async def close_resolved(self, now: datetime, after: timedelta, limit: int = 200) -> list[int]:
        """Close the tickets resolved at least `after` ago that nobody reopened
        (`workflow.auto_close_due`), as the system, oldest first, at most `limit`.

        Each goes through `update` against the version read, so a ticket an agent edits
        meanwhile is left for the next scan instead of being overwritten."""
        cutoff = now - after
        async with self._store._read() as session:
            due = (
                await session.execute(
                    select(models.Ticket.id, models.Ticket.version)
                    .where(
                        models.Ticket.status == Status.RESOLVED.value,
                        models.Ticket.resolved_at <= cutoff,
                    )
                    .order_by(models.Ticket.resolved_at, models.Ticket.id)
                    .limit(limit)
                )
            ).all()
        days = after / timedelta(days=1)
        reason = f"resolved {days:g} days ago and not reopened"
        closed = []
        for ticket_id, version in due:
            try:
                await self.update(
                    ticket_id,
                    version,
                    {"status": Status.CLOSED.value, "reason": reason},
                    AUTO_CLOSER,
                    now,
                )
            except (StaleVersion, TicketRefused, TicketNotFound) as exc:
                log.info("ticket %d not auto-closed now: %s", ticket_id, exc)
                continue
            closed.append(ticket_id)
        return closed

    async def update(
        self,
        ticket_id: int,
        expected: int,
        changes: Mapping[str, Any],
        actor: Actor,
        now: datetime,
        *,
        assignee_role: Role | None = None,
    ) -> TicketDetail:
        """Apply `changes` (PATCH fields, already validated) made against version `expected`.

        Workflow moves in a fixed order: approval, status, tier/assignee, escalation,
        priority; then plain fields (subject, category, resolution, device). A refused
        move raises a `TicketRefused` naming its field; nothing is written then.
        """
        reason = str(changes.get("reason") or "")
        async with self._store.write_transaction() as session:
            row = await _row(session, ticket_id, expected)
            old = row_state = ticket_state(row)
            state = row_state
            entries: list[AuditEntry] = []

            def step(field: str, move: Any, *args: Any, **kw: Any) -> None:
                nonlocal state
                state, moved = _workflow(field, move, state, *args, reason=reason, **kw)
                entries.extend(moved)

            if "approval" in changes:
                target = Status.ASSIGNED if changes["approval"] == "approve" else Status.CANCELLED
                if state.kind is not Kind.CHANGE or state.status is not Status.PENDING_APPROVAL:
                    raise Conflict(
                        "workflow_refused",
                        "approval",
                        f"{state.kind.value} {state.id}: not a change pending approval",
                    )
                step("approval", transition, target, actor, now)
            if "status" in changes and changes["status"] != state.status.value:
                step("status", transition, changes["status"], actor, now)
            if "tier" in changes or "assignee" in changes:
                tier = Tier(changes.get("tier", state.tier.value))
                assignee = changes.get("assignee", state.assignee if tier is state.tier else None)
                field = "tier" if "tier" in changes else "assignee"
                step(field, assign, tier, assignee, actor, now, assignee_role=assignee_role)
            if changes.get("escalate") == "tier":
                step("escalate", escalate, actor, now)
            elif changes.get("escalate") == "manager":
                step("escalate", escalate_to_manager, actor, now)
            if "priority" in changes:
                step("priority", set_priority, changes["priority"], actor, now)
            values: dict[str, Any] = {
                name: value
                for name, value in _state_values(state).items()
                if getattr(row, name) != value
            }
            plain = {
                name: changes[name]
                for name in ("subject", "category", "resolution")
                if name in changes
            }
            if "device" in changes:
                plain["device_id"] = await _device_id(session, changes["device"], "device")
            if plain and state.status in FINAL_STATUSES:
                raise Conflict(
                    "workflow_refused",
                    next(iter(plain)).replace("device_id", "device"),
                    f"{state.kind.value} {state.id}: a {state.status.value} ticket is not edited",
                )
            for name, value in plain.items():
                if getattr(row, name) != value:
                    values[name] = value
                    entries.append(
                        AuditEntry(
                            row.id,
                            now,
                            actor.name,
                            name,
                            _text(getattr(row, name)),
                            _text(value),
                            reason,
                        )
                    )
            if entries:
                values["updated_at"] = max(now, row.updated_at)
                await _bump(session, row, expected, values)
                session.add_all(audit_rows(entries))
                await session.flush()
            result = await _detail(session, row, refresh=True)
        if state.status is not old.status:
            await self._store.follow_ticket_status(ticket_id, old.status, state.status, now)
        return result

    async def add_note(
        self,
        ticket_id: int,
        text: str,
        *,
        internal: bool,
        author: str,
        now: datetime,
    ) -> Note:
        """A note on the ticket; it bumps the version (the ticket's representation has it)."""
        async with self._store.write_transaction() as session:
            row = await _row(session, ticket_id, None)
            note = await add_note_row(session, ticket_id, author, text, now, internal=internal)
            await _bump(session, row, row.version, {"updated_at": max(now, row.updated_at)})
            return _note(note)

    async def add_link(
        self, ticket_id: int, other: int, kind: LinkKind, actor: Actor, now: datetime
    ) -> Link:
        """Link the ticket to `other`; self-links, unknown tickets, existing links and
        parent/child loops are refused."""
        async with self._store.write_transaction() as session:
            await _lock(session, ticket_id, other)
            row = await _row(session, ticket_id, None)
            if other == ticket_id:
                raise Impossible("self_link", "other", f"ticket {ticket_id} cannot link itself")
            other_row = await session.get(models.Ticket, other)
            if other_row is None:
                raise Impossible("unknown_ticket", "other", f"no ticket {other}")
            source, target, stored = stored_link(ticket_id, other, kind)
            if await _link_exists(session, source, target, stored.value):
                raise Conflict(
                    "link_exists", "other", f"ticket {ticket_id} is {kind.value} {other}"
                )
            if stored is LinkKind.CHILD and creates_cycle(
                await _child_pairs(session), source, target
            ):
                raise Conflict(
                    "link_cycle",
                    "kind",
                    f"ticket {source} as a child of {target} would make a loop",
                )
            session.add(
                models.TicketLink(
                    ticket_id=source,
                    other_id=target,
                    kind=stored.value,
                    created_at=now,
                    created_by=actor.name,
                )
            )
            for mine, theirs, seen in ((row, other, kind), (other_row, ticket_id, None)):
                shown = seen or seen_from(mine.id, (source, target, stored.value))[1]
                session.add(
                    models.TicketAudit(
                        ticket_id=mine.id,
                        at=now,
                        actor=actor.name,
                        field="link",
                        new=f"{shown.value} {theirs}",
                    )
                )
                await _bump(session, mine, mine.version, {"updated_at": max(now, mine.updated_at)})
            return Link(other, kind, now, actor.name)

    async def remove_link(
        self, ticket_id: int, other: int, kind: LinkKind, actor: Actor, now: datetime
    ) -> None:
        async with self._store.write_transaction() as session:
            await _lock(session, ticket_id, other)
            row = await _row(session, ticket_id, None)
            source, target, stored = stored_link(ticket_id, other, kind)
            result = await session.execute(
                delete(models.TicketLink).where(
                    models.TicketLink.ticket_id == source,
                    models.TicketLink.other_id == target,
                    models.TicketLink.kind == stored.value,
                )
            )
            if _rowcount(result) == 0:
                raise NoSuchFilter(
                    "unknown_link", "other", f"ticket {ticket_id} is not {kind.value} {other}"
                )
            other_row = await session.get_one(models.Ticket, other)
            for mine, theirs in ((row, other), (other_row, ticket_id)):
                shown = kind if mine is row else seen_from(mine.id, (source, target, stored))[1]
                session.add(
                    models.TicketAudit(
                        ticket_id=mine.id,
                        at=now,
                        actor=actor.name,
                        field="link",
                        old=f"{shown.value} {theirs}",
                    )
                )
                await _bump(session, mine, mine.version, {"updated_at": max(now, mine.updated_at)})

    async def merge(
        self,
        survivor_id: int,
        expected: int,
        duplicates: Sequence[int],
        actor: Actor,
        now: datetime,
    ) -> TicketDetail:
        """Fold the duplicates into the survivor: their calls, notes and links move over,
        each is cancelled (closed if already resolved) with a `duplicate` link to the
        survivor. All or nothing."""
        moved_status: list[tuple[int, Status, Status]] = []
        async with self._store.write_transaction() as session:
            await _lock(session, survivor_id, *duplicates)
            survivor = await _row(session, survivor_id, expected)
            if Status(survivor.status) in FINAL_STATUSES:
                raise Conflict(
                    "workflow_refused",
                    "ticket_id",
                    f"ticket {survivor_id} is {survivor.status}: merge into an open ticket",
                )
            contacts = survivor.contacts
            for dup_id in dict.fromkeys(duplicates):
                if dup_id == survivor_id:
                    raise Impossible(
                        "self_link", "from", f"ticket {survivor_id} cannot absorb itself"
                    )
                dup = await session.get(models.Ticket, dup_id)
                if dup is None:
                    raise Impossible("unknown_ticket", "from", f"no ticket {dup_id}")
                before = ticket_state(dup)
                target = Status.CLOSED if before.status is Status.RESOLVED else Status.CANCELLED
                why = f"duplicate of {survivor_id}"
                after, entries = _workflow(
                    "from", transition, before, target, actor, now, reason=why
                )
                await _move_links(session, dup_id, survivor_id)
                await session.execute(
                    update(models.CallRecord)
                    .where(models.CallRecord.ticket_id == dup_id)
                    .values(ticket_id=survivor_id)
                )
                await session.execute(
                    update(models.TicketNote)
                    .where(models.TicketNote.ticket_id == dup_id)
                    .values(ticket_id=survivor_id)
                )
                await move_note_numbers(session, dup_id, survivor_id)
                session.add(
                    models.TicketLink(
                        ticket_id=dup_id,
                        other_id=survivor_id,
                        kind=LinkKind.DUPLICATE.value,
                        created_at=now,
                        created_by=actor.name,
                    )
                )
                entries.append(
                    AuditEntry(dup_id, now, actor.name, "merged_into", None, str(survivor_id), why)
                )
                entries.append(
                    AuditEntry(survivor_id, now, actor.name, "merged", None, str(dup_id))
                )
                session.add_all(audit_rows(entries))
                contacts += dup.contacts
                values = _state_values(after) | {"updated_at": max(now, dup.updated_at)}
                await _bump(session, dup, dup.version, values)
                moved_status.append((dup_id, before.status, after.status))
            if contacts != survivor.contacts:
                session.add(
                    models.TicketAudit(
                        ticket_id=survivor_id,
                        at=now,
                        actor=actor.name,
                        field="contacts",
                        old=str(survivor.contacts),
                        new=str(contacts),
                    )
                )
            await _bump(
                session,
                survivor,
                expected,
                {"contacts": contacts, "updated_at": max(now, survivor.updated_at)},
            )
            await session.flush()
            result = await _detail(session, survivor, refresh=True)
        for dup_id, old, new in moved_status:
            await self._store.follow_ticket_status(dup_id, old, new, now)
        return result


# -- helpers ---------------------------------------------------------------------------


def _workflow(
    field: str, move: Callable[..., tuple[TicketState, list[AuditEntry]]], *args: Any, **kw: Any
) -> tuple[TicketState, list[AuditEntry]]:
    """Run a workflow move; its refusal becomes a 409 naming the request field."""
    try:
        return move(*args, **kw)
    except WorkflowError as exc:
        raise Conflict("workflow_refused", field, str(exc)) from None


async def _lock(session: AsyncSession, *ticket_ids: int) -> None:
    """Lock the tickets' rows in id order (PostgreSQL; SQLite's `BEGIN IMMEDIATE` already
    serialises writers), so two requests touching the same tickets cannot deadlock."""
    await session.execute(
        select(models.Ticket.id)
        .where(models.Ticket.id.in_(sorted(set(ticket_ids))))
        .order_by(models.Ticket.id)
        .with_for_update()
    )


async def _row(session: AsyncSession, ticket_id: int, expected: int | None) -> models.Ticket:
    row = await session.get(models.Ticket, ticket_id, with_for_update=True)
    if row is None:
        raise TicketNotFound(ticket_id)
    if expected is not None and row.version != expected:
        raise StaleVersion(ticket_id, expected, row.version)
    return row


async def _bump(
    session: AsyncSession, row: models.Ticket, expected: int, values: Mapping[str, Any]
) -> None:
    """Write `values` and the next version, only if the row is still at `expected`."""
    result = await session.execute(
        update(models.Ticket)
        .where(models.Ticket.id == row.id, models.Ticket.version == expected)
        .values(**values, version=expected + 1)
        .execution_options(synchronize_session=False)
    )
    if _rowcount(result) == 0:
        current = await session.scalar(
            select(models.Ticket.version).where(models.Ticket.id == row.id)
        )
        raise StaleVersion(row.id, expected, int(current or 0))
    await session.refresh(row)
    if "subject" in values or "description" in values:  # bypassed the flush hook
        await reindex_ticket(session, row.id)


def _state_values(state: TicketState) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in _STATE_COLUMNS:
        value = getattr(state, name)
        values[name] = value.value if isinstance(value, Status | Tier) else value
    return values


def _text(value: object) -> str | None:
    return None if value is None else str(value)


async def _device_id(
    session: AsyncSession,
    asset_tag: str | None,
    field: str,
    refusal: type[TicketRefused] = Impossible,
) -> int | None:
    if asset_tag is None:
        return None
    device_id: int | None = await session.scalar(
        select(models.Device.id).where(
            or_(models.Device.asset_tag == asset_tag, models.Device.name == asset_tag)
        )
    )
    if device_id is None:
        raise refusal("unknown_device", field, f"no device {asset_tag!r}")
    return device_id


async def _filters(session: AsyncSession, q: TicketQuery) -> list[ColumnElement[bool]]:
    t = models.Ticket
    where: list[ColumnElement[bool]] = []
    if q.statuses:
        where.append(t.status.in_(sorted(s.value for s in q.statuses)))
    if q.kinds:
        where.append(t.kind.in_(sorted(k.value for k in q.kinds)))
    if q.priorities:
        where.append(t.priority.in_(sorted(q.priorities)))
    if q.tiers:
        where.append(t.tier.in_(sorted(x.value for x in q.tiers)))
    if q.assignee is not None:
        where.append(t.assignee == q.assignee)
    if q.category is not None:
        where.append(t.category == q.category)
    if q.employee is not None:
        employee_id = await session.scalar(
            select(models.Employee.id).where(models.Employee.username == q.employee)
        )
        if employee_id is None:
            raise NoSuchFilter("unknown_employee", "employee", f"no employee {q.employee!r}")
        where.append(t.employee_id == employee_id)
    if q.device is not None:
        where.append(t.device_id == await _device_id(session, q.device, "device", NoSuchFilter))
    if q.open is not None:
        open_values = sorted(s.value for s in OPEN_STATUSES)
        where.append(t.status.in_(open_values) if q.open else t.status.not_in(open_values))
    if q.created_after is not None:
        where.append(t.created_at >= q.created_after)
    if q.created_before is not None:
        where.append(t.created_at < q.created_before)
    return where


def _after(keys: Sequence[tuple[str, bool]], values: Sequence[object]) -> ColumnElement[bool]:
    """Rows after the keyset position `values` in the order `keys`."""
    clauses: list[ColumnElement[bool]] = []
    for i, (name, descending) in enumerate(keys):
        column = getattr(models.Ticket, name)
        equal = [getattr(models.Ticket, n) == values[j] for j, (n, _) in enumerate(keys[:i])]
        beyond = column < values[i] if descending else column > values[i]
        clauses.append(and_(*equal, beyond))
    return or_(false(), *clauses)


def _summary(row: models.Ticket, call_ids: tuple[str, ...]) -> TicketDetail:
    ticket = ticket_record(row, call_ids)
    return TicketDetail(ticket, row.description, row.escalation_level, row.approved_by)


async def _detail(
    session: AsyncSession, row: models.Ticket, *, refresh: bool = False
) -> TicketDetail:
    if refresh:
        await session.refresh(row)
    calls = [
        _call_record(record, username)
        for record, username in await session.execute(
            _call_query()
            .where(models.CallRecord.ticket_id == row.id)
            .order_by(models.CallRecord.arrived_at, models.CallRecord.id)
        )
    ]
    summary = _summary(row, tuple(call.id for call in calls))
    links = [
        Link(
            *seen_from(row.id, (link.ticket_id, link.other_id, link.kind)),
            link.created_at,
            link.created_by,
        )
        for link in await session.scalars(
            select(models.TicketLink).where(
                or_(models.TicketLink.ticket_id == row.id, models.TicketLink.other_id == row.id)
            )
        )
    ]
    links.sort(key=lambda link: (link.other, link.kind.value))
    return TicketDetail(
        summary.ticket,
        summary.description,
        summary.escalation_level,
        summary.approved_by,
        links=tuple(links),
        notes=tuple(await _notes(session, row.id)),
        calls=tuple(calls),
    )


async def _notes(session: AsyncSession, ticket_id: int) -> list[Note]:
    rows = await session.scalars(
        select(models.TicketNote)
        .where(models.TicketNote.ticket_id == ticket_id)
        .order_by(models.TicketNote.at, models.TicketNote.id)
    )
    return [_note(row) for row in rows]


def _note(row: models.TicketNote) -> Note:
    return Note(row.id, row.ticket_id, row.at, row.author, row.text, row.call_id, row.internal)


async def _link_exists(session: AsyncSession, source: int, target: int, kind: str) -> bool:
    row = await session.get(models.TicketLink, (source, target, kind))
    return row is not None


async def _child_pairs(session: AsyncSession) -> list[tuple[int, int]]:
    rows = await session.execute(
        select(models.TicketLink.ticket_id, models.TicketLink.other_id).where(
            models.TicketLink.kind == LinkKind.CHILD.value
        )
    )
    return [(child, parent) for child, parent in rows]


async def _move_links(session: AsyncSession, dup_id: int, survivor_id: int) -> None:
    """The duplicate's links become the survivor's; ones that would link the survivor to
    itself, repeat a link it has, or close a parent/child loop are dropped."""
    rows = list(
        await session.scalars(
            select(models.TicketLink).where(
                or_(models.TicketLink.ticket_id == dup_id, models.TicketLink.other_id == dup_id)
            )
        )
    )
    for link in rows:
        source = survivor_id if link.ticket_id == dup_id else link.ticket_id
        target = survivor_id if link.other_id == dup_id else link.other_id
        kind, created_at, created_by = link.kind, link.created_at, link.created_by
        await session.delete(link)
        await session.flush()
        if source == target or await _link_exists(session, source, target, kind):
            continue
        if kind == LinkKind.CHILD.value and creates_cycle(
            await _child_pairs(session), source, target
        ):
            continue
        session.add(
            models.TicketLink(
                ticket_id=source,
                other_id=target,
                kind=kind,
                created_at=created_at,
                created_by=created_by,
            )
        )
        await session.flush()
