"""Events the ACD publishes; consoles, boards, metrics and call records consume them.

Fields added after the first release have defaults, so events built positionally by
older code (and tests) stay equal to what the ACD publishes for the same story.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from callcenter.acd.model import AgentState, OfferFailure, OverflowCause, OverflowKind


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
    #: The wait estimated for this position now, None without staffed agents.
    estimated_wait_seconds: float | None = None
    #: A redial that got the place of this abandoned call back (see resume_window_seconds).
    resumed_from: str | None = None
    #: Since when the caller is in line: `at`, or the abandoned call's arrival when resumed.
    waiting_since: float | None = None
    #: Skill -> minimum level the call needs (the IVR choice): the console shows it.
    skills: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class CallOffered(AcdEvent):
    """An agent's phone is to ring; ring-all publishes one per agent."""

    call_id: str
    queue: str
    agent_id: str
    ring_timeout_seconds: float
    #: A queued callback: the number to dial once the agent answers.
    callback: str | None = None


@dataclass(frozen=True)
class OfferWithdrawn(AcdEvent):
    """An offer ended without a connected call; the call is waiting again (unless abandoned)."""

    call_id: str
    queue: str
    agent_id: str
    reason: OfferFailure | None  # None: not the agent's doing (caller left, call moved...)
    #: Ring-all: the agent who answered, whose answer withdrew this offer.
    answered_by: str | None = None


@dataclass(frozen=True)
class CallAnswered(AcdEvent):
    call_id: str
    queue: str
    agent_id: str
    wait_seconds: float  # since the caller's arrival in line (pickup latency)
    within_service_level: bool  # of the wait in this queue, against its threshold


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


@dataclass(frozen=True)
class AgentMembershipChanged(AcdEvent):
    """A known agent's queues, levels, penalties or skills changed; routing uses them now."""

    agent_id: str
    queues: tuple[str, ...]


@dataclass(frozen=True)
class CallOverflowed(AcdEvent):
    """A queue limit sent the call to its target.

    QUEUE: the call waits in `target` now. CALLBACK: it is a queued callback to the
    caller's number in `target` (CallbackRequested follows). TICKET_ONLY: it left the
    ACD; the call flow plays a message and opens a ticket.
    """

    call_id: str
    queue: str
    target_kind: OverflowKind
    target: str | None
    cause: OverflowCause


@dataclass(frozen=True)
class CallTransferred(AcdEvent):
    """A waiting or connected call moved to another queue or was put to one agent."""

    call_id: str
    from_queue: str
    to_queue: str
    from_agent: str | None  # the agent it was connected to, if any
    to_agent: str | None  # the agent it is offered to, for a transfer to an agent
    #: A connected call's talk time with `from_agent`.
    talk_seconds: float | None = None


@dataclass(frozen=True)
class CallbackRequested(AcdEvent):
    """The waiting call is a queued callback now: it keeps its place, the caller may hang up."""

    call_id: str
    queue: str
    number: str
    position: int


@dataclass(frozen=True)
class CallbackDialing(AcdEvent):
    """The agent took the callback: dial the number and bridge it to the agent."""

    call_id: str
    queue: str
    agent_id: str
    number: str
    attempt: int  # 1 for the first try


@dataclass(frozen=True)
class CallbackConnected(AcdEvent):
    call_id: str
    queue: str
    agent_id: str
    number: str


@dataclass(frozen=True)
class CallbackFailed(AcdEvent):
    """The callee did not answer; the callback waits until `retry_at`, or is dropped (None)."""

    call_id: str
    queue: str
    agent_id: str | None
    number: str
    attempt: int
    retry_at: float | None


@dataclass(frozen=True)
class CallbackCancelled(AcdEvent):
    call_id: str
    queue: str
