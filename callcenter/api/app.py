"""The aiohttp application: routes, middlewares and dependencies in one place."""

from __future__ import annotations

import secrets

from aiohttp import web
from aiohttp.typedefs import Handler

from callcenter import console
from callcenter.api import (
    admin,
    auth,
    cmdb,
    complaints,
    knowledge,
    locations,
    openapi,
    ops,
    organisations,
    problems,
    routes,
    staffing,
    tickets,
    websocket,
)
from callcenter.api.availability import availability
from callcenter.api.deps import DEPS, DUMMY_PASSWORD_HASH, ApiDeps
from callcenter.api.errors import ApiError, error_middleware
from callcenter.api.websocket import audio as websocket_audio
from callcenter.api.worker import add_worker
from callcenter.auth.passwords import hash_password
from callcenter.auth.throttle import LoginThrottle

#: No API body comes near this; bigger requests get 413 before a handler reads them.
MAX_BODY_BYTES = 64 * 1024


@web.middleware
async def refuse_big_bodies(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A declared body over the limit gets 413 before any handler, whether or not the
    handler would read it; the connection closes without the body being read."""
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise ApiError(
            413,
            "body_too_large",
            f"the request body is over {MAX_BODY_BYTES} bytes",
            headers={"Connection": "close"},
        )
    return await handler(request)


def build_app(deps: ApiDeps, hub: websocket.Hub | None = None) -> web.Application:
    """The REST API, and the consoles' WebSockets when a hub is given.

    The WebSocket handlers are public to the bearer gate: browsers cannot set an
    Authorization header on an upgrade, so the sockets check the token themselves
    (header or first message) and close with 4401 without one.
    """
    public = frozenset(
        {
            ops.healthz,
            ops.readyz,
            ops.metrics,
            auth.login,
            websocket.agent_socket,
            websocket.supervisor_socket,
            websocket_audio.audio_socket,
        }
    )
    public |= console.PUBLIC  # the consoles' static pages carry no data
    app = web.Application(
        # Outermost first: the error envelope also wraps the gate's 401.
        middlewares=[
            error_middleware,
            refuse_big_bodies,
            availability(deps.health),
            auth.bearer_auth(public),
        ],
        client_max_size=MAX_BODY_BYTES,
    )
    app[DEPS] = deps
    app[DUMMY_PASSWORD_HASH] = hash_password(secrets.token_urlsafe(24))
    add_worker(app)
    app[auth.THROTTLE] = LoginThrottle(deps.clock, deps.login_policy)
    app.router.add_get("/healthz", ops.healthz)
    app.router.add_get("/readyz", ops.readyz)
    app.router.add_get("/metrics", ops.metrics)
    app.router.add_post("/api/v1/auth/login", auth.login)
    app.router.add_post("/api/v1/auth/logout", auth.logout)
    routes.add_routes(app)
    tickets.add_routes(app)
    admin.add_routes(app)
    staffing.add_routes(app)
    knowledge.add_routes(app)
    cmdb.add_routes(app)
    problems.add_routes(app)
    complaints.add_routes(app)
    organisations.add_routes(app)
    locations.add_routes(app)
    openapi.add_routes(app)
    console.add_routes(app)
    if hub is not None:
        websocket.add_routes(app, hub)
    return app
