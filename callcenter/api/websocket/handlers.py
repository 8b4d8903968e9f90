"""What each console request does: check who may, call the ACD or the call flow, reply.

Handlers return the reply's `result`; they raise `ProtocolError`, `AcdError` or
`CallControlError`, which `handle` maps to error replies. An agent acts on its own call
only; a supervisor on any agent and any call.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from callcenter.acd import commands as cmd
from callcenter.acd.errors import AcdError
from callcenter.acd.model import AgentState, CallPhase
from callcenter.api.errors import DOMAIN_ERRORS
from callcenter.api.websocket import views
from callcenter.api.websocket.control import (
    CallControl,
    CallControlError,
    NotSupported,
    TransferTarget,
    WrapUpForm,
)
from callcenter.api.websocket.hub import Hub
from callcenter.api.websocket.protocol import ProtocolError, Request, Role, error, ok
from callcenter.directory.caller_identity import UnknownCall, UnknownEmployee
from callcenter.health import DependencyDown

log = logging.getLogger(__name__)

Result = dict[str, Any]
Handler = Callable[[Hub, str, Request], Awaitable[Result]]


async def handle(hub: Hub, role: Role, username: str, request: Request) -> dict[str, Any]:
    """The reply to one parsed request (never raises, except cancellation)."""
    handler = (AGENT if role is Role.AGENT else SUPERVISOR).get(request.type)
    if handler is None:  # the parser knows the type but nothing handles it here
        return error(request.id, "unknown_type", f"unknown message type {request.type!r}")
    try:
        result = await asyncio.wait_for(
            handler(hub, username, request), hub.config.request_timeout_seconds
        )
    except ProtocolError as exc:
        return error(request.id, exc.code, exc.message)
    except AcdError as exc:
        code = next(c for kind, _, c in DOMAIN_ERRORS if isinstance(exc, kind))
        return error(request.id, code, str(exc))
    except CallControlError as exc:
        return error(request.id, exc.code, str(exc))
    except DependencyDown as exc:
        return error(request.id, "unavailable", str(exc))
    except TimeoutError:
        return error(request.id, "timeout", "the request took too long")
    except Exception:
        log.exception("console request %s of %s failed", request.type, username)
        return error(request.id, "internal", "internal error")
    return ok(request.id, result)


def _control(hub: Hub) -> CallControl:
    if hub.call_control is None:
        raise NotSupported("call control is not available on this server yet")
    return hub.call_control


def _own_call(hub: Hub, agent_id: str, call_id: str, *, ended_too: bool = False) -> None:
    """Refuse a call id that is not the agent's current call (or, for the after-call
    work, the call it just finished)."""
    agent = hub.acd.agent(agent_id)
    owned = {agent.call_id}
    session = hub.session(agent_id)
    if session.call is not None:
        owned.add(session.call.call_id)
    if ended_too:
        owned.add(session.ended_call_id)
    if call_id not in owned:
        raise ProtocolError("forbidden", f"call {call_id!r} is not yours")


# ----- both roles ----------------------------------------------------------------------


async def ping(hub: Hub, username: str, request: Request) -> Result:
    return {"at": hub.clock.now()}


# ----- agent ---------------------------------------------------------------------------


async def get_state(hub: Hub, agent_id: str, request: Request) -> Result:
    return views.state_result(hub.acd.agent(agent_id), hub.clock.now())


async def set_state(hub: Hub, agent_id: str, request: Request) -> Result:
    state = AgentState(request.text("state"))
    await hub.change_acd(cmd.SetAgentState(agent_id, state, request.opt_text("reason")))
    return views.state_result(hub.acd.agent(agent_id), hub.clock.now())


async def end_wrap_up(hub: Hub, agent_id: str, request: Request) -> Result:
    await hub.change_acd(cmd.EndWrapUp(agent_id))
    return views.state_result(hub.acd.agent(agent_id), hub.clock.now())


def _call_op(
    op: Callable[[CallControl, str, str], Awaitable[None]],
) -> Handler:
    async def handler(hub: Hub, agent_id: str, request: Request) -> Result:
        call_id = request.text("call_id")
        _own_call(hub, agent_id, call_id)
        await op(_control(hub), agent_id, call_id)
        return {"call_id": call_id}

    return handler


async def transfer(hub: Hub, agent_id: str, request: Request) -> Result:
    call_id = request.text("call_id")
    _own_call(hub, agent_id, call_id)
    target = TransferTarget(
        queue=request.opt_text("queue"),
        agent=request.opt_text("agent"),
        number=request.opt_text("number"),
        attended=request.opt_text("mode") == "attended",
    )
    await _control(hub).transfer(agent_id, call_id, target)
    return {"call_id": call_id}


async def escalate(hub: Hub, agent_id: str, request: Request) -> Result:
    call_id = request.text("call_id")
    _own_call(hub, agent_id, call_id, ended_too=True)
    tier, queue = request.text("tier"), request.opt_text("queue")
    ticket_id = await _control(hub).escalate(agent_id, call_id, tier, request.text("reason"), queue)
    return {"call_id": call_id, "ticket_id": ticket_id, "tier": tier}


async def dtmf(hub: Hub, agent_id: str, request: Request) -> Result:
    call_id = request.text("call_id")
    _own_call(hub, agent_id, call_id)
    await _control(hub).send_dtmf(agent_id, call_id, request.text("digits"))
    return {"call_id": call_id}


async def wrap_up(hub: Hub, agent_id: str, request: Request) -> Result:
    call_id = request.text("call_id")
    _own_call(hub, agent_id, call_id, ended_too=True)
    form = WrapUpForm(
        ticket_id=request.opt_int("ticket_id"),
        subject=request.opt_text("subject"),
        category=request.opt_text("category"),
        priority=request.opt_int("priority"),
        status=request.opt_text("status"),
        resolution=request.opt_text("resolution"),
        device_asset_tag=request.opt_text("device_asset_tag"),
        description=request.opt_text("description"),
        first_contact_resolved=request.opt_bool("first_contact_resolved"),
        disposition=request.opt_text("disposition"),
        kb_article_id=request.opt_int("kb_article_id"),
    )
    if form.disposition is not None and form.disposition not in hub.config.dispositions:
        known = ", ".join(hub.config.dispositions)
        raise ProtocolError("invalid_field", f"disposition: not one of {known}", request.id)
    ticket_id = await _control(hub).submit_wrap_up(agent_id, call_id, form)
    return {"call_id": call_id, "ticket_id": ticket_id}


async def add_note(hub: Hub, agent_id: str, request: Request) -> Result:
    call_id = request.text("call_id")
    _own_call(hub, agent_id, call_id, ended_too=True)
    ticket_id = await _control(hub).add_note(agent_id, call_id, request.text("text"))
    return {"call_id": call_id, "ticket_id": ticket_id}


async def identify_caller(hub: Hub, agent_id: str, request: Request) -> Result:
    """A shared line's caller, picked by the agent: their screen pop, and the call's ticket."""
    call_id = request.text("call_id")
    _own_call(hub, agent_id, call_id, ended_too=True)
    try:
        return await hub.identify_caller(agent_id, call_id, request.text("username"))
    except UnknownEmployee as exc:
        raise ProtocolError("unknown_employee", "username: no such employee", request.id) from exc
    except UnknownCall as exc:
        raise ProtocolError(
            "unknown_call", f"call {call_id!r} has no record yet", request.id
        ) from exc


AGENT: dict[str, Handler] = {
    "ping": ping,
    "get_state": get_state,
    "set_state": set_state,
    "end_wrap_up": end_wrap_up,
    "accept": _call_op(lambda c, a, i: c.accept(a, i)),
    "reject": _call_op(lambda c, a, i: c.reject(a, i)),
    "hangup": _call_op(lambda c, a, i: c.hangup(a, i)),
    "hold": _call_op(lambda c, a, i: c.hold(a, i)),
    "resume": _call_op(lambda c, a, i: c.resume(a, i)),
    "transfer": transfer,
    "escalate": escalate,
    "transfer_complete": _call_op(lambda c, a, i: c.complete_transfer(a, i)),
    "transfer_cancel": _call_op(lambda c, a, i: c.cancel_transfer(a, i)),
    "dtmf": dtmf,
    "wrap_up": wrap_up,
    "add_note": add_note,
    "identify_caller": identify_caller,
}


# ----- supervisor ----------------------------------------------------------------------


async def get_snapshot(hub: Hub, username: str, request: Request) -> Result:
    snapshot = views.snapshot_message(hub.acd, hub.clock.now(), hub.consoles)
    del snapshot["type"]
    snapshot["ticket_alerts"] = await hub.open_alert_items()
    return snapshot


async def force_state(hub: Hub, username: str, request: Request) -> Result:
    agent_id = request.text("agent")
    state = AgentState(request.text("state"))
    await hub.change_acd(cmd.SetAgentState(agent_id, state, request.opt_text("reason")))
    log.info("supervisor %s set agent %s to %s", username, agent_id, state)
    return {"agent": agent_id, **views.state_result(hub.acd.agent(agent_id), hub.clock.now())}


async def move_call(hub: Hub, username: str, request: Request) -> Result:
    """Through the call flow when it is there; else the ACD alone, which is safe only for
    a call no agent talks on (the call flow follows offers and withdrawals by itself)."""
    call_id = request.text("call_id")
    queue, agent = request.opt_text("queue"), request.opt_text("agent")
    if hub.call_control is not None:
        await hub.call_control.move_call(
            call_id, TransferTarget(queue=queue, agent=agent), username
        )
        return {"call_id": call_id}
    call = hub.acd.call(call_id)
    if call.phase is CallPhase.CONNECTED:
        raise NotSupported("moving a connected call needs the call flow's transfer")
    if queue is not None:
        await hub.change_acd(cmd.TransferToQueue(call_id, queue))
    else:
        assert agent is not None
        await hub.change_acd(cmd.TransferToAgent(call_id, agent))
    log.info("supervisor %s moved call %s to %s", username, call_id, queue or agent)
    return {"call_id": call_id}


async def monitor(hub: Hub, username: str, request: Request) -> Result:
    """listen, whisper, barge: the reply says `ringing` (or `active` for a switch of
    mode); `monitoring` pushes follow as the supervisor's phone answers and hangs up."""
    found = await _control(hub).monitor(
        username, request.type, request.opt_text("agent"), request.opt_text("call_id")
    )
    return dataclasses.asdict(found)


async def stop_monitoring(hub: Hub, username: str, request: Request) -> Result:
    return dataclasses.asdict(await _control(hub).stop_monitoring(username))


SUPERVISOR: dict[str, Handler] = {
    "ping": ping,
    "get_snapshot": get_snapshot,
    "force_state": force_state,
    "move_call": move_call,
    "listen": monitor,
    "whisper": monitor,
    "barge": monitor,
    "stop_monitoring": stop_monitoring,
}
