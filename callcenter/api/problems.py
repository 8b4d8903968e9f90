"""Problem management under /api/v1/problems, and the known errors of a ticket.

Everyone with a token lists open problems and sees the workarounds that apply to a
ticket; supervisors and admins run the scan on demand and mark known errors. Client
errors are problem details (RFC 9457) naming the field at fault.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, StringConstraints

from callcenter.api.auth import principal, supervises
from callcenter.api.bodies import id_param, parse_body
from callcenter.api.deps import DEPS, MAX_ID, now_of, sql_store
from callcenter.api.errors import ApiError, problem_details
from callcenter.api.views import iso
from callcenter.api.websocket.screen_pop import known_error_view
from callcenter.problems.store import Problem, ScanResult, SqlProblems
from callcenter.tickets.service_monitor import ProblemScanner

#: The scanner the composition root runs periodically, with the configured threshold and
#: window; without it (tests, tools) a scan uses the defaults.
SCANNER = web.AppKey("problem_scanner", ProblemScanner)


class KnownErrorBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    workaround: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)
    ]


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/problems", list_problems)
    app.router.add_post("/api/v1/problems/scan", scan_problems)
    app.router.add_put("/api/v1/problems/{problem_id}/known-error", mark_known_error)
    app.router.add_get("/api/v1/tickets/{ticket_id}/known-errors", ticket_known_errors)


def _scanner(request: web.Request) -> ProblemScanner:
    scanner = request.app.get(SCANNER)
    if scanner is None:
        scanner = ProblemScanner(sql_store(request), request.app[DEPS].clock)
    return scanner


def _supervisor(request: web.Request, what: str) -> str:
    who = principal(request)
    if not supervises(who):
        raise ApiError(403, "forbidden", f"only supervisors and admins {what}")
    return who.username


def problem_view(problem: Problem) -> dict[str, Any]:
    return {
        "id": problem.id,
        "status": problem.status.value,
        "subject": problem.subject,
        "dimension": problem.dimension.value,
        "key": problem.key,
        "created_at": iso(problem.created_at),
        "incident_count": problem.incident_count,
        "known_error": problem.known_error,
        "workaround": problem.workaround,
        "known_error_at": iso(problem.known_error_at),
        "known_error_by": problem.known_error_by,
    }


def scan_view(result: ScanResult) -> dict[str, Any]:
    return {
        "created": [
            {
                "id": problem_id,
                "dimension": proposal.dimension.value,
                "key": proposal.key,
                "incident_ids": list(proposal.incident_ids),
            }
            for problem_id, proposal in result.created
        ],
        "linked": [
            {"problem_id": problem_id, "incident_ids": list(ids)}
            for problem_id, ids in sorted(result.linked.items())
        ],
    }


@problem_details
async def list_problems(request: web.Request) -> web.Response:
    """Open problems (not closed or cancelled), newest first, with linked incident counts."""
    problems = await SqlProblems(sql_store(request)).open_problems()
    return web.json_response({"problems": [problem_view(p) for p in problems]})


@problem_details
async def scan_problems(request: web.Request) -> web.Response:
    """Run the problem scan now; what it opened and linked (both empty when nothing new)."""
    actor = _supervisor(request, "run the problem scan")
    scanner = _scanner(request)
    result = await scanner.scan(now_of(request), actor=actor)
    body = scan_view(result)
    body["threshold"] = scanner.threshold
    body["window_days"] = scanner.window / timedelta(days=1)
    return web.json_response(body)


@problem_details
async def mark_known_error(request: web.Request) -> web.Response:
    actor = _supervisor(request, "mark known errors")
    problem_id = id_param(request, "problem_id")
    body = await parse_body(request, KnownErrorBody)
    problem = (
        await SqlProblems(sql_store(request)).mark_known_error(
            problem_id, body.workaround, actor, now_of(request)
        )
        if problem_id <= MAX_ID
        else None
    )
    if problem is None:
        raise ApiError(404, "unknown_problem", f"no problem {problem_id}", field="problem_id")
    return web.json_response(problem_view(problem))


@problem_details
async def ticket_known_errors(request: web.Request) -> web.Response:
    """The workarounds of known errors on the ticket's item, model or category."""
    store = sql_store(request)
    ticket_id = id_param(request, "ticket_id")
    if ticket_id > MAX_ID or await store.ticket(ticket_id) is None:
        raise ApiError(404, "unknown_ticket", f"no ticket {ticket_id}", field="ticket_id")
    found = await SqlProblems(store).known_errors_for_ticket(ticket_id)
    return web.json_response(
        {"ticket_id": ticket_id, "known_errors": [known_error_view(k) for k in found]}
    )
