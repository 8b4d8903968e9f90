"""The ticket lifecycle: kinds, statuses, who may move a ticket where, tiers, escalation.

Pure rules: a `TicketState` goes in with the actor and the time, a new state comes out
with the audit entries describing every field that changed. Nothing is written here; the
caller stores the state and appends the entries. A move the rules do not allow raises
`WorkflowError` (one line, naming the ticket).

The tables are in docs/ticketing.md. In short:

- incident / service_request: new -> assigned / in_progress -> waiting_customer /
  waiting_vendor -> resolved -> closed; cancelled from any open status; a resolved
  ticket may be reopened (back to in_progress) until it is closed.
- problem: as an incident but without waiting_customer (nobody outside waits).
- change: new -> pending_approval -> assigned (approval, by a change manager or the
  account service manager) or cancelled (rejection); no work before approval.
- complaint: owned by the account operation manager (AOM) from the start; only the AOM
  resolves it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta


class WorkflowError(ValueError):
    """A move the rules refuse (one line)."""


class Kind(enum.StrEnum):
    INCIDENT = "incident"
    SERVICE_REQUEST = "service_request"
    PROBLEM = "problem"
    CHANGE = "change"
    COMPLAINT = "complaint"


class Status(enum.StrEnum):
    NEW = "new"
    PENDING_APPROVAL = "pending_approval"  # changes only
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    WAITING_CUSTOMER = "waiting_customer"
    WAITING_VENDOR = "waiting_vendor"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"


#: No move leaves these.
FINAL_STATUSES = frozenset({Status.CLOSED, Status.CANCELLED})
#: Work is outstanding: SLA clocks may run, the monitor watches these.
OPEN_STATUSES = frozenset(Status) - FINAL_STATUSES - {Status.RESOLVED}


class Tier(enum.StrEnum):
    """Who holds the ticket (MISSION.md: the tiers of the service desk)."""

    SERVICE_DESK = "tier1_service_desk"
    EXPERT = "tier2_expert"
    VENDOR = "tier3_vendor_senior"  # vendor or senior engineer
    ONSITE = "onsite"
    ACCOUNT_MANAGER = "account_manager"  # the AOM, complaints


class Role(enum.StrEnum):
    """What an actor is, as far as the rules care."""

    AGENT = "agent"  # tier 1 phone agent
    EXPERT = "expert"  # tier 2
    SENIOR = "senior"  # tier 3: senior engineer or vendor engineer
    ONSITE = "onsite"  # on-site engineer
    SUPERVISOR = "supervisor"
    ACCOUNT_OPERATION_MANAGER = "aom"  # complaints
    ACCOUNT_SERVICE_MANAGER = "asm"  # escalations: new equipment, new kinds of problems
    CHANGE_MANAGER = "change_manager"
    CUSTOMER = "customer"  # the employee who called
    SYSTEM = "system"  # automatic moves (auto-close)


APPROVERS = frozenset({Role.CHANGE_MANAGER, Role.ACCOUNT_SERVICE_MANAGER})
#: What a customer may do: answer a question, confirm or reject a resolution, withdraw.
CUSTOMER_MOVES = frozenset(
    {
        (Status.WAITING_CUSTOMER, Status.IN_PROGRESS),
        (Status.RESOLVED, Status.CLOSED),
        (Status.RESOLVED, Status.IN_PROGRESS),
        (Status.NEW, Status.CANCELLED),
    }
)
#: What the system may do on its own.
SYSTEM_MOVES = frozenset({(Status.RESOLVED, Status.CLOSED)})


@dataclass(frozen=True)
class Actor:
    name: str
    role: Role


_S = Status
_COMMON: Mapping[Status, frozenset[Status]] = {
    _S.NEW: frozenset({_S.ASSIGNED, _S.IN_PROGRESS, _S.RESOLVED, _S.CANCELLED}),
    _S.ASSIGNED: frozenset({_S.IN_PROGRESS, _S.RESOLVED, _S.CANCELLED}),
    _S.IN_PROGRESS: frozenset(
        {_S.WAITING_CUSTOMER, _S.WAITING_VENDOR, _S.RESOLVED, _S.ASSIGNED, _S.CANCELLED}
    ),
    _S.WAITING_CUSTOMER: frozenset({_S.IN_PROGRESS, _S.RESOLVED, _S.CANCELLED}),
    _S.WAITING_VENDOR: frozenset({_S.IN_PROGRESS, _S.RESOLVED, _S.CANCELLED}),
    _S.RESOLVED: frozenset({_S.CLOSED, _S.IN_PROGRESS}),
}


def _without(
    table: Mapping[Status, frozenset[Status]], *gone: Status
) -> dict[Status, frozenset[Status]]:
    return {
        source: frozenset(targets - set(gone))
        for source, targets in table.items()
        if source not in gone
    }


#: Allowed status moves per kind; a status missing as a key has no way out.
TRANSITIONS: Mapping[Kind, Mapping[Status, frozenset[Status]]] = {
    Kind.INCIDENT: dict(_COMMON),
    Kind.SERVICE_REQUEST: dict(_COMMON),
    Kind.PROBLEM: _without(_COMMON, _S.WAITING_CUSTOMER),
    Kind.CHANGE: {
        _S.NEW: frozenset({_S.PENDING_APPROVAL, _S.CANCELLED}),
        _S.PENDING_APPROVAL: frozenset({_S.ASSIGNED, _S.CANCELLED}),
        _S.ASSIGNED: frozenset({_S.IN_PROGRESS, _S.CANCELLED}),
        _S.IN_PROGRESS: frozenset({_S.WAITING_VENDOR, _S.RESOLVED, _S.CANCELLED}),
        _S.WAITING_VENDOR: frozenset({_S.IN_PROGRESS, _S.CANCELLED}),
        _S.RESOLVED: frozenset({_S.CLOSED, _S.IN_PROGRESS}),
    },
    Kind.COMPLAINT: _without(_COMMON, _S.WAITING_VENDOR),
}

#: Functional escalation: to the next tier up. Complaints are with the AOM already.
ESCALATION_PATH: Mapping[Tier, Tier] = {
    Tier.SERVICE_DESK: Tier.EXPERT,
    Tier.EXPERT: Tier.VENDOR,
    Tier.ONSITE: Tier.EXPERT,
}
#: Which roles work at which tier (an assignee of a tier must have one of these).
TIER_ROLES: Mapping[Tier, frozenset[Role]] = {
    Tier.SERVICE_DESK: frozenset({Role.AGENT, Role.SUPERVISOR}),
    Tier.EXPERT: frozenset({Role.EXPERT}),
    Tier.VENDOR: frozenset({Role.SENIOR}),
    Tier.ONSITE: frozenset({Role.ONSITE}),
    Tier.ACCOUNT_MANAGER: frozenset({Role.ACCOUNT_OPERATION_MANAGER}),
}
#: Kinds a resolved ticket of which may be reopened at all.
REOPENABLE = frozenset(Kind)
#: Default for `auto_close_due`: a resolved ticket nobody objected to closes after this.
AUTO_CLOSE_AFTER = timedelta(days=5)


@dataclass(frozen=True)
class AuditEntry:
    """One field of one ticket changed: who, when, what, from, to."""

    ticket_id: int
    at: datetime
    actor: str
    field: str
    old: str | None
    new: str | None
    reason: str = ""


@dataclass(frozen=True)
class TicketState:
    """What the rules need of a ticket; the `ticket` row plus the columns listed in the docs."""

    id: int
    kind: Kind
    status: Status
    priority: int
    tier: Tier
    assignee: str | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    reopen_count: int = 0
    escalation_level: int = 0  # hierarchical escalations to the ASM / AOM
    approved_by: str | None = None  # changes


def new_ticket(
    ticket_id: int,
    kind: Kind | str,
    priority: int,
    actor: Actor,
    now: datetime,
) -> tuple[TicketState, list[AuditEntry]]:
    """A new ticket at the service desk (a complaint goes straight to the AOM's tier)."""
    now = _aware(now)
    k = _kind(kind)
    tier = Tier.ACCOUNT_MANAGER if k is Kind.COMPLAINT else Tier.SERVICE_DESK
    state = TicketState(
        id=ticket_id,
        kind=k,
        status=Status.NEW,
        priority=priority,
        tier=tier,
        assignee=None,
        created_at=now,
        updated_at=now,
    )
    entries = [
        AuditEntry(ticket_id, now, actor.name, "kind", None, k.value),
        AuditEntry(ticket_id, now, actor.name, "status", None, Status.NEW.value),
        AuditEntry(ticket_id, now, actor.name, "priority", None, str(priority)),
        AuditEntry(ticket_id, now, actor.name, "tier", None, tier.value),
    ]
    return state, entries


def allowed_moves(state: TicketState) -> frozenset[Status]:
    return TRANSITIONS[state.kind].get(state.status, frozenset())


def transition(
    state: TicketState, to: Status | str, actor: Actor, now: datetime, *, reason: str = ""
) -> tuple[TicketState, list[AuditEntry]]:
    """Move `state` to status `to`; refuses a move the kind's table or the actor's role forbids.

    Side fields follow the status: `resolved_at` is set on resolution and cleared on a
    reopen (which counts in `reopen_count`), `closed_at` on closing, `approved_by` when a
    change leaves pending_approval for assigned.
    """
    now = _aware(now)
    target = _status(to)
    where = f"{state.kind.value} {state.id}"
    if target is state.status:
        raise WorkflowError(f"{where}: already {target.value}")
    if target not in allowed_moves(state):
        raise WorkflowError(f"{where}: cannot go from {state.status.value} to {target.value}")
    move = (state.status, target)
    if actor.role is Role.CUSTOMER and move not in CUSTOMER_MOVES:
        raise WorkflowError(f"{where}: a customer cannot move it to {target.value}")
    if actor.role is Role.SYSTEM and move not in SYSTEM_MOVES:
        raise WorkflowError(f"{where}: no automatic move to {target.value}")
    changes: dict[str, object] = {"status": target}
    if state.kind is Kind.CHANGE and state.status is Status.PENDING_APPROVAL:
        if actor.role not in APPROVERS:
            verb = "approve" if target is Status.ASSIGNED else "reject"
            raise WorkflowError(f"{where}: {actor.name} ({actor.role.value}) cannot {verb} it")
        if target is Status.ASSIGNED:
            changes["approved_by"] = actor.name
    if (
        state.kind is Kind.COMPLAINT
        and target is Status.RESOLVED
        and actor.role is not Role.ACCOUNT_OPERATION_MANAGER
    ):
        raise WorkflowError(f"{where}: only the account operation manager resolves a complaint")
    if target is Status.RESOLVED:
        changes["resolved_at"] = now
    if state.status is Status.RESOLVED and target is Status.IN_PROGRESS:
        if state.kind not in REOPENABLE:
            raise WorkflowError(f"{where}: a {state.kind.value} cannot be reopened")
        changes["resolved_at"] = None
        changes["reopen_count"] = state.reopen_count + 1
    if target is Status.CLOSED:
        changes["closed_at"] = now
    return _apply(state, changes, actor, now, reason)


def reopen(
    state: TicketState, actor: Actor, now: datetime, *, reason: str = ""
) -> tuple[TicketState, list[AuditEntry]]:
    """A resolved ticket back to in_progress (closed tickets stay closed: open a new one)."""
    if state.status is not Status.RESOLVED:
        raise WorkflowError(
            f"{state.kind.value} {state.id}: only a resolved ticket can be reopened, "
            f"not a {state.status.value} one"
        )
    return transition(state, Status.IN_PROGRESS, actor, now, reason=reason)


def assign(
    state: TicketState,
    tier: Tier | str,
    assignee: str | None,
    actor: Actor,
    now: datetime,
    *,
    assignee_role: Role | None = None,
    reason: str = "",
) -> tuple[TicketState, list[AuditEntry]]:
    """Hand the ticket to a tier (and a person of it, if known).

    A new or in-progress ticket becomes assigned (to the tier's queue when `assignee` is
    None); a waiting ticket keeps waiting. A complaint stays with the account manager's
    tier; a change is assigned only once approved; a resolved or final ticket cannot be
    handed on. When `assignee_role` is given it must fit the tier (TIER_ROLES).
    """
    now = _aware(now)
    t = Tier(tier)
    where = f"{state.kind.value} {state.id}"
    if state.status in FINAL_STATUSES or state.status is Status.RESOLVED:
        raise WorkflowError(f"{where}: a {state.status.value} ticket cannot be assigned")
    if actor.role in (Role.CUSTOMER, Role.SYSTEM):
        raise WorkflowError(f"{where}: {actor.role.value} cannot assign tickets")
    if state.kind is Kind.COMPLAINT and t is not Tier.ACCOUNT_MANAGER:
        raise WorkflowError(f"{where}: complaints stay with the account operation manager")
    if state.kind is not Kind.COMPLAINT and t is Tier.ACCOUNT_MANAGER:
        raise WorkflowError(f"{where}: only complaints go to the account operation manager")
    if state.kind is Kind.CHANGE and state.status in (Status.NEW, Status.PENDING_APPROVAL):
        raise WorkflowError(f"{where}: a change is assigned once it is approved")
    if assignee_role is not None and assignee_role not in TIER_ROLES[t]:
        raise WorkflowError(
            f"{where}: {assignee} ({assignee_role.value}) does not work at {t.value}"
        )
    changes: dict[str, object] = {"tier": t, "assignee": assignee}
    if state.status in (Status.NEW, Status.IN_PROGRESS) and Status.ASSIGNED in allowed_moves(state):
        changes["status"] = Status.ASSIGNED
    return _apply(state, changes, actor, now, reason)


def escalate(
    state: TicketState, actor: Actor, now: datetime, *, reason: str = ""
) -> tuple[TicketState, list[AuditEntry]]:
    """Functional escalation: the next tier up (tier 1 -> 2 -> 3, on-site -> tier 2).

    The new tier's queue picks it up, so the assignee is cleared. Tier 3 and complaints
    have nowhere further to go: hierarchical escalation (`escalate_to_manager`) is next.
    """
    where = f"{state.kind.value} {state.id}"
    nxt = ESCALATION_PATH.get(state.tier)
    if nxt is None:
        raise WorkflowError(f"{where}: no tier above {state.tier.value}")
    if not reason.strip():
        raise WorkflowError(f"{where}: an escalation needs a reason")
    return assign(state, nxt, None, actor, now, reason=reason)


def escalate_to_manager(
    state: TicketState, actor: Actor, now: datetime, *, reason: str
) -> tuple[TicketState, list[AuditEntry]]:
    """Hierarchical escalation: the account service manager (new equipment or software,
    new kinds of problems, a breached SLA) or, for a complaint, the AOM, is made aware.

    Raises `escalation_level`; the holder of the ticket does not change.
    """
    now = _aware(now)
    where = f"{state.kind.value} {state.id}"
    if state.status in FINAL_STATUSES:
        raise WorkflowError(f"{where}: a {state.status.value} ticket cannot be escalated")
    if not reason.strip():
        raise WorkflowError(f"{where}: an escalation needs a reason")
    return _apply(state, {"escalation_level": state.escalation_level + 1}, actor, now, reason)


def escalation_manager(kind: Kind) -> Role:
    """Who a hierarchical escalation reaches."""
    if kind is Kind.COMPLAINT:
        return Role.ACCOUNT_OPERATION_MANAGER
    return Role.ACCOUNT_SERVICE_MANAGER


def set_priority(
    state: TicketState, priority: int, actor: Actor, now: datetime, *, reason: str = ""
) -> tuple[TicketState, list[AuditEntry]]:
    now = _aware(now)
    if state.status in FINAL_STATUSES:
        raise WorkflowError(f"{state.kind.value} {state.id}: closed tickets keep their priority")
    if isinstance(priority, bool) or not 1 <= priority <= 5:
        raise WorkflowError(f"{state.kind.value} {state.id}: priority {priority} not in 1..5")
    return _apply(state, {"priority": priority}, actor, now, reason)


def auto_close_due(state: TicketState, now: datetime, after: timedelta = AUTO_CLOSE_AFTER) -> bool:
    """A resolved ticket the customer did not reopen within `after` is due to close."""
    now = _aware(now)
    return (
        state.status is Status.RESOLVED
        and state.resolved_at is not None
        and now - state.resolved_at >= after
    )


# -- internals -----------------------------------------------------------------------


def _apply(
    state: TicketState, changes: Mapping[str, object], actor: Actor, now: datetime, reason: str
) -> tuple[TicketState, list[AuditEntry]]:
    entries: list[AuditEntry] = []
    effective: dict[str, object] = {}
    for name, value in changes.items():
        old = getattr(state, name)
        if old == value:
            continue
        effective[name] = value
        entries.append(
            AuditEntry(state.id, now, actor.name, name, _text(old), _text(value), reason)
        )
    if not entries:
        return state, []
    effective["updated_at"] = max(now, state.updated_at)
    return replace(state, **effective), entries  # type: ignore[arg-type]


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _kind(value: Kind | str) -> Kind:
    try:
        return Kind(value)
    except ValueError:
        raise WorkflowError(f"unknown ticket kind {value!r}") from None


def _status(value: Status | str) -> Status:
    try:
        return Status(value)
    except ValueError:
        raise WorkflowError(f"unknown status {value!r}") from None


def _aware(now: datetime) -> datetime:
    """`now` in UTC: every time the workflow records is UTC."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise WorkflowError(f"naive datetime {now.isoformat()}: times must be aware")
    return now.astimezone(UTC)
