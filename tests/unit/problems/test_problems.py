"""Problem proposals from repeated incidents, and first-contact resolution shares."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from callcenter.problems.model import (
    Dimension,
    IncidentFact,
    ResolutionFact,
    first_contact_resolution,
    first_visit_resolution,
    propose_problems,
)

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def days_ago(n: float) -> datetime:
    return NOW - timedelta(days=n)


def incident(
    id_: int,
    age_days: float,
    ci: str | None = None,
    model: str | None = None,
    category: str | None = None,
    problem_id: int | None = None,
) -> IncidentFact:
    return IncidentFact(id_, days_ago(age_days), ci, model, category, problem_id)


def test_three_incidents_on_one_pc_make_a_problem() -> None:
    incidents = [
        incident(1, 20, "KJC-COM-0001"),
        incident(2, 10, "KJC-COM-0001"),
        incident(3, 1, "KJC-COM-0001"),
        incident(4, 1, "KJC-COM-0002"),
    ]
    [proposal] = propose_problems(incidents, NOW)
    assert proposal.dimension is Dimension.CONFIGURATION_ITEM
    assert proposal.key == "KJC-COM-0001"
    assert proposal.incident_ids == (1, 2, 3)
    assert (proposal.first_at, proposal.last_at) == (days_ago(20), days_ago(1))
    assert proposal.count == 3


def test_below_the_threshold_or_outside_the_window_nothing_is_proposed() -> None:
    two = [incident(1, 1, "PC1"), incident(2, 2, "PC1")]
    assert propose_problems(two, NOW) == []
    old = [*two, incident(3, 31, "PC1")]
    assert propose_problems(old, NOW) == []
    assert len(propose_problems(old, NOW, window=timedelta(days=31))) == 1  # inclusive
    assert len(propose_problems(two, NOW, threshold=2)) == 1


def test_models_and_categories_across_devices_case_insensitively() -> None:
    incidents = [
        incident(1, 1, "PC1", "HP LaserJet 1020", "printing"),
        incident(2, 2, "PC2", "hp  laserjet 1020", "Printing"),
        incident(3, 3, "PC3", "HP LASERJET 1020", "network"),
        incident(4, 4, "PC4", "Dell 7010", "printing"),
    ]
    proposals = propose_problems(incidents, NOW)
    assert [(p.dimension, p.key, p.incident_ids) for p in proposals] == [
        (Dimension.MODEL, "hp laserjet 1020", (3, 2, 1)),
        (Dimension.CATEGORY, "printing", (4, 2, 1)),
    ]


def test_a_group_already_covered_by_a_more_specific_one_is_not_repeated() -> None:
    incidents = [incident(n, n, "PC1", "Dell 7010", "boot") for n in (1, 2, 3)]
    proposals = propose_problems(incidents, NOW)
    assert [p.dimension for p in proposals] == [Dimension.CONFIGURATION_ITEM]
    # A fourth incident of the model on another PC makes the model group larger: kept.
    proposals = propose_problems([*incidents, incident(4, 1, "PC2", "Dell 7010")], NOW)
    assert [(p.dimension, p.count) for p in proposals] == [
        (Dimension.CONFIGURATION_ITEM, 3),
        (Dimension.MODEL, 4),
    ]


def test_incidents_already_linked_to_a_problem_are_left_out() -> None:
    incidents = [incident(1, 1, "PC1"), incident(2, 2, "PC1"), incident(3, 3, "PC1", problem_id=7)]
    assert propose_problems(incidents, NOW) == []


def test_blank_keys_group_nothing_and_future_incidents_count() -> None:
    incidents = [incident(n, 1, " ", "", "  ") for n in (1, 2, 3)]
    assert propose_problems(incidents, NOW) == []
    ahead = [incident(1, -0.01, "PC1"), incident(2, 1, "PC1"), incident(3, 2, "PC1")]
    assert propose_problems(ahead, NOW)[0].incident_ids == (3, 2, 1)


def test_invalid_parameters() -> None:
    with pytest.raises(ValueError, match="threshold 0"):
        propose_problems([], NOW, threshold=0)
    with pytest.raises(ValueError, match="must be positive"):
        propose_problems([], NOW, window=timedelta(0))
    with pytest.raises(ValueError, match="naive"):
        propose_problems([], datetime(2026, 11, 27))


def test_first_contact_resolution_against_the_standard_target() -> None:
    facts = [ResolutionFact(n, contacts=1) for n in range(7)]
    facts += [
        ResolutionFact(7, contacts=2, onsite_visits=1),
        ResolutionFact(8, contacts=3),
        ResolutionFact(9, contacts=1, reopened=True),  # reopened: not solved first time
    ]
    share = first_contact_resolution(facts)
    assert (share.solved_first_time, share.counted, share.target) == (7, 10, 0.70)
    assert share.share == pytest.approx(0.7)
    assert share.met is True
    worse = first_contact_resolution(facts[1:])
    assert worse.share == pytest.approx(6 / 9)
    assert worse.met is False


def test_first_visit_resolution_against_the_premium_target() -> None:
    facts = [ResolutionFact(n, contacts=2, onsite_visits=1) for n in range(17)]
    facts += [
        ResolutionFact(17, contacts=3, onsite_visits=2),
        ResolutionFact(18, contacts=2, onsite_visits=1, reopened=True),
        ResolutionFact(19, contacts=1),  # solved on the phone: not counted here
        ResolutionFact(20, contacts=3, onsite_visits=2),
    ]
    share = first_visit_resolution(facts)
    assert (share.solved_first_time, share.counted) == (17, 20)
    assert share.share == pytest.approx(0.85)
    assert share.met is True
    assert first_visit_resolution(facts, target=0.9).met is False


def test_no_tickets_means_no_verdict_and_impossible_facts_are_refused() -> None:
    empty = first_contact_resolution([])
    assert (empty.share, empty.met) == (None, None)
    assert first_visit_resolution([ResolutionFact(1, contacts=1)]).met is None
    with pytest.raises(ValueError, match="ticket 5: 1 contacts with 2 on-site visits"):
        first_contact_resolution([ResolutionFact(5, contacts=1, onsite_visits=2)])
    with pytest.raises(ValueError, match="impossible"):
        first_visit_resolution([ResolutionFact(6, contacts=0)])
