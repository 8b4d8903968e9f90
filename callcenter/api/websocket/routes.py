"""`GET /ws/agent` and `GET /ws/supervisor`: check the Origin, upgrade, authenticate,
then hand the socket to a supervised `Session`.

The REST bearer gate must let these two handlers through (they are in `build_app`'s
public set): a browser cannot set headers on an upgrade, so the token may come in the
first message instead, and these handlers check it either way.
"""

from __future__ import annotations

from aiohttp import web

from callcenter.api.websocket import audio
from callcenter.api.websocket.hub import HUB, Hub
from callcenter.api.websocket.protocol import Close, Role
from callcenter.api.websocket.session import Session, open_socket

AGENT_PATH = "/ws/agent"
SUPERVISOR_PATH = "/ws/supervisor"


def add_routes(app: web.Application, hub: Hub) -> None:
    """The two endpoints, the hub's ticker for the application's life, and a 1001 close
    of every console at shutdown."""
    app[HUB] = hub
    app.router.add_get(AGENT_PATH, agent_socket, allow_head=False)
    app.router.add_get(SUPERVISOR_PATH, supervisor_socket, allow_head=False)
    app.router.add_get(audio.AUDIO_PATH, audio.audio_socket, allow_head=False)
    app.on_shutdown.append(audio.close_all)
    app.cleanup_ctx.append(hub.running)
    app.on_shutdown.append(hub.shutdown)


async def agent_socket(request: web.Request) -> web.StreamResponse:
    return await _serve(request, Role.AGENT)


async def supervisor_socket(request: web.Request) -> web.StreamResponse:
    return await _serve(request, Role.SUPERVISOR)


async def _serve(request: web.Request, role: Role) -> web.StreamResponse:
    hub = request.app[HUB]
    refusal = f"a {{role}} account cannot use the {role.value} console"
    ws, found = await open_socket(request, hub, role, refusal, autoping=False)
    if found is None:
        return ws
    if role is Role.AGENT and found.username not in {a.agent_id for a in hub.acd.agents}:
        await _refuse(ws, "this account is not an agent of the call distributor")
        return ws
    await Session(ws, hub, role, found).run()
    return ws


async def _refuse(ws: web.WebSocketResponse, reason: str) -> None:
    await ws.close(code=Close.FORBIDDEN, message=reason.encode())
