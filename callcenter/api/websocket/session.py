"""One console connection, supervised (the wazo-websocketd shape).

After authentication, four sibling tasks run: receive (requests in, replies queued),
send (the queue out to the socket), ping (the peer must answer each ping before the
next), auth-check (the token must stay valid). A fifth waits for the hub asking the
session to stop. The first task to finish decides the close code; the others are
cancelled and awaited, and only then is the socket closed and the hub told.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web
from aiohttp.http_websocket import WebSocketError

from callcenter.api.auth import SUPERVISING_ROLES
from callcenter.api.errors import ApiError
from callcenter.api.websocket import handlers
from callcenter.api.websocket.hub import Hub, Outgoing
from callcenter.api.websocket.protocol import (
    Close,
    ProtocolError,
    Role,
    error,
    ok,
    parse,
    request_id_of,
)
from callcenter.auth.tokens import Principal
from callcenter.tickets.records import Role as AccountRole

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Closing:
    code: int
    reason: str


async def open_socket(
    request: web.Request, hub: Hub, role: Role, refusal: str, **options: Any
) -> tuple[web.WebSocketResponse, Principal | None]:
    """Check the Origin, upgrade, authenticate and check the role: the socket and who
    opened it, or the socket already closed (None) with the close code and reason.
    `options` go to the WebSocketResponse (autoping, heartbeat)."""
    origin = request.headers.get("Origin")
    if origin is not None and origin not in hub.config.allowed_origins:
        # Refused before the upgrade: a page from another site gets no socket at all.
        raise ApiError(403, "origin_not_allowed", "this Origin may not open a console")
    ws = web.WebSocketResponse(
        timeout=hub.config.close_timeout_seconds,
        max_msg_size=hub.config.max_message_bytes,
        compress=False,
        **options,
    )
    if not ws.can_prepare(request).ok:
        raise ApiError(
            426, "upgrade_required", "this is a WebSocket endpoint", {"Upgrade": "websocket"}
        )
    await ws.prepare(request)
    found = await authenticate(ws, request, hub)
    if isinstance(found, Closing):
        await ws.close(code=found.code, message=found.reason.encode())
        return ws, None
    if not may_use(role, found):
        await ws.close(code=Close.FORBIDDEN, message=refusal.format(role=found.role.value).encode())
        return ws, None
    return ws, found


def may_use(role: Role, principal: Principal) -> bool:
    if role is Role.AGENT:
        return principal.role is AccountRole.AGENT
    return principal.role in SUPERVISING_ROLES


async def authenticate(
    ws: web.WebSocketResponse, request: web.Request, hub: Hub
) -> Principal | Closing:
    """The Authorization header's token, else the first message's; a Closing if neither."""
    try:
        return await _authenticate(ws, request, hub)
    except Exception as exc:  # the account database cannot answer: the client retries
        log.warning("console sign-in not checked: %s", exc)
        return Closing(Close.TRY_AGAIN_LATER, "accounts unavailable; try again later")


async def _authenticate(
    ws: web.WebSocketResponse, request: web.Request, hub: Hub
) -> Principal | Closing:
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer":
            return Closing(Close.UNAUTHORIZED, "unsupported authorization scheme")
        found = await hub.gate.principal(token.strip())
        return found or Closing(Close.UNAUTHORIZED, "invalid or expired token")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + hub.config.auth_timeout_seconds
    while True:
        try:
            async with asyncio.timeout_at(deadline):
                msg = await ws.receive()
        except TimeoutError:
            return Closing(Close.UNAUTHORIZED, "no auth message in time")
        if msg.type is WSMsgType.PING:
            await ws.pong(msg.data)
            continue
        if msg.type is WSMsgType.PONG:
            continue
        if msg.type is WSMsgType.ERROR:
            return Closing(getattr(msg.data, "code", Close.UNAUTHORIZED), "bad first frame")
        if msg.type is not WSMsgType.TEXT:
            return Closing(Close.UNAUTHORIZED, "the first message must be an auth message")
        sent = _auth_token(msg.data)
        if sent is None:
            return Closing(Close.UNAUTHORIZED, "the first message must be an auth message")
        found = await hub.gate.principal(sent)
        return found or Closing(Close.UNAUTHORIZED, "invalid or expired token")


def _auth_token(raw: str) -> str | None:
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("type") != "auth":
        return None
    token = data.get("token")
    return token if isinstance(token, str) else None


class Session:
    """An authenticated console; the hub reaches it through `push`, `reset`, `close`."""

    def __init__(
        self, ws: web.WebSocketResponse, hub: Hub, role: Role, principal: Principal
    ) -> None:
        self._ws = ws
        self._hub = hub
        self._role = role
        self._principal = principal
        self._outbox: asyncio.Queue[Outgoing] = asyncio.Queue(hub.config.send_queue_size)
        self._stop = asyncio.Event()
        self._stop_with = Closing(Close.NORMAL, "")
        loop = asyncio.get_running_loop()
        self._last_pong = loop.time()
        self._ping_sent: float | None = None

    # ----- what the hub sees ---------------------------------------------------------

    @property
    def role(self) -> Role:
        return self._role

    @property
    def principal(self) -> Principal:
        return self._principal

    def push(self, item: Outgoing) -> bool:
        if self._stop.is_set():
            return True  # closing: nothing more goes out, and that is not the client's fault
        try:
            self._outbox.put_nowait(item)
        except asyncio.QueueFull:
            return False
        return True

    def reset(self, message: Outgoing) -> None:
        while not self._outbox.empty():
            self._outbox.get_nowait()
        self._outbox.put_nowait(message)

    def close(self, code: Close, reason: str) -> None:
        if not self._stop.is_set():
            self._stop_with = Closing(code, reason)
            self._stop.set()

    # ----- the supervisor ------------------------------------------------------------

    async def run(self) -> Closing:
        """Serve until one loop ends; returns how the socket was closed."""
        self._hub.attach(self)
        try:
            closing = await self._supervise()
        finally:
            self._hub.detach(self)
        if not self._ws.closed:
            await self._ws.close(code=closing.code, message=closing.reason.encode())
        return closing

    async def _supervise(self) -> Closing:
        loops = {
            asyncio.create_task(self._receive(), name="ws-receive"),
            asyncio.create_task(self._send(), name="ws-send"),
            asyncio.create_task(self._ping(), name="ws-ping"),
            asyncio.create_task(self._check_auth(), name="ws-auth-check"),
            asyncio.create_task(self._stopped(), name="ws-stop"),
        }
        try:
            done, _ = await asyncio.wait(loops, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in loops:
                task.cancel()
            await asyncio.gather(*loops, return_exceptions=True)
        first = next(iter(done))
        if first.cancelled():
            return Closing(Close.GOING_AWAY, "")
        exc = first.exception()
        if exc is not None:
            log.error("console session loop %s failed", first.get_name(), exc_info=exc)
            return Closing(Close.INTERNAL, "internal error")
        return first.result()

    async def _stopped(self) -> Closing:
        await self._stop.wait()
        return self._stop_with

    async def _receive(self) -> Closing:
        ws = self._ws
        while True:
            msg = await ws.receive()
            if msg.type is WSMsgType.TEXT:
                await self._on_text(msg.data)
            elif msg.type is WSMsgType.BINARY:
                self._reply(error(None, "invalid_message", "binary frames are not supported"))
            elif msg.type is WSMsgType.PING:
                await ws.pong(msg.data)
            elif msg.type is WSMsgType.PONG:
                self._last_pong = asyncio.get_running_loop().time()
            elif msg.type is WSMsgType.ERROR:
                exc = msg.data
                if isinstance(exc, WebSocketError):
                    reason = "message too big" if exc.code == Close.MESSAGE_TOO_BIG else str(exc)
                    return Closing(exc.code, reason)
                return Closing(Close.NORMAL, "connection lost")
            else:  # CLOSE, CLOSING, CLOSED
                return Closing(ws.close_code or Close.NORMAL, "closed by the client")

    async def _on_text(self, raw: str) -> None:
        try:
            request = parse(raw, self._role)
        except ProtocolError as exc:
            request_id = exc.request_id if exc.request_id is not None else request_id_of(raw)
            self._reply(error(request_id, exc.code, exc.message))
            return
        if request.type == "auth":
            self._reply(await self._refresh(request.id, request.text("token")))
            return
        if not await still_holds(self._hub, self._principal):
            # Revoked since the last check: nothing more is done in its name.
            self._reply(error(request.id, "unauthorized", "the token was revoked"))
            self.close(Close.UNAUTHORIZED, "token revoked")
            return
        self._reply(await handlers.handle(self._hub, self._role, self._principal.username, request))

    async def _refresh(self, request_id: Any, token: str) -> dict[str, Any]:
        """A new token on an open connection: same user and role, later expiry."""
        found = await self._hub.gate.principal(token)
        if found is None:
            return error(request_id, "unauthorized", "invalid or expired token")
        if found.username != self._principal.username or found.role is not self._principal.role:
            return error(request_id, "forbidden", "the token is for another account")
        self._principal = found
        return ok(request_id, {"expires_at": found.expires_at})

    def _reply(self, message: dict[str, Any]) -> None:
        if not self.push(message):
            self.close(Close.TOO_SLOW, "the console reads too slowly")

    async def _send(self) -> Closing:
        while True:
            item = await self._outbox.get()
            message = item if isinstance(item, dict) else await item.message()
            try:
                await self._ws.send_str(json.dumps(message))
            except (ConnectionError, RuntimeError):
                return Closing(Close.NORMAL, "connection lost")

    async def _ping(self) -> Closing:
        interval = self._hub.config.ping_interval_seconds
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(interval)
            if self._ping_sent is not None and self._last_pong < self._ping_sent:
                return Closing(Close.PING_TIMEOUT, "no pong in time")
            self._ping_sent = loop.time()
            try:
                await self._ws.ping()
            except (ConnectionError, RuntimeError):
                return Closing(Close.NORMAL, "connection lost")

    async def _check_auth(self) -> Closing:
        return await until_void(self._hub, lambda: self._principal)


async def until_void(hub: Hub, principal: Callable[[], Principal]) -> Closing:
    """Return once the socket's token stops counting: expired, or revoked in its account
    (checked every `auth_check_interval_seconds`, so an idle socket is closed too)."""
    while True:
        await asyncio.sleep(hub.config.auth_check_interval_seconds)
        current = principal()
        if hub.clock.now() >= current.expires_at:
            return Closing(Close.UNAUTHORIZED, "token expired")
        if not await still_holds(hub, current):
            return Closing(Close.UNAUTHORIZED, "token revoked")


async def still_holds(hub: Hub, principal: Principal) -> bool:
    """Whether the account still stands behind an open socket's token. While the
    database cannot answer, yes: nothing can revoke a token then either, and an outage
    must not close every console in the middle of its calls."""
    try:
        return await hub.gate.holds(principal)
    except Exception as exc:
        log.debug("token of %s not checked: %s", principal.username, exc)
        return True
