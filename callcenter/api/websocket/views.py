"""What the consoles are shown: agent state, queue figures, the supervisor's snapshot.

Built from the ACD's public views at the moment of sending; times are seconds, moments
Unix seconds (`at` in every push tells the server's time, so a client can count on).
"""

from __future__ import annotations

from typing import Any

from callcenter.acd.acd import Acd
from callcenter.acd.errors import UnknownCall
from callcenter.acd.events import AgentStateChanged
from callcenter.acd.model import Agent

#: The windows the board shows service level, ASA and AHT for.
WINDOWS = {"15m": 15 * 60.0, "24h": 24 * 3600.0}


def state_message(
    agent: Agent, now: float, change: AgentStateChanged | None = None
) -> dict[str, Any]:
    """An agent's own state, as its console shows it: as it is now, or as `change` made
    it (the ACD publishes after routing, so the agent may already be further along)."""
    state, reason, since, call_id = agent.state, agent.reason, agent.state_since, agent.call_id
    if change is not None:
        state, reason, since, call_id = change.new, change.reason, change.at, change.call_id
    return {
        "type": "state",
        "at": now,
        "state": state.value,
        "reason": reason,
        "since": since,
        "time_in_state_seconds": max(0.0, now - since),
        "pending_state": agent.pending_state.value if agent.pending_state else None,
        "pending_reason": agent.pending_reason,
        "call_id": call_id,
    }


def state_result(agent: Agent, now: float) -> dict[str, Any]:
    """The same without the envelope: the result of get_state and set_state."""
    view = state_message(agent, now)
    del view["type"], view["at"]
    return view


def queue_item(acd: Acd, name: str, now: float) -> dict[str, Any]:
    snapshot = acd.snapshot(name)
    stats = acd.statistics(name)
    figures = {}
    windows = {label: stats.window(now, seconds) for label, seconds in WINDOWS.items()}
    windows["today"] = stats.since(acd.day_start(now))  # since local midnight (acd.utc_offset)
    for label, window in windows.items():
        figures[label] = {
            "service_level": window.service_level,
            "asa_seconds": window.asa_seconds,
            "aht_seconds": window.aht_seconds,
            "answered": window.answered,
            "abandoned": window.abandoned,
        }
    return {
        "name": name,
        "waiting": snapshot.waiting,
        "callbacks_waiting": snapshot.callbacks_waiting,
        "longest_wait_seconds": snapshot.longest_wait_seconds,
        "service_level_target": snapshot.service_level_target,
        "service_level_seconds": snapshot.service_level_seconds,
        "windows": figures,
        "offered": snapshot.offered_total,
        "answered": snapshot.answered_total,
        "abandoned": snapshot.abandoned_total,
        "agents": {state.value: count for state, count in snapshot.agents.items()},
    }


def agent_item(acd: Acd, agent: Agent, now: float, console: bool) -> dict[str, Any]:
    call: dict[str, Any] | None = None
    if agent.call_id is not None:
        call = {"call_id": agent.call_id, "queue": None, "caller": None, "phase": None}
        try:
            acd_call = acd.call(agent.call_id)
        except UnknownCall:  # wrap-up: the call itself has ended
            call["phase"] = "ended"
        else:
            call.update(queue=acd_call.queue, caller=acd_call.caller, phase=acd_call.phase.value)
    return {
        "username": agent.agent_id,
        "state": agent.state.value,
        "reason": agent.reason,
        "since": agent.state_since,
        "time_in_state_seconds": max(0.0, now - agent.state_since),
        "pending_state": agent.pending_state.value if agent.pending_state else None,
        "queues": sorted(agent.queues),
        "call": call,
        "console": console,
    }


def snapshot_message(acd: Acd, now: float, consoles: set[str]) -> dict[str, Any]:
    agents = sorted(acd.agents, key=lambda a: a.agent_id)
    return {
        "type": "snapshot",
        "at": now,
        "queues": [queue_item(acd, name, now) for name in acd.queue_names],
        "agents": [agent_item(acd, a, now, a.agent_id in consoles) for a in agents],
    }
