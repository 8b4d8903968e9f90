"""Erlang C against published values and against an exact-rational textbook formula."""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import replace
from fractions import Fraction

import pytest

from callcenter.planning.erlang import (
    MAX_AGENTS,
    MAX_TRAFFIC_ERLANGS,
    MIN_OCCUPANCY_CAP,
    InvalidInput,
    Workload,
    average_speed_of_answer,
    erlang_b,
    erlang_c,
    levels,
    occupancy,
    required_agents,
    requirement_view,
    scheduled_agents,
    service_level,
    staffing_level,
    table_around,
    traffic_intensity,
)

#: The classic worked example: 100 calls in 30 minutes, AHT 3 minutes, 80% within 20 s.
WORKED = Workload(
    calls=100,
    interval_minutes=30,
    aht_seconds=180,
    answer_within_seconds=20,
    target=0.8,
    shrinkage=0.3,
)


def exact_erlang_c(agents: int, traffic: Fraction) -> Fraction:
    """The textbook closed form with factorials, in exact integers: no recurrence, no floats.

    C = (A^N/N! · N/(N-A)) / (sum_{k<N} A^k/k! + A^N/N! · N/(N-A)), every term scaled by
    N!·q^N for A = p/q so that the sum is a plain integer.
    """
    p, q = traffic.numerator, traffic.denominator
    n_factorial = math.factorial(agents)
    below: int = sum(
        p**k * q ** (agents - k) * (n_factorial // math.factorial(k)) for k in range(agents)
    )
    top = Fraction(p**agents * agents * q, agents * q - p)
    return top / (top + below)


def exact_erlang_b(agents: int, traffic: Fraction) -> Fraction:
    terms = [traffic**k / math.factorial(k) for k in range(agents + 1)]
    return terms[-1] / sum(terms)


def exact_service_level(agents: int, traffic: Fraction, aht: float, within: float) -> float:
    wait = float(exact_erlang_c(agents, traffic))
    return 1 - wait * math.exp(-(agents - float(traffic)) * within / aht)


# ----- published values ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("agents", "published"),
    [(11, 0.6821), (12, 0.4494), (13, 0.2853), (14, 0.1741), (15, 0.1020)],
)
def test_wait_probability_matches_published_table_for_ten_erlangs(
    agents: int, published: float
) -> None:
    assert erlang_c(agents, 10.0) == pytest.approx(published, abs=5e-5)


def test_erlang_b_matches_published_value() -> None:
    # Ten trunks offered ten Erlangs block 21.46% of calls (Erlang B tables).
    assert erlang_b(10, 10.0) == pytest.approx(0.2146, abs=5e-5)


def test_worked_example_needs_fourteen_agents() -> None:
    """13 agents reach only 79.6% within 20 s; the 14th lifts it to 88.8%."""
    assert WORKED.traffic_erlangs == 10.0
    requirement = required_agents(WORKED)
    assert requirement.agents == 14
    assert requirement.limited_by == "service_level"
    level = requirement.level
    assert level.service_level == pytest.approx(0.8884, abs=5e-5)
    assert level.service_level == pytest.approx(
        exact_service_level(14, Fraction(10), 180, 20), rel=1e-12
    )
    assert level.asa_seconds == pytest.approx(7.84, abs=0.005)
    assert level.occupancy == pytest.approx(10 / 14)
    assert level.wait_probability == pytest.approx(0.1741, abs=5e-5)
    # 14 on the phones with 30% shrinkage: 20 on the rota.
    assert requirement.scheduled_agents == 20

    thirteen = staffing_level(13, 10.0, 180, 20)
    assert thirteen.service_level == pytest.approx(0.7956, abs=5e-5)
    assert thirteen.service_level < WORKED.target
    assert thirteen.asa_seconds == pytest.approx(17.12, abs=0.005)


# ----- exact rational cross-checks ------------------------------------------------------------


@pytest.mark.parametrize("traffic", [Fraction(1, 2), Fraction(5, 2), Fraction(10), Fraction(37, 3)])
def test_recurrence_matches_exact_formula_for_small_desks(traffic: Fraction) -> None:
    first = math.floor(traffic) + 1
    for agents in range(first, first + 12):
        assert erlang_c(agents, float(traffic)) == pytest.approx(
            float(exact_erlang_c(agents, traffic)), rel=1e-12
        )
        assert erlang_b(agents, float(traffic)) == pytest.approx(
            float(exact_erlang_b(agents, traffic)), rel=1e-12
        )


def test_large_desk_of_500_erlangs_matches_exact_formula() -> None:
    traffic = Fraction(500)
    for agents in (501, 505, 510, 520, 530, 540):
        assert erlang_c(agents, 500.0) == pytest.approx(
            float(exact_erlang_c(agents, traffic)), rel=1e-10
        )


def test_large_desk_of_500_erlangs_needs_the_exact_count() -> None:
    # 5000 calls in 30 minutes at 3 minutes each: 500 Erlangs, 80% within 20 s.
    workload = replace(WORKED, calls=5000, shrinkage=0.0)
    requirement = required_agents(workload)
    assert 500 < requirement.agents < 560
    exact = Fraction(500)
    assert exact_service_level(requirement.agents, exact, 180, 20) >= 0.8
    assert exact_service_level(requirement.agents - 1, exact, 180, 20) < 0.8
    assert requirement.level.service_level == pytest.approx(
        exact_service_level(requirement.agents, exact, 180, 20), rel=1e-10
    )


def test_thousand_erlangs_stay_finite_where_factorials_overflow() -> None:
    with pytest.raises(OverflowError):
        float(1000) ** 1000 / math.factorial(1000)
    previous = 1.0
    for agents in range(1001, 1101, 11):
        wait = erlang_c(agents, 1000.0)
        assert 0 < wait < previous
        previous = wait
    assert erlang_c(1030, 1000.0) == pytest.approx(
        float(exact_erlang_c(1030, Fraction(1000))), rel=1e-10
    )


# ----- the unstable queue ---------------------------------------------------------------------


@pytest.mark.parametrize("agents", [1, 9, 10])
def test_no_more_agents_than_erlangs_is_an_unstable_queue(agents: int) -> None:
    level = staffing_level(agents, 10.0, 180, 20)
    assert level.wait_probability == 1.0
    assert level.service_level == 0.0
    assert level.asa_seconds is None
    assert level.occupancy == 1.0
    assert not level.stable
    assert erlang_c(agents, 10.0) == 1.0
    assert average_speed_of_answer(agents, 10.0, 180) is None


def test_first_agent_above_the_traffic_is_stable() -> None:
    level = staffing_level(11, 10.0, 180, 20)
    assert level.stable
    assert level.asa_seconds is not None and level.asa_seconds > 0


# ----- the helpers agree with one another ------------------------------------------------------


def test_single_value_helpers_agree_with_the_level() -> None:
    level = staffing_level(12, 10.0, 180, 20)
    assert service_level(12, 10.0, 180, 20) == level.service_level
    assert average_speed_of_answer(12, 10.0, 180) == level.asa_seconds
    assert occupancy(12, 10.0) == level.occupancy == pytest.approx(10 / 12)
    assert traffic_intensity(100, 1800, 180) == 10.0


def test_more_agents_never_serve_worse() -> None:
    rows = levels(WORKED, 11, 30)
    assert [r.agents for r in rows] == list(range(11, 31))
    for fewer, more in itertools.pairwise(rows):
        assert more.service_level > fewer.service_level
        assert more.wait_probability < fewer.wait_probability
        assert fewer.asa_seconds is not None and more.asa_seconds is not None
        assert more.asa_seconds < fewer.asa_seconds
        assert more.occupancy < fewer.occupancy


def test_zero_threshold_service_level_is_one_minus_wait_probability() -> None:
    assert service_level(12, 10.0, 180, 0) == pytest.approx(1 - erlang_c(12, 10.0))


# ----- occupancy cap and shrinkage ------------------------------------------------------------


def test_occupancy_cap_can_ask_for_more_than_the_service_level() -> None:
    capped = required_agents(replace(WORKED, max_occupancy=0.7))
    assert capped.agents == 15  # 10 / 0.7 = 14.3
    assert capped.limited_by == "max_occupancy"
    loose = required_agents(replace(WORKED, max_occupancy=0.85))
    assert loose.agents == 14
    assert loose.limited_by == "service_level"


def test_occupancy_cap_on_an_exact_boundary_costs_no_extra_agent() -> None:
    # 10.5 Erlangs at most 70% busy is exactly 15 agents; in floats 10.5 / 0.7 is 15.000...02.
    workload = Workload(105, 30, 180, 20, target=0.05, max_occupancy=0.7)
    assert workload.traffic_erlangs == 10.5
    requirement = required_agents(workload)
    assert requirement.agents == 15
    assert requirement.level.occupancy == pytest.approx(0.7)


@pytest.mark.parametrize(
    ("agents", "shrinkage", "scheduled"),
    [(14, 0.3, 20), (13, 0.3, 19), (21, 0.3, 30), (10, 0.0, 10), (5, 0.5, 10), (1, 0.01, 2)],
)
def test_scheduled_agents_round_up_without_float_noise(
    agents: int, shrinkage: float, scheduled: int
) -> None:
    assert scheduled_agents(agents, shrinkage) == scheduled


# ----- the table and the JSON view ------------------------------------------------------------


def test_table_spans_three_either_side_but_never_into_instability() -> None:
    rows = table_around(required_agents(WORKED))
    assert [r.agents for r in rows] == list(range(11, 18))

    small = required_agents(Workload(22, 60, 360, 20, 0.9))  # 2.2 Erlangs, 5 agents
    assert small.agents == 5
    assert [r.agents for r in table_around(small)] == [3, 4, 5, 6, 7, 8]


def test_requirement_view_is_strict_json_with_the_chosen_count() -> None:
    view = requirement_view(required_agents(WORKED))
    again = json.loads(json.dumps(view, allow_nan=False))
    assert again["agents"] == 14
    assert again["scheduled_agents"] == 20
    assert again["traffic_erlangs"] == 10.0
    assert again["service_level"] == pytest.approx(0.8884, abs=5e-5)
    assert again["asa_seconds"] == pytest.approx(7.84, abs=0.005)
    assert again["occupancy"] == pytest.approx(10 / 14)
    assert [row["agents"] for row in again["table"]] == list(range(11, 18))
    assert [row["meets_target"] for row in again["table"]] == [False] * 3 + [True] * 4
    assert again["inputs"]["interval_minutes"] == 30


# ----- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "parameter"),
    [
        ({"calls": 0}, "calls"),
        ({"calls": -5}, "calls"),
        ({"calls": math.nan}, "calls"),
        ({"interval_minutes": 0}, "interval_minutes"),
        ({"interval_minutes": math.inf}, "interval_minutes"),
        ({"aht_seconds": 0}, "aht_seconds"),
        ({"answer_within_seconds": -1}, "answer_within_seconds"),
        ({"target": 0}, "target"),
        ({"target": 1}, "target"),
        ({"target": 80}, "target"),
        ({"shrinkage": -0.1}, "shrinkage"),
        ({"shrinkage": 1}, "shrinkage"),
        ({"max_occupancy": 0}, "max_occupancy"),
        ({"max_occupancy": 1.2}, "max_occupancy"),
        ({"max_occupancy": 1e-12}, "max_occupancy"),  # froze the loop once (#14)
        ({"max_occupancy": 0.49}, "max_occupancy"),
        ({"interval_minutes": 24 * 60 + 1}, "interval_minutes"),
        ({"aht_seconds": 4 * 3600 + 1}, "aht_seconds"),
        ({"answer_within_seconds": 3601}, "answer_within_seconds"),
        ({"calls": MAX_TRAFFIC_ERLANGS * 10 + 1}, "calls"),
    ],
)
def test_invalid_workload_names_the_parameter(change: dict[str, float], parameter: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        replace(WORKED, **change)
    assert caught.value.parameter == parameter
    assert str(caught.value).startswith(f"{parameter}: ")
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("agents", [0, -1, True])
def test_agent_counts_must_be_whole_and_positive(agents: int) -> None:
    with pytest.raises(InvalidInput, match=r"^agents: "):
        erlang_c(agents, 1.0)


@pytest.mark.parametrize("traffic", [-1.0, math.nan, MAX_TRAFFIC_ERLANGS + 1])
def test_traffic_must_be_a_sane_number(traffic: float) -> None:
    with pytest.raises(InvalidInput, match=r"^traffic: "):
        erlang_b(3, traffic)


def test_scheduled_agents_rejects_full_shrinkage() -> None:
    with pytest.raises(InvalidInput, match=r"^shrinkage: "):
        scheduled_agents(5, 1.0)


def test_the_largest_accepted_question_is_answered_within_the_step_cap() -> None:
    """Every bound at its worst: the most traffic, the loosest occupancy cap allowed."""
    worst = Workload(
        calls=MAX_TRAFFIC_ERLANGS * 4,
        interval_minutes=60,
        aht_seconds=900,
        answer_within_seconds=0,
        target=0.99,
        max_occupancy=MIN_OCCUPANCY_CAP,
    )
    requirement = required_agents(worst)
    assert requirement.agents == 20_000  # 10,000 Erlangs at most 50% busy
    assert requirement.agents <= MAX_AGENTS
    assert requirement.limited_by == "max_occupancy"
