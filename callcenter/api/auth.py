"""Login, and the bearer-token gate in front of every protected route.

The gate is a middleware and protection is the default: a route is public only if the
application lists its handler as such, so a new route cannot forget to check the token.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Collection

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from callcenter.accounts.service import AccountService
from callcenter.accounts.store import SqlAccounts
from callcenter.api.bodies import LoginBody, parse_body
from callcenter.api.deps import DEPS, DUMMY_PASSWORD_HASH, PRINCIPAL, sql_store
from callcenter.api.errors import ApiError
from callcenter.auth.passwords import verify_password
from callcenter.auth.throttle import LoginThrottle
from callcenter.auth.tokens import Principal
from callcenter.tickets.records import Role

#: Sign-ins, failures and lock-outs, for the audit trail of whoever runs the desk.
audit = logging.getLogger("callcenter.audit")
THROTTLE = web.AppKey("login_throttle", LoginThrottle)

#: Unmatched paths under this prefix still need a token, so probing reveals no routes.
PROTECTED_PREFIX = "/api/"
SUPERVISING_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})


def bearer_auth(public: Collection[Handler]) -> Middleware:
    """Require a valid token on every route whose handler is not in `public`."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if _is_public(request, public):
            return await handler(request)
        principal = await _bearer_principal(request)
        if principal is None:
            raise ApiError(
                401,
                "unauthorized",
                "a valid bearer token is required",
                headers={"WWW-Authenticate": "Bearer"},
            )
        request[PRINCIPAL] = principal
        return await handler(request)

    return middleware


def _is_public(request: web.Request, public: Collection[Handler]) -> bool:
    match_info = request.match_info
    if match_info.http_exception is not None:  # no route: 404 or 405 comes next
        path = request.path
        return not (path.startswith(PROTECTED_PREFIX) or path == PROTECTED_PREFIX.rstrip("/"))
    return match_info.handler in public


async def _bearer_principal(request: web.Request) -> Principal | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return await request.app[DEPS].gate.principal(token.strip())


def principal(request: web.Request) -> Principal:
    """The caller of a protected route (the middleware guarantees there is one)."""
    return request[PRINCIPAL]


def supervises(who: Principal) -> bool:
    return who.role in SUPERVISING_ROLES


async def login(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    throttle = request.app[THROTTLE]
    body = await parse_body(request, LoginBody)
    source = request.remote or "unknown"
    wait = throttle.wait(body.username, source)
    if wait > 0:  # before the password is checked: a locked-out guesser costs no scrypt
        audit.warning("login refused for %r from %s: locked out", body.username, source)
        raise ApiError(
            429,
            "too_many_attempts",
            "too many wrong passwords; try again later",
            headers={"Retry-After": str(math.ceil(wait))},
        )
    account = await deps.store.agent_account(body.username)
    # Unknown users are checked against a dummy hash: the reply time does not tell
    # an attacker which usernames exist.
    stored = account.password_hash if account else request.app[DUMMY_PASSWORD_HASH]
    matches = await asyncio.to_thread(verify_password, body.password, stored)
    if account is not None and matches and not account.active:
        audit.warning("login refused for %r from %s: account disabled", body.username, source)
        raise ApiError(401, "invalid_credentials", "unknown username or wrong password")
    if account is None or not matches:
        locked = throttle.failed(body.username, source)
        audit.warning("login failed for %r from %s", body.username, source)
        for what in locked:
            audit.warning(
                "login locked out for %s (%r from %s) for %.0f s",
                what,
                body.username,
                source,
                throttle.policy.lockout_seconds,
            )
        raise ApiError(401, "invalid_credentials", "unknown username or wrong password")
    throttle.succeeded(body.username)
    audit.info("login of %s (%s) from %s", account.username, account.role.value, source)
    token = deps.tokens.issue(account.username, account.role, account.token_version)
    return web.json_response({"token": token, "role": account.role.value})


async def logout(request: web.Request) -> web.Response:
    """Void every token of the caller's account, this one included (all its devices)."""
    who = principal(request)
    await AccountService(SqlAccounts(sql_store(request)), request.app[DEPS].clock).logout(
        who.username
    )
    audit.info("logout of %s", who.username)
    return web.Response(status=204)
