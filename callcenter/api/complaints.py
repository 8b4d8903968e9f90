"""Complaints under /api/v1/complaints: an agent files one for an employee or an
organisation, optionally about a ticket; it goes to the organisation's account manager.

Escalation past the acknowledge and resolve limits is the complaint monitor's
(`callcenter/tickets/service_monitor.py`); moving a complaint on is the generic ticket API's.
"""

from __future__ import annotations

from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from callcenter.api.auth import principal
from callcenter.api.bodies import int_param, parse_body
from callcenter.api.deps import MAX_ID, now_of, sql_store
from callcenter.api.errors import ApiError, problem_details
from callcenter.api.views import iso
from callcenter.complaints.store import (
    Complaint,
    ComplaintError,
    complaints,
    file_complaint,
)

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


def _whole(value: object) -> object:
    """2.0 is the integer 2 in JSON (and in JSON Schema); 2.5 and "2" stay refused."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Whole = Annotated[int, BeforeValidator(_whole)]


#: The error code of a body field naming something that does not exist.
MISSING = {
    "employee": "unknown_employee",
    "organisation_id": "unknown_organisation",
    "ticket_id": "unknown_ticket",
}


class ComplaintBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    subject: Text
    description: str = Field("", max_length=10_000)
    #: Who complains: an employee's username, or an organisation (or both, consistent).
    employee: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    organisation_id: Whole | None = Field(None, ge=1, le=MAX_ID)
    #: The ticket complained about; linked `related`.
    ticket_id: Whole | None = Field(None, ge=1, le=MAX_ID)
    priority: Whole = Field(3, ge=1, le=5)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/complaints", create_complaint)
    app.router.add_get("/api/v1/complaints", list_complaints)


def complaint_view(complaint: Complaint) -> dict[str, Any]:
    return {
        "id": complaint.id,
        "status": complaint.status.value,
        "subject": complaint.subject,
        "organisation_id": complaint.organisation_id,
        "employee_id": complaint.employee_id,
        "ticket_id": complaint.about_ticket_id,
        "tier": complaint.tier,
        "assignee": complaint.assignee,
        "escalation_level": complaint.escalation_level,
        "filed_by": complaint.filed_by,
        "created_at": iso(complaint.created_at),
        "updated_at": iso(complaint.updated_at),
    }


@problem_details
async def create_complaint(request: web.Request) -> web.Response:
    store = sql_store(request)
    who = principal(request)
    body = await parse_body(request, ComplaintBody)
    try:
        complaint = await file_complaint(
            store,
            subject=body.subject,
            description=body.description,
            filed_by=who.username,
            now=now_of(request),
            organisation_id=body.organisation_id,
            employee=body.employee,
            about_ticket_id=body.ticket_id,
            priority=body.priority,
        )
    except ComplaintError as exc:
        status, code = (404, MISSING[exc.field]) if exc.missing else (400, "invalid_body")
        raise ApiError(status, code, str(exc), field=exc.field) from None
    return web.json_response(
        complaint_view(complaint),
        status=201,
        headers={"Location": f"/api/v1/tickets/{complaint.id}"},
    )


@problem_details
async def list_complaints(request: web.Request) -> web.Response:
    """Newest first; `open=true` leaves out resolved, closed and cancelled ones;
    `organisation_id` filters."""
    store = sql_store(request)
    raw_open = request.query.get("open", "false")
    if raw_open not in ("true", "false"):
        raise ApiError(400, "invalid_query", "open: must be true or false", field="open")
    organisation_id = (
        int_param(request, "organisation_id", 0, 1, MAX_ID)
        if "organisation_id" in request.query
        else None
    )
    found = await complaints(store, open_only=raw_open == "true", organisation_id=organisation_id)
    return web.json_response({"complaints": [complaint_view(c) for c in found]})
