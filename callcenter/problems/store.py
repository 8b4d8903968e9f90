"""Problems and known errors in the database: the scan that opens problem tickets from
repeated incidents, the open problems with their incidents, and known-error lookups.

The scan is `problems.plan_scan` (pure) over what the database holds, written in one
transaction: new problem tickets with a `problem` row each, and `caused_by` links from
the incidents (`ticket_link`: the incident is caused by the problem). `problem.open_key`
is unique while a problem is open, so a scan never opens a second problem for a key.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.db import models
from callcenter.problems.model import (
    DEFAULT_THRESHOLD,
    DEFAULT_WINDOW,
    Dimension,
    IncidentFact,
    KnownError,
    ProblemProposal,
    incident_keys,
    plan_scan,
    problem_key,
)
from callcenter.tickets.store import SYSTEM_ACTOR, SqlTicketStore
from callcenter.tickets.ticket_rows import audit_rows
from callcenter.tickets.workflow import FINAL_STATUSES, AuditEntry, Kind, Status

CAUSED_BY = "caused_by"
PROBLEM_PRIORITY = 3
#: PostgreSQL advisory lock held by a scan's transaction (any constant no one else uses).
SCAN_LOCK_KEY = 0x70726F62  # "prob"
_FINAL = [status.value for status in FINAL_STATUSES]
#: The instant of facts that are only matched by key, never by time.
_UNTIMED = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class ScanResult:
    """What a scan wrote: problems opened (with their proposals) and incidents linked."""

    created: list[tuple[int, ProblemProposal]]
    #: Problem ticket id -> incidents newly linked to it (new and existing problems).
    linked: dict[int, tuple[int, ...]]


@dataclass(frozen=True)
class Problem:
    id: int
    status: Status
    subject: str
    dimension: Dimension
    key: str
    created_at: datetime
    incident_count: int
    known_error: bool
    workaround: str | None
    known_error_at: datetime | None
    known_error_by: str | None


class SqlProblems:
    """Problem management on the ticket store's database."""

    def __init__(self, store: SqlTicketStore) -> None:
        self._store = store

    async def scan(
        self,
        now: datetime,
        threshold: int = DEFAULT_THRESHOLD,
        window: timedelta = DEFAULT_WINDOW,
        actor: str = SYSTEM_ACTOR.name,
    ) -> ScanResult:
        """Open problems for repeated incidents and link incidents to open problems."""
        async with self._store.write_transaction() as session:
            if self._store.engine.dialect.name == "postgresql":
                # Scans queue up (SQLite's BEGIN IMMEDIATE already does that): a second
                # process sees the first one's problems instead of failing on `open_key`.
                await session.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCAN_LOCK_KEY}
                )
            # A closed or cancelled problem frees its key: a new problem may be opened.
            closed = select(models.Ticket.id).where(models.Ticket.status.in_(_FINAL))
            await session.execute(
                update(models.ProblemRecord)
                .where(
                    models.ProblemRecord.open_key.is_not(None),
                    models.ProblemRecord.ticket_id.in_(closed),
                )
                .values(open_key=None)
            )
            open_problems: dict[str, int] = {
                key: ticket_id
                for key, ticket_id in await session.execute(
                    select(models.ProblemRecord.open_key, models.ProblemRecord.ticket_id).where(
                        models.ProblemRecord.open_key.is_not(None)
                    )
                )
                if key is not None
            }
            facts = await _incident_facts(session, now - window)
            plan = plan_scan(facts, open_problems, now, threshold, window)
            created: list[tuple[int, ProblemProposal]] = []
            linked = {problem: ids for problem, ids in plan.link.items()}
            for proposal in plan.create:
                problem_id = await _open_problem(self._store, session, proposal, facts, now)
                created.append((problem_id, proposal))
                linked[problem_id] = proposal.incident_ids
            for problem_id, incident_ids in linked.items():
                session.add_all(
                    models.TicketLink(
                        ticket_id=incident_id,
                        other_id=problem_id,
                        kind=CAUSED_BY,
                        created_at=now,
                        created_by=actor,
                    )
                    for incident_id in incident_ids
                )
                session.add_all(
                    audit_rows(
                        AuditEntry(
                            incident_id, now, actor, "link", None, f"{CAUSED_BY} {problem_id}"
                        )
                        for incident_id in incident_ids
                    )
                )
            return ScanResult(created, linked)

    async def open_problems(self) -> list[Problem]:
        """Problems not closed or cancelled, newest first, with their incident counts."""
        async with self._store._read() as session:
            return await _problems(session, models.Ticket.status.not_in(_FINAL))

    async def problem(self, problem_id: int) -> Problem | None:
        async with self._store._read() as session:
            found = await _problems(session, models.Ticket.id == problem_id)
            return found[0] if found else None

    async def mark_known_error(
        self, problem_id: int, workaround: str, actor: str, now: datetime
    ) -> Problem | None:
        """The problem is a known error with this workaround (replacing an earlier one);
        None if there is no such problem. Audited on the problem ticket."""
        async with self._store.write_transaction() as session:
            row = await session.scalar(
                select(models.ProblemRecord)
                .where(models.ProblemRecord.ticket_id == problem_id)
                .with_for_update()
            )
            ticket = await session.get(models.Ticket, problem_id)
            if row is None or ticket is None:
                return None
            entries = []
            if not row.known_error:
                entries.append(AuditEntry(problem_id, now, actor, "known_error", "false", "true"))
            if row.workaround != workaround:
                entries.append(
                    AuditEntry(problem_id, now, actor, "workaround", row.workaround, workaround)
                )
            row.known_error, row.workaround = True, workaround
            row.known_error_at, row.known_error_by = now, actor
            if entries:
                session.add_all(audit_rows(entries))
                ticket.updated_at = now
                ticket.version += 1
            await session.flush()
            found = await _problems(session, models.Ticket.id == problem_id)
            return found[0]

    async def known_errors_for_ticket(self, ticket_id: int) -> list[KnownError]:
        """Known errors of open problems on the ticket's item, model or category."""
        async with self._store._read() as session:
            row = (
                await session.execute(
                    select(models.Ticket.category, models.Device.asset_tag, models.Device.model)
                    .outerjoin(models.Device, models.Device.id == models.Ticket.device_id)
                    .where(models.Ticket.id == ticket_id)
                )
            ).one_or_none()
            if row is None:
                return []
            category, asset_tag, model = row
            fact = IncidentFact(ticket_id, _UNTIMED, asset_tag, model, category)
            found = await _known_errors(session, [fact])
            return [known for known in found if known.problem_id != ticket_id]


async def _incident_facts(session: AsyncSession, oldest: datetime) -> list[IncidentFact]:
    """Incidents created since `oldest` (not cancelled), each with its problem if linked."""
    problem_of = (
        select(func.min(models.TicketLink.other_id))
        .where(
            models.TicketLink.ticket_id == models.Ticket.id,
            models.TicketLink.kind == CAUSED_BY,
        )
        .scalar_subquery()
    )
    rows = await session.execute(
        select(
            models.Ticket.id,
            models.Ticket.created_at,
            models.Device.asset_tag,
            models.Device.model,
            models.Ticket.category,
            problem_of,
        )
        .outerjoin(models.Device, models.Device.id == models.Ticket.device_id)
        .where(
            models.Ticket.kind == Kind.INCIDENT.value,
            models.Ticket.status != Status.CANCELLED.value,
            models.Ticket.created_at >= oldest,
        )
        .order_by(models.Ticket.id)
    )
    return [
        IncidentFact(id_, created, tag, model, category, problem)
        for id_, created, tag, model, category, problem in rows
    ]


async def _open_problem(
    store: SqlTicketStore,
    session: AsyncSession,
    proposal: ProblemProposal,
    facts: Iterable[IncidentFact],
    now: datetime,
) -> int:
    """A new problem ticket for the proposal, with its `problem` row and audit trail."""
    label = proposal.dimension.value.replace("_", " ")
    by_id = {fact.id: fact for fact in facts}
    first = by_id.get(proposal.incident_ids[0])
    device_id = None
    if proposal.dimension is Dimension.CONFIGURATION_ITEM and first is not None:
        device_id = await session.scalar(
            select(models.Device.id).where(models.Device.asset_tag == first.configuration_item)
        )
    # Not timed: a problem has no SLA clocks of its own.
    ticket, _, entries = await store.insert_ticket(
        session,
        Kind.PROBLEM,
        PROBLEM_PRIORITY,
        SYSTEM_ACTOR,
        now,
        clocks=False,
        subject=f"Problem: {proposal.count} incidents on {label} {proposal.key}"[:200],
        description=(
            f"Opened by the problem scan: incidents "
            f"{', '.join(str(i) for i in proposal.incident_ids)} share the {label} "
            f"{proposal.key!r} between {proposal.first_at.isoformat(timespec='seconds')} "
            f"and {proposal.last_at.isoformat(timespec='seconds')}."
        ),
        device_id=device_id,
        category=(proposal.key[:64] if proposal.dimension is Dimension.CATEGORY else None),
    )
    session.add_all(audit_rows(entries))
    session.add(
        models.ProblemRecord(
            ticket_id=ticket.id,
            dimension=proposal.dimension.value,
            key=proposal.key,
            open_key=problem_key(proposal.dimension, proposal.key),
            known_error=False,
        )
    )
    await session.flush()
    return ticket.id


async def _problems(session: AsyncSession, where: object) -> list[Problem]:
    incidents = (
        select(func.count())
        .select_from(models.TicketLink)
        .where(
            models.TicketLink.other_id == models.Ticket.id,
            models.TicketLink.kind == CAUSED_BY,
        )
        .scalar_subquery()
    )
    rows = await session.execute(
        select(models.Ticket, models.ProblemRecord, incidents)
        .join(models.ProblemRecord, models.ProblemRecord.ticket_id == models.Ticket.id)
        .where(where)  # type: ignore[arg-type]
        .order_by(models.Ticket.created_at.desc(), models.Ticket.id.desc())
    )
    return [
        Problem(
            id=ticket.id,
            status=Status(ticket.status),
            subject=ticket.subject,
            dimension=Dimension(problem.dimension),
            key=problem.key,
            created_at=ticket.created_at,
            incident_count=int(count),
            known_error=problem.known_error,
            workaround=problem.workaround,
            known_error_at=problem.known_error_at,
            known_error_by=problem.known_error_by,
        )
        for ticket, problem, count in rows
    ]


async def _known_errors(session: AsyncSession, facts: Iterable[IncidentFact]) -> list[KnownError]:
    keys = sorted({problem_key(d, k) for fact in facts for d, k in incident_keys(fact)})
    if not keys:
        return []
    rows = await session.execute(
        select(models.ProblemRecord, models.Ticket.subject)
        .join(models.Ticket, models.Ticket.id == models.ProblemRecord.ticket_id)
        .where(
            and_(
                models.ProblemRecord.open_key.in_(keys),
                models.ProblemRecord.known_error.is_(True),
                models.Ticket.status.not_in(_FINAL),
            )
        )
        .order_by(models.ProblemRecord.ticket_id)
    )
    order = list(Dimension)
    found = [
        KnownError(
            problem.ticket_id,
            Dimension(problem.dimension),
            problem.key,
            subject,
            problem.workaround or "",
        )
        for problem, subject in rows
    ]
    return sorted(found, key=lambda k: (order.index(k.dimension), k.problem_id))
