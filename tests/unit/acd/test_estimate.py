"""Estimated wait per place in line, and how far the estimates were from the real waits."""

from __future__ import annotations

import heapq
import random

import pytest

from callcenter.acd.errors import InvalidSetting
from callcenter.acd.estimate import wait_for_position
from callcenter.acd.events import CallEnqueued
from callcenter.acd.model import AgentState
from tests.unit.acd.desk import HELPDESK, Desk, make_desk


def test_the_pth_caller_is_answered_at_the_pth_release() -> None:
    # Two agents, free in 0 s and 100 s, each then taking a call every 300 s.
    assert [wait_for_position(p, [0.0, 100.0], 300.0) for p in range(1, 6)] == [
        0.0,
        100.0,
        300.0,
        400.0,
        600.0,
    ]


def test_equal_releases_give_position_over_staff_times_aht() -> None:
    for position in range(1, 10):
        expected = 50.0 + ((position - 1) // 3) * 240.0
        assert wait_for_position(position, [50.0] * 3, 240.0) == expected


def test_no_staffed_agent_gives_no_estimate() -> None:
    assert wait_for_position(1, [], 300.0) is None


def test_positions_start_at_one(desk: Desk) -> None:
    with pytest.raises(ValueError):
        wait_for_position(0, [0.0], 300.0)
    with pytest.raises(InvalidSetting):
        desk.acd.estimated_wait(HELPDESK, 0)


def test_a_queue_without_staffed_agents_has_no_estimate(desk: Desk) -> None:
    desk.login("paused")
    desk.acd.set_agent_state("paused", AgentState.PAUSED)
    desk.acd.add_agent("out", [HELPDESK])

    assert desk.acd.estimated_wait(HELPDESK, 1) is None


def test_a_free_agent_means_no_wait_for_the_next_caller(desk: Desk) -> None:
    desk.login("a1")

    assert desk.acd.estimated_wait(HELPDESK, 1) == 0.0
    assert desk.acd.estimated_wait(HELPDESK, 2) == 300.0  # the default AHT


def test_agents_on_calls_release_one_aht_after_they_answered() -> None:
    desk = make_desk(default_aht_seconds=200)
    for agent in ("a1", "a2"):
        desk.login(agent)
        desk.acd.enqueue(f"call-{agent}", HELPDESK, "x")
        desk.acd.answered(f"call-{agent}")
        desk.advance(50)

    # a1 answered 100 s ago, a2 50 s ago: free in 100 s and 150 s.
    assert [desk.acd.estimated_wait(HELPDESK, p) for p in (1, 2, 3)] == [100.0, 150.0, 300.0]


def test_a_call_longer_than_the_aht_is_taken_as_ending_now() -> None:
    desk = make_desk(default_aht_seconds=100)
    desk.login("a1")
    desk.acd.enqueue("long", HELPDESK, "x")
    desk.acd.answered("long")
    desk.advance(500)

    assert desk.acd.estimated_wait(HELPDESK, 1) == 0.0


def test_wrap_up_ends_when_its_timer_says() -> None:
    desk = make_desk(wrap_up_seconds=60, default_aht_seconds=1000)
    desk.login("a1")
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.answered("c1")
    desk.acd.hangup("c1")
    desk.advance(20)

    assert desk.acd.estimated_wait(HELPDESK, 1) == 40.0


def test_a_ringing_agent_is_busy_for_one_aht(desk: Desk) -> None:
    desk.login("a1")
    desk.acd.enqueue("c1", HELPDESK, "x")

    assert desk.acd.estimated_wait(HELPDESK, 1) == 300.0


def test_the_recent_aht_replaces_the_default() -> None:
    desk = make_desk(default_aht_seconds=1000)
    desk.login("a1")
    for talk in (100.0, 200.0):
        desk.acd.enqueue(f"c{talk}", HELPDESK, "x")
        desk.acd.answered(f"c{talk}")
        desk.advance(talk)
        desk.acd.hangup(f"c{talk}")

    assert desk.acd.estimated_wait(HELPDESK, 2) == 150.0


def test_the_estimate_is_announced_on_arrival() -> None:
    desk = make_desk(default_aht_seconds=120)
    desk.login("a1")
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.answered("c1")
    desk.advance(20)
    desk.acd.enqueue("c2", HELPDESK, "x")
    desk.acd.enqueue("c3", HELPDESK, "x")

    assert [e.estimated_wait_seconds for e in desk.of(CallEnqueued)] == [0.0, 100.0, 220.0]


def test_the_estimate_error_is_measured_on_every_answered_call() -> None:
    desk = make_desk(default_aht_seconds=300)
    desk.login("a1")
    desk.acd.enqueue("c1", HELPDESK, "x")  # estimated 0
    desk.acd.answered("c1")  # waited 0: error 0
    desk.advance(100)
    desk.acd.enqueue("c2", HELPDESK, "x")  # estimated 200
    desk.advance(50)
    desk.acd.hangup("c1")
    desk.advance(10)
    desk.acd.answered("c2")  # waited 60: error 140

    stats = desk.acd.statistics(HELPDESK)
    assert stats.ewt_mae_seconds == pytest.approx(70.0)


def test_no_estimate_no_error(desk: Desk) -> None:
    desk.acd.enqueue("c1", HELPDESK, "x")  # nobody staffed: no estimate
    desk.login("a1")
    desk.acd.answered("c1")

    assert desk.acd.statistics(HELPDESK).ewt_mae_seconds is None


def _walk(position: int, releases: list[float], aht: float) -> float:
    """The definition, one release at a time: what the direct reading must equal."""
    heap = sorted(releases)
    for _ in range(position - 1):
        heapq.heapreplace(heap, heap[0] + max(aht, 0.0))
    return heap[0]


def test_reading_the_pth_release_directly_agrees_with_walking_to_it() -> None:
    rnd = random.Random(4733)
    for _ in range(2_000):
        aht = rnd.choice([0.0, 1.0, 180.0, rnd.uniform(0, 600)])
        spread = rnd.choice([0.0, 0.5, 1.0, 2.0]) * max(aht, 1.0)  # within one AHT or not
        releases = [rnd.uniform(0, spread) for _ in range(rnd.randint(1, 30))]
        position = rnd.randint(1, 200)
        assert wait_for_position(position, releases, aht) == pytest.approx(
            _walk(position, releases, aht)
        )
