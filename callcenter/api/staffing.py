"""Staffing calculators under /api/v1/staffing: Erlang C and the service-desk plan.

Read-only arithmetic for managers: any authenticated role may ask. The replies are the
same JSON as `callcenter staffing ... --json`. Every parameter has a bounded range (the
domain checks it before any work starts), and the search runs in the API's worker thread
with a deadline, never on the event loop.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from aiohttp import web

from callcenter.api.errors import ApiError
from callcenter.api.worker import WORKER
from callcenter.planning.erlang import InvalidInput, Workload, required_agents, requirement_view
from callcenter.planning.sizing import Client, PhoneService, plan_desk, plan_view

#: Plain decimals only: "nan", "inf", "1e400" and "1_0" are not numbers a form sends.
_DECIMAL = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,12})?")
_WHOLE = re.compile(r"[0-9]{1,12}")
#: Domain parameter names whose query name differs; the rest are the same.
_QUERY_NAME = {"aht_seconds": "aht", "answer_within_seconds": "answer_within"}

ERLANG_PARAMS = frozenset(
    {"calls", "interval_minutes", "aht", "answer_within", "target", "shrinkage", "max_occupancy"}
)
PLAN_PARAMS = frozenset(
    {
        "pcs",
        "printers",
        "peripherals",
        "working_days",
        "service_hours",
        "pc_interval_months",
        "peripheral_interval_months",
        "aht",
        "answer_within",
        "target",
        "shrinkage",
        "max_occupancy",
    }
)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/staffing/erlang", erlang)
    app.router.add_get("/api/v1/staffing/plan", plan)


async def erlang(request: web.Request) -> web.Response:
    query = _Query(request, ERLANG_PARAMS)
    try:
        workload = Workload(
            calls=query.number("calls"),
            interval_minutes=query.number("interval_minutes"),
            aht_seconds=query.number("aht"),
            answer_within_seconds=query.number("answer_within"),
            target=query.number("target"),
            shrinkage=query.number("shrinkage", 0.0),
            max_occupancy=query.optional_number("max_occupancy"),
        )
        view = await request.app[WORKER].run(_size, workload)
    except InvalidInput as exc:
        raise _invalid(exc) from None
    return web.json_response(view)


async def plan(request: web.Request) -> web.Response:
    query = _Query(request, PLAN_PARAMS)
    client_defaults, service_defaults = Client(pcs=1), PhoneService()
    try:
        client = Client(
            pcs=query.whole("pcs"),
            printers=query.whole("printers"),
            peripherals=query.whole("peripherals", client_defaults.peripherals),
            working_days=query.number("working_days", client_defaults.working_days),
            service_hours=query.number("service_hours", client_defaults.service_hours),
            pc_interval_months=query.number(
                "pc_interval_months", client_defaults.pc_interval_months
            ),
            peripheral_interval_months=query.number(
                "peripheral_interval_months", client_defaults.peripheral_interval_months
            ),
        )
        service = PhoneService(
            aht_seconds=query.number("aht", service_defaults.aht_seconds),
            answer_within_seconds=query.number(
                "answer_within", service_defaults.answer_within_seconds
            ),
            target=query.number("target", service_defaults.target),
            shrinkage=query.number("shrinkage", service_defaults.shrinkage),
            max_occupancy=query.optional_number("max_occupancy"),
        )
        view = await request.app[WORKER].run(_plan, client, service)
    except InvalidInput as exc:
        raise _invalid(exc) from None
    return web.json_response(view)


def _size(workload: Workload) -> dict[str, object]:
    return requirement_view(required_agents(workload))


def _plan(client: Client, service: PhoneService) -> dict[str, object]:
    return plan_view(plan_desk(client, service))


class _Query:
    """The query string, checked whole: unknown or repeated names are typos to report."""

    def __init__(self, request: web.Request, allowed: Collection[str]) -> None:
        self._query = request.query
        for name in self._query:
            if name not in allowed:
                raise _bad(name, f"unknown parameter; expected one of {', '.join(sorted(allowed))}")
            if len(self._query.getall(name)) > 1:
                raise _bad(name, "given more than once")

    def number(self, name: str, default: float | None = None) -> float:
        value = self.optional_number(name)
        if value is not None:
            return value
        if default is None:
            raise _bad(name, "required")
        return default

    def optional_number(self, name: str) -> float | None:
        raw = self._query.get(name)
        if raw is None:
            return None
        if not _DECIMAL.fullmatch(raw):
            raise _bad(name, "must be a non-negative decimal number, e.g. 0.85")
        return float(raw)

    def whole(self, name: str, default: int | None = None) -> int:
        raw = self._query.get(name)
        if raw is None:
            if default is None:
                raise _bad(name, "required")
            return default
        if not _WHOLE.fullmatch(raw):
            raise _bad(name, "must be a whole number, 0 or more")
        return int(raw)


def _invalid(exc: InvalidInput) -> ApiError:
    return _bad(_QUERY_NAME.get(exc.parameter, exc.parameter), exc.reason)


def _bad(name: str, reason: str) -> ApiError:
    return ApiError(400, "invalid_query", f"{name}: {reason}")
