"""What the rest of the system reads from and writes to the ticket database.

Plain dataclasses and one Protocol: the call flow, the API and the tests depend on this,
the SQLAlchemy adapter (`store.py`) implements it.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from callcenter.tickets.screen_pop import ScreenPopData
from callcenter.tickets.workflow import OPEN_STATUSES, Status


class CallOutcome(enum.StrEnum):
    IN_PROGRESS = "in_progress"  # written at arrival; anything left so after a crash is recovered
    ANSWERED = "answered"
    ABANDONED = "abandoned"  # hung up while waiting in the queue (or while an agent's phone rang)
    IVR_HANGUP = "ivr_hangup"  # hung up before reaching the queue
    REFUSED = "refused"  # turned away: capacity, shutting down
    OVERFLOWED = "overflowed"  # a queue limit sent it to "ticket only": message, ticket, bye
    INTERRUPTED = "interrupted"  # the process stopped or crashed with the call up
    #: The caller asked to be called back (or a queue limit made it a callback) and hung
    #: up; the callback is pending, or every try of it failed ("callback_failed").
    CALLBACK = "callback"
    CALLED_BACK = "called_back"  # the callback reached the caller: agent and answered_at set
    CALLBACK_FAILED = "callback_failed"  # no try reached the caller; the callback was dropped
    #: Transferred to an outside number (REFER or a bridged leg): the record's
    #: media["transfer_target"] names it.
    TRANSFERRED = "transferred"


class Role(enum.StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


#: One status vocabulary: the workflow's (`workflow.Status`); open means work is outstanding.
TicketStatus = Status
OPEN_TICKET_STATUSES = OPEN_STATUSES


@dataclass(frozen=True)
class Employee:
    id: int
    username: str
    name: str
    department: str | None
    organisation: str
    vip: bool
    phones: tuple[str, ...] = ()  # E.164


@dataclass(frozen=True)
class Device:
    id: int
    asset_tag: str
    name: str
    type: str
    model: str | None
    vendor: str | None
    warranty_end: date | None
    owner_id: int | None


@dataclass(frozen=True)
class Ticket:
    id: int
    kind: str
    status: TicketStatus
    priority: int  # 1 (critical) .. 4 (low)
    subject: str
    employee_id: int | None
    device_id: int | None
    created_at: datetime
    updated_at: datetime
    call_ids: tuple[str, ...] = ()
    tier: str = "tier1_service_desk"
    assignee: str | None = None
    category: str | None = None
    resolution: str | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    reopen_count: int = 0
    contacts: int = 0
    onsite_visits: int = 0
    first_contact_resolved: bool | None = None
    #: Bumped by every change: the API's ETag.
    version: int = 1


#: Levels of memberships and skills: 1-10, 5 when not given (as the ACD's).
MIN_LEVEL = 1
MAX_LEVEL = 10
DEFAULT_LEVEL = 5
#: Penalties are small numbers in practice; the bound keeps them within any INTEGER column.
MAX_PENALTY = 1_000_000


@dataclass(frozen=True)
class QueueMembership:
    """How an agent serves one queue: its level there (1-10; skills-based routing prefers
    higher) and its penalty (0 or more; lower penalties are offered calls first)."""

    level: int = DEFAULT_LEVEL
    penalty: int = 0

    def __post_init__(self) -> None:
        if not MIN_LEVEL <= self.level <= MAX_LEVEL:
            raise ValueError(f"level {self.level} is not from {MIN_LEVEL} to {MAX_LEVEL}")
        if not 0 <= self.penalty <= MAX_PENALTY:
            raise ValueError(f"penalty {self.penalty} is not from 0 to {MAX_PENALTY}")


@dataclass(frozen=True)
class AgentAccount:
    username: str
    display_name: str
    role: Role
    password_hash: str
    sip_uri: str | None
    #: The queues it serves, by name (the keys of `memberships`).
    queues: tuple[str, ...]
    skills: dict[str, int] = field(default_factory=dict)
    #: Queue -> level and penalty there; one entry per name in `queues`.
    memberships: dict[str, QueueMembership] = field(default_factory=dict)
    #: Tokens of another version are void (see `callcenter.auth.gate`).
    token_version: int = 0
    #: False while the account is disabled: no sign-in, no token counts.
    active: bool = True


@dataclass(frozen=True)
class CallRecord:
    id: str  # our call id (a UUID), not the SIP Call-ID
    sip_call_id: str | None
    caller: str  # E.164 when the number could be normalised, else as received
    employee_id: int | None
    employee_username: str | None
    queue: str | None
    agent: str | None  # agent username
    arrived_at: datetime
    enqueued_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    outcome: CallOutcome
    pickup_latency_seconds: float | None
    ticket_id: int | None
    media: dict[str, int] = field(default_factory=dict)  # RTP packet counts per leg
    #: Where an outside transfer sent the call (outcome `transferred`), as asked.
    transfer_target: str | None = None
    #: The agent's code for the call at wrap-up (`acd.dispositions`).
    disposition: str | None = None
    #: How the IVR ended (`IvrOutcome`) and the attributes it set (topic, incident, ...).
    ivr_outcome: str | None = None
    ivr_attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AcdEventEntry:
    """One ACD event as history keeps it: the common columns plus the rest as data."""

    at: datetime
    type: str
    call_id: str | None
    queue: str | None
    agent: str | None
    data: dict[str, Any] = field(default_factory=dict)


class TicketStore(Protocol):
    """The ticket database as the call flow and the API see it."""

    async def find_employees_by_phone(self, e164: str) -> list[Employee]: ...

    async def employee_by_username(self, username: str) -> Employee | None: ...

    async def devices_of(self, employee_id: int) -> list[Device]: ...

    # Call records: written at arrival and on every step, so a crash loses none.
    async def open_call_record(
        self,
        call_id: str,
        sip_call_id: str | None,
        caller: str,
        employee_id: int | None,
        arrived_at: datetime,
    ) -> None: ...

    async def update_call_record(
        self,
        call_id: str,
        *,
        queue: str | None = None,
        agent: str | None = None,
        enqueued_at: datetime | None = None,
        answered_at: datetime | None = None,
        ended_at: datetime | None = None,
        outcome: CallOutcome | None = None,
        pickup_latency_seconds: float | None = None,
        media: dict[str, int] | None = None,
        transfer_target: str | None = None,
        ivr_outcome: str | None = None,
        ivr_attributes: dict[str, str] | None = None,
    ) -> None: ...

    async def recover_interrupted_calls(
        self, now: datetime, call_ids: Collection[str] | None = None
    ) -> int:
        """Close records a previous process left in progress; returns how many."""
        ...

    async def attach_call_to_incident(
        self, call_id: str, employee_id: int | None, now: datetime, window_hours: float
    ) -> int | None:
        """Link the call to the employee's recent open incident or a new one; ticket id.
        None: the employee the agent identified (the call record's), if not attached yet."""
        ...

    async def screen_pop(
        self, caller: str, *, username: str | None = None, with_kb: bool = True
    ) -> ScreenPopData:
        """The console's view of a caller in one read (or of `username`, identified)."""
        ...

    async def recent_calls(self, limit: int) -> list[CallRecord]: ...

    async def call_record(self, call_id: str) -> CallRecord | None: ...

    async def tickets_of(self, username: str) -> list[Ticket]: ...

    async def ticket(self, ticket_id: int) -> Ticket | None: ...

    async def agent_accounts(self) -> list[AgentAccount]: ...

    async def agent_account(self, username: str) -> AgentAccount | None: ...

    # Queue memberships and skills of an account, each call one transaction; None when
    # there is no account of that username.
    async def set_agent_memberships(
        self, username: str, memberships: Mapping[str, QueueMembership]
    ) -> AgentAccount | None:
        """Replace the account's queues (with levels and penalties) by these."""
        ...

    async def set_agent_membership(
        self, username: str, queue: str, membership: QueueMembership | None
    ) -> AgentAccount | None:
        """Add or change one queue of the account; None removes it (no error if absent)."""
        ...

    async def set_agent_skills(
        self, username: str, skills: Mapping[str, int]
    ) -> AgentAccount | None:
        """Replace the account's skills (name -> level 1-10) by these."""
        ...

    # The ACD's history (queue log) and its state across restarts.
    async def append_acd_events(self, events: Sequence[AcdEventEntry]) -> None: ...

    async def acd_events(self, call_id: str) -> list[AcdEventEntry]: ...

    async def save_acd_state(self, state: dict[str, Any], saved_at: datetime) -> None: ...

    async def load_acd_state(self) -> dict[str, Any] | None: ...
