"""Routing strategies per queue: which free agent of the lowest penalty gets the call."""

from __future__ import annotations

import random

import pytest

from callcenter.acd import events as ev
from callcenter.acd.errors import InvalidSetting, InvalidTransition
from callcenter.acd.model import (
    AgentState,
    CallPhase,
    Membership,
    OfferFailure,
    QueueSettings,
    SkillStep,
    Strategy,
)
from tests.unit.acd.desk import HELPDESK, Desk, make_desk

DAY = 86_400.0


def strategy_desk(strategy: Strategy, agents: int = 3, **options: object) -> Desk:
    """Agents a1..aN logged in one second apart (a1 the longest idle)."""
    desk = Desk([QueueSettings(HELPDESK, strategy=strategy)], **options)
    for n in range(1, agents + 1):
        desk.login(f"a{n}")
        desk.advance(1)
    return desk


def serve(desk: Desk, call_id: str, talk: float = 0.0) -> str:
    """Enqueue a call, answer it with whoever is offered it, talk, hang up; who took it."""
    desk.acd.enqueue(call_id, HELPDESK, "x")
    agent = desk.offered_to(call_id)
    assert agent is not None
    desk.acd.answered(call_id)
    desk.advance(talk)
    desk.acd.hangup(call_id)
    desk.advance(1)
    return agent


def test_longest_idle_is_the_default() -> None:
    assert QueueSettings(HELPDESK).strategy is Strategy.LONGEST_IDLE


def test_round_robin_goes_on_after_the_last_agent_offered() -> None:
    desk = strategy_desk(Strategy.ROUND_ROBIN)

    picks = [serve(desk, f"c{n}") for n in range(5)]

    # Longest idle would give a1 the second call (it is free and was idle longest).
    assert picks == ["a1", "a2", "a3", "a1", "a2"]


def test_round_robin_skips_busy_agents_and_remembers_past_them() -> None:
    desk = strategy_desk(Strategy.ROUND_ROBIN)
    assert serve(desk, "c0") == "a1"
    desk.acd.set_agent_state("a2", AgentState.PAUSED, "break")

    assert serve(desk, "c1") == "a3"
    desk.acd.set_agent_state("a2", AgentState.AVAILABLE)
    assert serve(desk, "c2") == "a1"
    assert serve(desk, "c3") == "a2"


def test_round_robin_order_follows_the_membership_order() -> None:
    desk = Desk([QueueSettings(HELPDESK, strategy=Strategy.ROUND_ROBIN)])
    for agent_id, order in (("a1", 3), ("a2", 1), ("a3", 2)):
        desk.acd.add_agent(agent_id, {HELPDESK: Membership(order=order)})
        desk.acd.set_agent_state(agent_id, AgentState.AVAILABLE)

    assert [serve(desk, f"c{n}") for n in range(4)] == ["a2", "a3", "a1", "a2"]


def test_linear_always_starts_from_the_top_of_the_order() -> None:
    desk = strategy_desk(Strategy.LINEAR)

    assert [serve(desk, f"c{n}") for n in range(3)] == ["a1", "a1", "a1"]
    desk.acd.enqueue("busy", HELPDESK, "x")
    desk.acd.enqueue("next", HELPDESK, "x")
    assert (desk.offered_to("busy"), desk.offered_to("next")) == ("a1", "a2")


def test_linear_order_is_the_order_agents_were_added_unless_configured() -> None:
    desk = Desk([QueueSettings(HELPDESK, strategy=Strategy.LINEAR)])
    desk.acd.add_agent("z", [HELPDESK])
    desk.acd.add_agent("b", {HELPDESK: Membership(order=-1)})
    desk.acd.add_agent("a", [HELPDESK])
    for agent_id in ("a", "z", "b"):
        desk.acd.set_agent_state(agent_id, AgentState.AVAILABLE)
        desk.advance(1)

    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.enqueue("c2", HELPDESK, "x")

    assert (desk.offered_to("c1"), desk.offered_to("c2")) == ("b", "z")


def test_fewest_calls_prefers_the_agent_with_fewer_answered_calls_today() -> None:
    desk = strategy_desk(Strategy.FEWEST_CALLS, agents=2)
    assert serve(desk, "c1") == "a1"
    assert serve(desk, "c2") == "a2"
    assert serve(desk, "c3") == "a1"  # a tie: the longest idle

    assert serve(desk, "c4") == "a2"
    assert (desk.acd.agent("a1").calls_today, desk.acd.agent("a2").calls_today) == (2, 2)


def test_fewest_calls_counts_only_answered_calls() -> None:
    desk = strategy_desk(Strategy.FEWEST_CALLS, agents=2)
    desk.acd.enqueue("lost", HELPDESK, "x")
    assert desk.offered_to("lost") == "a1"
    desk.acd.hangup("lost")  # abandoned while ringing: not a call a1 took

    assert serve(desk, "c1") == "a1"


def fewest_calls_around_midnight(midnight: float, **options: object) -> tuple[str, str]:
    """a2 answers a call just before midnight, a1 logs in after it; who gets a call
    before and after midnight."""
    desk = Desk([QueueSettings(HELPDESK, strategy=Strategy.FEWEST_CALLS)], **options)
    desk.clock.set(midnight - 300)
    desk.login("a2")
    serve(desk, "c1")  # a2: one call today, idle since midnight - 299
    desk.advance(20)
    desk.login("a1")
    desk.acd.enqueue("before", HELPDESK, "x")
    before = desk.offered_to("before")
    desk.acd.hangup("before")  # abandoned: a1 keeps its idle time
    desk.clock.set(midnight + 1)
    desk.acd.enqueue("after", HELPDESK, "x")
    after = desk.offered_to("after")
    assert before is not None and after is not None
    return before, after


def test_fewest_calls_starts_a_new_count_at_midnight_utc() -> None:
    # Before midnight a1 has fewer calls; after it both have none and a2 is idle longest.
    assert fewest_calls_around_midnight(20 * DAY) == ("a1", "a2")


def test_the_day_boundary_follows_the_configured_offset() -> None:
    hour = 3600.0
    # UTC+1: local midnight is 23:00 UTC.
    assert fewest_calls_around_midnight(20 * DAY - hour, utc_offset_seconds=hour) == ("a1", "a2")
    desk = Desk(utc_offset_seconds=hour)
    assert desk.acd.day_of(20 * DAY - hour - 1) + 1 == desk.acd.day_of(20 * DAY - hour)


def test_least_talk_time_prefers_who_talked_least_today() -> None:
    desk = strategy_desk(Strategy.LEAST_TALK_TIME, agents=2)
    assert serve(desk, "c1", talk=300) == "a1"
    assert serve(desk, "c2", talk=30) == "a2"
    assert serve(desk, "c3", talk=30) == "a2"  # 30 s against a1's 300 s
    assert serve(desk, "c4", talk=500) == "a2"  # 60 s against 300 s

    assert desk.acd.agent("a2").talk_seconds_today == pytest.approx(560.0)
    assert serve(desk, "c5") == "a1"


def test_talk_time_counts_when_the_call_ends() -> None:
    desk = strategy_desk(Strategy.LEAST_TALK_TIME, agents=2)
    desk.acd.enqueue("long", HELPDESK, "x")
    desk.acd.answered("long")  # a1
    desk.advance(600)

    assert desk.acd.agent("a1").talk_seconds_today == 0.0
    desk.acd.hangup("long")
    assert desk.acd.agent("a1").talk_seconds_today == pytest.approx(600.0)


def random_picks(seed: int) -> list[str]:
    desk = strategy_desk(Strategy.RANDOM, agents=4, rng=random.Random(seed))
    return [serve(desk, f"c{n}") for n in range(30)]


def test_random_is_reproducible_with_a_seeded_generator() -> None:
    picks = random_picks(7)

    assert picks == random_picks(7)
    assert set(picks) == {"a1", "a2", "a3", "a4"}
    assert picks != random_picks(8)


# ----- ring all -------------------------------------------------------------------------


def ring_all_desk(agents: int = 3) -> Desk:
    return strategy_desk(Strategy.RING_ALL, agents)


def test_ring_all_offers_the_call_to_every_free_agent() -> None:
    desk = ring_all_desk()
    desk.clear()
    desk.acd.enqueue("c1", HELPDESK, "x")

    call = desk.acd.call("c1")
    assert (call.phase, call.offered_to, call.agent_id) == (
        CallPhase.OFFERED,
        ["a1", "a2", "a3"],
        None,
    )
    assert [e.agent_id for e in desk.of(ev.CallOffered)] == ["a1", "a2", "a3"]
    assert all(desk.state(a) is AgentState.OFFERED for a in ("a1", "a2", "a3"))


def test_ring_all_the_first_to_answer_wins_and_the_others_are_withdrawn() -> None:
    desk = ring_all_desk()
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.clear()

    desk.acd.answered("c1", "a2")

    assert (desk.acd.call("c1").agent_id, desk.state("a2")) == ("a2", AgentState.ON_CALL)
    withdrawn = desk.of(ev.OfferWithdrawn)
    assert [(w.agent_id, w.reason, w.answered_by) for w in withdrawn] == [
        ("a1", None, "a2"),
        ("a3", None, "a2"),
    ]
    assert desk.kinds().index("CallAnswered") < desk.kinds().index("OfferWithdrawn")
    assert desk.state("a1") is desk.state("a3") is AgentState.AVAILABLE
    assert desk.acd.statistics(HELPDESK).answered_total == 1


def test_ring_all_losers_keep_their_place_as_longest_idle() -> None:
    desk = ring_all_desk(agents=2)
    idle = desk.acd.agent("a1").idle_since
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.answered("c1", "a2")

    assert desk.acd.agent("a1").idle_since == idle


def test_ring_all_answer_must_name_the_agent_while_several_ring() -> None:
    desk = ring_all_desk()
    desk.acd.enqueue("c1", HELPDESK, "x")

    with pytest.raises(InvalidTransition, match="name the agent"):
        desk.acd.answered("c1")
    with pytest.raises(InvalidTransition):
        desk.acd.answered("c1", "ghost")
    assert desk.acd.call("c1").phase is CallPhase.OFFERED


def test_ring_all_with_one_free_agent_answers_without_naming_it() -> None:
    desk = ring_all_desk(agents=1)
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.answered("c1")

    assert desk.state("a1") is AgentState.ON_CALL


def test_ring_all_a_failing_phone_leaves_the_others_ringing() -> None:
    desk = ring_all_desk()
    desk.acd.enqueue("c1", HELPDESK, "x")

    desk.acd.offer_failed("c1", OfferFailure.BUSY, "a1")

    call = desk.acd.call("c1")
    assert (call.phase, call.offered_to) == (CallPhase.OFFERED, ["a2", "a3"])
    assert (desk.state("a1"), desk.acd.agent("a1").reason) == (AgentState.PAUSED, "busy")
    desk.acd.offer_failed("c1", OfferFailure.REJECTED, "a2")
    assert desk.offered_to("c1") == "a3"  # one left: named again
    desk.acd.offer_failed("c1", OfferFailure.BUSY)
    assert desk.acd.call("c1").phase is CallPhase.WAITING


def test_ring_all_timeout_withdraws_every_offer() -> None:
    desk = ring_all_desk(agents=2)
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.advance(15)
    desk.clear()
    desk.acd.tick()

    assert [(w.agent_id, w.reason) for w in desk.of(ev.OfferWithdrawn)] == [
        ("a1", OfferFailure.NO_ANSWER),
        ("a2", OfferFailure.NO_ANSWER),
    ]
    assert desk.acd.call("c1").phase is CallPhase.WAITING
    assert {desk.state("a1"), desk.state("a2")} == {AgentState.PAUSED}


def test_ring_all_caller_hangup_withdraws_every_offer() -> None:
    desk = ring_all_desk(agents=2)
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.clear()
    desk.acd.hangup("c1")

    assert [w.agent_id for w in desk.of(ev.OfferWithdrawn)] == ["a1", "a2"]
    assert desk.kinds()[-1] == "CallAbandoned"
    assert {desk.state("a1"), desk.state("a2")} == {AgentState.AVAILABLE}


def test_ring_all_rings_only_the_lowest_penalty_tier() -> None:
    desk = Desk([QueueSettings(HELPDESK, strategy=Strategy.RING_ALL)])
    for agent_id, penalty in (("a1", 0), ("a2", 1), ("a3", 0)):
        desk.acd.add_agent(agent_id, {HELPDESK: Membership(penalty=penalty)})
        desk.acd.set_agent_state(agent_id, AgentState.AVAILABLE)

    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.enqueue("c2", HELPDESK, "x")

    assert desk.acd.call("c1").offered_to == ["a1", "a3"]
    assert desk.acd.call("c2").offered_to == ["a2"]


def test_an_agent_freed_during_a_ring_all_is_not_added_to_it() -> None:
    desk = ring_all_desk(agents=1)
    desk.login("late")
    desk.acd.set_agent_state("late", AgentState.PAUSED)
    desk.acd.enqueue("c1", HELPDESK, "x")

    desk.acd.set_agent_state("late", AgentState.AVAILABLE)

    assert desk.acd.call("c1").offered_to == ["a1"]
    assert desk.state("late") is AgentState.AVAILABLE


# ----- skills -----------------------------------------------------------------------------


def skills_desk(*relaxation: SkillStep, strategy: Strategy = Strategy.SKILLS_BASED) -> Desk:
    return make_desk(strategy=strategy, skill_relaxation=relaxation)


def add(desk: Desk, agent_id: str, level: int = 5, **skills: int) -> None:
    desk.acd.add_agent(agent_id, {HELPDESK: Membership(level=level)}, skills=skills)
    desk.acd.set_agent_state(agent_id, AgentState.AVAILABLE)
    desk.advance(1)


def test_skills_based_offers_to_the_best_match() -> None:
    desk = skills_desk()
    add(desk, "novice", windows=5, german=5)  # sum 10, longest idle
    add(desk, "expert", windows=9, german=2)  # sum 11

    desk.acd.enqueue("c1", HELPDESK, "x", skills={"windows": 3, "german": 2})

    assert desk.offered_to("c1") == "expert"


def test_skills_based_ties_go_to_the_longest_idle() -> None:
    desk = skills_desk()
    add(desk, "b", windows=6)
    add(desk, "a", windows=6)

    desk.acd.enqueue("c1", HELPDESK, "x", skills={"windows": 1})

    assert desk.offered_to("c1") == "b"


def test_skills_based_without_required_skills_prefers_the_queue_level() -> None:
    desk = skills_desk()
    add(desk, "junior", level=3)
    add(desk, "senior", level=9)

    desk.acd.enqueue("c1", HELPDESK, "x")

    assert desk.offered_to("c1") == "senior"


def test_a_call_waits_for_an_agent_with_the_skills_it_needs() -> None:
    desk = skills_desk()
    add(desk, "a1", windows=4)
    desk.acd.enqueue("c1", HELPDESK, "x", skills={"windows": 5})
    desk.acd.enqueue("c2", HELPDESK, "x")

    assert desk.acd.call("c1").phase is CallPhase.WAITING
    # The agent is not kept idle for it: the next call it can take is offered.
    assert desk.offered_to("c2") == "a1"


def test_required_skills_filter_every_strategy() -> None:
    desk = skills_desk(strategy=Strategy.LONGEST_IDLE)
    add(desk, "no-german", windows=9)
    add(desk, "german", german=5)

    desk.acd.enqueue("c1", HELPDESK, "x", skills={"german": 3})

    assert desk.offered_to("c1") == "german"


def test_requirements_relax_in_steps_as_the_call_waits() -> None:
    desk = skills_desk(SkillStep(30, 3), SkillStep(60, None))
    add(desk, "level-2")
    desk.acd.set_skills("level-2", {"german": 2})
    add(desk, "level-3", german=3)
    desk.acd.set_agent_state("level-3", AgentState.PAUSED)
    desk.acd.enqueue("c1", HELPDESK, "x", skills={"german": 8})
    desk.acd.set_agent_state("level-3", AgentState.AVAILABLE)

    desk.advance(29)
    desk.acd.tick()
    assert desk.acd.call("c1").phase is CallPhase.WAITING
    desk.advance(1)
    desk.acd.tick()
    assert desk.offered_to("c1") == "level-3"


def test_the_last_relaxation_step_lets_anyone_of_the_queue_answer() -> None:
    desk = skills_desk(SkillStep(60, None), SkillStep(30, 3))
    add(desk, "anyone")
    desk.acd.enqueue("c1", HELPDESK, "x", skills={"german": 8})
    desk.advance(59)
    desk.acd.tick()
    assert desk.acd.call("c1").phase is CallPhase.WAITING

    desk.advance(1)
    desk.acd.tick()

    assert desk.offered_to("c1") == "anyone"


def test_setting_skills_routes_at_once() -> None:
    desk = skills_desk()
    add(desk, "a1")
    desk.acd.enqueue("c1", HELPDESK, "x", skills={"linux": 2})

    desk.acd.set_skills("a1", {"linux": 2})

    assert desk.offered_to("c1") == "a1"


@pytest.mark.parametrize("skills", [{"linux": 0}, {"linux": 11}])
def test_skill_levels_are_one_to_ten(skills: dict[str, int]) -> None:
    desk = skills_desk()
    with pytest.raises(InvalidSetting):
        desk.acd.enqueue("c1", HELPDESK, "x", skills=skills)
    with pytest.raises(InvalidSetting):
        desk.acd.add_agent("a1", [HELPDESK], skills=skills)
    assert not desk.acd.has_call("c1")
