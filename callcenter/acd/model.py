"""The ACD's nouns: agents and their states, queues, calls waiting for an agent."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field

from callcenter.acd.errors import InvalidSetting
from callcenter.acd.service_level import ServiceLevelFormula


class AgentState(enum.StrEnum):
    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    OFFERED = "offered"  # the agent's phone is ringing with one of our calls
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    PAUSED = "paused"


#: States an agent (or a supervisor for it) may ask for; the others follow from calls.
REQUESTABLE_STATES = frozenset({AgentState.AVAILABLE, AgentState.PAUSED, AgentState.LOGGED_OUT})

#: Pause reasons accepted when the configuration gives none; the last four are the ones
#: the ACD itself pauses with when an offer fails, accepted whatever the configuration.
DEFAULT_PAUSE_REASONS = (
    "break",
    "lunch",
    "training",
    "meeting",
    "console closed",
    "no answer",
    "busy",
    "rejected",
    "unreachable",
)

#: Codes an agent gives a call at wrap-up when the configuration names none.
DEFAULT_DISPOSITIONS = (
    "resolved",
    "escalated",
    "follow_up",
    "information",
    "wrong_number",
    "other",
)


class Strategy(enum.StrEnum):
    """How a queue picks among its free agents (after penalty and skills, see routing.py)."""

    LONGEST_IDLE = "longest_idle"
    ROUND_ROBIN = "round_robin"
    FEWEST_CALLS = "fewest_calls"
    LEAST_TALK_TIME = "least_talk_time"
    RANDOM = "random"
    LINEAR = "linear"
    RING_ALL = "ring_all"
    SKILLS_BASED = "skills_based"


class OfferFailure(enum.StrEnum):
    """Why an offer did not become a connected call."""

    NO_ANSWER = "no_answer"
    BUSY = "busy"
    REJECTED = "rejected"
    UNREACHABLE = "unreachable"


class JoinEmpty(enum.StrEnum):
    """What a call meets when no agent of the queue is logged in."""

    ALLOW = "allow"  # it waits for one
    OVERFLOW = "overflow"  # it goes to the queue's overflow target at once


class OverflowKind(enum.StrEnum):
    QUEUE = "queue"  # the call moves to another queue and keeps its place by arrival
    CALLBACK = "callback"  # the call becomes a queued callback to the caller's number
    TICKET_ONLY = "ticket_only"  # the call leaves the ACD; the call flow opens a ticket


class OverflowCause(enum.StrEnum):
    MAX_WAITING = "max_waiting"  # the line was full when the call arrived
    MAX_WAIT = "max_wait"  # the call waited longer than the queue allows
    JOIN_EMPTY = "join_empty"  # no agent of the queue was logged in


@dataclass(frozen=True)
class OverflowTarget:
    kind: OverflowKind
    #: QUEUE: the queue to move to (required). CALLBACK: the queue the callback waits in,
    #: None for the same queue. TICKET_ONLY: unused.
    name: str | None = None

    def __post_init__(self) -> None:
        if self.kind is OverflowKind.QUEUE and not self.name:
            raise InvalidSetting("an overflow to a queue needs the queue's name")


#: Default overflow when a limit is hit and the queue names no target: the call leaves
#: the ACD and the call flow decides (message, ticket), as Asterisk's "queue full" does.
LEAVE_QUEUE = OverflowTarget(OverflowKind.TICKET_ONLY)

MIN_LEVEL = 1
MAX_LEVEL = 10
#: The level of a membership given as a bare queue name: the middle of 1-10, so an agent
#: configured without levels neither beats nor loses to a deliberately rated colleague.
DEFAULT_LEVEL = 5


def check_level(level: int, what: str) -> int:
    if not MIN_LEVEL <= level <= MAX_LEVEL:
        raise InvalidSetting(f"{what}: level {level} is not from {MIN_LEVEL} to {MAX_LEVEL}")
    return level


@dataclass(frozen=True)
class SkillStep:
    """After a call waited `after_seconds`, each skill it needs is required at most at
    `min_level`; None lets anyone of the queue take it."""

    after_seconds: float
    min_level: int | None

    def __post_init__(self) -> None:
        if self.min_level is not None:
            check_level(self.min_level, "skill relaxation")


@dataclass(frozen=True)
class Membership:
    """How an agent serves one queue.

    `penalty`: agents with a lower penalty are offered calls first; a higher-penalty agent
    only gets a call when no lower-penalty agent of the queue is free (as in Asterisk).
    `level` (1-10): the agent's skill in the queue; skills-based routing prefers higher.
    `order`: the place in the fixed order of linear and round-robin routing (ties: the
    order agents were added).
    """

    level: int = DEFAULT_LEVEL
    penalty: int = 0
    order: int = 0

    def __post_init__(self) -> None:
        check_level(self.level, "membership")
        if self.penalty < 0:
            raise InvalidSetting(f"membership: penalty {self.penalty} is negative")


@dataclass(frozen=True)
class QueueSettings:
    name: str
    strategy: Strategy = Strategy.LONGEST_IDLE
    service_level_seconds: float = 20.0
    service_level_target: float = 0.9
    short_abandon_seconds: float = 5.0
    ring_timeout_seconds: float = 15.0
    wrap_up_seconds: float = 0.0
    service_level_formula: ServiceLevelFormula = (
        ServiceLevelFormula.ANSWERED_OVER_ANSWERED_ABANDONED_LONG
    )
    #: Steps relaxing a call's skill requirements as it waits, in any order.
    skill_relaxation: tuple[SkillStep, ...] = ()
    #: A caller who hung up while waiting and calls the same queue again within this
    #: many seconds gets the old place in line back; 0 turns it off.
    resume_window_seconds: float = 0.0
    #: Live callers in line (waiting or ringing, callbacks not counted) beyond which a
    #: new call overflows; None: no limit.
    max_waiting: int | None = None
    #: A call waiting longer than this in the queue overflows (at the next tick); None: never.
    max_wait_seconds: float | None = None
    overflow_target: OverflowTarget | None = None
    join_empty: JoinEmpty = JoinEmpty.ALLOW
    #: Further tries after a callback's first failed dial, and the pause before each.
    callback_retries: int = 2
    callback_retry_seconds: float = 300.0
    #: Handle time the wait estimate assumes while the queue has no recent handled call.
    default_aht_seconds: float = 300.0

    @property
    def overflow(self) -> OverflowTarget:
        return self.overflow_target or LEAVE_QUEUE


@dataclass
class Agent:
    agent_id: str
    memberships: dict[str, Membership]
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
    #: Named skills and their levels (1-10), matched against what a call needs.
    skills: dict[str, int] = field(default_factory=dict)
    #: The order the agent was added in: the tie-break of the fixed routing orders.
    seq: int = 0
    #: The local day (see `Acd.day_of`) the two counters below are for.
    day: int = 0
    calls_today: int = 0
    talk_seconds_today: float = 0.0

    @property
    def queues(self) -> frozenset[str]:
        return frozenset(self.memberships)

    def calls_on(self, day: int) -> int:
        return self.calls_today if self.day == day else 0

    def talk_seconds_on(self, day: int) -> float:
        return self.talk_seconds_today if self.day == day else 0.0

    def count_day(self, day: int) -> None:
        """Start the day's counters from zero when the day changed since the last count."""
        if self.day != day:
            self.day, self.calls_today, self.talk_seconds_today = day, 0, 0.0


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
    #: Arrival in line; order in line and the caller's wait (pickup latency) run from it.
    #: It survives an overflow or a transfer of a waiting call, and a resumed redial.
    enqueued_at: float
    phase: CallPhase = CallPhase.WAITING
    #: The agent ringing (when exactly one is) or talking.
    agent_id: str | None = None
    offered_at: float | None = None
    answered_at: float | None = None
    #: Arrival count in the ACD: first come, first served even when a coarse or manual
    #: clock gives several calls the same enqueued_at.
    arrival: int = 0
    #: Arrival in the current queue: that queue's statistics and max wait run from it.
    queued_at: float = math.nan
    #: Every agent ringing with the call: one, or several for a ring-all queue.
    offered_to: list[str] = field(default_factory=list)
    #: Skills the call needs, skill -> minimum level.
    skills: dict[str, int] = field(default_factory=dict)
    #: What the IVR learnt (topic, incident number, urgency): shown with the offer on
    #: whichever process holds the agent's console, so it travels with the call.
    attributes: dict[str, str] = field(default_factory=dict)
    #: The number to call back: the call is a queued callback, not a caller on hold.
    callback: str | None = None
    callback_attempts: int = 0
    #: A callback that failed to connect waits until then before its next try.
    not_before: float | None = None
    #: The agent took a callback and the caller's phone is being dialled.
    dialing: bool = False
    #: The wait estimated on arrival in the queue: (when, seconds).
    estimate: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if math.isnan(self.queued_at):
            self.queued_at = self.enqueued_at

    def order_key(self) -> tuple[int, float, int, str]:
        """Higher priority first, then first come, first served."""
        return (-self.priority, self.enqueued_at, self.arrival, self.call_id)
