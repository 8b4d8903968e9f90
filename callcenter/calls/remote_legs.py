"""Requests on a call's SIP legs asked on one process while another process holds them.

Everything else a console asks goes to the shared ACD as a command, which the process
holding the legs follows. Hold, resume, a browser agent's accept (it answers the
browser leg ringing there) and DTMF act on the legs and have no ACD state, so the
request itself travels: it is published on the owning process's Redis channel
(`<prefix>:legs:<node id>`), that process runs it on its legs as if its own console had
asked, and pushes the outcome (nothing, or the refusal's code and message) on a list
the asking process waits on (`<prefix>:legs-reply:<request id>`, expiring).
A request nobody receives (the owner is gone) or nobody answers within `timeout` is
refused with `call_elsewhere`, as before this existed. Once the owner did a hold or a
resume, the asking process publishes `CallHoldChanged` on its own bus, so the consoles
connected to it (where the agent asked) learn the hold as they would for a call of their
own process; an accept shows as the ACD's answer, as for a call of their own process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from callcenter.api.websocket.control import CallControlError
from callcenter.clock import Clock

from .events import CallHoldChanged

log = logging.getLogger(__name__)

#: Runs a forwarded request on this process's legs: (op, agent id, call id, argument:
#: the digits of a `dtmf`, else "").
Handler = Callable[[str, str, str, str], Awaitable[None]]
OPS = ("hold", "resume", "accept", "dtmf")
_REPLY_TTL_SECONDS = 30
_RETRY_SECONDS = 1.0


class RemoteLegs:
    def __init__(
        self,
        url: str,
        prefix: str,
        node_id: str,
        owner_of: Callable[[str], str | None],
        publish: Callable[[CallHoldChanged], None],
        clock: Clock,
        timeout: float = 3.0,
    ) -> None:
        self._url, self._prefix, self._node_id = url, prefix, node_id
        self._owner_of = owner_of
        self._publish, self._clock = publish, clock
        self._timeout = timeout
        self._redis: aioredis.Redis | None = None
        self._handler: Handler | None = None
        self._task: asyncio.Task[None] | None = None
        self.forwarded = 0
        self.served = 0

    def serve(self, handler: Handler) -> None:
        self._handler = handler

    async def start(self) -> None:
        self._redis = aioredis.from_url(self._url, decode_responses=True)
        self._task = asyncio.get_running_loop().create_task(self._listen(), name="remote-legs")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._redis is not None:
            await self._redis.aclose()
            # A pub/sub or BLPOP connection cut off by the cancel is closed here, not by
            # the garbage collector later.
            await self._redis.connection_pool.disconnect(inuse_connections=True)

    def _channel(self, node_id: str) -> str:
        return f"{self._prefix}:legs:{node_id}"

    # ----- asking --------------------------------------------------------------------

    async def ask(self, op: str, agent_id: str, call_id: str, arg: str = "") -> None:
        """Run `op` on the process holding `call_id`'s legs; its refusal is raised here."""
        assert self._redis is not None
        owner = self._owner_of(call_id)
        if owner is None or owner == self._node_id:
            raise CallControlError(f"call {call_id!r} has no legs in any process", "unknown_call")
        reply_key = f"{self._prefix}:legs-reply:{uuid.uuid4().hex}"
        request = {"op": op, "agent": agent_id, "call": call_id, "arg": arg, "reply": reply_key}
        try:
            received = await self._redis.publish(self._channel(owner), json.dumps(request))
            if not received:
                raise CallControlError(
                    f"the process holding call {call_id!r} does not listen", "call_elsewhere"
                )
            answer: Any = await self._redis.blpop([reply_key], timeout=self._timeout)
        except RedisError as exc:
            message = f"cannot reach the call's process: {exc}"
            raise CallControlError(message, "call_elsewhere") from None
        if answer is None:
            raise CallControlError(
                f"the process holding call {call_id!r} did not answer", "call_elsewhere"
            )
        self.forwarded += 1
        outcome = json.loads(answer[1])
        if outcome.get("code"):
            raise CallControlError(str(outcome.get("message", "")), str(outcome["code"]))
        if op in ("hold", "resume"):
            self._publish(CallHoldChanged(self._clock.now(), call_id, agent_id, op == "hold"))

    # ----- serving -------------------------------------------------------------------

    async def _listen(self) -> None:
        """Follow this process's channel; resubscribe after Redis comes back."""
        assert self._redis is not None
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(self._channel(self._node_id))
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        await self._serve_one(str(message["data"]))
            except (RedisError, OSError) as exc:
                log.warning("forwarded call requests unreadable (%s); retrying", exc)
                await asyncio.sleep(_RETRY_SECONDS)
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def _serve_one(self, data: str) -> None:
        assert self._redis is not None
        try:
            request = json.loads(data)
            op, agent_id, call_id = request["op"], request["agent"], request["call"]
            reply_key, arg = str(request["reply"]), str(request.get("arg") or "")
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("malformed forwarded call request skipped: %s", exc)
            return
        outcome: dict[str, str | None] = {"code": None}
        if op not in OPS or self._handler is None:
            outcome = {"code": "not_supported", "message": f"{op!r} cannot be forwarded"}
        else:
            try:
                await self._handler(op, str(agent_id), str(call_id), arg)
                self.served += 1
            except CallControlError as exc:
                outcome = {"code": exc.code, "message": str(exc)}
        try:
            pipe = self._redis.pipeline(transaction=False)
            pipe.rpush(reply_key, json.dumps(outcome))
            pipe.expire(reply_key, _REPLY_TTL_SECONDS)
            await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning("reply to a forwarded %s of call %s lost: %s", op, call_id, exc)
