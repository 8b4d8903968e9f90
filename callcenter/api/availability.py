"""No API request waits on a dependency that is down, nor longer than a deadline.

While the readiness probes say the database fails, every `/api/` request is answered
503 at once (the token check alone needs the database). A database error met inside a
request is answered the same way and tells `Health` at once, before the next probe. Any
request still running after `REQUEST_DEADLINE_SECONDS` is cut off with 503.
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from callcenter.api.errors import ApiError
from callcenter.health import DATABASE, DependencyDown, Health

REQUEST_DEADLINE_SECONDS = 10.0
#: What a 503 tells the client: about the probes' pace, so a retry sees a new verdict.
RETRY_AFTER_SECONDS = 5
#: What a database that cannot be reached raises (the driver's connection errors).
DATABASE_DOWN = (OperationalError, InterfaceError, PoolTimeout, ConnectionError)


def unavailable(down: DependencyDown) -> ApiError:
    return ApiError(
        503,
        "dependency_unavailable",
        str(down),
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def availability(health: Health, deadline: float = REQUEST_DEADLINE_SECONDS) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith("/api/"):
            return await handler(request)  # health, metrics, the consoles' files
        failing = health.failing(DATABASE)
        if failing is not None:
            raise unavailable(DependencyDown(DATABASE, failing.detail))
        try:
            async with asyncio.timeout(deadline):
                return await handler(request)
        except DependencyDown as exc:
            raise unavailable(exc) from None
        except TimeoutError:
            raise ApiError(
                503,
                "deadline_exceeded",
                f"the request took more than {deadline:g} s",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            ) from None
        except DATABASE_DOWN as exc:
            detail = f"{type(exc).__name__}"
            health.report(DATABASE, False, detail)
            raise unavailable(DependencyDown(DATABASE, detail)) from None

    return middleware
