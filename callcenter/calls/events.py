"""What the call flow tells the rest of the system beyond the ACD's and the bridge's events."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CallHoldChanged:
    """The agent's console put its caller on hold (music) or took it off again."""

    at: float
    call_id: str
    agent_id: str
    held: bool


@dataclass(frozen=True)
class QueueAnnouncementPlayed:
    """A waiting caller heard the queue's announcement (place, hold time, callback offer)
    to the end, or had it cut short (`completed` False): an agent's phone rang with the
    call, or the caller pressed the callback key."""

    at: float
    call_id: str
    queue: str
    prompts: tuple[str, ...]
    completed: bool


@dataclass(frozen=True)
class TransferChanged:
    """A transfer the agent (or the IVR, `agent_id` None) asked for moved on.

    `state`: `started`, then `completed` or `failed` (`reason` says why: the SIP status,
    `timeout`). For a consultation (attended transfer) also `consulting` (the agent talks
    to the target, the caller hears music) and `cancelled` (the agent is back with the
    caller).
    """

    at: float
    call_id: str
    agent_id: str | None
    mode: str  # "blind" or "attended"
    target: str
    state: str
    reason: str | None = None


@dataclass(frozen=True)
class MonitoringChanged:
    """A supervisor's supervision of a call moved on (calls/monitoring.py).

    `state`: `ringing` (the supervisor's phone rings), `active` (wired in `mode`), `ended`
    (`reason`: `stopped`, `call_ended`, `no_answer`, `hung_up`, or the phone's SIP answer).
    """

    at: float
    supervisor: str
    call_id: str
    agent_id: str
    mode: str
    state: str
    reason: str | None = None
