"""Complaints: the account manager must acknowledge and resolve them in business time.

A complaint ticket is assigned to its organisation's account manager when filed
(tier `account_manager`). Two limits run on the organisation's calendar from the moment
it was filed: acknowledge (the account manager took it up: the ticket left new/assigned)
and resolve. Each limit missed is one escalation (`escalation_level` + 1, an audit entry,
a `ComplaintEscalated` event): level 1 for the first limit missed, level 2 for the second.

Pure: the caller passes the facts, the calendar and the instant; nothing is read here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from callcenter.tickets.calendar import BusinessCalendar
from callcenter.tickets.workflow import Status

#: A complaint is acknowledged once it leaves these statuses.
UNACKNOWLEDGED = frozenset({Status.NEW, Status.ASSIGNED})
#: Defaults of `ticketing.complaint_acknowledge_within` / `complaint_resolve_within`.
DEFAULT_ACKNOWLEDGE_SECONDS = 4 * 3600.0
DEFAULT_RESOLVE_SECONDS = 16 * 3600.0


class Limit(enum.StrEnum):
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"


@dataclass(frozen=True)
class ComplaintLimits:
    """Business seconds from filing to acknowledgement and to resolution."""

    acknowledge: float = DEFAULT_ACKNOWLEDGE_SECONDS
    resolve: float = DEFAULT_RESOLVE_SECONDS

    def __post_init__(self) -> None:
        if self.acknowledge <= 0 or self.resolve <= 0:
            raise ValueError("complaint limits must be positive")
        if self.resolve < self.acknowledge:
            raise ValueError("a complaint cannot have to be resolved before it is acknowledged")


@dataclass(frozen=True)
class ComplaintFact:
    ticket_id: int
    created_at: datetime
    status: Status
    escalation_level: int
    #: When it first left new/assigned (the audit trail says); None: not yet.
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    organisation_id: int | None = None
    account_manager: str | None = None


@dataclass(frozen=True)
class ComplaintEscalated:
    """A complaint missed a limit and went one level up; subscribe for metrics or mail."""

    ticket_id: int
    organisation_id: int | None
    account_manager: str | None
    level: int
    limit: Limit
    #: When the limit was reached (business time on the organisation's calendar).
    due_at: datetime


def due_at(
    fact: ComplaintFact, limit: Limit, calendar: BusinessCalendar, limits: ComplaintLimits
) -> datetime:
    """When `limit` is reached: its business seconds after filing, on `calendar`."""
    seconds = limits.acknowledge if limit is Limit.ACKNOWLEDGE else limits.resolve
    return calendar.add_business_seconds(fact.created_at, seconds)


def missed_limits(
    fact: ComplaintFact, calendar: BusinessCalendar, limits: ComplaintLimits, now: datetime
) -> list[tuple[Limit, datetime]]:
    """The limits the complaint missed by `now`, in order, with their due instants.

    A limit is missed when its event (acknowledgement, resolution) came after the due
    instant, or has not come and `now` is past it; the due instant itself is in time.
    A cancelled complaint misses nothing more after it was cancelled: the caller stops
    looking at it.
    """
    missed: list[tuple[Limit, datetime]] = []
    acknowledged = fact.acknowledged_at
    if acknowledged is None and fact.status not in UNACKNOWLEDGED:
        acknowledged = fact.created_at  # moved on, when unknown: not held against it
    for limit, happened in ((Limit.ACKNOWLEDGE, acknowledged), (Limit.RESOLVE, fact.resolved_at)):
        due = due_at(fact, limit, calendar, limits)
        if (happened if happened is not None else now) > due:
            missed.append((limit, due))
    return missed


def escalations_due(
    fact: ComplaintFact, calendar: BusinessCalendar, limits: ComplaintLimits, now: datetime
) -> list[ComplaintEscalated]:
    """The escalations to apply now: one per missed limit beyond `escalation_level`.

    The stored level counts the escalations already made, so applying these and asking
    again at the same instant gives nothing (a restart never escalates twice).
    """
    missed = missed_limits(fact, calendar, limits, now)
    return [
        ComplaintEscalated(
            fact.ticket_id, fact.organisation_id, fact.account_manager, level, limit, due
        )
        for level, (limit, due) in enumerate(missed, start=1)
        if level > fact.escalation_level
    ]
