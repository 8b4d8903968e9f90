"""Desk resources under /api/v1: agents, queues, calls (tickets: `tickets.py`).

Each handler checks who may ask, calls the ACD or the store, and shapes the reply;
the middlewares have already checked the token and will map errors.
"""

from __future__ import annotations

from aiohttp import web

from callcenter.acd.commands import SetAgentState
from callcenter.acd.model import AgentState
from callcenter.api.auth import principal, supervises
from callcenter.api.bodies import AgentStateBody, int_param, parse_body
from callcenter.api.deps import DEPS
from callcenter.api.errors import ApiError
from callcenter.api.views import (
    agent_state_view,
    agent_view,
    call_view,
    event_view,
    queue_view,
)

DEFAULT_CALLS_LIMIT = 50
MAX_CALLS_LIMIT = 500


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/agents", list_agents)
    app.router.add_put("/api/v1/agents/{username}/state", set_agent_state)
    app.router.add_get("/api/v1/queues", list_queues)
    app.router.add_get("/api/v1/calls", list_calls)
    app.router.add_get("/api/v1/calls/{call_id}/events", call_events)


async def list_agents(request: web.Request) -> web.Response:
    """Supervisors see the whole desk, an agent only itself."""
    deps, who = request.app[DEPS], principal(request)
    agents = deps.acd.agents
    if not supervises(who):
        agents = [a for a in agents if a.agent_id == who.username]
    now = deps.clock.now()
    views = [agent_view(a, now) for a in sorted(agents, key=lambda a: a.agent_id)]
    return web.json_response({"agents": views})


async def set_agent_state(request: web.Request) -> web.Response:
    deps, who = request.app[DEPS], principal(request)
    username = request.match_info["username"]
    if username != who.username and not supervises(who):
        raise ApiError(403, "forbidden", "agents may change only their own state")
    body = await parse_body(request, AgentStateBody)
    await deps.change_acd(SetAgentState(username, AgentState(body.state), body.reason))
    return web.json_response(agent_state_view(deps.acd.agent(username)))


async def list_queues(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    now = deps.clock.now()
    return web.json_response(
        {"queues": [queue_view(deps.acd, name, now) for name in deps.acd.queue_names]}
    )


async def list_calls(request: web.Request) -> web.Response:
    """Newest first; an agent sees only the calls it took."""
    deps, who = request.app[DEPS], principal(request)
    limit = int_param(request, "limit", DEFAULT_CALLS_LIMIT, 1, MAX_CALLS_LIMIT)
    if supervises(who):
        records = await deps.store.recent_calls(limit)
    else:
        # The store has no per-agent query: filter the most recent calls it keeps.
        recent = await deps.store.recent_calls(MAX_CALLS_LIMIT)
        records = [r for r in recent if r.agent == who.username][:limit]
    return web.json_response({"calls": [call_view(r) for r in records]})


async def call_events(request: web.Request) -> web.Response:
    """The ACD's history of one call (the queue log); an agent only for calls it took."""
    deps, who = request.app[DEPS], principal(request)
    call_id = request.match_info["call_id"]
    record = await deps.store.call_record(call_id) if len(call_id) <= 36 else None
    if record is None or not (supervises(who) or record.agent == who.username):
        raise ApiError(404, "unknown_call", f"no call {call_id!r}")
    events = await deps.store.acd_events(call_id)
    return web.json_response({"call": call_id, "events": [event_view(e) for e in events]})
