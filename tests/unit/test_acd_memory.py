from __future__ import annotations

from datetime import UTC, datetime

from callcenter.acd.acd import Acd
from callcenter.acd.events import AcdEvent, CallAnswered, CallEnqueued
from callcenter.acd.model import AgentState, QueueSettings
from callcenter.calls.acd_memory import after_restart, history_entry
from callcenter.clock import ManualClock

Q = "helpdesk"


def desk() -> tuple[Acd, ManualClock, list[AcdEvent]]:
    clock, events = ManualClock(), []
    acd = Acd([QueueSettings(Q)], clock, events.append)
    for agent in ("alice", "bob", "carol"):
        acd.add_agent(agent, [Q])
    return acd, clock, events


def test_history_entry_keeps_the_common_columns_and_the_rest_as_json() -> None:
    event = CallAnswered(1_764_000_000.0, "c1", Q, "alice", 12.5, True)
    entry = history_entry(event)
    assert entry.type == "CallAnswered"
    assert (entry.call_id, entry.queue, entry.agent) == ("c1", Q, "alice")
    assert entry.at == datetime.fromtimestamp(1_764_000_000.0, UTC)
    assert entry.data["wait_seconds"] == 12.5 and entry.data["within_service_level"] is True
    assert "at" not in entry.data and "call_id" not in entry.data


def test_history_entry_turns_enums_into_text() -> None:
    acd, _, events = desk()
    acd.set_agent_state("alice", AgentState.PAUSED, "lunch")
    entry = history_entry(events[-1])
    assert entry.type == "AgentStateChanged" and entry.agent == "alice"
    assert entry.data["old"] == "logged_out" and entry.data["new"] == "paused"
    enq = CallEnqueued(1.0, "c9", Q, "+8620", 0, 1)
    assert history_entry(enq).data["caller"] == "+8620"


def test_after_restart_drops_live_calls_keeps_statistics_and_frees_agents() -> None:
    acd, clock, _ = desk()
    acd.set_agent_state("alice", AgentState.AVAILABLE)
    acd.set_agent_state("bob", AgentState.AVAILABLE)
    acd.enqueue("done", Q, "+1")
    clock.advance(5)
    acd.answered("done")
    clock.advance(60)
    acd.hangup("done")  # one answered call in the statistics
    acd.enqueue("talking", Q, "+2")  # offered to alice or bob
    acd.answered("talking")
    acd.enqueue("ringing", Q, "+3")  # offered to the other one
    talking_agent = acd.call("talking").agent_id
    ringing_agent = acd.call("ringing").agent_id
    acd.set_agent_state("carol", AgentState.PAUSED, "training")
    acd.enqueue("waiting", Q, "+4")

    state = after_restart(acd.export_state())
    clock.advance(30)
    fresh = Acd([QueueSettings(Q)], clock, lambda e: None)
    fresh.restore_state(state)
    assert not any(fresh.has_call(c) for c in ("talking", "ringing", "waiting"))
    for agent in (talking_agent, ringing_agent):
        assert agent is not None
        assert fresh.agent(agent).state is AgentState.PAUSED
        assert fresh.agent(agent).call_id is None
    assert (fresh.agent("carol").state, fresh.agent("carol").reason) == (
        AgentState.PAUSED,
        "training",
    )
    assert fresh.statistics(Q).answered_total == acd.statistics(Q).answered_total == 2
    assert fresh.snapshot(Q).waiting == 0


def test_after_restart_a_callback_under_way_waits_again_and_its_agent_is_freed() -> None:
    acd, clock, _ = desk()
    acd.enqueue("ringing-cb", Q, "+1")
    acd.request_callback("ringing-cb", "+8613800000001")
    acd.enqueue("dialing-cb", Q, "+2")
    acd.request_callback("dialing-cb", "+8613800000002")
    acd.enqueue("waiting-cb", Q, "+3")
    acd.request_callback("waiting-cb", "+8613800000003")
    acd.set_agent_state("alice", AgentState.AVAILABLE)
    acd.set_agent_state("bob", AgentState.AVAILABLE)
    acd.answered("ringing-cb" if acd.call("ringing-cb").agent_id == "bob" else "dialing-cb")
    dialing = next(c for c in ("ringing-cb", "dialing-cb") if acd.call(c).dialing)
    assert acd.call(dialing).dialing  # the agent took it; the callee is being dialled

    fresh = Acd([QueueSettings(Q)], clock, lambda e: None)
    fresh.restore_state(after_restart(acd.export_state()))
    assert [c.call_id for c in fresh.waiting_calls(Q)] == ["ringing-cb", "dialing-cb", "waiting-cb"]
    assert all(fresh.call(c).agent_id is None for c in ("ringing-cb", "dialing-cb"))
    assert {fresh.agent(a).state for a in ("alice", "bob")} == {AgentState.PAUSED}


def test_after_restart_applies_the_state_asked_for_after_the_call() -> None:
    acd, _, _ = desk()
    acd.set_agent_state("alice", AgentState.AVAILABLE)
    acd.enqueue("c1", Q, "+1")
    acd.answered("c1")
    acd.set_agent_state("alice", AgentState.LOGGED_OUT)  # pending until the call ends
    state = after_restart(acd.export_state())
    [alice] = [a for a in state["agents"] if a["agent_id"] == "alice"]
    assert alice["state"] == "logged_out" and alice["pending_state"] is None
