"""Supervisors listening to, whispering to and barging into calls: the bridge's one-way
wiring per mode (pure), and the call flow's supervision on a fake telephony with a real
in-process ACD (the Rig of test_call_control)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from callcenter.acd.errors import UnknownAgent
from callcenter.acd.model import AgentState
from callcenter.api.websocket.control import NotSupported
from callcenter.calls.control import CallElsewhere, CallStateError
from callcenter.calls.events import MonitoringChanged
from callcenter.softphone_bridge import messages as m
from tests.unit.test_call_control import Rig

# ----- the bridge's wiring (pure) ------------------------------------------------------


def test_listen_sends_both_parties_to_the_supervisor_and_nothing_back() -> None:
    links = m.Monitor("sup", "caller", "agent", "listen").links()
    assert links == {("caller", "sup"), ("agent", "sup")}


def test_whisper_adds_the_supervisor_to_the_agent_only() -> None:
    links = m.Monitor("sup", "caller", "agent", "whisper").links()
    assert links == {("caller", "sup"), ("agent", "sup"), ("sup", "agent")}
    assert ("sup", "caller") not in links


def test_barge_lets_everyone_hear_everyone() -> None:
    links = m.Monitor("sup", "caller", "agent", "barge").links()
    assert links == {("caller", "sup"), ("agent", "sup"), ("sup", "agent"), ("sup", "caller")}


def test_no_mode_touches_the_caller_agent_connection() -> None:
    for mode in m.MONITOR_WIRING:
        links = m.Monitor("sup", "caller", "agent", mode).links()
        assert not links & {("caller", "agent"), ("agent", "caller")}, mode


# ----- the call flow's supervision -----------------------------------------------------


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    rig = Rig()
    task = asyncio.get_running_loop().create_task(rig.recorder.run())
    yield rig
    await rig.service.close()
    task.cancel()


def pushes(rig: Rig) -> list[MonitoringChanged]:
    seen: list[MonitoringChanged] = []
    rig.bus.subscribe(MonitoringChanged, seen.append)
    return seen


async def test_listen_rings_the_supervisors_phone_then_wires_it_in(rig: Rig) -> None:
    seen = pushes(rig)
    agent_leg = await rig.talking()
    done = await rig.control.monitor("sue", "listen", "alice", None)
    assert (done.call_id, done.agent, done.mode, done.state) == (
        "caller",
        "alice",
        "listen",
        "ringing",
    )
    [dial] = rig.phones.take()
    assert isinstance(dial, m.Dial) and dial.uri == "sip:sue@h:3"
    rig.bus.publish(m.LegAnswered(dial.leg_id))
    assert rig.phones.take() == [m.Monitor(dial.leg_id, "caller", agent_leg, "listen")]

    switched = await rig.control.monitor("sue", "barge", None, "caller")
    assert (switched.mode, switched.state) == ("barge", "active")
    assert rig.phones.take() == [m.Monitor(dial.leg_id, "caller", agent_leg, "barge")]

    stopped = await rig.control.stop_monitoring("sue")
    assert stopped.state == "ended"
    assert rig.phones.take() == [m.Hangup(dial.leg_id, 487)]
    with pytest.raises(CallStateError, match="monitors no call"):
        await rig.control.stop_monitoring("sue")
    rig.bus.publish(m.LegEnded(dial.leg_id, 200, "Normal call clearing", True))
    assert [(p.state, p.mode, p.reason) for p in seen] == [
        ("ringing", "listen", None),
        ("active", "listen", None),
        ("active", "barge", None),
        ("ended", "barge", "stopped"),
    ]
    assert rig.acd.agent("alice").state is AgentState.ON_CALL  # the call goes on


async def test_the_call_ending_hangs_up_the_supervisor(rig: Rig) -> None:
    seen = pushes(rig)
    agent_leg = await rig.talking()
    await rig.control.monitor("sue", "whisper", None, "caller")
    [dial] = rig.phones.take()
    assert isinstance(dial, m.Dial)
    rig.bus.publish(m.LegAnswered(dial.leg_id))
    rig.phones.take()
    rig.bus.publish(m.LegEnded("caller", 200, "bye", True))
    sent = rig.phones.take()
    assert m.Hangup(dial.leg_id, 487) in sent and m.Hangup(agent_leg, 487) in sent
    rig.bus.publish(m.LegEnded(dial.leg_id, 200, "bye", True, {"heard_level_peak": 9}))
    assert (seen[-1].state, seen[-1].reason) == ("ended", "call_ended")


async def test_the_supervisor_hanging_up_ends_it_and_a_new_one_may_start(rig: Rig) -> None:
    seen = pushes(rig)
    await rig.talking()
    await rig.control.monitor("sue", "listen", "alice", None)
    [dial] = rig.phones.take()
    assert isinstance(dial, m.Dial)
    rig.bus.publish(m.LegEnded(dial.leg_id, 486, "Busy Here", False))
    assert (seen[-1].state, seen[-1].reason) == ("ended", "486 Busy Here")
    again = await rig.control.monitor("sue", "listen", "alice", None)
    assert again.state == "ringing"
    [redial] = rig.phones.take()
    assert isinstance(redial, m.Dial) and redial.leg_id != dial.leg_id


async def test_an_answer_after_the_call_ended_is_hung_up(rig: Rig) -> None:
    await rig.talking()
    await rig.control.monitor("sue", "barge", "alice", None)
    [dial] = rig.phones.take()
    assert isinstance(dial, m.Dial)
    rig.bus.publish(m.LegEnded("caller", 200, "bye", True))
    assert m.Hangup(dial.leg_id, 487) in rig.phones.take()  # CANCEL
    rig.bus.publish(m.LegAnswered(dial.leg_id))  # the 200 crossed the CANCEL
    assert rig.phones.take() == [m.Hangup(dial.leg_id)]  # BYE, not wired in


async def test_refusals(rig: Rig) -> None:
    with pytest.raises(UnknownAgent):
        await rig.control.monitor("sue", "listen", "nobody", None)
    with pytest.raises(CallStateError, match="on no call"):
        await rig.control.monitor("sue", "listen", "alice", None)
    await rig.offered_to_alice()
    with pytest.raises(CallStateError, match="not connected"):
        await rig.control.monitor("sue", "listen", None, "caller")
    # A call another process holds the legs of.
    rig.acd.set_agent_state("bob", AgentState.AVAILABLE)
    rig.acd.enqueue("elsewhere", "desk2", "+8610")
    rig.acd.answered("elsewhere", "bob")
    with pytest.raises(CallElsewhere):
        await rig.control.monitor("sue", "listen", "bob", None)
    rig.supervisor_phones.clear()
    with pytest.raises(NotSupported, match="no phone"):
        await rig.control.monitor("sue", "listen", "bob", None)
    assert not [c for c in rig.phones.take() if isinstance(c, m.Dial) and "sue" in c.uri]


async def test_a_supervisors_phone_that_does_not_answer_is_cancelled() -> None:
    rig = Rig(ring_timeout_seconds=0.05)
    seen = pushes(rig)
    try:
        await rig.talking()
        await rig.control.monitor("sue", "listen", "alice", None)
        [dial] = rig.phones.take()
        assert isinstance(dial, m.Dial)
        for _ in range(100):
            if rig.phones.sent:
                break
            await asyncio.sleep(0.01)
        assert rig.phones.take() == [m.Hangup(dial.leg_id, 487)]  # CANCEL
        rig.bus.publish(m.LegEnded(dial.leg_id, 487, "Request Terminated", False))
        assert (seen[-1].state, seen[-1].reason) == ("ended", "no_answer")
        assert rig.service.supervision("sue") is None
    finally:
        await rig.service.close()
