"""The ACD's nouns: agents and their states, queues, calls waiting for an agent."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class AgentState(enum.StrEnum):
    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    OFFERED = "offered"  # the agent's phone is ringing with one of our calls
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    PAUSED = "paused"


#: States an agent (or a supervisor for it) may ask for; the others follow from calls.
REQUESTABLE_STATES = frozenset({AgentState.AVAILABLE, AgentState.PAUSED, AgentState.LOGGED_OUT})


class Strategy(enum.StrEnum):
    LONGEST_IDLE = "longest_idle"


class OfferFailure(enum.StrEnum):
    """Why an offer did not become a connected call."""

    NO_ANSWER = "no_answer"
    BUSY = "busy"
    REJECTED = "rejected"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class QueueSettings:
    name: str
    strategy: Strategy = Strategy.LONGEST_IDLE
    service_level_seconds: float = 20.0
    service_level_target: float = 0.9
    short_abandon_seconds: float = 5.0
    ring_timeout_seconds: float = 15.0
    wrap_up_seconds: float = 0.0


@dataclass
class Agent:
    agent_id: str
    queues: frozenset[str]
    state: AgentState = AgentState.LOGGED_OUT
    state_since: float = 0.0
    reason: str | None = None
    #: When the agent last became free to take a call; longest-idle routing orders by it.
    idle_since: float = 0.0
    call_id: str | None = None
    #: A state asked for while on a call, applied when the call (and wrap-up) ends.
    pending_state: AgentState | None = None
    pending_reason: str | None = None
    calls_answered: int = 0


class CallPhase(enum.StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"
    CONNECTED = "connected"


@dataclass
class AcdCall:
    call_id: str
    queue: str
    caller: str
    priority: int
    #: Arrival in the queue; pickup latency and order in line are measured from it.
    enqueued_at: float
    phase: CallPhase = CallPhase.WAITING
    agent_id: str | None = None
    offered_at: float | None = None
    answered_at: float | None = None
    #: Arrival count in the ACD: first come, first served even when a coarse or manual
    #: clock gives several calls the same enqueued_at.
    arrival: int = 0

    def order_key(self) -> tuple[int, float, int, str]:
        """Higher priority first, then first come, first served."""
        return (-self.priority, self.enqueued_at, self.arrival, self.call_id)
