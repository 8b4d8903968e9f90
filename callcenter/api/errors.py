"""One error envelope for every failure: `{"error": {"code": ..., "message": ...}}`.

Handlers raise `ApiError` or let domain errors through; the middleware here is the only
place that turns them, aiohttp's own HTTP errors and crashes into replies.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from aiohttp import web
from aiohttp.typedefs import Handler

from callcenter.acd.errors import (
    AcdError,
    InvalidTransition,
    UnknownAgent,
    UnknownCall,
    UnknownPauseReason,
    UnknownQueue,
)

log = logging.getLogger(__name__)


class ApiError(Exception):
    """A reply the client caused; the message is safe to show it."""

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


#: Domain errors by how they read over HTTP; the first matching class wins.
DOMAIN_ERRORS: tuple[tuple[type[AcdError], int, str], ...] = (
    (UnknownAgent, 404, "unknown_agent"),
    (UnknownQueue, 404, "unknown_queue"),
    (UnknownCall, 404, "unknown_call"),
    (UnknownPauseReason, 400, "unknown_pause_reason"),
    (InvalidTransition, 409, "invalid_transition"),
    (AcdError, 409, "conflict"),
)

#: aiohttp's own errors (no route, wrong method, body too large) by envelope code.
HTTP_ERROR_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
}


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.json_response(
        {"error": {"code": code, "message": message}}, status=status, headers=headers
    )


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.code, exc.message, exc.headers)
    except AcdError as exc:
        status, code = next((s, c) for kind, s, c in DOMAIN_ERRORS if isinstance(exc, kind))
        return error_response(status, code, str(exc))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise  # redirects and the like pass through untouched
        code = HTTP_ERROR_CODES.get(exc.status, "http_error")
        kept = {k: v for k, v in exc.headers.items() if k.lower() == "allow"}
        return error_response(exc.status, code, exc.reason.lower(), kept)
    except Exception:
        # Details go to the log only: a traceback in a reply helps attackers, not users.
        log.exception("unhandled error in %s %s", request.method, request.path)
        return error_response(500, "internal", "internal error")
