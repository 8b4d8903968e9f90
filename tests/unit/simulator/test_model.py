"""The plan: validation, distributions, the callers it draws, Erlang C rostering."""

from __future__ import annotations

import math
import random
import statistics
from dataclasses import replace

import pytest

from callcenter.acd.model import QueueSettings
from callcenter.planning.erlang import Workload, required_agents
from callcenter.simulator.model import (
    DayPlan,
    Distribution,
    HandleTime,
    PlanError,
    default_queue,
    draw_callers,
    streams,
)
from callcenter.simulator.profile import ArrivalProfile


def test_lognormal_talk_has_the_asked_mean_and_cv() -> None:
    draw = HandleTime(360.0, 0.8, Distribution.LOGNORMAL).sampler(random.Random(7))
    sample = [draw() for _ in range(40_000)]
    mean = statistics.fmean(sample)
    assert mean == pytest.approx(360.0, rel=0.03)
    assert statistics.pstdev(sample) / mean == pytest.approx(0.8, rel=0.06)


def test_exponential_talk_has_the_asked_mean() -> None:
    draw = HandleTime(200.0, 0.3, Distribution.EXPONENTIAL).sampler(random.Random(7))
    sample = [draw() for _ in range(40_000)]
    assert statistics.fmean(sample) == pytest.approx(200.0, rel=0.03)
    assert statistics.pstdev(sample) / statistics.fmean(sample) == pytest.approx(1.0, rel=0.05)


def test_callers_are_poisson_within_the_profile_and_repeat_for_a_seed() -> None:
    plan = DayPlan(calls=2000, profile=ArrivalProfile(8 * 60, (1.0, 3.0)))
    callers = draw_callers(plan, streams(5))
    assert callers == draw_callers(plan, streams(5))
    assert callers != draw_callers(plan, streams(6))
    arrivals = [c.arrival for c in callers]
    assert arrivals == sorted(arrivals)
    assert arrivals[0] >= 8 * 3600 and arrivals[-1] < 8 * 3600 + 1800
    first = sum(1 for t in arrivals if t < 8 * 3600 + 900)
    # Expected 500 and 1500; Poisson standard deviations about 22 and 39.
    assert abs(first - 500) < 100
    assert abs(len(callers) - first - 1500) < 170
    assert len({c.call_id for c in callers}) == len(callers)
    assert statistics.fmean(c.patience for c in callers) == pytest.approx(180, rel=0.1)


def test_infinite_patience_never_abandons() -> None:
    callers = draw_callers(DayPlan(calls=100, patience_seconds=None), streams(1))
    assert all(math.isinf(c.patience) for c in callers)
    assert DayPlan(patience_seconds=math.inf).patience == math.inf


def test_streams_are_independent_so_variants_meet_the_same_callers() -> None:
    # Changing the talk-time model does not move anyone's arrival.
    base = DayPlan(calls=300)
    other = replace(base, handle_time=HandleTime(100.0, 1.0, Distribution.EXPONENTIAL))
    a, b = draw_callers(base, streams(3)), draw_callers(other, streams(3))
    assert [c.arrival for c in a] == [c.arrival for c in b]
    assert [c.patience for c in a] == [c.patience for c in b]


def test_erlang_staffing_is_erlang_c_per_interval() -> None:
    plan = DayPlan(calls=1000, profile=ArrivalProfile(9 * 60, (1.0, 0.0, 3.0)))
    expected = required_agents(
        Workload(
            calls=750.0,
            interval_minutes=15,
            aht_seconds=360.0,
            answer_within_seconds=20.0,
            target=0.8,
        )
    ).agents
    assert plan.agents_per_interval() == (plan.erlang_agents(250.0), 0, expected)


def test_erlang_sizes_handle_time_with_wrap_up() -> None:
    queue = replace(default_queue(), wrap_up_seconds=60.0)
    assert DayPlan(queue=queue).aht_seconds == 420.0
    assert DayPlan(queue=queue).erlang_agents(100) > DayPlan().erlang_agents(100)


def test_flat_and_per_interval_staffing() -> None:
    profile = ArrivalProfile(9 * 60, (1.0, 1.0, 1.0))
    assert DayPlan(profile=profile, staffing=4).agents_per_interval() == (4, 4, 4)
    assert DayPlan(profile=profile, staffing=(1, 2, 3)).agents_per_interval() == (1, 2, 3)


@pytest.mark.parametrize(
    ("changes", "parameter"),
    [
        ({"calls": 0}, "calls"),
        ({"calls": math.nan}, "calls"),
        ({"patience_seconds": -1.0}, "patience"),
        ({"answer_delay_seconds": -1.0}, "answer_delay"),
        ({"answer_delay_seconds": 15.0}, "answer_delay"),
        ({"tick_seconds": 0.0}, "tick"),
        ({"staffing": -1}, "staff"),
        ({"staffing": (1, 2)}, "staff"),
        ({"staffing": "lots"}, "staff"),
        ({"staffing": True}, "staff"),
        ({"seed": 1.5}, "seed"),
        ({"queue": replace(default_queue(), service_level_target=1.0)}, "target"),
        ({"queue": replace(default_queue(), service_level_target=1.5)}, "target"),
        ({"queue": replace(default_queue(), wrap_up_seconds=-5.0)}, "wrap_up"),
        ({"queue": replace(default_queue(), ring_timeout_seconds=0.0)}, "ring_timeout"),
        ({"calls": 1e9}, "calls"),  # beyond what Erlang C sizes
        ({"calls": 1e9, "staffing": 5}, "calls"),
    ],
)
def test_bad_plans_name_the_parameter(changes: dict[str, object], parameter: str) -> None:
    with pytest.raises(PlanError) as error:
        DayPlan(**changes)  # type: ignore[arg-type]
    assert error.value.parameter == parameter


def test_a_target_of_one_is_fine_when_erlang_c_does_not_size() -> None:
    queue = replace(default_queue(), service_level_target=1.0)
    assert DayPlan(queue=queue, staffing=5).queue.service_level_target == 1.0


def test_the_default_queue_is_built_by_keyword() -> None:
    queue = default_queue()
    assert isinstance(queue, QueueSettings)
    assert (queue.service_level_seconds, queue.service_level_target) == (20.0, 0.8)


@pytest.mark.parametrize(
    ("mean", "cv", "parameter"), [(0.0, 0.8, "aht"), (-3.0, 0.8, "aht"), (360.0, 0.0, "aht_cv")]
)
def test_bad_handle_times_name_the_parameter(mean: float, cv: float, parameter: str) -> None:
    with pytest.raises(PlanError) as error:
        HandleTime(mean, cv)
    assert error.value.parameter == parameter
