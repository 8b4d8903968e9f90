"""One error envelope for every failure: `{"error": {"code": ..., "message": ...}}`.

Handlers raise `ApiError` or let domain errors through; the middleware here is the only
place that turns them, aiohttp's own HTTP errors and crashes into replies. Newer resources
(the knowledge base) answer client errors as RFC 9457 problem details instead
(`application/problem+json`, naming the field at fault): their handlers are wrapped in
`problem_details`, which turns an `ApiError` into a `Problem`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from http import HTTPStatus

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
        self,
        status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
        *,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})
        #: The request field at fault (`title`, `limit`, `body`), when there is one.
        self.field = field


class Problem(ApiError):
    """An `ApiError` answered as RFC 9457 problem details."""

    @classmethod
    def of(cls, error: ApiError) -> Problem:
        return cls(error.status, error.code, error.message, error.headers, field=error.field)


#: Problem types are relative URIs under this path, one per error code (RFC 9457 3.1.1).
PROBLEM_TYPE_BASE = "/problems/"
PROBLEM_JSON = "application/problem+json"


def problem_details(handler: Handler) -> Handler:
    """Answer the handler's client errors (4xx `ApiError`s) as problem details."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except Problem:
            raise
        except ApiError as exc:
            if exc.status >= 500:
                raise
            raise Problem.of(exc) from None

    return wrapped


def problem_response(problem: Problem) -> web.Response:
    """`{"type", "title", "status", "detail", "code", "field"}`; `field` null if none."""
    body = {
        "type": PROBLEM_TYPE_BASE + problem.code,
        "title": HTTPStatus(problem.status).phrase,
        "status": problem.status,
        "detail": problem.message,
        "code": problem.code,
        "field": problem.field,
    }
    return web.json_response(
        body, status=problem.status, headers=problem.headers, content_type=PROBLEM_JSON
    )


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
    except Problem as exc:
        return problem_response(exc)
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
