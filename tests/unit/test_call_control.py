"""The consoles' call control on the call flow: a fake telephony, a real in-process ACD,
and a ticket store that remembers what it was given."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from callcenter.acd.acd import Acd
from callcenter.acd.errors import InvalidTransition
from callcenter.acd.model import AgentState, CallPhase, QueueSettings
from callcenter.acd_store.local import LocalAcdStore
from callcenter.api.websocket.control import NotSupported, TransferTarget, WrapUpForm
from callcenter.calls.control import CallElsewhere, CallFlowControl, CallStateError
from callcenter.calls.recorder import CallRecorder
from callcenter.calls.service import CallPolicy, CallService
from callcenter.clock import ManualClock
from callcenter.events import EventBus
from callcenter.ivr.flowfile import load_flows
from callcenter.ivr.prompts import PromptLibrary
from callcenter.softphone_bridge import messages as m
from callcenter.tickets.records import TicketStatus
from callcenter.tickets.workflow import Tier
from tests.unit.test_call_flow_offers import CALLER, Phones, Records

ROOT = Path(__file__).resolve().parents[2]


class Tickets:
    def __init__(self) -> None:
        self.forms: list[tuple[str, dict[str, Any]]] = []
        self.notes: list[tuple[str, str, str]] = []
        self.escalations: list[tuple[str, Tier, str, str]] = []

    async def save_wrap_up(self, call_id: str, *, author: str, now: datetime, **form: Any) -> int:
        self.forms.append((call_id, {"author": author, **form}))
        return 7

    async def add_ticket_note(self, call_id: str, text: str, *, author: str, now: datetime) -> int:
        self.notes.append((call_id, text, author))
        return 7

    async def escalate_call_ticket(
        self, call_id: str, tier: Tier, *, author: str, now: datetime, reason: str
    ) -> int:
        self.escalations.append((call_id, tier, author, reason))
        return 7


class Rig:
    def __init__(self, ring_timeout_seconds: float = 30.0) -> None:
        self.clock = ManualClock(1_000_000.0)
        self.bus = EventBus()
        queues = [QueueSettings("helpdesk", wrap_up_seconds=30), QueueSettings("desk2")]
        self.acd = Acd(queues, self.clock, self.bus.publish)
        self.store = LocalAcdStore(self.acd)
        self.phones = Phones()
        #: Agent -> endpoint; a test may make an agent a browser agent before its offer.
        self.endpoints = {"alice": "sip:alice@h:1", "bob": "sip:bob@h:2"}
        self.recorder = CallRecorder()
        #: Supervisor -> phone (listen, whisper, barge); a test may take sue's away.
        self.supervisor_phones = {"sue": "sip:sue@h:3"}
        self.service = CallService(
            acd_store=self.store,
            bus=self.bus,
            telephony=self.phones,
            store=Records(),  # type: ignore[arg-type]
            recorder=self.recorder,
            prompts=PromptLibrary(ROOT / "var" / "prompts"),
            flows=load_flows(ROOT / "tests" / "e2e" / "ivr-straight.yaml"),
            policy=CallPolicy(
                default_region="CN",
                attach_window_hours=8,
                default_queue="helpdesk",
                outbound_ring_timeout_seconds=ring_timeout_seconds,
            ),
            clock=self.clock,
            agent_endpoints=self.endpoints,
            supervisor_phones=self.supervisor_phones,
        )
        self.tickets = Tickets()
        self.control = CallFlowControl(self.service, self.store, self.tickets, self.clock)
        self.acd.add_agent("alice", ["helpdesk"])
        self.acd.add_agent("bob", ["desk2"])

    async def offered_to_alice(self) -> str:
        """A caller in the helpdesk queue ringing alice's phone; the leg's id."""
        self.acd.set_agent_state("alice", AgentState.AVAILABLE)
        self.bus.publish(m.InboundCall("caller", "sip-caller", CALLER, None, "127.0.0.1"))
        for _ in range(5):
            await asyncio.sleep(0)
        self.bus.publish(m.PromptFinished("caller", "thank_you_for_holding"))
        [dial] = [c for c in self.phones.take() if isinstance(c, m.Dial)]
        assert dial.uri == self.endpoints["alice"]
        return dial.leg_id

    async def talking(self) -> str:
        leg = await self.offered_to_alice()
        self.bus.publish(m.LegAnswered(leg))
        await asyncio.sleep(0)
        assert self.acd.call("caller").phase is CallPhase.CONNECTED
        assert self.phones.take() == [m.Connect("caller", leg)]
        return leg


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    rig = Rig()
    task = asyncio.get_running_loop().create_task(rig.recorder.run())
    yield rig
    await rig.service.close()
    task.cancel()


async def test_hold_plays_music_to_the_caller_and_resume_bridges_again(rig: Rig) -> None:
    leg = await rig.talking()
    with pytest.raises(CallStateError):
        await rig.control.resume("alice", "caller")
    await rig.control.hold("alice", "caller")
    assert rig.phones.take() == [m.PlayMusic("caller")]
    with pytest.raises(CallStateError, match="on hold already"):
        await rig.control.hold("alice", "caller")
    # The phone's own hold and resume do not take the caller off the console's hold.
    rig.bus.publish(m.LegHeld(leg, "sendonly"))
    rig.bus.publish(m.LegResumed(leg))
    assert rig.phones.take() == [m.PlayMusic("caller")]
    await rig.control.resume("alice", "caller")
    assert rig.phones.take() == [m.Connect("caller", leg)]
    assert rig.acd.agent("alice").state is AgentState.ON_CALL


async def test_hangup_completes_the_call_and_ends_both_legs(rig: Rig) -> None:
    leg = await rig.talking()
    with pytest.raises(CallStateError):
        await rig.control.hangup("bob", "caller")
    await rig.control.hangup("alice", "caller")
    assert rig.acd.agent("alice").state is AgentState.WRAP_UP
    assert rig.phones.take() == [m.Hangup("caller")]
    rig.bus.publish(m.LegEnded("caller", 200, "BYE", True))
    assert rig.phones.take() == [m.Hangup(leg, 487)]  # a BYE: the leg is up
    assert not rig.service.owns("caller")


async def test_reject_fails_the_offer_and_cancels_the_phone(rig: Rig) -> None:
    leg = await rig.offered_to_alice()
    with pytest.raises(CallStateError, match="ringing"):
        await rig.control.hangup("alice", "caller")
    await rig.control.reject("alice", "caller")
    alice = rig.acd.agent("alice")
    assert (alice.state, alice.reason) == (AgentState.PAUSED, "rejected")
    assert rig.acd.call("caller").phase is CallPhase.WAITING
    assert rig.phones.take() == [m.Hangup(leg, 487)]
    with pytest.raises(CallStateError):
        await rig.control.reject("alice", "caller")


async def test_transfer_to_a_queue_leaves_the_agent_and_rings_the_next(rig: Rig) -> None:
    leg = await rig.talking()
    rig.acd.set_agent_state("bob", AgentState.AVAILABLE)
    await rig.control.transfer("alice", "caller", TransferTarget(queue="desk2"))
    sent = rig.phones.take()
    assert sent[:2] == [m.PlayMusic("caller"), m.Hangup(leg)]
    [dial] = [c for c in sent if isinstance(c, m.Dial)]
    assert dial.uri == "sip:bob@h:2"
    assert rig.acd.agent("alice").state is AgentState.WRAP_UP
    call = rig.acd.call("caller")
    assert (call.queue, call.phase, call.offered_to) == ("desk2", CallPhase.OFFERED, ["bob"])
    # The old agent leg's end does not end the caller.
    rig.bus.publish(m.LegEnded(leg, 200, "BYE", True))
    assert rig.phones.take() == []
    rig.bus.publish(m.LegAnswered(dial.leg_id))
    await asyncio.sleep(0)
    assert rig.phones.take() == [m.Connect("caller", dial.leg_id)]
    assert rig.acd.call("caller").agent_id == "bob"


async def test_transfer_to_an_agent_and_what_is_refused(rig: Rig) -> None:
    await rig.talking()
    with pytest.raises(InvalidTransition):  # bob is not available
        await rig.control.transfer("alice", "caller", TransferTarget(agent="bob"))
    with pytest.raises(NotSupported):
        await rig.control.transfer("alice", "caller", TransferTarget(number="+8610123"))
    with pytest.raises(CallStateError):
        await rig.control.transfer("alice", "caller", TransferTarget(agent="alice"))
    rig.acd.set_agent_state("bob", AgentState.AVAILABLE)
    await rig.control.transfer("alice", "caller", TransferTarget(agent="bob"))
    assert rig.acd.call("caller").offered_to == ["bob"]


async def test_escalating_hands_the_ticket_on_and_may_move_the_caller(rig: Rig) -> None:
    leg = await rig.talking()
    assert await rig.control.escalate("alice", "caller", "tier2", "VPN design", None) == 7
    assert rig.acd.call("caller").agent_id == "alice"  # the call stays with alice
    rig.acd.set_agent_state("bob", AgentState.AVAILABLE)
    assert await rig.control.escalate("alice", "caller", "onsite", "fuser", "desk2") == 7
    assert rig.tickets.escalations == [
        ("caller", Tier.EXPERT, "alice", "VPN design"),
        ("caller", Tier.ONSITE, "alice", "fuser"),
    ]
    assert m.Hangup(leg) in rig.phones.take()
    assert rig.acd.call("caller").queue == "desk2"


async def test_wrap_up_form_and_note_go_to_the_ticket_and_end_the_wrap_up(rig: Rig) -> None:
    await rig.talking()
    assert await rig.control.add_note("alice", "caller", "printer on fire") == 7
    await rig.control.hangup("alice", "caller")
    form = WrapUpForm(
        category="printer", status="resolved", resolution="new toner", kb_article_id=3
    )
    assert await rig.control.submit_wrap_up("alice", "caller", form) == 7
    assert rig.tickets.notes == [("caller", "printer on fire", "alice")]
    [(call_id, saved)] = rig.tickets.forms
    assert call_id == "caller" and saved["author"] == "alice"
    assert saved["status"] is TicketStatus.RESOLVED and saved["category"] == "printer"
    assert saved["kb_article_id"] == 3
    assert rig.acd.agent("alice").state is AgentState.AVAILABLE


async def test_accept_is_for_browser_agents_and_other_processes_calls(rig: Rig) -> None:
    await rig.offered_to_alice()
    with pytest.raises(NotSupported, match="phone"):  # alice's SIP phone answers by itself
        await rig.control.accept("alice", "caller")
    with pytest.raises(CallStateError):  # no keys while it rings
        await rig.control.send_dtmf("alice", "caller", "1")
    with pytest.raises(CallStateError):  # a ringing call has no form yet
        await rig.control.add_note("alice", "caller", "x")
    # A call connected in the ACD whose legs this process does not hold.
    rig.acd.set_agent_state("bob", AgentState.AVAILABLE)
    rig.acd.enqueue("elsewhere", "desk2", "+8610")
    rig.acd.answered("elsewhere", "bob")
    with pytest.raises(CallElsewhere):
        await rig.control.hold("bob", "elsewhere")


async def test_a_supervisor_moves_a_waiting_call(rig: Rig) -> None:
    await rig.offered_to_alice()
    with pytest.raises(CallStateError):
        await rig.control.move_call("caller", TransferTarget(queue="desk2"), "sue")
    await rig.control.reject("alice", "caller")
    rig.phones.take()
    await rig.control.move_call("caller", TransferTarget(queue="desk2"), "sue")
    assert rig.acd.call("caller").queue == "desk2"
    assert rig.phones.take() == []  # the caller keeps hearing music


async def test_a_browser_agent_accepts_from_the_console_and_sends_keys(rig: Rig) -> None:
    rig.endpoints["alice"] = "browser:"
    leg = await rig.offered_to_alice()
    with pytest.raises(CallStateError):
        await rig.control.accept("bob", "caller")  # not offered to bob
    await rig.control.accept("alice", "caller")
    assert rig.phones.take() == [m.Answer(leg)]  # the browser leg answers
    rig.bus.publish(m.LegAnswered(leg))  # ... and takes a phone's answered path
    await asyncio.sleep(0)
    assert rig.acd.call("caller").phase is CallPhase.CONNECTED
    assert rig.phones.take() == [m.Connect("caller", leg)]
    with pytest.raises(CallStateError):
        await rig.control.accept("alice", "caller")  # answered already
    await rig.control.send_dtmf("alice", "caller", "5#")
    assert rig.phones.take() == [m.SendDtmf("caller", "5#")]  # to the caller's leg
