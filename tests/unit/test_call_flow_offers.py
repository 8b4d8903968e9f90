"""The call flow's agent and callback legs, driven by bridge events on a fake telephony
and a real in-process ACD: ring-all (a leg per offered agent, first answer wins, late
answers hung up) and queued callbacks (the key, the agent's phone, then the callee)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from callcenter.acd.acd import Acd
from callcenter.acd.model import AgentState, CallPhase, QueueSettings, Strategy
from callcenter.acd_store.local import LocalAcdStore
from callcenter.calls.recorder import CallRecorder
from callcenter.calls.service import CALLBACK_PROMPT, CallPolicy, CallService
from callcenter.clock import ManualClock
from callcenter.events import EventBus
from callcenter.ivr.flowfile import load_flows
from callcenter.ivr.prompts import PromptLibrary
from callcenter.softphone_bridge import messages as m

ROOT = Path(__file__).resolve().parents[2]
CALLER = "+862088881001"
CALLEE_URI = "sip:{number}@127.0.0.1:5070"


@dataclass
class Phones:
    sent: list[m.Command] = field(default_factory=list)

    def send(self, command: m.Command) -> None:
        self.sent.append(command)

    def take(self) -> list[m.Command]:
        sent, self.sent = self.sent, []
        return sent


class Records:
    """The ticket store's call-record side, writes kept in order."""

    def __init__(self) -> None:
        self.writes: list[tuple[str, dict[str, Any]]] = []

    async def find_employees_by_phone(self, number: str) -> list[Any]:
        return []

    async def open_call_record(self, call_id: str, *args: Any) -> None:
        self.writes.append((call_id, {"opened": True}))

    async def update_call_record(self, call_id: str, **values: Any) -> None:
        self.writes.append((call_id, values))

    async def attach_call_to_incident(
        self, call_id: str, employee_id: int | None, *args: Any
    ) -> int | None:
        """An unknown caller's answered call: the store attaches whom the agent named."""
        assert employee_id is None  # nobody is known here
        return None


@dataclass
class Rig:
    service: CallService
    acd: Acd
    bus: EventBus
    phones: Phones
    records: Records
    recorder: CallRecorder
    clock: ManualClock

    def arrive(self, leg: str = "caller") -> None:
        self.bus.publish(m.InboundCall(leg, f"sip-{leg}", CALLER, None, "127.0.0.1"))

    async def enqueue(self, leg: str = "caller") -> None:
        """The straight IVR: one prompt, then the queue."""
        self.arrive(leg)
        for _ in range(5):  # the caller lookup runs as a task
            await _settle()
        self.bus.publish(m.PromptFinished(leg, "thank_you_for_holding"))
        assert self.acd.has_call(leg)

    def dials(self, sent: list[m.Command]) -> dict[str, str]:
        """uri -> leg id of the Dial commands."""
        return {c.uri: c.leg_id for c in sent if isinstance(c, m.Dial)}

    async def written(self) -> list[tuple[str, dict[str, Any]]]:
        assert await self.recorder.drain(2)
        return self.records.writes


async def _settle() -> None:
    await asyncio.sleep(0)


def make_rig(strategy: Strategy, **queue: Any) -> Rig:
    clock = ManualClock(1_000_000.0)
    bus = EventBus()
    acd = Acd([QueueSettings("helpdesk", strategy=strategy, **queue)], clock, bus.publish)
    store = LocalAcdStore(acd)
    phones = Phones()
    records = Records()
    recorder = CallRecorder()
    service = CallService(
        acd_store=store,
        bus=bus,
        telephony=phones,
        store=records,  # type: ignore[arg-type]
        recorder=recorder,
        prompts=PromptLibrary(ROOT / "var" / "prompts"),
        flows=load_flows(ROOT / "tests" / "e2e" / "ivr-straight.yaml"),
        policy=CallPolicy(
            default_region="CN",
            attach_window_hours=8,
            default_queue="helpdesk",
            callback_keys={"helpdesk": "*"},
            outbound_uri_template=CALLEE_URI,
            outbound_ring_timeout_seconds=30,
        ),
        clock=clock,
        agent_endpoints={"alice": "sip:alice@127.0.0.1:7001", "bob": "sip:bob@127.0.0.1:7002"},
    )
    for agent in ("alice", "bob"):
        acd.add_agent(agent, ["helpdesk"])
    return Rig(service, acd, bus, phones, records, recorder, clock)


@pytest.fixture
async def rig_factory() -> AsyncIterator[Any]:
    rigs: list[Rig] = []
    tasks: list[asyncio.Task[None]] = []

    def make(strategy: Strategy, **queue: Any) -> Rig:
        rig = make_rig(strategy, **queue)
        rigs.append(rig)
        tasks.append(asyncio.get_running_loop().create_task(rig.recorder.run()))
        return rig

    yield make
    for rig in rigs:
        await rig.service.close()
    for task in tasks:
        task.cancel()


@pytest.fixture(autouse=True)
def no_handler_errors(caplog: pytest.LogCaptureFixture) -> Any:
    yield
    broken = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not broken, [r.getMessage() for r in broken]


async def test_ring_all_rings_every_agent_and_the_first_answer_wins(rig_factory: Any) -> None:
    rig: Rig = rig_factory(Strategy.RING_ALL)
    rig.acd.set_agent_state("alice", AgentState.AVAILABLE)
    rig.acd.set_agent_state("bob", AgentState.AVAILABLE)
    await rig.enqueue()
    legs = rig.dials(rig.phones.take())
    alice, bob = legs["sip:alice@127.0.0.1:7001"], legs["sip:bob@127.0.0.1:7002"]

    rig.bus.publish(m.LegAnswered(bob))
    sent = rig.phones.take()
    assert m.Connect("caller", bob) in sent
    assert m.Hangup(alice, 487) in sent  # CANCEL: the ACD withdrew alice's offer
    assert rig.acd.call("caller").agent_id == "bob"

    # alice's 200 OK crossed the CANCEL: the late answer is hung up, nobody is paused.
    rig.bus.publish(m.LegAnswered(alice))
    assert rig.phones.take() == [m.Hangup(alice)]
    rig.bus.publish(m.LegEnded(alice, 200, "BYE", True))
    assert rig.phones.take() == []
    assert rig.acd.agent("alice").state is AgentState.AVAILABLE
    assert rig.acd.call("caller").phase is CallPhase.CONNECTED

    # The caller hangs up: bob's leg ends, the call completes.
    rig.bus.publish(m.LegEnded("caller", 200, "BYE", True))
    assert m.Hangup(bob, 487) in rig.phones.take()
    assert not rig.acd.has_call("caller")
    writes = await rig.written()
    assert any(v.get("agent") == "bob" for c, v in writes if c == "caller")


async def test_ring_all_busy_phone_fails_its_offer_only(rig_factory: Any) -> None:
    rig: Rig = rig_factory(Strategy.RING_ALL)
    rig.acd.set_agent_state("alice", AgentState.AVAILABLE)
    rig.acd.set_agent_state("bob", AgentState.AVAILABLE)
    await rig.enqueue()
    legs = rig.dials(rig.phones.take())
    alice, bob = legs["sip:alice@127.0.0.1:7001"], legs["sip:bob@127.0.0.1:7002"]

    rig.bus.publish(m.LegEnded(alice, 486, "Busy Here", False))
    assert rig.phones.take() == []
    assert rig.acd.agent("alice").state is AgentState.PAUSED
    assert rig.acd.call("caller").offered_to == ["bob"]
    rig.bus.publish(m.LegAnswered(bob))
    assert m.Connect("caller", bob) in rig.phones.take()


async def test_callback_key_then_agent_then_callee(rig_factory: Any) -> None:
    rig: Rig = rig_factory(Strategy.LONGEST_IDLE, callback_retries=0)
    await rig.enqueue()
    rig.phones.take()
    rig.bus.publish(m.DtmfReceived("caller", "5", "rfc4733"))  # not the key
    assert rig.acd.call("caller").callback is None
    rig.bus.publish(m.DtmfReceived("caller", "*", "rfc4733"))
    await _settle()
    assert rig.acd.call("caller").callback == CALLER
    [prompt] = rig.phones.take()
    assert isinstance(prompt, m.PlayPrompt) and prompt.tag == CALLBACK_PROMPT
    rig.bus.publish(m.PromptFinished("caller", CALLBACK_PROMPT))
    assert rig.phones.take() == [m.Hangup("caller")]
    rig.bus.publish(m.LegEnded("caller", 200, "BYE", True))
    assert rig.acd.has_call("caller")  # the caller's hang-up is no abandon
    assert not rig.service.owns("caller")

    rig.acd.set_agent_state("alice", AgentState.AVAILABLE)
    [dial] = rig.phones.take()
    assert isinstance(dial, m.Dial) and dial.uri == "sip:alice@127.0.0.1:7001"
    assert dial.caller == CALLER
    rig.bus.publish(m.LegAnswered(dial.leg_id))
    music, callee = rig.phones.take()
    assert music == m.PlayMusic(dial.leg_id)
    assert isinstance(callee, m.Dial) and callee.uri == f"sip:{CALLER}@127.0.0.1:5070"
    assert rig.acd.call("caller").dialing

    rig.bus.publish(m.LegAnswered(callee.leg_id))
    assert rig.phones.take() == [m.Connect(dial.leg_id, callee.leg_id)]
    assert not rig.acd.call("caller").dialing
    # The agent puts the callee on hold: music for the callee, then back.
    rig.bus.publish(m.LegHeld(dial.leg_id, "sendonly"))
    rig.bus.publish(m.LegResumed(dial.leg_id))
    assert rig.phones.take() == [
        m.PlayMusic(callee.leg_id),
        m.Connect(callee.leg_id, dial.leg_id),
    ]

    rig.bus.publish(m.LegEnded(dial.leg_id, 200, "BYE", True, {"heard_level_peak": 7}))
    assert rig.phones.take() == [m.Hangup(callee.leg_id, 487)]
    assert not rig.acd.has_call("caller")  # completed
    rig.bus.publish(m.LegEnded(callee.leg_id, 200, "BYE", True, {"heard_level_peak": 9}))
    writes = [v for c, v in await rig.written() if c == "caller"]
    outcomes = [v["outcome"] for v in writes if "outcome" in v]
    assert outcomes == ["callback", "called_back"]
    assert writes[-1] == {"media": {"agent_heard_level_peak": 7, "callee_heard_level_peak": 9}}


async def test_unanswered_callee_fails_the_try_and_frees_the_agent(rig_factory: Any) -> None:
    rig: Rig = rig_factory(Strategy.LONGEST_IDLE, callback_retries=1, callback_retry_seconds=60)
    await rig.enqueue()
    rig.bus.publish(m.DtmfReceived("caller", "*", "rfc4733"))
    await _settle()
    rig.bus.publish(m.LegEnded("caller", 200, "BYE", True))  # before the confirmation ended
    rig.phones.take()
    rig.acd.set_agent_state("alice", AgentState.AVAILABLE)
    [dial] = rig.phones.take()
    assert isinstance(dial, m.Dial)
    rig.bus.publish(m.LegAnswered(dial.leg_id))
    _, callee = rig.phones.take()
    assert isinstance(callee, m.Dial)

    rig.bus.publish(m.LegEnded(callee.leg_id, 486, "Busy Here", False))
    assert rig.phones.take() == [m.Hangup(dial.leg_id)]  # BYE to the agent
    assert rig.acd.agent("alice").state is AgentState.AVAILABLE
    call = rig.acd.call("caller")
    assert call.phase is CallPhase.WAITING and call.not_before == rig.clock.now() + 60
    rig.bus.publish(m.LegEnded(dial.leg_id, 200, "BYE", True))
    assert rig.phones.take() == []

    # The retry: alice's phone rings again and is not answered (ring timeout).
    rig.clock.advance(60)
    rig.acd.tick()
    [again] = rig.phones.take()
    assert isinstance(again, m.Dial) and again.uri == "sip:alice@127.0.0.1:7001"
    rig.bus.publish(m.LegEnded(again.leg_id, 480, "Temporarily Unavailable", False))
    assert rig.acd.agent("alice").state is AgentState.PAUSED
    assert rig.acd.call("caller").phase is CallPhase.WAITING


async def test_callback_key_is_ignored_while_an_agent_rings(rig_factory: Any) -> None:
    rig: Rig = rig_factory(Strategy.LONGEST_IDLE)
    rig.acd.set_agent_state("alice", AgentState.AVAILABLE)
    await rig.enqueue()
    rig.phones.take()
    rig.bus.publish(m.DtmfReceived("caller", "*", "rfc4733"))
    await _settle()
    assert rig.acd.call("caller").callback is None
    assert rig.phones.take() == []
