"""Events the ACD publishes; consoles, boards, metrics and call records consume them."""

from __future__ import annotations

from dataclasses import dataclass

from callcenter.acd.model import AgentState, OfferFailure


@dataclass(frozen=True)
class AcdEvent:
    at: float


@dataclass(frozen=True)
class CallEnqueued(AcdEvent):
    call_id: str
    queue: str
    caller: str
    priority: int
    position: int


@dataclass(frozen=True)
class CallOffered(AcdEvent):
    call_id: str
    queue: str
    agent_id: str
    ring_timeout_seconds: float


@dataclass(frozen=True)
class OfferWithdrawn(AcdEvent):
    """An offer ended without a connected call; the call is waiting again (unless abandoned)."""

    call_id: str
    queue: str
    agent_id: str
    reason: OfferFailure | None  # None: the caller hung up while the agent's phone rang


@dataclass(frozen=True)
class CallAnswered(AcdEvent):
    call_id: str
    queue: str
    agent_id: str
    wait_seconds: float
    within_service_level: bool


@dataclass(frozen=True)
class CallAbandoned(AcdEvent):
    call_id: str
    queue: str
    wait_seconds: float
    short: bool  # hung up before the short-abandon threshold


@dataclass(frozen=True)
class CallCompleted(AcdEvent):
    """A connected call ended; the agent goes to wrap-up or is free."""

    call_id: str
    queue: str
    agent_id: str
    talk_seconds: float


@dataclass(frozen=True)
class AgentStateChanged(AcdEvent):
    agent_id: str
    old: AgentState
    new: AgentState
    reason: str | None
    call_id: str | None
