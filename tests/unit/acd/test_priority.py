"""Order in line: priority first, then arrival; an agent of several queues takes the
longest-waiting call among them."""

from __future__ import annotations

from callcenter.acd.events import CallEnqueued
from callcenter.acd.model import AgentState, CallPhase, OfferFailure, QueueSettings
from tests.unit.acd.desk import HELPDESK, Desk

VIP = "vip"


def two_queue_desk() -> Desk:
    return Desk([QueueSettings(HELPDESK), QueueSettings(VIP)])


def waiting_ids(desk: Desk, queue: str = HELPDESK) -> list[str]:
    return [c.call_id for c in desk.acd.waiting_calls(queue)]


def test_first_come_first_served_within_a_priority(desk: Desk) -> None:
    for n in range(4):
        desk.acd.enqueue(f"c{n}", HELPDESK, "x")
        desk.advance(1)
    desk.login("a1")

    assert desk.offered_to("c0") == "a1"
    assert waiting_ids(desk) == ["c1", "c2", "c3"]


def test_higher_priority_goes_first_even_when_it_came_later(desk: Desk) -> None:
    desk.acd.enqueue("normal", HELPDESK, "x")
    desk.advance(30)
    desk.acd.enqueue("urgent", HELPDESK, "x", priority=5)
    desk.advance(1)
    desk.acd.enqueue("low", HELPDESK, "x", priority=-1)

    assert waiting_ids(desk) == ["urgent", "normal", "low"]
    desk.login("a1")
    assert desk.offered_to("urgent") == "a1"


def test_fifo_among_calls_of_the_same_high_priority(desk: Desk) -> None:
    desk.acd.enqueue("p1", HELPDESK, "x", priority=2)
    desk.advance(1)
    desk.acd.enqueue("p0", HELPDESK, "x", priority=0)
    desk.advance(1)
    desk.acd.enqueue("p2", HELPDESK, "x", priority=2)

    assert waiting_ids(desk) == ["p1", "p2", "p0"]


def test_enqueue_position_reflects_priority(desk: Desk) -> None:
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.enqueue("c2", HELPDESK, "x")
    desk.acd.enqueue("vip", HELPDESK, "x", priority=1)
    desk.acd.enqueue("c3", HELPDESK, "x")

    assert [(e.call_id, e.position, e.priority) for e in desk.of(CallEnqueued)] == [
        ("c1", 1, 0),
        ("c2", 2, 0),
        ("vip", 1, 1),
        ("c3", 4, 0),
    ]


def test_failed_priority_call_stays_ahead_of_later_calls(desk: Desk) -> None:
    desk.login("a1")
    desk.acd.enqueue("urgent", HELPDESK, "x", priority=3)
    desk.advance(1)
    desk.acd.enqueue("normal", HELPDESK, "x")
    desk.acd.offer_failed("urgent", OfferFailure.BUSY)

    assert waiting_ids(desk) == ["urgent", "normal"]


def test_agent_of_two_queues_takes_the_longest_waiting_call() -> None:
    desk = two_queue_desk()
    desk.acd.enqueue("h1", HELPDESK, "x")
    desk.advance(1)
    desk.acd.enqueue("v1", VIP, "x")
    desk.advance(1)
    desk.acd.enqueue("h2", HELPDESK, "x")

    desk.login("a1", HELPDESK, VIP)
    assert desk.offered_to("h1") == "a1"
    desk.acd.answered("h1")
    desk.acd.hangup("h1")
    assert desk.offered_to("v1") == "a1"
    desk.acd.answered("v1")
    desk.acd.hangup("v1")
    assert desk.offered_to("h2") == "a1"


def test_priority_wins_over_waiting_time_across_queues() -> None:
    desk = two_queue_desk()
    desk.acd.enqueue("h1", HELPDESK, "x")
    desk.advance(60)
    desk.acd.enqueue("v1", VIP, "x", priority=1)

    desk.login("a1", HELPDESK, VIP)

    assert desk.offered_to("v1") == "a1"
    assert desk.acd.call("h1").phase is CallPhase.WAITING


def test_agent_takes_only_calls_of_its_own_queues() -> None:
    desk = two_queue_desk()
    desk.acd.enqueue("h1", HELPDESK, "x", priority=9)
    desk.advance(1)
    desk.acd.enqueue("v1", VIP, "x")

    desk.login("vip-only", VIP)

    assert desk.offered_to("v1") == "vip-only"
    assert desk.acd.call("h1").phase is CallPhase.WAITING


def test_calls_of_two_queues_reach_their_own_agents_at_once() -> None:
    desk = two_queue_desk()
    desk.login("h-agent", HELPDESK)
    desk.advance(1)
    desk.login("v-agent", VIP)
    desk.acd.set_agent_state("h-agent", AgentState.PAUSED)
    desk.acd.set_agent_state("v-agent", AgentState.PAUSED)
    desk.acd.enqueue("h1", HELPDESK, "x")
    desk.acd.enqueue("v1", VIP, "x")

    desk.acd.set_agent_state("v-agent", AgentState.AVAILABLE)
    desk.acd.set_agent_state("h-agent", AgentState.AVAILABLE)

    assert desk.offered_to("h1") == "h-agent"
    assert desk.offered_to("v1") == "v-agent"


def test_waiting_calls_are_listed_per_queue() -> None:
    desk = two_queue_desk()
    desk.acd.enqueue("h1", HELPDESK, "x")
    desk.acd.enqueue("v1", VIP, "x")

    assert waiting_ids(desk, HELPDESK) == ["h1"]
    assert waiting_ids(desk, VIP) == ["v1"]


def test_calls_arriving_at_the_same_instant_keep_their_arrival_order(desk: Desk) -> None:
    # A coarse clock (or the simulator's manual one) gives several calls one timestamp;
    # their ids must not decide who is served first ("c10" sorts before "c9").
    for call_id in ("c9", "c10", "c2"):
        desk.acd.enqueue(call_id, HELPDESK, "x")

    assert waiting_ids(desk) == ["c9", "c10", "c2"]
    assert [e.position for e in desk.of(CallEnqueued)] == [1, 2, 3]
    desk.login("a1")
    assert desk.offered_to("c9") == "a1"


def test_an_agent_of_several_queues_takes_priority_first_then_the_oldest_call() -> None:
    """Cross-queue fairness: a later high-priority call of one queue beats an older
    low-priority call of another; at equal priority the older call wins, whatever its queue."""
    desk = two_queue_desk()
    desk.acd.enqueue("a-old-low", HELPDESK, "x", priority=0)
    desk.advance(10)
    desk.acd.enqueue("b-new-high", VIP, "x", priority=2)
    desk.advance(10)
    desk.acd.enqueue("b-newer-low", VIP, "x", priority=0)
    desk.advance(10)
    desk.acd.enqueue("a-newest-high", HELPDESK, "x", priority=2)

    desk.login("a1", HELPDESK, VIP)
    order = []
    for _ in range(4):
        call = desk.acd.agent("a1").call_id
        assert call is not None
        order.append(call)
        desk.acd.answered(call)
        desk.acd.hangup(call)

    assert order == ["b-new-high", "a-newest-high", "a-old-low", "b-newer-low"]


def test_fairness_holds_when_the_agent_comes_back_from_wrap_up() -> None:
    desk = Desk([QueueSettings(HELPDESK, wrap_up_seconds=30.0), QueueSettings(VIP)])
    desk.login("a1", HELPDESK, VIP)
    desk.acd.enqueue("first", VIP, "x")
    desk.acd.answered("first")
    desk.acd.enqueue("vip-old", VIP, "x")
    desk.advance(5)
    desk.acd.enqueue("helpdesk-urgent", HELPDESK, "x", priority=1)
    desk.advance(5)
    desk.acd.enqueue("helpdesk-new", HELPDESK, "x")
    desk.acd.hangup("first")  # VIP has no wrap-up: free at once

    assert desk.offered_to("helpdesk-urgent") == "a1"
    desk.acd.answered("helpdesk-urgent")
    desk.acd.hangup("helpdesk-urgent")  # helpdesk wrap-up: 30 s
    assert desk.state("a1") is AgentState.WRAP_UP
    desk.advance(30)
    desk.acd.tick()
    assert desk.offered_to("vip-old") == "a1"
    assert desk.acd.call("helpdesk-new").phase is CallPhase.WAITING
