"""When a call belongs to an incident the caller already has open.

An employee who calls back about the same fault should not get a second incident, but a
call days later is most likely about something new. The rule: attach to the open incident
most recently worked on, provided it was touched within the window; otherwise open a new one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from callcenter.tickets.records import OPEN_TICKET_STATUSES, TicketStatus


@dataclass(frozen=True)
class IncidentCandidate:
    """What the rule needs to know of one of the caller's incidents."""

    id: int
    status: TicketStatus
    updated_at: datetime


def incident_to_attach(
    incidents: Iterable[IncidentCandidate], now: datetime, window_hours: float
) -> int | None:
    """The id of the incident the call joins, or None to open a new incident.

    A window of 0 (or less) never attaches. The window is inclusive: an incident updated
    exactly `window_hours` ago still counts. An `updated_at` after `now` (another node's
    clock running ahead) counts as recent. Ties go to the higher id, the newer incident.
    """
    if window_hours <= 0:
        return None
    oldest = now - timedelta(hours=window_hours)
    recent = [
        incident
        for incident in incidents
        if incident.status in OPEN_TICKET_STATUSES and incident.updated_at >= oldest
    ]
    if not recent:
        return None
    return max(recent, key=lambda incident: (incident.updated_at, incident.id)).id
