"""The screen pop's reads: one read transaction, a handful of Core statements, plain rows.

The hub reads this for every offered call, so it is on the hot path: the ORM objects and
the four transactions of the separate store calls cost more than the queries themselves
(docs/PERFORMANCE.md, "ticket"), so it runs on a bare connection, not a session.
Statements, at most: the employees on the number (with
their true count), their devices, their open and recent closed tickets, the articles for
their device models, the known errors; or, for a number no employee has, the tickets
that mention it (`ticket_phone`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from callcenter.db import models
from callcenter.knowledge.store import TargetKind
from callcenter.problems.model import (
    Dimension,
    IncidentFact,
    KnownError,
    incident_keys,
    problem_key,
)
from callcenter.tickets.screen_pop import (
    MaybeTicket,
    PopArticle,
    PopDevice,
    PopEmployee,
    PopTicket,
    ScreenPopData,
)
from callcenter.tickets.workflow import FINAL_STATUSES, OPEN_STATUSES

#: Employees listed for a shared number (`matches` still says how many there are).
CANDIDATES = 20
#: Closed (resolved or closed) tickets shown besides every open one.
RECENT_CLOSED = 5
#: Knowledge-base articles suggested for the caller's devices.
KB_SUGGESTIONS = 3
#: Tickets listed that mention an unknown caller's number.
MAYBE_TICKETS = 10

_OPEN = sorted(status.value for status in OPEN_STATUSES)
_FINAL = sorted(status.value for status in FINAL_STATUSES)
_UNTIMED = datetime.min


_E, _D, _T = models.Employee, models.Device, models.Ticket
_EMPLOYEE_COLUMNS = (
    _E.id,
    _E.username,
    _E.name,
    models.Department.code,
    models.Organisation.name,
    _E.vip,
)


def _employees() -> Select[int, str, str, str, str, bool]:
    return (
        select(*_EMPLOYEE_COLUMNS)
        .join(models.Organisation, models.Organisation.id == _E.organisation_id)
        .outerjoin(models.Department, models.Department.id == _E.department_id)
    )


# The statements are built once: constructing them costs as much CPU as running them.
_BY_NUMBER = (
    _employees()
    .add_columns(func.count().over())
    .where(
        _E.id.in_(
            select(models.EmployeePhone.employee_id).where(
                models.EmployeePhone.number_e164 == bindparam("number")
            )
        )
    )
    .order_by(_E.id)
    .limit(CANDIDATES)
)
_BY_USERNAME = _employees().where(_E.username == bindparam("username"))
_DEVICES = (
    select(_D.asset_tag, _D.name, _D.type, _D.model, _D.vendor, _D.warranty_end)
    .where(_D.owner_employee_id == bindparam("employee_id"))
    .order_by(_D.asset_tag)
)
_TICKETS = select(
    _T.id,
    _T.kind,
    _T.status,
    _T.priority,
    _T.subject,
    _T.device_id,
    _T.created_at,
    _T.updated_at,
    _T.category,
).where(
    _T.employee_id == bindparam("employee_id"),
    or_(
        _T.status.in_(_OPEN),
        _T.id.in_(
            select(_T.id)
            .where(_T.employee_id == bindparam("employee_id"), _T.status.not_in(_OPEN))
            .order_by(_T.updated_at.desc(), _T.id.desc())
            .limit(RECENT_CLOSED)
        ),
    ),
)
_ARTICLES = (
    select(
        models.KbArticle.id,
        models.KbArticle.title,
        models.KbArticle.category,
        models.KbArticle.use_count,
    )
    .where(
        models.KbArticle.id.in_(
            select(models.KbArticleTarget.article_id).where(
                models.KbArticleTarget.kind == TargetKind.MODEL.value,
                models.KbArticleTarget.name_key.in_(bindparam("keys", expanding=True)),
            )
        )
    )
    .order_by(models.KbArticle.use_count.desc(), models.KbArticle.title, models.KbArticle.id)
    .limit(KB_SUGGESTIONS)
)
_KNOWN_ERRORS = (
    select(
        models.ProblemRecord.ticket_id,
        models.ProblemRecord.dimension,
        models.ProblemRecord.key,
        _T.subject,
        models.ProblemRecord.workaround,
    )
    .join(_T, _T.id == models.ProblemRecord.ticket_id)
    .where(
        models.ProblemRecord.open_key.in_(bindparam("keys", expanding=True)),
        models.ProblemRecord.known_error.is_(True),
        _T.status.not_in(_FINAL),
    )
    .order_by(models.ProblemRecord.ticket_id)
)
_MAYBE = (
    select(_T.id, _T.subject, models.TicketPhone.as_written, *_EMPLOYEE_COLUMNS)
    .select_from(models.TicketPhone)
    .join(_T, _T.id == models.TicketPhone.ticket_id)
    .outerjoin(_E, _E.id == _T.employee_id)
    .outerjoin(models.Organisation, models.Organisation.id == _E.organisation_id)
    .outerjoin(models.Department, models.Department.id == _E.department_id)
    .where(models.TicketPhone.number_e164 == bindparam("number"))
    .order_by(_T.updated_at.desc(), _T.id.desc(), models.TicketPhone.source.desc())
    .limit(2 * MAYBE_TICKETS)
)


def _employee_of(row: Sequence[Any]) -> PopEmployee:
    id_, username, name, department, organisation, vip = row[:6]
    return PopEmployee(int(id_), username, name, department, organisation, bool(vip))


async def read_screen_pop(
    connection: AsyncConnection,
    number: str | None,
    *,
    username: str | None = None,
    with_kb: bool = True,
) -> ScreenPopData:
    """What the console shows for a caller on `number` (E.164, None: not a valid number);
    with `username`, for that employee whatever the number (the agent identified them)."""
    candidates: list[PopEmployee] = []
    matches = 0
    if number is not None:
        for row in await connection.execute(_BY_NUMBER, {"number": number}):
            candidates.append(_employee_of(row))
            matches = int(row[6])
    employee: PopEmployee | None = candidates[0] if matches == 1 else None
    if username is not None:
        identified = (await connection.execute(_BY_USERNAME, {"username": username})).one_or_none()
        if identified is None:
            raise LookupError(f"no employee {username!r}")
        employee = _employee_of(identified)
    pop = ScreenPopData(matches, candidates, employee, [], [], [], [], [], [])
    if employee is None:
        if matches == 0 and number is not None:
            pop.maybe.extend(await _maybe(connection, number))
        return pop
    await _fill(connection, pop, employee.id, with_kb)
    return pop


async def _fill(
    connection: AsyncConnection, pop: ScreenPopData, employee_id: int, with_kb: bool
) -> None:
    who = {"employee_id": employee_id}
    pop.devices.extend(PopDevice(*row) for row in await connection.execute(_DEVICES, who))
    tickets = [PopTicket(*row) for row in await connection.execute(_TICKETS, who)]
    open_tickets = [ticket for ticket in tickets if ticket.status in _OPEN]
    open_tickets.sort(key=lambda ticket: (ticket.created_at, ticket.id), reverse=True)
    closed = [ticket for ticket in tickets if ticket.status not in _OPEN]
    closed.sort(key=lambda ticket: (ticket.updated_at, ticket.id), reverse=True)
    pop.open_tickets.extend(open_tickets)
    pop.recent_closed_tickets.extend(closed)
    if with_kb:
        pop.kb_suggestions.extend(await _articles(connection, pop.devices))
    facts = [IncidentFact(0, _UNTIMED, dev.asset_tag, dev.model, None) for dev in pop.devices]
    facts += [
        IncidentFact(0, _UNTIMED, None, None, ticket.category)
        for ticket in open_tickets
        if ticket.category is not None
    ]
    pop.known_errors.extend(await _known_errors(connection, facts))


async def _articles(connection: AsyncConnection, devices: list[PopDevice]) -> list[PopArticle]:
    keys = sorted({dev.model.strip().lower() for dev in devices if dev.model and dev.model.strip()})
    if not keys:
        return []
    rows = await connection.execute(_ARTICLES, {"keys": keys})
    return [PopArticle(a, title, c, used, TargetKind.MODEL.value) for a, title, c, used in rows]


async def _known_errors(connection: AsyncConnection, facts: list[IncidentFact]) -> list[KnownError]:
    keys = sorted({problem_key(d, k) for fact in facts for d, k in incident_keys(fact)})
    if not keys:
        return []
    order = list(Dimension)
    found = [
        KnownError(problem_id, Dimension(dimension), key, subject, workaround or "")
        for problem_id, dimension, key, subject, workaround in await connection.execute(
            _KNOWN_ERRORS, {"keys": keys}
        )
    ]
    return sorted(found, key=lambda k: (order.index(k.dimension), k.problem_id))


async def _maybe(connection: AsyncConnection, number: str) -> list[MaybeTicket]:
    """Tickets mentioning the number, most recently updated first, each once."""
    found: dict[int, MaybeTicket] = {}
    for row in await connection.execute(_MAYBE, {"number": number}):
        ticket_id = int(row[0])
        if ticket_id in found:
            continue
        who = row[3:]
        employee = None if who[0] is None else _employee_of(who)
        found[ticket_id] = MaybeTicket(ticket_id, row[1], employee, row[2])
    return list(found.values())[:MAYBE_TICKETS]
