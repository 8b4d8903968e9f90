"""A client's locations under /api/v1/locations, and where an employee works.

Everyone with a token reads them (the desk dispatches on-site visits by them);
supervisors and admins create locations and place employees.
"""

from __future__ import annotations

from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from callcenter.api.auth import principal, supervises
from callcenter.api.bodies import id_param, int_param, parse_body
from callcenter.api.deps import MAX_ID, sql_store
from callcenter.api.errors import ApiError, problem_details
from callcenter.directory.location_store import (
    Location,
    LocationError,
    create_location,
    location,
    locations,
    set_employee_location,
)

BASE = "/api/v1/locations"


class LocationBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    organisation_id: Annotated[int, Field(ge=1, le=MAX_ID)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    address: Annotated[str, Field(min_length=1, max_length=400)] | None = None


class EmployeeLocationBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    #: null: the employee has no location any more.
    location_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None


def add_routes(app: web.Application) -> None:
    app.router.add_get(BASE, list_locations)
    app.router.add_post(BASE, add_location)
    app.router.add_get(BASE + "/{location_id}", get_location)
    app.router.add_put("/api/v1/employees/{username}/location", put_employee_location)


def location_view(found: Location) -> dict[str, Any]:
    return {
        "id": found.id,
        "organisation_id": found.organisation_id,
        "organisation": found.organisation,
        "name": found.name,
        "address": found.address,
        "employees": found.employees,
        "items": found.items,
    }


def _refused(exc: LocationError) -> ApiError:
    status, code = (404, "not_found") if exc.missing else (409, "conflict")
    if exc.field == "location_id" and not exc.missing:
        status, code = 422, "invalid_location"
    return ApiError(status, code, str(exc), field=exc.field)


def _supervisor_only(request: web.Request) -> None:
    if not supervises(principal(request)):
        raise ApiError(403, "forbidden", "only supervisors and admins change locations")


@problem_details
async def list_locations(request: web.Request) -> web.Response:
    organisation_id = int_param(request, "organisation_id", 0, 1, MAX_ID) or None
    found = await locations(sql_store(request), organisation_id)
    return web.json_response({"locations": [location_view(f) for f in found]})


@problem_details
async def add_location(request: web.Request) -> web.Response:
    _supervisor_only(request)
    body = await parse_body(request, LocationBody)
    try:
        created = await create_location(
            sql_store(request), body.organisation_id, body.name, body.address
        )
    except LocationError as exc:
        raise _refused(exc) from None
    return web.json_response(
        location_view(created), status=201, headers={"Location": f"{BASE}/{created.id}"}
    )


@problem_details
async def get_location(request: web.Request) -> web.Response:
    location_id = id_param(request, "location_id")
    found = await location(sql_store(request), location_id) if location_id <= MAX_ID else None
    if found is None:
        raise ApiError(404, "unknown_location", f"no location {location_id}", field="location_id")
    site, employees, items = found
    return web.json_response(
        {
            **location_view(site),
            "employee_list": [{"username": e.key, "name": e.name} for e in employees],
            "item_list": [{"asset_tag": i.key, "name": i.name} for i in items],
        }
    )


@problem_details
async def put_employee_location(request: web.Request) -> web.Response:
    _supervisor_only(request)
    username = request.match_info["username"]
    body = await parse_body(request, EmployeeLocationBody)
    try:
        await set_employee_location(sql_store(request), username, body.location_id)
    except LocationError as exc:
        raise _refused(exc) from None
    return web.json_response({"username": username, "location_id": body.location_id})
