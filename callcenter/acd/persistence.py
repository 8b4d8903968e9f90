"""Agents and calls as plain JSON-able dicts, and back (callbacks have their own: callbacks.py).

The edge stores what `Acd.export_state()` gives (a file, a database row, Redis) and hands
it to `Acd.restore_state()` after a restart. Reading is strict: a dict that does not
have the expected shape raises InvalidSetting, never half-restores.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from callcenter.acd.errors import InvalidSetting
from callcenter.acd.model import AcdCall, Agent, AgentState, CallPhase, Membership, check_level


def membership_to_dict(m: Membership) -> dict[str, Any]:
    return {"level": m.level, "penalty": m.penalty, "order": m.order}


def membership_from_dict(data: Mapping[str, Any]) -> Membership:
    return Membership(int(data["level"]), int(data["penalty"]), int(data["order"]))


def agent_to_dict(agent: Agent) -> dict[str, Any]:
    return {
        "agent_id": agent.agent_id,
        "memberships": {q: membership_to_dict(m) for q, m in agent.memberships.items()},
        "skills": dict(agent.skills),
        "state": agent.state.value,
        "state_since": agent.state_since,
        "reason": agent.reason,
        "idle_since": agent.idle_since,
        "call_id": agent.call_id,
        "pending_state": agent.pending_state.value if agent.pending_state else None,
        "pending_reason": agent.pending_reason,
        "calls_answered": agent.calls_answered,
        "seq": agent.seq,
        "day": agent.day,
        "calls_today": agent.calls_today,
        "talk_seconds_today": agent.talk_seconds_today,
    }


def agent_from_dict(data: Mapping[str, Any]) -> Agent:
    pending = data["pending_state"]
    return Agent(
        agent_id=str(data["agent_id"]),
        memberships={str(q): membership_from_dict(m) for q, m in dict(data["memberships"]).items()},
        skills={str(s): check_level(int(v), f"skill {s}") for s, v in data["skills"].items()},
        state=AgentState(data["state"]),
        state_since=float(data["state_since"]),
        reason=_opt_str(data["reason"]),
        idle_since=float(data["idle_since"]),
        call_id=_opt_str(data["call_id"]),
        pending_state=AgentState(pending) if pending is not None else None,
        pending_reason=_opt_str(data["pending_reason"]),
        calls_answered=int(data["calls_answered"]),
        seq=int(data["seq"]),
        day=int(data["day"]),
        calls_today=int(data["calls_today"]),
        talk_seconds_today=float(data["talk_seconds_today"]),
    )


def call_to_dict(call: AcdCall) -> dict[str, Any]:
    return {
        "call_id": call.call_id,
        "queue": call.queue,
        "caller": call.caller,
        "priority": call.priority,
        "enqueued_at": call.enqueued_at,
        "queued_at": call.queued_at,
        "arrival": call.arrival,
        "phase": call.phase.value,
        "agent_id": call.agent_id,
        "offered_to": list(call.offered_to),
        "offered_at": call.offered_at,
        "answered_at": call.answered_at,
        "skills": dict(call.skills),
        "attributes": dict(call.attributes),
        "callback": call.callback,
        "callback_attempts": call.callback_attempts,
        "not_before": call.not_before,
        "dialing": call.dialing,
        "estimate": list(call.estimate) if call.estimate is not None else None,
    }


def place_in_line(data: Mapping[str, Any]) -> dict[str, Any]:
    """The fields every stored call has, callback entry or full state, as AcdCall kwargs."""
    return {
        "call_id": str(data["call_id"]),
        "queue": str(data["queue"]),
        "caller": str(data["caller"]),
        "priority": int(data["priority"]),
        "enqueued_at": float(data["enqueued_at"]),
        "queued_at": float(data["queued_at"]),
        "arrival": int(data["arrival"]),
        "skills": {str(s): check_level(int(v), f"skill {s}") for s, v in data["skills"].items()},
    }


def call_from_dict(data: Mapping[str, Any]) -> AcdCall:
    estimate = data["estimate"]
    return AcdCall(
        **place_in_line(data),
        phase=CallPhase(data["phase"]),
        agent_id=_opt_str(data["agent_id"]),
        offered_to=[str(a) for a in data["offered_to"]],
        offered_at=_opt_float(data["offered_at"]),
        answered_at=_opt_float(data["answered_at"]),
        callback=_opt_str(data["callback"]),
        callback_attempts=int(data["callback_attempts"]),
        not_before=_opt_float(data["not_before"]),
        dialing=bool(data["dialing"]),
        # Snapshots older than call attributes have none.
        attributes={str(k): str(v) for k, v in (data.get("attributes") or {}).items()},
        estimate=(float(estimate[0]), float(estimate[1])) if estimate is not None else None,
    )


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


#: What reading a malformed dict raises before `shape_error` turns it into InvalidSetting.
SHAPE_ERRORS = (KeyError, TypeError, ValueError, AttributeError, IndexError)


def shape_error(what: str, exc: Exception) -> InvalidSetting:
    """The one error a malformed export raises, naming what could not be read."""
    return InvalidSetting(f"not a saved {what}: {type(exc).__name__}: {exc}")
