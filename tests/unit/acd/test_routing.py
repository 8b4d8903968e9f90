"""Who gets a call: the longest-idle available agent serving the call's queue."""

from __future__ import annotations

from callcenter.acd.events import AgentStateChanged, CallOffered
from callcenter.acd.model import AgentState, CallPhase, QueueSettings
from tests.unit.acd.desk import HELPDESK, Desk


def test_call_is_offered_to_the_only_available_agent(desk: Desk) -> None:
    desk.login("a1")
    desk.advance(3)
    desk.acd.enqueue("c1", HELPDESK, "+4930111")

    call = desk.acd.call("c1")
    agent = desk.acd.agent("a1")
    assert (call.phase, call.agent_id, call.offered_at) == (CallPhase.OFFERED, "a1", desk.now)
    assert (agent.state, agent.call_id, agent.state_since) == (AgentState.OFFERED, "c1", desk.now)


def test_call_waits_when_no_agent_is_available(desk: Desk) -> None:
    desk.acd.add_agent("a1", [HELPDESK])  # logged out
    desk.acd.enqueue("c1", HELPDESK, "+4930111")

    assert desk.acd.call("c1").phase is CallPhase.WAITING
    assert [c.call_id for c in desk.acd.waiting_calls(HELPDESK)] == ["c1"]
    assert desk.of(CallOffered) == []


def test_longest_idle_agent_gets_the_call(desk: Desk) -> None:
    desk.login("a2")
    desk.advance(5)
    desk.login("a1")
    desk.advance(5)
    desk.acd.enqueue("c1", HELPDESK, "x")

    assert desk.offered_to("c1") == "a2"
    assert desk.state("a1") is AgentState.AVAILABLE


def test_idle_time_restarts_when_an_agent_finishes_a_call(desk: Desk) -> None:
    desk.login("a1")
    desk.advance(1)
    desk.login("a2")
    desk.acd.enqueue("c1", HELPDESK, "x")
    assert desk.offered_to("c1") == "a1"
    desk.acd.answered("c1")
    desk.advance(60)
    desk.acd.hangup("c1")
    desk.advance(1)

    desk.acd.enqueue("c2", HELPDESK, "x")

    assert desk.acd.agent("a1").idle_since > desk.acd.agent("a2").idle_since
    assert desk.offered_to("c2") == "a2"


def test_idle_time_restarts_when_an_agent_returns_from_a_pause(desk: Desk) -> None:
    desk.login("a1")
    desk.advance(1)
    desk.login("a2")
    desk.advance(1)
    desk.acd.set_agent_state("a1", AgentState.PAUSED, "break")
    desk.advance(1)
    desk.acd.set_agent_state("a1", AgentState.AVAILABLE)

    desk.acd.enqueue("c1", HELPDESK, "x")

    assert desk.offered_to("c1") == "a2"


def test_equal_idle_times_are_broken_by_agent_id(desk: Desk) -> None:
    desk.login("b")
    desk.login("a")
    desk.acd.enqueue("c1", HELPDESK, "x")

    assert desk.offered_to("c1") == "a"


def test_agent_of_another_queue_is_not_offered_the_call() -> None:
    desk = Desk([QueueSettings(HELPDESK), QueueSettings("vip")])
    desk.login("vip-agent", "vip")
    desk.acd.enqueue("c1", HELPDESK, "x")

    assert desk.acd.call("c1").phase is CallPhase.WAITING
    assert desk.state("vip-agent") is AgentState.AVAILABLE


def test_paused_and_logged_out_agents_are_not_offered_calls(desk: Desk) -> None:
    desk.login("paused")
    desk.acd.set_agent_state("paused", AgentState.PAUSED, "lunch")
    desk.acd.add_agent("out", [HELPDESK])
    desk.acd.enqueue("c1", HELPDESK, "x")

    assert desk.acd.call("c1").phase is CallPhase.WAITING
    assert desk.of(CallOffered) == []


def test_waiting_call_is_offered_as_soon_as_an_agent_logs_in(desk: Desk) -> None:
    desk.acd.add_agent("a1", [HELPDESK])
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.advance(7)

    desk.acd.set_agent_state("a1", AgentState.AVAILABLE)

    assert desk.offered_to("c1") == "a1"
    assert desk.of(CallOffered)[-1].at == desk.now


def test_each_free_agent_gets_at_most_one_call(desk: Desk) -> None:
    desk.login("a1")
    desk.login("a2")
    for n in range(3):
        desk.acd.enqueue(f"c{n}", HELPDESK, "x")

    assert desk.offered_to("c0") == "a1"
    assert desk.offered_to("c1") == "a2"
    assert desk.acd.call("c2").phase is CallPhase.WAITING
    assert len(desk.of(CallOffered)) == 2


def test_freed_agent_takes_the_oldest_waiting_call(desk: Desk) -> None:
    desk.login("a1")
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.answered("c1")
    desk.advance(1)
    desk.acd.enqueue("c2", HELPDESK, "x")
    desk.advance(1)
    desk.acd.enqueue("c3", HELPDESK, "x")

    desk.acd.hangup("c1")

    assert desk.offered_to("c2") == "a1"
    assert desk.acd.call("c3").phase is CallPhase.WAITING


def test_asking_available_again_keeps_the_agents_place_in_line(desk: Desk) -> None:
    desk.login("a1")
    desk.advance(1)
    desk.login("a2")
    desk.advance(1)
    desk.clear()

    # A console that sends a reason with every request must not reset the idle clock.
    assert desk.acd.set_agent_state("a1", AgentState.AVAILABLE, "back") is None
    desk.acd.set_agent_state("a1", AgentState.AVAILABLE)

    assert desk.of(AgentStateChanged) == []
    assert desk.acd.agent("a1").reason is None
    desk.acd.enqueue("c1", HELPDESK, "x")
    assert desk.offered_to("c1") == "a1"


def test_agent_with_several_queues_serves_each_of_them() -> None:
    desk = Desk([QueueSettings(HELPDESK), QueueSettings("vip")])
    desk.login("a1", HELPDESK, "vip")
    desk.acd.enqueue("c1", "vip", "x")

    assert desk.offered_to("c1") == "a1"
