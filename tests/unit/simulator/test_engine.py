"""The discrete-event engine driving the real ACD: determinism, conservation, agents,
staffing extremes, ticks, rosters, wait estimates, comparisons."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from typing import Any

import pytest

from callcenter.acd import events as ev
from callcenter.acd.model import AgentState, Strategy
from callcenter.simulator.engine import DAY_ZERO, Simulation, compare, simulate
from callcenter.simulator.model import (
    DayPlan,
    Distribution,
    HandleTime,
    PlanError,
    default_queue,
)
from callcenter.simulator.profile import ArrivalProfile
from callcenter.simulator.report import erlang_prediction

#: A short morning: 300 calls over two hours, peaking in the middle.
MORNING = ArrivalProfile(9 * 60, (2.0, 3.0, 4.0, 5.0, 5.0, 4.0, 3.0, 2.0))


def small(**changes: Any) -> DayPlan:
    return replace(DayPlan(calls=300, profile=MORNING), **changes)


def events_of(plan: DayPlan) -> tuple[Any, list[ev.AcdEvent]]:
    seen: list[ev.AcdEvent] = []
    return simulate(plan, seen.append), seen


# ----- determinism and conservation ---------------------------------------------------------


def test_the_same_seed_gives_the_same_day() -> None:
    assert simulate(small(seed=11)) == simulate(small(seed=11))


def test_another_seed_gives_another_day() -> None:
    a, b = simulate(small(seed=11)), simulate(small(seed=12))
    assert a.intervals != b.intervals


def test_every_offered_call_is_answered_or_abandoned_once_the_day_drains() -> None:
    report, seen = events_of(small(staffing=12))
    day = report.day
    assert day.unfinished == 0 and day.left_otherwise == 0
    assert day.offered == day.answered + day.abandoned
    assert day.offered == sum(isinstance(e, ev.CallEnqueued) for e in seen)
    assert day.answered == sum(isinstance(e, ev.CallAnswered) for e in seen)
    assert day.answered == sum(isinstance(e, ev.CallCompleted) for e in seen)
    assert day.abandoned == sum(isinstance(e, ev.CallAbandoned) for e in seen)
    assert sum(r.offered for r in report.intervals) == day.offered


def test_the_acd_agrees_with_the_simulators_counts() -> None:
    sim = Simulation(small(staffing=12))
    report = sim.run()
    snapshot = sim.acd.snapshot("support")
    assert snapshot.waiting == 0
    assert snapshot.offered_total == report.day.offered == len(sim.callers)
    assert snapshot.answered_total == report.day.answered
    assert snapshot.abandoned_total == report.day.abandoned
    assert not any(sim.acd.has_call(c.call_id) for c in sim.callers)
    with pytest.raises(RuntimeError):
        sim.run()


def test_a_cut_short_drain_reports_the_calls_still_in_line() -> None:
    plan = small(staffing=3, patience_seconds=None, max_drain_seconds=0.0)
    day = simulate(plan).day
    assert day.unfinished > 0
    assert day.offered == day.answered + day.abandoned + day.unfinished
    assert day.ended_at == "11:00"


def test_the_day_runs_until_the_line_drains() -> None:
    report = simulate(small(staffing=10, patience_seconds=None))
    assert report.day.unfinished == 0 and report.day.abandoned == 0
    assert len(report.intervals) > len(MORNING.weights)
    after = report.intervals[len(MORNING.weights) :]
    assert all(r.expected_calls == 0 and r.offered == 0 for r in after)
    assert all(r.agents == 10 for r in after)


# ----- agents --------------------------------------------------------------------------------


def assert_one_call_per_agent(seen: list[ev.AcdEvent]) -> None:
    holding: dict[str, str | None] = defaultdict(lambda: None)
    connected: dict[str, set[str]] = defaultdict(set)
    for event in seen:
        if isinstance(event, ev.AgentStateChanged):
            if event.new is AgentState.OFFERED:
                assert event.old is AgentState.AVAILABLE, event
                assert holding[event.agent_id] is None, event
            if event.new in (AgentState.OFFERED, AgentState.ON_CALL, AgentState.WRAP_UP):
                assert event.call_id is not None
                assert holding[event.agent_id] in (None, event.call_id), event
                holding[event.agent_id] = event.call_id
            else:
                holding[event.agent_id] = None
        elif isinstance(event, ev.CallAnswered):
            connected[event.agent_id].add(event.call_id)
            assert len(connected[event.agent_id]) == 1, event
        elif isinstance(event, ev.CallCompleted):
            connected[event.agent_id].discard(event.call_id)


@pytest.mark.parametrize("strategy", list(Strategy))
def test_no_agent_ever_handles_two_calls_at_once(strategy: Strategy) -> None:
    queue = replace(default_queue(), strategy=strategy, wrap_up_seconds=20.0)
    report, seen = events_of(small(calls=250, staffing=(4, 6, 8, 8, 6, 5, 4, 3), queue=queue))
    assert_one_call_per_agent(seen)
    assert report.day.offered == report.day.answered + report.day.abandoned


def test_agents_answer_after_the_ring_delay() -> None:
    _, seen = events_of(small(calls=100, staffing=30, answer_delay_seconds=3.0))
    offered = {e.call_id: e.at for e in seen if isinstance(e, ev.CallOffered)}
    answers = [e for e in seen if isinstance(e, ev.CallAnswered)]
    assert answers
    assert all(e.at - offered[e.call_id] == pytest.approx(3.0) for e in answers)


def test_wrap_up_ends_exactly_when_due() -> None:
    queue = replace(default_queue(), wrap_up_seconds=30.0)
    _, seen = events_of(small(calls=150, staffing=10, queue=queue))
    began: dict[str, float] = {}
    lengths = []
    for e in seen:
        if isinstance(e, ev.AgentStateChanged) and e.new is AgentState.WRAP_UP:
            began[e.agent_id] = e.at
        elif isinstance(e, ev.AgentStateChanged) and e.old is AgentState.WRAP_UP:
            lengths.append(e.at - began.pop(e.agent_id))
    assert lengths and all(length == pytest.approx(30.0) for length in lengths)


def test_a_fixed_tick_cadence_ends_wrap_up_at_the_next_tick() -> None:
    queue = replace(default_queue(), wrap_up_seconds=30.0)
    report, seen = events_of(small(calls=150, staffing=10, queue=queue, tick_seconds=7.0))
    ends = [
        e.at
        for e in seen
        if isinstance(e, ev.AgentStateChanged)
        and e.old is AgentState.WRAP_UP
        and e.new is AgentState.AVAILABLE
    ]
    start = DAY_ZERO + MORNING.start_minute * 60
    assert ends and all((t - start) / 7.0 == pytest.approx(round((t - start) / 7.0)) for t in ends)
    assert report.day.unfinished == 0


def test_the_roster_logs_agents_on_and_off_by_interval() -> None:
    staffing = (8, 8, 2, 2, 6, 6, 1, 1)
    plan = small(calls=200, staffing=staffing, handle_time=HandleTime(60.0, 1.0))
    _, seen = events_of(plan)
    staffed: set[str] = set()
    by_interval: dict[int, int] = {}
    start = DAY_ZERO + MORNING.start_minute * 60
    for e in seen:
        if isinstance(e, ev.AgentStateChanged):
            if e.new is AgentState.LOGGED_OUT:
                staffed.discard(e.agent_id)
            else:
                staffed.add(e.agent_id)
            # What is staffed 5 minutes into an interval: busy agents rostered off have
            # finished their (1-minute average) call by then.
            k = int((e.at - start) // 900)
            if (e.at - start) % 900 <= 300:
                by_interval[k] = len(staffed)
    assert max(by_interval.values()) <= 8
    assert by_interval[0] == 8
    logged_off = sum(
        1 for e in seen if isinstance(e, ev.AgentStateChanged) and e.new is AgentState.LOGGED_OUT
    )
    assert logged_off >= 6 + 5  # 8 -> 2, then 6 -> 1
    assert len(staffed) == 1  # the last roster stays while the line drains


@pytest.mark.parametrize("seed", [1, 5, 6])  # each leaves some agents idle, some busy
def test_a_shrinking_roster_logs_idle_agents_off_first(seed: int) -> None:
    profile = ArrivalProfile(9 * 60, (1.0, 1.0))
    plan = DayPlan(
        calls=16, profile=profile, staffing=(6, 2), handle_time=HandleTime(300.0, 1.0), seed=seed
    )
    _, seen = events_of(plan)
    boundary = DAY_ZERO + 9 * 3600 + 900
    state: dict[str, AgentState] = {}
    for e in seen:
        if isinstance(e, ev.AgentStateChanged) and e.at < boundary:
            state[e.agent_id] = e.new
    idle = sum(1 for s in state.values() if s is AgentState.AVAILABLE)
    busy = sum(1 for s in state.values() if s in (AgentState.OFFERED, AgentState.ON_CALL))
    assert idle + busy == 6 and idle < 6 and busy > 0
    at_once = [
        e
        for e in seen
        if isinstance(e, ev.AgentStateChanged)
        and e.at == boundary
        and e.new is AgentState.LOGGED_OUT
    ]
    # Four leave: the idle ones at once, busy ones only when their call ends.
    assert len(at_once) == min(4, idle)
    assert all(e.old is AgentState.AVAILABLE for e in at_once)


def test_a_roster_of_nobody_leaves_callers_waiting_until_someone_comes() -> None:
    plan = small(calls=100, staffing=(0, 0, 0, 0, 4, 4, 4, 4), patience_seconds=None)
    report = simulate(plan)
    assert [r.answered for r in report.intervals[:4]] == [0, 0, 0, 0]
    assert all(r.occupancy is None for r in report.intervals[:4])
    assert report.day.answered == report.day.offered


# ----- staffing extremes ------------------------------------------------------------------


def test_an_overstaffed_day_answers_everyone_in_time_and_agents_idle() -> None:
    day = simulate(small(staffing=150)).day
    assert day.service_level is not None and day.service_level >= 0.99
    assert day.asa_seconds == pytest.approx(2.0, abs=0.5)  # the ring, nothing more
    assert day.occupancy is not None and day.occupancy < 0.2


def test_an_understaffed_day_loses_many_callers() -> None:
    day = simulate(small(staffing=4)).day
    assert day.abandoned > 0.3 * day.offered
    assert day.service_level is not None and day.service_level < 0.5
    assert day.occupancy is not None and day.occupancy > 0.85


def test_erlang_staffing_meets_the_target_over_the_day() -> None:
    report = simulate(small(calls=600, seed=3))
    assert report.day.service_level is not None and report.day.service_level >= 0.8
    assert [r.agents for r in report.intervals[: len(MORNING.weights)]] == list(
        small(calls=600).agents_per_interval()
    )


def test_the_day_service_level_is_the_acds_over_the_whole_run() -> None:
    day = simulate(small(staffing=9)).day
    long_abandons = day.abandoned - day.short_abandoned
    assert day.service_level == pytest.approx(day.answered_within / (day.answered + long_abandons))


def test_erlang_c_columns_use_the_expected_load_and_the_roster() -> None:
    report = simulate(small(staffing=20))
    row = report.intervals[3]
    assert row.expected_calls == pytest.approx(300 * 5 / 28)
    prediction = erlang_prediction(row.expected_calls, 20, 360.0, 20.0)
    assert (row.erlang_service_level, row.erlang_asa_seconds) == (
        prediction.service_level,
        prediction.asa_seconds,
    )


# ----- wait estimates ---------------------------------------------------------------------


def test_wait_estimates_are_measured_when_the_acd_has_them() -> None:
    day = simulate(small(staffing=8)).day
    assert day.estimate_available
    assert day.estimates == day.answered
    assert day.estimate_mae_seconds is not None and day.estimate_mae_seconds > 0


def test_the_estimate_asked_before_enqueue_is_the_one_the_acd_gives() -> None:
    plan = small(staffing=8)
    by_event = Simulation(plan, estimate_from="event")
    by_call = Simulation(plan, estimate_from="call")
    assert by_event.run() == by_call.run()
    assert by_call.position_mismatches == 0


def test_estimates_can_be_left_out() -> None:
    day = simulate(small(staffing=8, measure_estimates=False)).day
    assert not day.estimate_available and day.estimate_mae_seconds is None


# ----- comparisons ------------------------------------------------------------------------


def test_compare_runs_variants_on_the_same_callers() -> None:
    comparison = compare({"6": small(staffing=6), "12": small(staffing=12)})
    (_, few), (_, many) = comparison.variants
    assert few.day.offered == many.day.offered
    assert [r.offered for r in few.intervals[:8]] == [r.offered for r in many.intervals[:8]]
    assert many.day.abandoned < few.day.abandoned
    assert many.day.service_level is not None and few.day.service_level is not None
    assert many.day.service_level > few.day.service_level


def test_compare_strategies_with_one_seed() -> None:
    plans = [
        (s.value, small(staffing=9, queue=replace(default_queue(), strategy=s), seed=4))
        for s in (Strategy.LONGEST_IDLE, Strategy.ROUND_ROBIN)
    ]
    comparison = compare(plans, seed=8)
    assert [name for name, _ in comparison.variants] == ["longest_idle", "round_robin"]
    assert all(report.plan["seed"] == 8 for _, report in comparison.variants)
    assert comparison.view()["variants"][1]["plan"]["strategy"] == "round_robin"


def test_compare_refuses_variants_of_different_seeds() -> None:
    with pytest.raises(PlanError, match="seed"):
        compare({"a": small(seed=1), "b": small(seed=2)})
    with pytest.raises(PlanError, match="no variant"):
        compare({})


def test_random_routing_repeats_for_a_seed() -> None:
    plan = small(staffing=9, queue=replace(default_queue(), strategy=Strategy.RANDOM))
    assert simulate(plan) == simulate(plan)


def test_exponential_talk_runs_too() -> None:
    plan = small(staffing=12, handle_time=HandleTime(300.0, 1.0, Distribution.EXPONENTIAL))
    day = simulate(plan).day
    assert day.offered == day.answered + day.abandoned


# ----- queue limits (settings the ACD may or may not have) ------------------------------------


def queue_with(**settings: Any) -> Any:
    return replace(default_queue(), **settings)


def test_calls_sent_away_by_a_full_line_count_as_left_otherwise() -> None:
    report, seen = events_of(small(staffing=4, queue=queue_with(max_waiting=3)))
    day = report.day
    assert day.left_otherwise > 0
    assert day.offered == day.answered + day.abandoned + day.left_otherwise
    assert day.unfinished == 0
    assert_one_call_per_agent(seen)


def test_a_maximum_wait_is_applied_by_a_tick_when_due() -> None:
    plan = small(staffing=4, patience_seconds=None, queue=queue_with(max_wait_seconds=60.0))
    report, seen = events_of(plan)
    day = report.day
    assert day.left_otherwise > 0 and day.abandoned == 0
    assert day.offered == day.answered + day.left_otherwise
    arrived = {e.call_id: e.at for e in seen if isinstance(e, ev.CallEnqueued)}
    overflowed = [e for e in seen if type(e).__name__ == "CallOverflowed"]
    waits = [e.at - arrived[getattr(e, "call_id")] for e in overflowed]  # noqa: B009
    assert waits and all(w == pytest.approx(60.0) for w in waits)


def test_with_alike_agents_strategies_change_who_works_not_the_queue() -> None:
    # Talk times belong to callers and agents are interchangeable: the queue's figures are
    # the same whoever answers; linear routing loads the first agents most.
    plans = {
        s.value: small(staffing=14, queue=replace(default_queue(), strategy=s))
        for s in (Strategy.LONGEST_IDLE, Strategy.LINEAR)
    }
    (_, idle), (_, linear) = compare(plans).variants
    assert idle.intervals == linear.intervals
    for day in (idle.day, linear.day):
        assert day.agent_occupancy_min is not None and day.agent_occupancy_max is not None
        assert day.occupancy is not None
        assert day.agent_occupancy_min <= day.occupancy <= day.agent_occupancy_max
    assert linear.day.agent_occupancy_max > idle.day.agent_occupancy_max  # type: ignore[operator]
    assert linear.day.agent_occupancy_min < idle.day.agent_occupancy_min  # type: ignore[operator]
