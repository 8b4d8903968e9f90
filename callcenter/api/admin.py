"""Agent administration under /api/v1: queue memberships (level, penalty) and skills.

Supervisors and admins only. A change is written to the database first, so a restart
keeps it, then handed to the ACD store as a command, so it routes calls at once in every
process sharing the ACD. The database's account, not the request, is what the command
carries: the ACD ends up as the database says.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from aiohttp import web

from callcenter.acd.commands import SetMembership, SetSkills
from callcenter.acd.errors import UnknownAgent
from callcenter.acd.model import Agent
from callcenter.api.auth import principal, supervises
from callcenter.api.bodies import MembershipBody, MembershipsBody, SkillsBody, parse_body
from callcenter.api.deps import DEPS, ApiDeps
from callcenter.api.errors import ApiError
from callcenter.api.views import agent_admin_view, queue_member_view
from callcenter.tickets.records import AgentAccount, QueueMembership, Role

#: One change at a time in this process, from its database write to its command: the
#: ACD then applies the changes in the order the database took them.
ADMIN_LOCK = web.AppKey("agent_admin_lock", asyncio.Lock)


def add_routes(app: web.Application) -> None:
    app[ADMIN_LOCK] = asyncio.Lock()
    app.router.add_get("/api/v1/agents/{username}", get_agent)
    app.router.add_put("/api/v1/agents/{username}/memberships", put_memberships)
    app.router.add_put("/api/v1/agents/{username}/skills", put_skills)
    app.router.add_get("/api/v1/queues/{name}/agents", get_queue_agents)
    app.router.add_put("/api/v1/queues/{name}/agents/{username}", put_queue_agent)
    app.router.add_delete("/api/v1/queues/{name}/agents/{username}", delete_queue_agent)


def membership_command(account: AgentAccount, queue_names: Iterable[str]) -> SetMembership:
    """The command that gives the ACD the account's memberships in configured queues
    (a queue since removed from the configuration is skipped, as at start-up)."""
    configured = set(queue_names)
    return SetMembership(
        account.username,
        {q: (m.level, m.penalty) for q, m in account.memberships.items() if q in configured},
    )


# ----- agents -----------------------------------------------------------------------------


async def get_agent(request: web.Request) -> web.Response:
    deps = _supervisor(request)
    account = await _agent_account(deps, request.match_info["username"])
    return _agent_reply(deps, account)


async def put_memberships(request: web.Request) -> web.Response:
    deps = _supervisor(request)
    body = await parse_body(request, MembershipsBody)
    _known_queues(deps, body.queues, "queues")
    username = request.match_info["username"]
    await _agent_account(deps, username)
    wanted = {q: QueueMembership(m.level, m.penalty) for q, m in body.queues.items()}
    async with request.app[ADMIN_LOCK]:
        account = _found(username, await deps.store.set_agent_memberships(username, wanted))
        await _apply_memberships(deps, account)
    return _agent_reply(deps, account)


async def put_skills(request: web.Request) -> web.Response:
    deps = _supervisor(request)
    body = await parse_body(request, SkillsBody)
    username = request.match_info["username"]
    await _agent_account(deps, username)
    async with request.app[ADMIN_LOCK]:
        account = _found(username, await deps.store.set_agent_skills(username, body.skills))
        if _live(deps, username) is not None:
            await deps.change_acd(SetSkills(username, dict(account.skills)))
    return _agent_reply(deps, account)


# ----- queues -----------------------------------------------------------------------------


async def get_queue_agents(request: web.Request) -> web.Response:
    deps = _supervisor(request)
    name = _queue(deps, request)
    return web.json_response(await _queue_members(deps, name))


async def put_queue_agent(request: web.Request) -> web.Response:
    deps = _supervisor(request)
    name = _queue(deps, request)
    body = await parse_body(request, MembershipBody, optional=True)
    await _change_member(request, deps, name, QueueMembership(body.level, body.penalty))
    return web.json_response(await _queue_members(deps, name))


async def delete_queue_agent(request: web.Request) -> web.Response:
    deps = _supervisor(request)
    name = _queue(deps, request)
    await _change_member(request, deps, name, None)
    return web.json_response(await _queue_members(deps, name))


async def _change_member(
    request: web.Request, deps: ApiDeps, queue: str, membership: QueueMembership | None
) -> None:
    username = request.match_info["username"]
    await _agent_account(deps, username)
    async with request.app[ADMIN_LOCK]:
        account = await deps.store.set_agent_membership(username, queue, membership)
        await _apply_memberships(deps, _found(username, account))


async def _queue_members(deps: ApiDeps, queue: str) -> dict[str, object]:
    now = deps.clock.now()
    members = [
        queue_member_view(account, queue, _live(deps, account.username), now)
        for account in await deps.store.agent_accounts()
        if account.role is Role.AGENT and queue in account.memberships
    ]
    return {"queue": queue, "agents": members}


# ----- checks and helpers -----------------------------------------------------------------


def _supervisor(request: web.Request) -> ApiDeps:
    if not supervises(principal(request)):
        raise ApiError(403, "forbidden", "only supervisors and admins may administer agents")
    return request.app[DEPS]


async def _agent_account(deps: ApiDeps, username: str) -> AgentAccount:
    """The account of an ACD agent (role `agent`); 404 for anyone else."""
    account = await deps.store.agent_account(username)
    if account is None or account.role is not Role.AGENT:
        raise ApiError(404, "unknown_agent", f"no agent {username!r}")
    return account


def _found(username: str, account: AgentAccount | None) -> AgentAccount:
    """A write's account: None means it was deleted since it was looked up."""
    if account is None:
        raise ApiError(404, "unknown_agent", f"no agent {username!r}")
    return account


def _queue(deps: ApiDeps, request: web.Request) -> str:
    name = request.match_info["name"]
    if name not in deps.acd.queue_names:
        raise ApiError(404, "unknown_queue", f"no queue {name!r}")
    return name


def _known_queues(deps: ApiDeps, names: Iterable[str], field: str) -> None:
    configured = deps.acd.queue_names
    unknown = sorted(set(names) - set(configured))
    if unknown:
        raise ApiError(
            400,
            "unknown_queue",
            f"{field}: no queue {unknown[0]!r} (configured: {', '.join(configured)})",
        )


def _live(deps: ApiDeps, username: str) -> Agent | None:
    """The agent in the ACD; None when the ACD does not have it (added after start)."""
    try:
        return deps.acd.agent(username)
    except UnknownAgent:
        return None


async def _apply_memberships(deps: ApiDeps, account: AgentAccount) -> None:
    if _live(deps, account.username) is not None:
        await deps.change_acd(membership_command(account, deps.acd.queue_names))


def _agent_reply(deps: ApiDeps, account: AgentAccount) -> web.Response:
    now = deps.clock.now()
    return web.json_response(agent_admin_view(account, _live(deps, account.username), now))
