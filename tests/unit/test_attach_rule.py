from __future__ import annotations

from datetime import UTC, datetime, timedelta

from callcenter.tickets.records import TicketStatus
from callcenter.tickets.rules import IncidentCandidate, incident_to_attach

NOW = datetime(2025, 3, 10, 14, 0, tzinfo=UTC)


def _incident(
    id_: int, hours_ago: float, status: TicketStatus = TicketStatus.NEW
) -> IncidentCandidate:
    return IncidentCandidate(id=id_, status=status, updated_at=NOW - timedelta(hours=hours_ago))


def test_no_incidents_opens_a_new_one() -> None:
    assert incident_to_attach([], NOW, 8) is None


def test_an_incident_inside_the_window_is_chosen() -> None:
    assert incident_to_attach([_incident(7, 2)], NOW, 8) == 7


def test_the_most_recently_updated_open_incident_wins() -> None:
    incidents = [_incident(1, 1), _incident(2, 0.5, TicketStatus.IN_PROGRESS), _incident(3, 6)]
    assert incident_to_attach(incidents, NOW, 8) == 2


def test_an_incident_older_than_the_window_is_not_attached() -> None:
    assert incident_to_attach([_incident(1, 8.01)], NOW, 8) is None


def test_the_window_edge_is_inclusive() -> None:
    assert incident_to_attach([_incident(1, 8)], NOW, 8) == 1


def test_resolved_and_closed_incidents_are_never_attached() -> None:
    incidents = [_incident(1, 0.1, TicketStatus.RESOLVED), _incident(2, 0.2, TicketStatus.CLOSED)]
    assert incident_to_attach(incidents, NOW, 8) is None
    assert incident_to_attach([*incidents, _incident(3, 5)], NOW, 8) == 3


def test_a_zero_window_never_attaches() -> None:
    assert incident_to_attach([_incident(1, 0)], NOW, 0) is None


def test_a_clock_ahead_counts_as_recent() -> None:
    assert incident_to_attach([_incident(1, -0.5), _incident(2, 1)], NOW, 8) == 1


def test_equal_update_times_go_to_the_newer_incident() -> None:
    assert incident_to_attach([_incident(4, 1), _incident(9, 1), _incident(5, 1)], NOW, 8) == 9


def test_fractional_windows_are_honoured() -> None:
    assert incident_to_attach([_incident(1, 0.4)], NOW, 0.5) == 1
    assert incident_to_attach([_incident(1, 0.6)], NOW, 0.5) is None


def test_a_generator_is_accepted() -> None:
    assert incident_to_attach((i for i in [_incident(1, 1), _incident(2, 3)]), NOW, 8) == 1
