"""The problem scan's decisions: the idempotence key, linking to open problems, and a
second scan over the first one's result doing nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from callcenter.problems.model import (
    Dimension,
    IncidentFact,
    incident_keys,
    plan_scan,
    problem_key,
)

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def incident(
    id_: int,
    age_days: float,
    ci: str | None = None,
    model: str | None = None,
    category: str | None = None,
    problem_id: int | None = None,
) -> IncidentFact:
    return IncidentFact(id_, NOW - timedelta(days=age_days), ci, model, category, problem_id)


def test_problem_key_normalises_as_the_proposals_group() -> None:
    assert problem_key(Dimension.MODEL, "ThinkPad  T14 ") == "model:thinkpad t14"
    assert problem_key("model", "thinkpad t14") == problem_key(Dimension.MODEL, "THINKPAD T14")
    assert problem_key(Dimension.CATEGORY, " Printing") == "category:printing"
    # Configuration items are identifiers: stripped, but case is kept.
    assert problem_key(Dimension.CONFIGURATION_ITEM, " 0000COM0001 ") == (
        "configuration_item:0000COM0001"
    )
    assert problem_key(Dimension.CONFIGURATION_ITEM, "0000com0001") != problem_key(
        Dimension.CONFIGURATION_ITEM, "0000COM0001"
    )
    # The same text on two dimensions is two problems.
    assert problem_key(Dimension.MODEL, "x") != problem_key(Dimension.CATEGORY, "x")


@pytest.mark.parametrize("key", ["", "   "])
def test_an_empty_key_is_refused(key: str) -> None:
    with pytest.raises(ValueError, match="empty"):
        problem_key(Dimension.MODEL, key)


def test_an_unknown_dimension_is_refused() -> None:
    with pytest.raises(ValueError):
        problem_key("vendor", "Lenovo")


def test_incident_keys_most_specific_first() -> None:
    fact = incident(1, 0, "0000COM0001", "ThinkPad T14", "Hardware")
    assert incident_keys(fact) == [
        (Dimension.CONFIGURATION_ITEM, "0000COM0001"),
        (Dimension.MODEL, "thinkpad t14"),
        (Dimension.CATEGORY, "hardware"),
    ]
    assert incident_keys(incident(2, 0)) == []


def test_a_first_scan_proposes_and_links_nothing() -> None:
    incidents = [incident(i, i, "0000COM0001") for i in (1, 2, 3)]
    plan = plan_scan(incidents, {}, NOW)
    assert plan.link == {}
    assert [(p.dimension, p.key, p.incident_ids) for p in plan.create] == [
        (Dimension.CONFIGURATION_ITEM, "0000COM0001", (3, 2, 1))
    ]


def test_after_the_scan_is_written_a_second_scan_does_nothing() -> None:
    incidents = [incident(i, i, "0000COM0001", "M920t") for i in (1, 2, 3)]
    first = plan_scan(incidents, {}, NOW)
    (proposal,) = first.create
    # What the store has after writing the plan: a problem, its incidents linked.
    open_problems = {problem_key(proposal.dimension, proposal.key): 100}
    linked = [
        IncidentFact(i.id, i.created_at, i.configuration_item, i.model, i.category, 100)
        for i in incidents
    ]
    second = plan_scan(linked, open_problems, NOW)
    assert second.link == {} and second.create == []


def test_a_new_incident_joins_the_open_problem_below_the_threshold() -> None:
    key = problem_key(Dimension.CONFIGURATION_ITEM, "0000COM0001")
    incidents = [
        incident(1, 5, "0000COM0001", problem_id=100),
        incident(7, 0.5, "0000COM0001"),
    ]
    plan = plan_scan(incidents, {key: 100}, NOW)
    assert plan.link == {100: (7,)} and plan.create == []


def test_an_incident_joins_its_most_specific_open_problem() -> None:
    open_problems = {
        problem_key(Dimension.MODEL, "M920t"): 200,
        problem_key(Dimension.CONFIGURATION_ITEM, "0000COM0001"): 100,
    }
    plan = plan_scan(
        [incident(8, 1, "0000COM0001", "M920t"), incident(9, 1, "0000COM0002", "m920T")],
        open_problems,
        NOW,
    )
    assert plan.link == {100: (8,), 200: (9,)}


def test_old_incidents_do_not_join_an_open_problem() -> None:
    key = problem_key(Dimension.CATEGORY, "printing")
    plan = plan_scan([incident(3, 40, category="Printing")], {key: 100}, NOW)
    assert plan.link == {} and plan.create == []


def test_incidents_of_a_key_with_an_open_problem_are_linked_not_reproposed() -> None:
    # Incidents on three PCs of one model with an open problem for the model: three
    # would make a proposal, but the problem exists already.
    open_problems = {problem_key(Dimension.MODEL, "OptiPlex 7010"): 300}
    incidents = [incident(i, 1, f"PC{i}", "OptiPlex 7010") for i in (1, 2, 3)]
    plan = plan_scan(incidents, open_problems, NOW)
    assert plan.create == []
    assert plan.link == {300: (1, 2, 3)}


def test_a_closed_problem_no_longer_in_the_open_map_gets_a_new_one() -> None:
    incidents = [incident(i, 1, category="VPN") for i in (4, 5, 6)]
    plan = plan_scan(incidents, {}, NOW, threshold=3)
    assert [p.key for p in plan.create] == ["vpn"]


def test_plan_scan_refuses_naive_times() -> None:
    with pytest.raises(ValueError, match="naive"):
        plan_scan([], {}, datetime(2026, 1, 1))
