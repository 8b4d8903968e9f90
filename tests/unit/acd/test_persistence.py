"""Statistics and the whole ACD state survive a restart as plain JSON-able dicts."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from callcenter.acd.errors import InvalidSetting, InvalidTransition, UnknownQueue
from callcenter.acd.model import AgentState, Membership, QueueSettings, Strategy
from callcenter.acd.service_level import QueueStatistics
from tests.unit.acd.desk import HELPDESK, Desk

VIP = "vip"
QUEUES = (
    QueueSettings(HELPDESK, wrap_up_seconds=30, resume_window_seconds=120),
    QueueSettings(VIP, strategy=Strategy.ROUND_ROBIN),
)


def via_json(data: Any) -> Any:
    return json.loads(json.dumps(data))


def test_statistics_round_trip() -> None:
    s = QueueStatistics(20.0, 5.0)
    s.record_offered(100.0)
    s.record_answered(110.0, 10.0)
    s.record_abandoned(120.0, 30.0)
    s.record_callback(130.0, 12.0)
    s.record_overflowed(140.0, 70.0)
    s.record_transferred(150.0, 3.0)
    s.record_handled(160.0, 200.0)
    s.record_callback_connected()
    s.record_callback_dropped()
    s.record_estimate_error(-12.0)

    restored = QueueStatistics(20.0, 5.0)
    restored.restore(via_json(s.export()))

    assert restored.export() == s.export()
    assert restored.window(200.0, 3600) == s.window(200.0, 3600)
    assert restored.ewt_mae_seconds == 12.0
    assert (restored.offered_total, restored.callbacks_dropped_total) == (1, 1)


def test_restored_statistics_are_read_with_the_current_thresholds() -> None:
    s = QueueStatistics(20.0, 5.0)
    s.record_answered(100.0, 25.0)
    stricter = QueueStatistics(30.0, 5.0)
    stricter.restore(s.export())

    assert stricter.window(100.0, 60).service_level == 1.0


@pytest.mark.parametrize(
    "broken",
    [{}, {"version": 99}, {"version": 1, "totals": {}}, "nonsense"],
)
def test_a_malformed_statistics_export_is_refused(broken: Any) -> None:
    s = QueueStatistics(20.0, 5.0)
    s.record_answered(100.0, 1.0)

    with pytest.raises(InvalidSetting):
        s.restore(broken)
    assert s.answered_total == 1


def busy_desk() -> Desk:
    """Agents and calls in every kind of state, with statistics and routing memory."""
    desk = Desk(QUEUES, rng=random.Random(1))
    desk.acd.add_agent("talker", {HELPDESK: Membership(level=8, penalty=1)}, skills={"de": 4})
    desk.acd.add_agent("wrapper", [HELPDESK])
    desk.acd.add_agent("ringer", [VIP])
    desk.acd.add_agent("pauser", [HELPDESK, VIP])
    desk.acd.add_agent("away", [VIP])
    for agent_id in ("talker", "wrapper", "ringer", "pauser"):
        desk.acd.set_agent_state(agent_id, AgentState.AVAILABLE)
        desk.advance(1)
    desk.acd.set_agent_state("pauser", AgentState.PAUSED, "lunch")
    desk.acd.enqueue("w1", HELPDESK, "+1")  # -> wrapper (penalty 0)
    desk.acd.answered("w1")
    desk.advance(40)
    desk.acd.hangup("w1")  # wrapper in wrap-up for 30 s
    desk.acd.enqueue("t1", HELPDESK, "+2", skills={"de": 3})  # -> talker
    desk.acd.answered("t1")
    desk.acd.set_agent_state("talker", AgentState.LOGGED_OUT)  # pending
    desk.acd.enqueue("v1", VIP, "+3", attributes={"topic": "hardware"})  # -> ringer
    desk.advance(5)
    desk.acd.enqueue("gone", HELPDESK, "+4")
    desk.advance(5)
    desk.acd.hangup("gone")  # its place is kept for a redial
    desk.acd.enqueue("h2", HELPDESK, "+5", priority=2)
    desk.acd.enqueue("cb", HELPDESK, "+6")
    desk.acd.request_callback("cb", "+6")
    desk.advance(3)
    return desk


def test_the_acd_state_round_trips_through_json() -> None:
    desk = busy_desk()
    saved = via_json(desk.acd.export_state())

    restarted = Desk(QUEUES)
    restarted.clock.set(desk.now)
    restarted.acd.restore_state(saved)

    assert via_json(restarted.acd.export_state()) == saved
    assert restarted.events == []
    assert [c.call_id for c in restarted.acd.waiting_calls(HELPDESK)] == ["h2", "cb"]
    talker = restarted.acd.agent("talker")
    assert (talker.state, talker.pending_state, talker.skills) == (
        AgentState.ON_CALL,
        AgentState.LOGGED_OUT,
        {"de": 4},
    )
    assert talker.memberships[HELPDESK] == Membership(level=8, penalty=1)
    assert restarted.acd.statistics(HELPDESK).offered_total == 5


def test_a_restored_acd_goes_on_exactly_like_the_original() -> None:
    original = busy_desk()
    restarted = Desk(QUEUES)
    restarted.clock.set(original.now)
    restarted.acd.restore_state(via_json(original.acd.export_state()))
    original.clear()

    for desk in (original, restarted):
        desk.acd.answered("v1")
        desk.advance(30)
        desk.acd.tick()  # the wrap-up ends: the wrapper takes h2
        desk.acd.answered("h2")
        desk.acd.hangup("t1")  # the talker logs out as it asked
        desk.acd.enqueue("again", HELPDESK, "+4")  # resumes the place of "gone"
        desk.acd.set_agent_state("away", AgentState.AVAILABLE)
        desk.acd.enqueue("v2", VIP, "+7")  # round robin goes on after "ringer"

    assert restarted.events == original.events
    assert restarted.acd.call("again").enqueued_at < restarted.acd.call("cb").enqueued_at
    assert restarted.acd.call("v2").agent_id == "away"
    assert restarted.acd.export_state() == original.acd.export_state()
    assert restarted.acd.occupancy("wrapper") == original.acd.occupancy("wrapper")


def test_restore_needs_an_empty_acd() -> None:
    saved = busy_desk().acd.export_state()
    desk = Desk(QUEUES)
    desk.acd.add_agent("a1", [HELPDESK])

    with pytest.raises(InvalidTransition):
        desk.acd.restore_state(saved)


def test_queues_no_longer_configured_are_dropped_but_their_calls_refused() -> None:
    desk = Desk((QUEUES[0], QueueSettings(VIP, wrap_up_seconds=30, resume_window_seconds=60)))
    desk.acd.add_agent("both", [HELPDESK, VIP])
    desk.login("h", HELPDESK)
    desk.login("v", VIP)
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.hangup("c1")
    desk.acd.enqueue("v1", VIP, "+1")
    desk.acd.answered("v1")
    desk.acd.hangup("v1")  # "v" in the VIP wrap-up
    desk.acd.enqueue("v2", VIP, "+2")
    desk.acd.hangup("v2")  # a place kept in VIP for a redial
    saved = desk.acd.export_state()

    smaller = Desk([QueueSettings(HELPDESK)])
    smaller.acd.restore_state(saved)
    assert smaller.acd.agent("both").queues == frozenset({HELPDESK})
    assert smaller.acd.statistics(HELPDESK).abandoned_total == 1
    smaller.advance(60)
    smaller.acd.tick()  # the wrap-up of a queue gone ends without figures to record
    assert smaller.state("v") is AgentState.AVAILABLE
    smaller.acd.enqueue("h2", HELPDESK, "+2")
    smaller.acd.hangup("h2")

    desk.acd.enqueue("v1", VIP, "x")
    with pytest.raises(UnknownQueue):
        Desk([QueueSettings(HELPDESK)]).acd.restore_state(desk.acd.export_state())


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d.update(version=2),
        lambda d: d.pop("agents"),
        lambda d: d["agents"][0].update(state="sleeping"),
        lambda d: d["agents"][0]["memberships"][HELPDESK].update(level=12),
        lambda d: d["calls"][0].pop("phase"),
        lambda d: d["agents"].append(dict(d["agents"][0])),
    ],
)
def test_a_damaged_state_is_refused_and_restores_nothing(damage: Any) -> None:
    saved = via_json(busy_desk().acd.export_state())
    damage(saved)
    desk = Desk(QUEUES)

    with pytest.raises(InvalidSetting):
        desk.acd.restore_state(saved)
    assert desk.acd.agents == []


def test_the_ivr_attributes_of_a_call_survive_a_restart() -> None:
    restarted = Desk(QUEUES)
    restarted.acd.restore_state(via_json(busy_desk().acd.export_state()))
    assert restarted.acd.call("v1").attributes == {"topic": "hardware"}
    assert restarted.acd.call("h2").attributes == {}


def test_a_snapshot_from_before_call_attributes_restores_with_none() -> None:
    saved = via_json(busy_desk().acd.export_state())
    for call in saved["calls"]:
        del call["attributes"]
    restarted = Desk(QUEUES)
    restarted.acd.restore_state(saved)
    assert restarted.acd.call("v1").attributes == {}
