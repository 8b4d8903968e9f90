"""An organisation's SLA under /api/v1/organisations/{id}/sla: its policy, its service
calendar and its account manager (supervisors and admins only).

A change applies to tickets opened afterwards; open tickets keep the clocks they
started with (`callcenter/directory/org_sla.py`).
"""

from __future__ import annotations

from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from callcenter.api.auth import principal, supervises
from callcenter.api.bodies import id_param, parse_body
from callcenter.api.deps import MAX_ID, now_of, sql_store
from callcenter.api.errors import ApiError, problem_details
from callcenter.api.views import iso
from callcenter.directory.org_sla import OrgSlaError
from callcenter.directory.org_store import OrgService, org_service, set_org_service


class OrgSlaBody(BaseModel):
    """Every field; one left out or null falls back to the settings' default."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    policy: Annotated[str, Field(min_length=1, max_length=32)] | None = None
    #: `BusinessCalendar.from_data` form: timezone, hours per weekday, holidays.
    calendar: dict[str, Any] | None = None
    account_manager: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    account_manager_email: (
        Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")] | None
    ) = None


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/organisations/{organisation_id}/sla", get_sla)
    app.router.add_put("/api/v1/organisations/{organisation_id}/sla", put_sla)


def org_sla_view(service: OrgService) -> dict[str, Any]:
    return {
        "organisation_id": service.organisation_id,
        "name": service.name,
        "policy": service.policy,
        "calendar": service.calendar,
        "account_manager": service.account_manager,
        "account_manager_email": service.account_manager_email,
        "effective_policy": service.effective_policy,
        "effective_calendar": service.effective_calendar,
        "updated_at": iso(service.updated_at),
        "updated_by": service.updated_by,
    }


def _organisation_id(request: web.Request) -> int:
    who = principal(request)
    if not supervises(who):
        raise ApiError(403, "forbidden", "only supervisors and admins see and set SLAs")
    return id_param(request, "organisation_id")


def _unknown(organisation_id: int) -> ApiError:
    return ApiError(
        404,
        "unknown_organisation",
        f"no organisation {organisation_id}",
        field="organisation_id",
    )


@problem_details
async def get_sla(request: web.Request) -> web.Response:
    organisation_id = _organisation_id(request)
    store = sql_store(request)
    found = await org_service(store, organisation_id) if organisation_id <= MAX_ID else None
    if found is None:
        raise _unknown(organisation_id)
    return web.json_response(org_sla_view(found))


@problem_details
async def put_sla(request: web.Request) -> web.Response:
    organisation_id = _organisation_id(request)
    store = sql_store(request)
    body = await parse_body(request, OrgSlaBody)
    try:
        found = (
            await set_org_service(
                store,
                organisation_id,
                policy=body.policy,
                calendar=body.calendar,
                account_manager=body.account_manager,
                account_manager_email=body.account_manager_email,
                actor=principal(request).username,
                now=now_of(request),
            )
            if organisation_id <= MAX_ID
            else None
        )
    except OrgSlaError as exc:
        raise ApiError(400, "invalid_body", str(exc), field=exc.field) from None
    if found is None:
        raise _unknown(organisation_id)
    return web.json_response(org_sla_view(found))
