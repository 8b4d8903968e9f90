"""Tickets under /api/v1/tickets: listing, creation, workflow edits, audit, notes, links
and merging duplicates.

The service desk is shared: agents, supervisors and admins all read and edit tickets, and
the workflow's role rules decide which moves each may make (`WORKFLOW_ROLES`). An edit
must name the version it was made against (`If-Match`, the ETag of the GET): without it
428, against an old version 412 with the current one. Client errors are problem details
(RFC 9457) naming the field at fault.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlencode

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from callcenter.api.auth import principal
from callcenter.api.bodies import id_param, parse_body
from callcenter.api.deps import DEPS, now_of, sql_store
from callcenter.api.errors import ApiError, problem_details
from callcenter.api.views import call_view, iso, ticket_view
from callcenter.api.websocket.screen_pop import known_error_view
from callcenter.problems.store import SqlProblems
from callcenter.tickets.errors import (
    Conflict,
    Impossible,
    NoSuchFilter,
    StaleVersion,
    TicketNotFound,
    TicketRefused,
)
from callcenter.tickets.priority import PriorityError, priority_of
from callcenter.tickets.records import Role as AccountRole
from callcenter.tickets.store import SqlTicketStore
from callcenter.tickets.ticket_query import (
    MAX_ID,
    LinkKind,
    QueryError,
    encode_cursor,
    etag,
    if_match_version,
    parse_query,
)
from callcenter.tickets.ticket_repo import Link, NewTicket, Note, TicketDetail, TicketRepo
from callcenter.tickets.workflow import Actor, AuditEntry, Kind, Role, Status, Tier

T = TypeVar("T")

#: The ticket rules' refusals as HTTP sees them.
REFUSAL_STATUS: dict[type[TicketRefused], int] = {
    Conflict: 409,
    Impossible: 422,
    NoSuchFilter: 404,
}

BASE = "/api/v1/tickets"
#: The token's role as the workflow sees it: admins act as supervisors on tickets.
WORKFLOW_ROLES = {
    AccountRole.AGENT: Role.AGENT,
    AccountRole.SUPERVISOR: Role.SUPERVISOR,
    AccountRole.ADMIN: Role.SUPERVISOR,
}
#: More duplicates than this in one merge is a mistake, not a cleanup.
MAX_MERGE = 50

Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text64 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
#: Long texts stay well inside the 64 KiB body limit even as JSON escapes (12 bytes a
#: character at worst), so a text too long is a 400 naming it, not a 413.
MAX_TEXT = 4000
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_TEXT)]
NoteText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT)
]
LevelName = Literal[1, 2, 3, "high", "medium", "low"]
TicketId = Annotated[int, Field(ge=1, le=MAX_ID)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class TicketCreateBody(_Body):
    kind: Kind = Kind.INCIDENT
    subject: Text200
    description: LongText = ""
    employee: Text64 | None = None
    device: Text64 | None = None
    category: Text64 | None = None
    impact: LevelName = "medium"
    urgency: LevelName = "medium"


class TicketPatchBody(_Body):
    """Fields to change; the ones left out stay. Workflow fields go through workflow.py."""

    status: Status | None = None
    approval: Literal["approve", "reject"] | None = None
    tier: Tier | None = None
    assignee: Text64 | None = None
    escalate: Literal["tier", "manager"] | None = None
    priority: Annotated[int, Field(ge=1, le=5)] | None = None
    impact: LevelName | None = None
    urgency: LevelName | None = None
    subject: Text200 | None = None
    category: Text64 | None = None
    resolution: LongText | None = None
    device: Text64 | None = None
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""


class NoteBody(_Body):
    text: NoteText
    internal: bool = False


class LinkBody(_Body):
    other: TicketId
    kind: LinkKind


class MergeBody(_Body):
    from_: Annotated[list[TicketId], Field(min_length=1, max_length=MAX_MERGE)] = Field(
        alias="from"
    )


#: PATCH fields that may be null (cleared); any other null is refused.
NULLABLE = frozenset({"assignee", "category", "resolution"})


def add_routes(app: web.Application) -> None:
    app.router.add_get(BASE, list_tickets)
    app.router.add_post(BASE, create_ticket)
    app.router.add_get(BASE + "/{ticket_id}", get_ticket)
    app.router.add_patch(BASE + "/{ticket_id}", update_ticket)
    app.router.add_get(BASE + "/{ticket_id}/audit", ticket_audit)
    app.router.add_get(BASE + "/{ticket_id}/notes", list_notes)
    app.router.add_post(BASE + "/{ticket_id}/notes", add_note)
    app.router.add_post(BASE + "/{ticket_id}/links", add_link)
    app.router.add_delete(BASE + "/{ticket_id}/links/{other}/{kind}", remove_link)
    app.router.add_post(BASE + "/{ticket_id}/merge", merge_tickets)


# -- handlers ----------------------------------------------------------------------------


@problem_details
async def list_tickets(request: web.Request) -> web.Response:
    """Filtered, sorted, paged; `next` is the link to the following page (null at the end)."""
    repo = _repo(request)
    params: dict[str, str] = {}
    for name in request.query:
        values = request.query.getall(name)
        if len(values) > 1:
            raise ApiError(400, "invalid_query", f"{name}: given more than once", field=name)
        params[name] = values[0]
    try:
        query = parse_query(params)
    except QueryError as exc:
        raise ApiError(400, "invalid_query", str(exc), field=exc.field) from None
    page = await _run(repo.page(query))
    next_link = None
    if page.after is not None:
        cursor = encode_cursor(query.sort, page.after)
        pairs = [*query.echo, ("limit", str(query.limit)), ("cursor", cursor)]
        next_link = f"{BASE}?{urlencode(pairs)}"
    return web.json_response(
        {
            "tickets": [_summary_view(t) for t in page.tickets],
            "limit": query.limit,
            "next": next_link,
        }
    )


@problem_details
async def create_ticket(request: web.Request) -> web.Response:
    repo = _repo(request)
    body = await parse_body(request, TicketCreateBody)
    draft = NewTicket(
        kind=body.kind,
        subject=body.subject,
        priority=priority_of(body.impact, body.urgency, request.app[DEPS].priority_matrix),
        description=body.description,
        employee=body.employee,
        device=body.device,
        category=body.category,
    )
    detail = await _run(repo.create(draft, _actor(request), now_of(request)))
    return _detail_response(detail, status=201, location=True)


@problem_details
async def get_ticket(request: web.Request) -> web.Response:
    store = _store(request)
    ticket_id = _ticket_id(request)
    detail = await TicketRepo(store).detail(ticket_id)
    if detail is None:
        raise _not_found(ticket_id)
    view = _detail_view(detail)
    # The workarounds the agent can read out at once (problem management).
    known = await SqlProblems(store).known_errors_for_ticket(ticket_id)
    view["known_errors"] = [known_error_view(k) for k in known]
    return web.json_response(view, headers={"ETag": etag(detail.ticket.version)})


@problem_details
async def update_ticket(request: web.Request) -> web.Response:
    repo = _repo(request)
    ticket_id = _ticket_id(request)
    expected = _if_match(request)
    body = await parse_body(request, TicketPatchBody)
    changes: dict[str, Any] = {}
    for name in body.model_fields_set:
        value = getattr(body, name)
        if value is None and name not in NULLABLE:
            raise ApiError(400, "invalid_body", f"{name}: may not be null", field=name)
        changes[name] = value.value if isinstance(value, Status | Tier) else value
    if "impact" in changes or "urgency" in changes:
        if "priority" in changes:
            raise ApiError(
                400, "invalid_body", "priority: give it or impact and urgency", field="priority"
            )
        missing = "urgency" if "impact" in changes else "impact"
        if missing not in changes:
            raise ApiError(
                400, "invalid_body", f"{missing}: required with the other", field=missing
            )
        try:
            changes["priority"] = priority_of(
                changes.pop("impact"), changes.pop("urgency"), request.app[DEPS].priority_matrix
            )
        except PriorityError as exc:  # the body's Literal makes this unreachable
            raise ApiError(400, "invalid_body", str(exc), field="impact") from None
    assignee_role = None
    if changes.get("assignee"):
        account = await request.app[DEPS].store.agent_account(changes["assignee"])
        assignee_role = None if account is None else WORKFLOW_ROLES[account.role]
    detail = await _run(
        repo.update(
            ticket_id,
            expected,
            changes,
            _actor(request),
            now_of(request),
            assignee_role=assignee_role,
        )
    )
    return _detail_response(detail)


@problem_details
async def ticket_audit(request: web.Request) -> web.Response:
    repo = _repo(request)
    entries = await _run(repo.audit(_ticket_id(request)))
    return web.json_response({"audit": [_audit_view(e) for e in entries]})


@problem_details
async def list_notes(request: web.Request) -> web.Response:
    repo = _repo(request)
    notes = await _run(repo.notes(_ticket_id(request)))
    return web.json_response({"notes": [_note_view(n) for n in notes]})


@problem_details
async def add_note(request: web.Request) -> web.Response:
    repo = _repo(request)
    ticket_id = _ticket_id(request)
    body = await parse_body(request, NoteBody)
    note = await _run(
        repo.add_note(
            ticket_id,
            body.text,
            internal=body.internal,
            author=principal(request).username,
            now=now_of(request),
        )
    )
    return web.json_response(
        _note_view(note),
        status=201,
        headers={"Location": f"{BASE}/{ticket_id}/notes"},
    )


@problem_details
async def add_link(request: web.Request) -> web.Response:
    repo = _repo(request)
    ticket_id = _ticket_id(request)
    body = await parse_body(request, LinkBody)
    actor, now = _actor(request), now_of(request)
    link = await _run(repo.add_link(ticket_id, body.other, body.kind, actor, now))
    return web.json_response(
        _link_view(link),
        status=201,
        headers={"Location": f"{BASE}/{ticket_id}/links/{link.other}/{link.kind.value}"},
    )


@problem_details
async def remove_link(request: web.Request) -> web.Response:
    repo = _repo(request)
    ticket_id = _ticket_id(request)
    other = id_param(request, "other")
    raw_kind = request.match_info["kind"]
    try:
        kind = LinkKind(raw_kind)
    except ValueError:
        choices = ", ".join(k.value for k in LinkKind)
        message = f"kind: must be one of {choices}"
        raise ApiError(400, "invalid_path", message, field="kind") from None
    if other > MAX_ID:
        raise ApiError(404, "unknown_link", f"ticket {ticket_id} has no such link", field="other")
    await _run(repo.remove_link(ticket_id, other, kind, _actor(request), now_of(request)))
    return web.Response(status=204)


@problem_details
async def merge_tickets(request: web.Request) -> web.Response:
    repo = _repo(request)
    ticket_id = _ticket_id(request)
    expected = _if_match(request)
    body = await parse_body(request, MergeBody)
    detail = await _run(
        repo.merge(ticket_id, expected, body.from_, _actor(request), now_of(request))
    )
    return _detail_response(detail)


# -- views -------------------------------------------------------------------------------


def _summary_view(detail: TicketDetail) -> dict[str, Any]:
    """The listing's shape: the original ticket fields plus the workflow's."""
    t = detail.ticket
    return {
        **ticket_view(t),
        "tier": t.tier,
        "assignee": t.assignee,
        "category": t.category,
        "resolution": t.resolution,
        "resolved_at": iso(t.resolved_at),
        "closed_at": iso(t.closed_at),
        "reopen_count": t.reopen_count,
        "escalation_level": detail.escalation_level,
        "approved_by": detail.approved_by,
        "contacts": t.contacts,
        "onsite_visits": t.onsite_visits,
        "first_contact_resolved": t.first_contact_resolved,
        "version": t.version,
    }


def _detail_view(detail: TicketDetail) -> dict[str, Any]:
    return {
        **_summary_view(detail),
        "description": detail.description,
        "links": [_link_view(link) for link in detail.links],
        "notes": [_note_view(note) for note in detail.notes],
        "calls": [call_view(call) for call in detail.calls],
    }


def _link_view(link: Link) -> dict[str, Any]:
    return {
        "other": link.other,
        "kind": link.kind.value,
        "created_at": iso(link.created_at),
        "created_by": link.created_by,
    }


def _note_view(note: Note) -> dict[str, Any]:
    return {
        "id": note.id,
        "at": iso(note.at),
        "author": note.author,
        "text": note.text,
        "call_id": note.call_id,
        "internal": note.internal,
    }


def _audit_view(entry: AuditEntry) -> dict[str, Any]:
    return {
        "at": iso(entry.at),
        "who": entry.actor,
        "field": entry.field,
        "old": entry.old,
        "new": entry.new,
        "reason": entry.reason,
    }


def _detail_response(
    detail: TicketDetail, *, status: int = 200, location: bool = False
) -> web.Response:
    headers = {"ETag": etag(detail.ticket.version)}
    if location:
        headers["Location"] = f"{BASE}/{detail.ticket.id}"
    return web.json_response(_detail_view(detail), status=status, headers=headers)


# -- helpers -----------------------------------------------------------------------------


def _store(request: web.Request) -> SqlTicketStore:
    return sql_store(request, "tickets_unavailable")


def _repo(request: web.Request) -> TicketRepo:
    return TicketRepo(_store(request))


def _actor(request: web.Request) -> Actor:
    who = principal(request)
    return Actor(who.username, WORKFLOW_ROLES[who.role])


def _ticket_id(request: web.Request) -> int:
    ticket_id = id_param(request, "ticket_id")
    if ticket_id > MAX_ID:
        raise _not_found(ticket_id)
    return ticket_id


def _not_found(ticket_id: int) -> ApiError:
    return ApiError(404, "unknown_ticket", f"no ticket {ticket_id}", field="ticket_id")


def _if_match(request: web.Request) -> int:
    try:
        version = if_match_version(request.headers.get("If-Match"))
    except ValueError as exc:
        raise ApiError(400, "invalid_header", str(exc), field="If-Match") from None
    if version is None:
        raise ApiError(
            428,
            "precondition_required",
            "If-Match: required; send the ETag of the ticket you edited",
            field="If-Match",
        )
    return version


async def _run(work: Awaitable[T]) -> T:
    """Await the repository's work, turning its refusals into API errors."""
    try:
        return await work
    except TicketNotFound as exc:
        raise _not_found(exc.ticket_id) from None
    except StaleVersion as exc:
        raise ApiError(
            412,
            "stale_version",
            f"{exc}: reload the ticket and try again",
            headers={"ETag": etag(exc.current)},
            field="If-Match",
        ) from None
    except TicketRefused as exc:
        status = REFUSAL_STATUS[type(exc)]
        raise ApiError(status, exc.code, str(exc), field=exc.field) from None
