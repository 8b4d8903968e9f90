"""The CMDB under /api/v1: configuration items, their relations and maintenance, the
preventive maintenance due list and plans, and hardware repair tasks of tickets.

Everyone with a token reads, records maintenance and steps repairs (the desk works the
tickets); supervisors and admins edit items, relations and plans. Client errors are
problem details (RFC 9457) naming the field at fault; a repair step the state machine
does not allow is 409.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from callcenter.api.auth import principal, supervises
from callcenter.api.bodies import id_param, int_param, parse_body
from callcenter.api.deps import MAX_ID, now_of, sql_store
from callcenter.api.errors import ApiError, problem_details
from callcenter.api.views import iso
from callcenter.cmdb.maintenance import DueItem, MaintenanceKind, Plan, PlanError
from callcenter.cmdb.model import (
    ItemCategory,
    ItemStatus,
    Relation,
    RelationError,
    RelationKind,
    in_warranty,
)
from callcenter.cmdb.naming import NamingPolicy, item_naming_errors
from callcenter.cmdb.repair import (
    RepairAction,
    RepairError,
    RepairTask,
    Step,
    allowed_actions,
)
from callcenter.cmdb.store import (
    Invalid,
    Item,
    ItemFilter,
    MaintenanceEntry,
    NotFound,
    SqlCmdb,
    StoredRelation,
)

#: The deployment's naming standard (`ticketing.naming`); absent: the default, enforced.
NAMING = web.AppKey("cmdb_naming", NamingPolicy)
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_OFFSET = 1_000_000
#: Dates of items and records outside these are typing mistakes (and overflow date sums).
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2999, 12, 31)
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CODE = re.compile(r"[A-Za-z0-9]{1,16}")

Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Category = Literal["pc", "laptop", "printer", "peripheral", "server", "network", "software"]
Status = Literal["in_use", "in_repair", "in_stock", "retired", "lost"]
Kind = Literal["installed_on", "connected_to", "depends_on"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


AssetTag = Annotated[str, StringConstraints(min_length=1, max_length=32)]
DeviceName = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class ItemPatchBody(_Body):
    """The fields of an item to change; null clears the optional ones."""

    #: Renaming: checked against the naming standard (`ticketing.naming`).
    asset_tag: AssetTag | None = None
    name: DeviceName | None = None
    status: Status | None = None
    category: Category | None = None
    maintainer: Text200 | None = None
    location: Text200 | None = None
    model: Text200 | None = None
    vendor: Text200 | None = None
    serial: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
        | None
    ) = None
    purchase_date: date | None = None
    warranty_end: date | None = None
    owner: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None


class ItemCreateBody(_Body):
    """A new configuration item; its names must follow the naming standard."""

    asset_tag: AssetTag
    name: DeviceName
    type: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
    #: Default: from the type.
    category: Category | None = None
    status: Status = "in_use"
    maintainer: Text200 | None = None
    location: Text200 | None = None
    model: Text200 | None = None
    vendor: Text200 | None = None
    serial: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
        | None
    ) = None
    purchase_date: date | None = None
    warranty_end: date | None = None
    owner: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None


class RelationBody(_Body):
    other_id: int = Field(ge=1, le=MAX_ID)
    kind: Kind


class MaintenanceBody(_Body):
    kind: Literal["repair", "preventive"]
    by: Text200
    #: Default: now.
    done_at: AwareDatetime | None = None
    notes: Annotated[str, StringConstraints(strip_whitespace=True, max_length=10_000)] = ""
    ticket_id: int | None = Field(None, ge=1, le=MAX_ID)


class PlanBody(_Body):
    #: None: every department without a plan of its own.
    department: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{1,16}$")] | None
    category: Category
    interval_days: int = Field(ge=1, le=3660)


class RepairBody(_Body):
    #: Default: the ticket's device.
    item_id: int | None = Field(None, ge=1, le=MAX_ID)


class RepairStepBody(_Body):
    action: Literal[
        "vendor_visit",
        "send_to_vendor",
        "quote",
        "approve",
        "reject",
        "start_repair",
        "return_item",
        "write_off",
    ]
    #: The quote, in the contract's currency, at most two decimals (with `quote`).
    amount: float | None = Field(None, gt=0, le=100_000_000)
    #: The person who signed the quote (with `approve`).
    approved_by: Text200 | None = None


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/items", list_items)
    app.router.add_post("/api/v1/items", create_item)
    app.router.add_get("/api/v1/items/{item_id}", get_item)
    app.router.add_patch("/api/v1/items/{item_id}", update_item)
    app.router.add_get("/api/v1/items/{item_id}/relations", list_relations)
    app.router.add_post("/api/v1/items/{item_id}/relations", add_relation)
    app.router.add_delete("/api/v1/items/{item_id}/relations", remove_relation)
    app.router.add_get("/api/v1/items/{item_id}/maintenance", list_maintenance)
    app.router.add_post("/api/v1/items/{item_id}/maintenance", add_maintenance)
    app.router.add_get("/api/v1/maintenance/due", due)
    app.router.add_get("/api/v1/maintenance/plans", list_plans)
    app.router.add_put("/api/v1/maintenance/plans", set_plan)
    app.router.add_get("/api/v1/tickets/{ticket_id}/repairs", list_repairs)
    app.router.add_post("/api/v1/tickets/{ticket_id}/repairs", create_repair)
    app.router.add_get("/api/v1/repairs/{repair_id}", get_repair)
    app.router.add_patch("/api/v1/repairs/{repair_id}", step_repair)


# -- views -------------------------------------------------------------------------------


def item_view(item: Item, today: date) -> dict[str, Any]:
    return {
        "id": item.id,
        "asset_tag": item.asset_tag,
        "name": item.name,
        "type": item.type,
        "category": item.category.value,
        "status": item.status.value,
        "model": item.model,
        "vendor": item.vendor,
        "maintainer": item.maintainer,
        "serial": item.serial,
        "purchase_date": _day(item.purchase_date),
        "warranty_end": _day(item.warranty_end),
        "in_warranty": in_warranty(item.warranty_end, today),
        "owner": item.owner,
        "department": item.department,
        "location": item.location,
    }


def _saved_view(item: Item, today: date, warnings: list[Any]) -> dict[str, Any]:
    """An item just created or changed; `warnings` only when the naming standard warns."""
    view = item_view(item, today)
    return {**view, "warnings": warnings} if warnings else view


def relation_view(relation: StoredRelation) -> dict[str, Any]:
    return {
        "item_id": relation.item_id,
        "other_id": relation.other_id,
        "kind": relation.kind.value,
        "created_at": iso(relation.created_at),
        "created_by": relation.created_by,
    }


def maintenance_view(entry: MaintenanceEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "item_id": entry.item_id,
        "kind": entry.kind.value,
        "done_at": iso(entry.done_at),
        "by": entry.by,
        "notes": entry.notes,
        "ticket_id": entry.ticket_id,
        "recorded_by": entry.recorded_by,
    }


def due_view(entry: DueItem) -> dict[str, Any]:
    return {
        "item_id": entry.item.item_id,
        "name": entry.item.name,
        "category": entry.item.category.value,
        "department": entry.item.department,
        "last_preventive": _day(entry.item.last_preventive),
        "purchase_date": _day(entry.item.purchase_date),
        "interval_days": entry.interval_days,
        "due": entry.due.isoformat(),
        "overdue_days": entry.overdue_days,
    }


def plan_view(plan: Plan) -> dict[str, Any]:
    return {
        "department": plan.department,
        "category": plan.category.value,
        "interval_days": plan.interval_days,
    }


def repair_view(task: RepairTask) -> dict[str, Any]:
    return {
        "id": task.id,
        "ticket_id": task.ticket_id,
        "item_id": task.item_id,
        "in_warranty": task.in_warranty,
        "state": task.state.value,
        "open": task.open,
        "allowed_actions": [action.value for action in allowed_actions(task)],
        "quote_amount": None if task.quote_cents is None else task.quote_cents / 100,
        "approved_by": task.approved_by,
        "approved_at": iso(task.approved_at),
        "created_at": iso(task.created_at),
        "updated_at": iso(task.updated_at),
        "closed_at": iso(task.closed_at),
    }


def _day(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


# -- helpers -----------------------------------------------------------------------------


def _cmdb(request: web.Request) -> SqlCmdb:
    return SqlCmdb(sql_store(request, "cmdb_unavailable"))


def _editor(request: web.Request) -> str:
    who = principal(request)
    if not supervises(who):
        raise ApiError(403, "forbidden", "only supervisors and admins edit configuration items")
    return who.username


def _path_id(request: web.Request, name: str) -> int:
    value = id_param(request, name)
    return value if value <= MAX_ID else 0


def _text_param(request: web.Request, name: str, maximum: int) -> str | None:
    value = request.query.get(name)
    if value is not None and not 1 <= len(value) <= maximum:
        raise ApiError(400, "invalid_query", f"{name}: 1 to {maximum} characters", field=name)
    return value


def _choice_param(request: web.Request, name: str, choices: type[Any]) -> Any:
    raw = request.query.get(name)
    if raw is None:
        return None
    try:
        return choices(raw)
    except ValueError:
        allowed = ", ".join(c.value for c in choices)
        raise ApiError(
            400, "invalid_query", f"{name}: must be one of {allowed}", field=name
        ) from None


def _date_param(request: web.Request, name: str) -> date | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    try:
        if not _DAY.fullmatch(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, "invalid_query", f"{name}: a date YYYY-MM-DD", field=name) from None


def _department_param(request: web.Request) -> str | None:
    raw = request.query.get("department")
    if raw is not None and not _CODE.fullmatch(raw):
        raise ApiError(
            400,
            "invalid_query",
            "department: a department code (letters, digits)",
            field="department",
        )
    return raw


def _naming_warnings(request: web.Request, asset_tag: str, name: str, changed: Any) -> list[Any]:
    """The item's new names against the deployment's standard: 400 naming the field
    when it is enforced, else the breaches as `warnings` of the reply."""
    policy = request.app.get(NAMING) or NamingPolicy()
    found = item_naming_errors(policy.standard, asset_tag, name, changed)
    if found and not policy.warn:
        key, message = found[0]
        raise ApiError(400, "naming_standard", message, field=key)
    return [{"field": key, "message": message} for key, message in found]


def _check_dates(values: dict[str, Any]) -> None:
    for name, value in values.items():
        if isinstance(value, date) and not FIRST_DAY <= value <= LAST_DAY:
            raise ApiError(
                400, "invalid_body", f"{name}: from {FIRST_DAY} to {LAST_DAY}", field=name
            )


def _domain_error(exc: Exception) -> ApiError:
    """Errors of the CMDB adapter and the pure rules, as HTTP."""
    if isinstance(exc, NotFound):
        return ApiError(404, f"unknown_{exc.field.removesuffix('_id')}", str(exc), field=exc.field)
    if isinstance(exc, Invalid | RelationError | RepairError):
        if exc.conflict:
            code = "invalid_step" if isinstance(exc, RepairError) else "conflict"
            return ApiError(409, code, str(exc), field=exc.field)
        return ApiError(400, "invalid_body", str(exc), field=exc.field)
    if isinstance(exc, PlanError):
        return ApiError(400, "invalid_body", str(exc), field="interval_days")
    raise exc


# -- items -------------------------------------------------------------------------------


@problem_details
async def list_items(request: web.Request) -> web.Response:
    """Filters: `type`, `category`, `status`, `owner` (username), `department` (code),
    `warranty_before` (a day); `limit` and `offset` page, by name."""
    cmdb = _cmdb(request)
    limit = int_param(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = int_param(request, "offset", 0, 0, MAX_OFFSET)
    wanted = ItemFilter(
        type=_text_param(request, "type", 32),
        category=_choice_param(request, "category", ItemCategory),
        status=_choice_param(request, "status", ItemStatus),
        owner=_text_param(request, "owner", 64),
        department=_department_param(request),
        warranty_before=_date_param(request, "warranty_before"),
    )
    items, total = await cmdb.items(wanted, limit=limit, offset=offset)
    today = now_of(request).date()
    return web.json_response(
        {
            "items": [item_view(item, today) for item in items],
            "total": total,
            "limit": limit,
            "offset": offset,
        }
    )


@problem_details
async def get_item(request: web.Request) -> web.Response:
    item_id = _path_id(request, "item_id")
    item = await _cmdb(request).item(item_id)
    if item is None:
        raise ApiError(404, "unknown_item", f"no item {item_id}", field="item_id")
    return web.json_response(item_view(item, now_of(request).date()))


@problem_details
async def update_item(request: web.Request) -> web.Response:
    cmdb = _cmdb(request)
    _editor(request)
    item_id = _path_id(request, "item_id")
    body = await parse_body(request, ItemPatchBody)
    changes: dict[str, Any] = {}
    for name in sorted(body.model_fields_set):
        value = getattr(body, name)
        if value is None and name in ("status", "category", "asset_tag", "name"):
            raise ApiError(400, "invalid_body", f"{name}: may not be null", field=name)
        changes[name] = value
    _check_dates(changes)
    warnings: list[Any] = []
    renamed = {"asset_tag", "name"} & set(changes)
    if renamed:
        current = await cmdb.item(item_id)
        if current is None:
            raise ApiError(404, "unknown_item", f"no item {item_id}", field="item_id")
        asset_tag = changes.get("asset_tag", current.asset_tag)
        warnings = _naming_warnings(request, asset_tag, changes.get("name", current.name), renamed)
    try:
        item = await cmdb.update_item(item_id, changes)
    except (NotFound, Invalid) as exc:
        raise _domain_error(exc) from None
    return web.json_response(_saved_view(item, now_of(request).date(), warnings))


@problem_details
async def create_item(request: web.Request) -> web.Response:
    """A new item (supervisors and admins), its names checked against the standard."""
    cmdb = _cmdb(request)
    _editor(request)
    body = await parse_body(request, ItemCreateBody)
    values = body.model_dump()
    _check_dates(values)
    warnings = _naming_warnings(request, body.asset_tag, body.name, ("asset_tag", "name"))
    try:
        item = await cmdb.create_item(values)
    except (NotFound, Invalid) as exc:
        raise _domain_error(exc) from None
    reply = _saved_view(item, now_of(request).date(), warnings)
    return web.json_response(reply, status=201, headers={"Location": f"/api/v1/items/{item.id}"})


# -- relations ---------------------------------------------------------------------------


@problem_details
async def list_relations(request: web.Request) -> web.Response:
    """Both ways: where the item is `item_id` and where it is `other_id`."""
    item_id = _path_id(request, "item_id")
    try:
        found = await _cmdb(request).relations(item_id)
    except NotFound as exc:
        raise _domain_error(exc) from None
    return web.json_response({"relations": [relation_view(r) for r in found]})


@problem_details
async def add_relation(request: web.Request) -> web.Response:
    cmdb = _cmdb(request)
    actor = _editor(request)
    item_id = _path_id(request, "item_id")
    body = await parse_body(request, RelationBody)
    relation = Relation(item_id, body.other_id, RelationKind(body.kind))
    try:
        stored = await cmdb.add_relation(relation, actor=actor, now=now_of(request))
    except (NotFound, RelationError) as exc:
        raise _domain_error(exc) from None
    return web.json_response(relation_view(stored), status=201)


@problem_details
async def remove_relation(request: web.Request) -> web.Response:
    """`?other_id=..&kind=..`: 204 when removed, 404 when there was none."""
    cmdb = _cmdb(request)
    _editor(request)
    item_id = _path_id(request, "item_id")
    if "other_id" not in request.query:
        raise ApiError(400, "invalid_query", "other_id: required", field="other_id")
    other_id = int_param(request, "other_id", 0, 1, MAX_ID)
    kind = _choice_param(request, "kind", RelationKind)
    if kind is None:
        raise ApiError(400, "invalid_query", "kind: required", field="kind")
    try:
        removed = await cmdb.remove_relation(Relation(item_id, other_id, kind))
    except NotFound as exc:
        raise _domain_error(exc) from None
    if not removed:
        raise ApiError(
            404,
            "unknown_relation",
            f"item {item_id} is not {kind.value} item {other_id}",
            field="other_id",
        )
    return web.Response(status=204)


# -- maintenance -------------------------------------------------------------------------


@problem_details
async def list_maintenance(request: web.Request) -> web.Response:
    item_id = _path_id(request, "item_id")
    try:
        found = await _cmdb(request).maintenance(item_id)
    except NotFound as exc:
        raise _domain_error(exc) from None
    return web.json_response({"records": [maintenance_view(e) for e in found]})


@problem_details
async def add_maintenance(request: web.Request) -> web.Response:
    cmdb = _cmdb(request)
    actor = principal(request).username
    item_id = _path_id(request, "item_id")
    body = await parse_body(request, MaintenanceBody)
    now = now_of(request)
    done_at = body.done_at or now
    if done_at > now:
        raise ApiError(400, "invalid_body", "done_at: may not be in the future", field="done_at")
    if done_at.date() < FIRST_DAY:
        raise ApiError(400, "invalid_body", f"done_at: not before {FIRST_DAY}", field="done_at")
    try:
        entry = await cmdb.add_maintenance(
            item_id,
            MaintenanceKind(body.kind),
            done_at=done_at,
            by=body.by,
            notes=body.notes,
            ticket_id=body.ticket_id,
            actor=actor,
        )
    except NotFound as exc:
        raise _domain_error(exc) from None
    return web.json_response(maintenance_view(entry), status=201)


@problem_details
async def due(request: web.Request) -> web.Response:
    """Items in use due for preventive maintenance on or before `before` (default
    today), of `department` if given; overdue first."""
    cmdb = _cmdb(request)
    today = now_of(request).date()
    before = _date_param(request, "before") or today
    department = _department_param(request)
    found = await cmdb.due(today, before=before, department=department)
    return web.json_response(
        {
            "today": today.isoformat(),
            "before": before.isoformat(),
            "department": department,
            "items": [due_view(entry) for entry in found],
        }
    )


@problem_details
async def list_plans(request: web.Request) -> web.Response:
    plans = await _cmdb(request).plans()
    return web.json_response({"plans": [plan_view(plan) for plan in plans]})


@problem_details
async def set_plan(request: web.Request) -> web.Response:
    cmdb = _cmdb(request)
    _editor(request)
    body = await parse_body(request, PlanBody)
    plan = Plan(body.department, ItemCategory(body.category), body.interval_days)
    try:
        stored = await cmdb.set_plan(plan)
    except (NotFound, PlanError) as exc:
        raise _domain_error(exc) from None
    return web.json_response(plan_view(stored))


# -- repairs -----------------------------------------------------------------------------


@problem_details
async def list_repairs(request: web.Request) -> web.Response:
    ticket_id = _path_id(request, "ticket_id")
    try:
        found = await _cmdb(request).repairs_of(ticket_id)
    except NotFound as exc:
        raise _domain_error(exc) from None
    return web.json_response({"repairs": [repair_view(task) for task in found]})


@problem_details
async def create_repair(request: web.Request) -> web.Response:
    cmdb = _cmdb(request)
    actor = principal(request).username
    ticket_id = _path_id(request, "ticket_id")
    body = await parse_body(request, RepairBody, optional=True)
    try:
        task = await cmdb.create_repair(ticket_id, body.item_id, actor=actor, now=now_of(request))
    except (NotFound, Invalid) as exc:
        raise _domain_error(exc) from None
    return web.json_response(
        repair_view(task), status=201, headers={"Location": f"/api/v1/repairs/{task.id}"}
    )


@problem_details
async def get_repair(request: web.Request) -> web.Response:
    repair_id = _path_id(request, "repair_id")
    task = await _cmdb(request).repair(repair_id)
    if task is None:
        raise ApiError(404, "unknown_repair", f"no repair {repair_id}", field="repair_id")
    return web.json_response(repair_view(task))


@problem_details
async def step_repair(request: web.Request) -> web.Response:
    """One step of the repair's state machine; the item's status follows it."""
    cmdb = _cmdb(request)
    actor = principal(request).username
    repair_id = _path_id(request, "repair_id")
    body = await parse_body(request, RepairStepBody)
    step = Step(RepairAction(body.action), _cents(body.amount), body.approved_by)
    try:
        task, item = await cmdb.step_repair(repair_id, step, actor=actor, now=now_of(request))
    except (NotFound, RepairError) as exc:
        raise _domain_error(exc) from None
    return web.json_response({**repair_view(task), "item": item_view(item, now_of(request).date())})


def _cents(amount: float | None) -> int | None:
    if amount is None:
        return None
    exact = Decimal(str(amount)) * 100
    if exact != exact.to_integral_value():
        raise ApiError(400, "invalid_body", "amount: at most two decimals", field="amount")
    return int(exact)
