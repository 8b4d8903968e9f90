"""One hotline call from INVITE to BYE: IVR, queue, offer to an agent's phone, records.

Reacts to events only (bridge events and ACD events from the bus) and answers with
bridge commands and ACD commands; it holds the mapping between our call, its legs and
the agents, nothing else. All of it runs on the event loop.

Every offer gets its own agent leg, so a ring-all call rings every offered phone and the
ACD decides which answer wins. A queued callback (the caller pressed the queue's
callback key, or a limit overflowed the call into one) has no caller leg once confirmed:
the leader process rings the agent, then dials the number (docs/ivr.md).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from callcenter.acd import commands as cmd
from callcenter.acd import events as acd_ev
from callcenter.acd.acd import Acd
from callcenter.acd.core import CONSULT_PAUSE_REASON
from callcenter.acd.model import AcdCall, AgentState, CallPhase, OfferFailure, OverflowKind
from callcenter.acd.overflow import callable_number
from callcenter.acd_store import AcdStore
from callcenter.acd_store.store import fire
from callcenter.calls.consult import Consult, Consultations
from callcenter.calls.events import CallHoldChanged, MonitoringChanged, TransferChanged
from callcenter.calls.monitoring import MonitorMode, MonitorState, Supervision, Supervisions
from callcenter.calls.transfer import (
    OutsideTransfer,
    OutsideTransfers,
    TransferPolicy,
    TransferUnavailable,
)
from callcenter.clock import Clock
from callcenter.directory.phone import normalise
from callcenter.events import EventBus
from callcenter.ivr.announcements import QueueAnnouncements
from callcenter.ivr.engine import IvrSession
from callcenter.ivr.events import IvrFinished, IvrOutcome
from callcenter.ivr.flow import (
    CallerProfile,
    CancelTimer,
    Enqueue,
    Hangup,
    IvrAction,
    Play,
    StartTimer,
    StopPlayback,
    Transfer,
)
from callcenter.ivr.flowfile import CollectNode, FlowSet, MenuNode
from callcenter.ivr.prompts import PromptLibrary
from callcenter.softphone_bridge import messages as m
from callcenter.tasks import TaskOwner
from callcenter.tickets.records import (
    OPEN_TICKET_STATUSES,
    CallOutcome,
    Employee,
    TicketStore,
)

from .announcer import QueueAnnouncer
from .ivr_timers import IvrTimers
from .recorder import CallRecorder

log = logging.getLogger(__name__)

#: Played to a caller a queue limit sends to "ticket only", before the call ends.
OVERFLOW_PROMPT = "overflow_ticket"
#: Played to a caller whose call became a queued callback (the key, or an overflow),
#: before the call ends.
CALLBACK_PROMPT = "callback_confirmed"
#: How long the IVR waits for the caller lookup before routing the call as unknown.
IDENTIFY_TIMEOUT_SECONDS = 2.0


class Telephony(Protocol):
    def send(self, command: m.Command) -> None: ...


def offer_failure(status_code: int) -> OfferFailure:
    """Map the agent phone's final SIP answer to why the offer failed."""
    if status_code in (486, 600):
        return OfferFailure.BUSY
    if status_code == 603:
        return OfferFailure.REJECTED
    if status_code in (408, 480, 487):
        return OfferFailure.NO_ANSWER
    return OfferFailure.UNREACHABLE


@dataclass
class HotlineCall:
    call_id: str  # the caller's leg id
    caller: str
    arrived_at: float
    identified: asyncio.Event = field(default_factory=asyncio.Event)
    employee: Employee | None = None
    open_incident: str | None = None
    session: IvrSession | None = None
    language: str = "en"
    #: The rest of the IVR's current Play, one prompt at a time (each is reported).
    prompts_left: list[str] = field(default_factory=list)
    #: The IVR's input timers; they stand still while the caller holds the call.
    timers: IvrTimers = field(kw_only=True)
    #: What the IVR collected (topic, incident number), for the ticket and the console.
    attributes: dict[str, str] = field(default_factory=dict)
    queued: bool = False
    overflowed: bool = False
    ivr_outcome: IvrOutcome | None = None
    ended: bool = False
    #: Agent id -> the leg ringing that agent's phone (several for a ring-all queue).
    offers: dict[str, str] = field(default_factory=dict)
    #: The agent's leg the caller is bridged to, once the ACD took the answer.
    agent_leg: str | None = None
    agent_id: str | None = None
    media: dict[str, int] = field(default_factory=dict)
    #: A callback request (the key) is with the ACD.
    callback_pending: bool = False
    #: The call is a queued callback to this number: the caller hears the confirmation
    #: and is hung up; the ACD keeps the call in line.
    callback_number: str | None = None
    #: The agent's console put the caller on hold (music) until it resumes.
    held: bool = False
    #: Not answered yet: the caller hears the greeting as early media (183).
    early: bool = False
    #: The caller was transferred to this outside number or URI (calls/transfer.py).
    transferred_to: str | None = None


@dataclass
class CallbackDial:
    """One try of a queued callback this process dials: the agent's phone first (one leg
    per agent offered), then, once the agent answered, the number to call back."""

    call_id: str
    number: str
    offers: dict[str, str] = field(default_factory=dict)
    agent_leg: str | None = None
    agent_id: str | None = None
    callee_leg: str | None = None
    callee_timer: asyncio.TimerHandle | None = None
    #: The try is over (callee failed, talk ended, a leg hung up): legs are being ended.
    done: bool = False
    media: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class AgentLeg:
    """A leg ringing (or connected to) an agent's phone, for a caller or a callback."""

    leg_id: str
    call_id: str
    agent_id: str
    owner: HotlineCall | CallbackDial


@dataclass(frozen=True)
class CallPolicy:
    default_region: str
    attach_window_hours: float
    default_queue: str
    #: Queue -> the key a waiting caller presses for a callback (queues without: none).
    callback_keys: Mapping[str, str] = field(default_factory=dict)
    #: Queue -> what its waiting callers are told between the music (none: nothing).
    announcements: Mapping[str, QueueAnnouncements] = field(default_factory=dict)
    #: SIP URI of a callback's number, with `{number}`; None: callbacks are not dialled.
    outbound_uri_template: str | None = None
    outbound_ring_timeout_seconds: float = 30.0
    #: The greeting plays as early media; the answer waits until the caller is needed.
    early_media: bool = False
    transfer: TransferPolicy = field(default_factory=TransferPolicy)


@dataclass(frozen=True)
class CallLegs:
    """What the console's call control needs to know of a caller's call this process holds."""

    call_id: str
    agent_id: str | None  # the agent the caller is bridged to
    agent_leg: str | None
    held: bool


def needs_the_caller(session: IvrSession) -> bool:
    """Whether an early-media call must be answered now: the IVR waits for keys (a menu
    or a collect node, whose prompts the caller may interrupt) or hands the call on
    (queue, transfer). A flow that only plays messages and hangs up never answers."""
    if session.result is not None:
        return not isinstance(session.result, Hangup)
    return isinstance(session.node, MenuNode | CollectNode)


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


class CallService:
    def __init__(
        self,
        *,
        acd_store: AcdStore,
        bus: EventBus,
        telephony: Telephony,
        store: TicketStore,
        recorder: CallRecorder,
        prompts: PromptLibrary,
        flows: FlowSet,
        policy: CallPolicy,
        clock: Clock,
        agent_endpoints: dict[str, str],
        supervisor_phones: Mapping[str, str] | None = None,
    ) -> None:
        self._acd_store = acd_store
        self._acd: Acd = acd_store.acd  # reads only: changes go through the store
        self._bus = bus
        self._telephony = telephony
        self._store = store
        self._recorder = recorder
        self._prompts = prompts
        self._flows = flows
        self._policy = policy
        self._clock = clock
        self._endpoints = agent_endpoints
        #: Supervisor -> the SIP URI of its phone (listen, whisper, barge).
        self._supervisor_phones = supervisor_phones or {}
        self._supervisions = Supervisions()
        #: The supervisor's leg -> the call it monitors (kept after the caller left).
        self._supervised: dict[str, HotlineCall] = {}
        #: The supervisor's leg -> its ring timeout (sip.outbound_ring_timeout_seconds).
        self._supervisor_rings: dict[str, asyncio.TimerHandle] = {}
        self._calls: dict[str, HotlineCall] = {}
        self._agent_legs: dict[str, AgentLeg] = {}
        #: Queued callbacks being dialled by this process (the leader), by call id, and
        #: their callee legs by leg id.
        self._callbacks: dict[str, CallbackDial] = {}
        self._callee_legs: dict[str, CallbackDial] = {}
        self._tasks = TaskOwner("call")
        self._announcer = QueueAnnouncer(
            telephony=telephony,
            acd=self._acd,
            prompts_directory=prompts.directory,
            queues=policy.announcements,
            clock=clock,
            publish=bus.publish,
        )
        self.shutting_down = False
        self._transfers = OutsideTransfers(telephony, bus, policy.transfer, self._transfer_done)
        self._consults = Consultations(
            telephony,
            bus,
            policy.transfer.timeout_seconds,
            self._consult_answered,
            self._consult_ended,
        )
        #: Attended transfers to an agent being handed over: call id -> (agent, its leg).
        self._handovers: dict[str, tuple[str, str]] = {}
        bus.subscribe(m.InboundCall, self._on_inbound)
        bus.subscribe(m.CallRefused, self._on_refused)
        bus.subscribe(m.PromptFinished, self._on_prompt_finished)
        bus.subscribe(m.DtmfReceived, self._on_dtmf)
        bus.subscribe(m.LegAnswered, self._on_leg_answered)
        bus.subscribe(m.LegEnded, self._on_leg_ended)
        bus.subscribe(m.LegHeld, self._on_leg_held)
        bus.subscribe(m.LegResumed, self._on_leg_resumed)
        bus.subscribe(acd_ev.CallOffered, self._on_offered)
        bus.subscribe(acd_ev.OfferWithdrawn, self._on_offer_withdrawn)
        bus.subscribe(acd_ev.CallEnqueued, self._on_enqueued)
        bus.subscribe(acd_ev.CallAnswered, self._on_answered)
        bus.subscribe(acd_ev.CallAbandoned, self._on_abandoned)
        bus.subscribe(acd_ev.CallOverflowed, self._on_overflowed)
        bus.subscribe(acd_ev.CallbackRequested, self._on_callback_requested)
        bus.subscribe(acd_ev.CallbackDialing, self._on_callback_dialing)
        bus.subscribe(acd_ev.CallbackConnected, self._on_callback_connected)
        bus.subscribe(acd_ev.CallbackFailed, self._on_callback_failed)
        bus.subscribe(acd_ev.CallTransferred, self._on_transferred)
        bus.subscribe(acd_ev.CallCompleted, self._on_completed)

    @property
    def call_ids(self) -> tuple[str, ...]:
        return tuple(self._calls)

    def owns(self, call_id: str) -> bool:
        """Whether the call's caller leg (or the callback being dialled) is this process's."""
        return call_id in self._calls or call_id in self._callbacks

    # ----- what the consoles' call control uses (calls/control.py) -------------------

    def legs(self, call_id: str) -> CallLegs | None:
        """The legs of a caller's call this process holds; None when it is not (or no
        longer) here: another process's, a callback being dialled, or ended."""
        call = self._calls.get(call_id)
        if call is None or call.ended:
            return None
        return CallLegs(call.call_id, call.agent_id, call.agent_leg, call.held)

    def hold(self, call_id: str) -> None:
        """The caller hears music instead of the agent until `resume`."""
        call = self._calls[call_id]
        call.held = True
        self._telephony.send(m.PlayMusic(call.call_id))
        self._hold_changed(call)

    def resume(self, call_id: str) -> None:
        """Bridge the held caller and the agent again."""
        call = self._calls[call_id]
        call.held = False
        if call.agent_leg is not None:
            self._telephony.send(m.Connect(call.call_id, call.agent_leg))
        self._hold_changed(call)

    def transfer_out(self, call_id: str, target: str) -> None:
        """Blind-transfer the caller to an outside number (calls/transfer.py); raises
        TransferUnavailable when no URI can be made for it."""
        call = self._calls[call_id]
        self._transfers.start(call.call_id, target, call.agent_id, call.caller)
        self._transfer_changed(call, call.agent_id, target, "started")

    def transferring(self, call_id: str) -> bool:
        """A blind transfer awaits its outcome, or a consultation is under way."""
        return (
            self._transfers.pending(call_id) is not None
            or self._consults.get(call_id) is not None
            or call_id in self._handovers
        )

    # ----- attended transfers (calls/consult.py) -------------------------------------

    def consultation(self, call_id: str) -> Consult | None:
        return self._consults.get(call_id)

    def consult(self, call_id: str, agent: str | None, number: str | None) -> None:
        """Hold the caller (music) and ring the target: an agent's phone or a number.
        TransferUnavailable when there is no way to reach it."""
        call = self._calls[call_id]
        if call.agent_id is None:
            raise TransferUnavailable(f"call {call_id!r} has no agent to consult")
        if agent is not None:
            uri, target = self._endpoints.get(agent), agent
            if uri is None:
                raise TransferUnavailable(f"agent {agent!r} has no phone")
        else:
            assert number is not None
            uri, target = self._transfers.uri(number), number
        consult = self._consults.start(call_id, call.agent_id, target, agent, uri, call.caller)
        self._consult_changed(consult, "started")

    def _consult_answered(self, consult: Consult) -> None:
        call = self._calls.get(consult.call_id)
        if call is not None and call.agent_leg is not None:
            self._telephony.send(m.Connect(call.agent_leg, consult.leg_id))
        self._consult_changed(consult, "consulting")

    def _consult_ended(self, consult: Consult, state: str, reason: str) -> None:
        """The target did not answer or hung up (back to the caller), or the caller left."""
        self._free_target(consult)
        if state == "failed":
            self._consult_changed(consult, "failed", reason)
            self._back_to_caller(consult)

    def cancel_consult(self, call_id: str) -> None:
        consult = self._consults.cancel(call_id)
        self._free_target(consult)
        self._consult_changed(consult, "cancelled")
        self._back_to_caller(consult)

    async def complete_consult(self, call_id: str) -> None:
        """Hand the caller to the target: an agent through the ACD (the reserved agent is
        offered the call, its consultation leg answers the offer), a number by bridging."""
        call = self._calls[call_id]
        consult = self._consults.hand_over(call_id)
        if consult.target_agent is None:
            transfer = self._transfers.adopt(
                call_id, consult.target, consult.agent_id, consult.leg_id
            )
            self._telephony.send(m.Connect(call.call_id, consult.leg_id))
            self._transfer_done(transfer, True, "completed")
            self._consult_changed(consult, "completed")
            return
        self._handovers[call_id] = (consult.target_agent, consult.leg_id)
        try:
            handing = cmd.TransferToAgent(call_id, consult.target_agent, reserved=True)
            await self._acd_store.submit(handing)
        except Exception:
            if self._handovers.pop(call_id, None) is not None:
                self._telephony.send(m.Hangup(consult.leg_id))
                self._free_target(consult)
                self._consult_changed(consult, "failed", "the ACD refused the transfer")
                self._back_to_caller(consult)
            raise
        self._consult_changed(consult, "completed")

    def _handed_over(self, event: acd_ev.CallOffered, call: HotlineCall) -> bool:
        """The offer to an attended transfer's target: its consultation leg answers it."""
        handover = self._handovers.get(event.call_id)
        if handover is None or handover[0] != event.agent_id:
            return False
        del self._handovers[event.call_id]
        agent_id, leg_id = handover
        call.offers[agent_id] = leg_id
        self._agent_legs[leg_id] = AgentLeg(leg_id, call.call_id, agent_id, call)

        def refused(answered: asyncio.Future[None]) -> None:
            if answered.cancelled() or answered.exception() is not None:
                self._telephony.send(m.Hangup(leg_id))

        self._acd_store.submit(cmd.Answered(call.call_id, agent_id)).add_done_callback(refused)
        return True

    def _free_target(self, consult: Consult) -> None:
        """The reserved target agent is available again (unless something else changed it)."""
        agent_id = consult.target_agent
        if agent_id is None:
            return
        agent = self._acd.agent(agent_id)
        if agent.state is AgentState.PAUSED and agent.reason == CONSULT_PAUSE_REASON:
            fire(self._acd_store, cmd.SetAgentState(agent_id, AgentState.AVAILABLE))

    def _back_to_caller(self, consult: Consult) -> None:
        """The agent talks to the caller again; when its phone is gone, the call waits in
        its queue."""
        call = self._calls.get(consult.call_id)
        if call is None or call.ended:
            return
        if call.agent_leg is not None:
            if not call.held:  # a console's hold goes on (music)
                self._telephony.send(m.Connect(call.call_id, call.agent_leg))
            return
        acd_call = self._acd_call(call.call_id)
        if acd_call is not None and acd_call.agent_id == consult.agent_id:
            fire(self._acd_store, cmd.TransferToQueue(call.call_id, acd_call.queue))

    def _consult_changed(self, consult: Consult, state: str, reason: str | None = None) -> None:
        now = self._clock.now()
        self._bus.publish(
            TransferChanged(
                now, consult.call_id, consult.agent_id, "attended", consult.target, state, reason
            )
        )

    def _transfer_done(self, transfer: OutsideTransfer, ok: bool, reason: str) -> None:
        """A blind transfer's outcome. Success: the agent is released into wrap-up, the
        record says transferred. Failure: the caller is back with the agent, or waits in
        its queue when the agent's leg is gone, or (from the IVR) in the default queue."""
        call = self._calls.get(transfer.call_id)
        if call is None or call.ended:
            return
        state = "completed" if ok else "failed"
        if transfer.kind == "blind":  # a consultation reports its own steps
            self._transfer_changed(call, transfer.agent_id, transfer.target, state, reason)
        if ok:
            call.transferred_to = transfer.target
            agent_leg, call.agent_leg, call.agent_id, call.held = call.agent_leg, None, None, False
            self._end_supervisions(call)
            if agent_leg is not None:
                self._telephony.send(m.Hangup(agent_leg))
            if call.queued:
                fire(self._acd_store, cmd.Hangup(call.call_id))  # the agent goes to wrap-up
            self._write(call, outcome=CallOutcome.TRANSFERRED, transfer_target=transfer.target)
            if transfer.mode == "refer":
                self._telephony.send(m.Hangup(call.call_id))
            return
        if transfer.agent_id is None:
            log.warning("IVR transfer of %s to %s failed; queueing", call.call_id, transfer.target)
            self._enqueue(call, Enqueue(self._policy.default_queue, 0))
        elif call.agent_leg is not None:
            if not call.held:  # a console's hold goes on (music)
                self._telephony.send(m.Connect(call.call_id, call.agent_leg))
        else:
            acd_call = self._acd_call(call.call_id)
            if acd_call is not None and acd_call.agent_id == transfer.agent_id:
                fire(self._acd_store, cmd.TransferToQueue(call.call_id, acd_call.queue))

    def _transfer_changed(
        self,
        call: HotlineCall,
        agent_id: str | None,
        target: str,
        state: str,
        reason: str | None = None,
        kind: str = "blind",
    ) -> None:
        now = self._clock.now()
        event = TransferChanged(now, call.call_id, agent_id, kind, target, state, reason)
        self._bus.publish(event)

    def uses_browser(self, agent_id: str) -> bool:
        """The agent's phone is its console (agent `sip_uri` `browser:...`)."""
        return self._endpoints.get(agent_id, "").startswith(m.BROWSER_URI_PREFIX)

    def answer_in_browser(self, call_id: str, agent_id: str) -> bool:
        """The console's accept: answer the browser leg ringing for the agent. Its
        LegAnswered then takes the answered path a phone's answer takes. False: no such
        leg here (another process holds the call, or the offer is gone)."""
        call = self._calls.get(call_id)
        leg_id = call.offers.get(agent_id) if call is not None and not call.ended else None
        if leg_id is None or not self.uses_browser(agent_id):
            return False
        self._telephony.send(m.Answer(leg_id))
        return True

    def send_dtmf(self, call_id: str, digits: str) -> None:
        """Keys from the agent to the caller (an IVR the agent dialled through)."""
        self._telephony.send(m.SendDtmf(self._calls[call_id].call_id, digits))

    # ----- supervision: listen, whisper, barge (calls/monitoring.py) -----------------

    def supervisor_phone(self, supervisor: str) -> str | None:
        """The supervisor's phone, None when it has none (or only a browser console)."""
        uri = self._supervisor_phones.get(supervisor)
        return None if uri is None or uri.startswith(m.BROWSER_URI_PREFIX) else uri

    def supervision(self, supervisor: str) -> Supervision | None:
        return self._supervisions.of(supervisor)

    def monitor(self, call_id: str, supervisor: str, mode: MonitorMode) -> Supervision:
        """Ring the supervisor's phone for the connected call, wired in `mode` once it
        answers; on the call the supervisor already monitors, switch the mode only.
        The caller (call control) has checked the call and the phone."""
        call = self._calls[call_id]
        assert call.agent_id is not None and call.agent_leg is not None
        current = self._supervisions.of(supervisor)
        if current is not None and current.call_id == call_id:
            current.mode = mode
            if current.answered:
                self._telephony.send(m.Monitor(current.leg_id, call_id, call.agent_leg, mode))
            self._monitoring_changed(current, current.state)
            return current
        uri = self.supervisor_phone(supervisor)
        assert uri is not None
        supervision = self._supervisions.start(supervisor, call_id, call.agent_id, mode)
        self._supervised[supervision.leg_id] = call
        self._telephony.send(m.Dial(supervision.leg_id, uri, call.caller))
        self._supervisor_rings[supervision.leg_id] = asyncio.get_running_loop().call_later(
            self._policy.outbound_ring_timeout_seconds, self._supervisor_ring_timeout, supervision
        )
        self._monitoring_changed(supervision, MonitorState.RINGING)
        return supervision

    def stop_monitoring(self, supervisor: str) -> Supervision | None:
        """Hang up the supervisor's leg; its end is reported (`ended`) when it is gone."""
        supervision = self._supervisions.of(supervisor)
        if supervision is not None:
            self._stop_supervision(supervision, "stopped")
        return supervision

    def _stop_supervision(self, supervision: Supervision, reason: str) -> None:
        if self._supervisions.stop(supervision, reason):
            self._telephony.send(m.Hangup(supervision.leg_id, 487))

    def _end_supervisions(self, call: HotlineCall) -> None:
        """The caller left or the agent's leg is gone: the supervisors' legs end too."""
        for supervision in self._supervisions.of_call(call.call_id):
            self._stop_supervision(supervision, "call_ended")

    def _supervisor_ring_timeout(self, supervision: Supervision) -> None:
        self._supervisor_rings.pop(supervision.leg_id, None)
        if not supervision.answered:
            self._stop_supervision(supervision, "no_answer")  # CANCEL

    def _supervisor_answered(self, supervision: Supervision) -> None:
        supervision.answered = True
        ring = self._supervisor_rings.pop(supervision.leg_id, None)
        if ring is not None:
            ring.cancel()
        if supervision.stopping is not None:  # answered as it was being cancelled
            self._telephony.send(m.Hangup(supervision.leg_id))
            return
        call = self._supervised.get(supervision.leg_id)
        if (
            call is None
            or call.ended
            or call.agent_leg is None
            or call.agent_id != supervision.agent_id
        ):
            self._stop_supervision(supervision, "call_ended")
            return
        monitor = m.Monitor(supervision.leg_id, call.call_id, call.agent_leg, supervision.mode)
        self._telephony.send(monitor)
        self._monitoring_changed(supervision, MonitorState.ACTIVE)

    def _supervisor_leg_ended(self, supervision: Supervision, event: m.LegEnded) -> None:
        call = self._supervised.pop(event.leg_id, None)
        self._supervisions.leg_ended(event.leg_id)
        ring = self._supervisor_rings.pop(event.leg_id, None)
        if ring is not None:
            ring.cancel()
        reason = supervision.stopping
        if reason is None:
            reason = "hung_up" if event.was_answered else f"{event.status_code} {event.reason}"
        self._monitoring_changed(supervision, MonitorState.ENDED, reason)
        if call is not None and event.media:
            call.media.update({f"supervisor_{k}": v for k, v in event.media.items()})
            if call.ended:  # the caller's end wrote the record: complete its media
                self._write(call, media=dict(call.media))

    def _monitoring_changed(
        self, supervision: Supervision, state: MonitorState, reason: str | None = None
    ) -> None:
        self._bus.publish(
            MonitoringChanged(
                self._clock.now(),
                supervision.supervisor,
                supervision.call_id,
                supervision.agent_id,
                supervision.mode.value,
                state.value,
                reason,
            )
        )

    def _hold_changed(self, call: HotlineCall) -> None:
        if call.agent_id is not None:
            now = self._clock.now()
            self._bus.publish(CallHoldChanged(now, call.call_id, call.agent_id, call.held))

    # ----- owned background work ---------------------------------------------------

    async def run_timers(self, interval: float = 0.2) -> None:
        """Ring-no-answer and wrap-up end are the ACD's; time reaches it from here."""
        while True:
            await asyncio.sleep(interval)
            self._acd_store.tick()

    async def close(self) -> None:
        for ring in self._supervisor_rings.values():
            ring.cancel()
        self._supervisor_rings.clear()
        await self._tasks.close()

    # ----- bridge events -------------------------------------------------------------

    def _on_inbound(self, event: m.InboundCall) -> None:
        raw = event.caller_user or "anonymous"
        caller = normalise(raw, self._policy.default_region) or raw
        leg_id = event.leg_id
        timers = IvrTimers(asyncio.get_running_loop(), lambda t: self._timer_fired(leg_id, t))
        call = HotlineCall(leg_id, caller, self._clock.now(), timers=timers)
        self._calls[call.call_id] = call
        call.early = self._policy.early_media
        self._telephony.send(m.Progress(call.call_id) if call.early else m.Answer(call.call_id))
        self._tasks.spawn(self._identify_then_greet(call), f"ivr-{call.call_id}")
        store, sip_call_id = self._store, event.sip_call_id

        async def write() -> None:
            # Queued first so that every later update finds the record; waits for the lookup.
            await call.identified.wait()
            await store.open_call_record(
                call.call_id,
                sip_call_id,
                call.caller,
                call.employee.id if call.employee else None,
                _utc(call.arrived_at),
            )

        data = {
            "call_id": call.call_id,
            "sip_call_id": sip_call_id,
            "caller": call.caller,
            "arrived_at": _utc(call.arrived_at),
        }
        self._recorder.submit(f"arrival of {call.call_id}", write, data)

    def _on_refused(self, event: m.CallRefused) -> None:
        """A caller turned away for capacity or shutdown is a lost call: keep its record.

        Refusals of strangers (not a trunk, wrong number) leave only a log line and a
        metric, so a flood cannot fill the database.
        """
        if event.reason not in ("capacity", "shutdown"):
            return
        raw = event.caller_user or "anonymous"
        caller = normalise(raw, self._policy.default_region) or raw
        now, store, call_id = _utc(self._clock.now()), self._store, str(uuid.uuid4())

        async def write() -> None:
            await store.open_call_record(call_id, event.sip_call_id, caller, None, now)
            await store.update_call_record(call_id, ended_at=now, outcome=CallOutcome.REFUSED)

        data = {"call_id": call_id, "sip_call_id": event.sip_call_id, "caller": caller}
        self._recorder.submit(f"refusal {call_id}", write, {**data, "outcome": "refused"})

    async def _identify_then_greet(self, call: HotlineCall) -> None:
        """The IVR branches on who calls, so the lookup comes first (bounded in time)."""
        try:
            await asyncio.wait_for(self._identify(call), IDENTIFY_TIMEOUT_SECONDS)
        except TimeoutError:
            log.warning("caller lookup for %s is slow; serving as unknown", call.caller)
        except Exception:
            log.exception("caller lookup failed for %s; serving as unknown", call.caller)
        finally:
            call.identified.set()
        if call.ended:
            return
        employee = call.employee
        profile = CallerProfile(
            known=employee is not None,
            vip=bool(employee and employee.vip),
            open_incident=call.open_incident,
        )
        call.session = IvrSession(self._flows.for_language(profile.language), profile, self._clock)
        self._perform(call, call.session.start())

    async def _identify(self, call: HotlineCall) -> None:
        found = await self._store.find_employees_by_phone(call.caller)
        if len(found) != 1:
            return  # unknown, or a shared line: the agent sees the candidates
        call.employee = found[0]
        tickets = await self._store.tickets_of(found[0].username)
        open_incidents = [
            t for t in tickets if t.kind == "incident" and t.status in OPEN_TICKET_STATUSES
        ]
        if open_incidents:
            call.open_incident = str(max(open_incidents, key=lambda t: t.updated_at).id)

    def _on_dtmf(self, event: m.DtmfReceived) -> None:
        call = self._calls.get(event.leg_id)
        if call is None or call.ended:
            return
        log.debug("call %s: key %s (%s)", call.call_id, event.digit, event.method)
        if call.queued:  # the IVR is done: a key in the queue may ask for a callback
            self._callback_key(call, event.digit)
        elif call.session is not None:
            self._perform(call, call.session.digit(event.digit))

    def _on_prompt_finished(self, event: m.PromptFinished) -> None:
        call = self._calls.get(event.leg_id)
        if call is None or call.ended or self._announcer.prompt_finished(event):
            return
        if call.overflowed or (call.callback_number is not None and event.tag == CALLBACK_PROMPT):
            self._telephony.send(m.Hangup(call.call_id))  # the goodbye has been said
            return
        if call.session is None or not call.prompts_left or call.prompts_left[0] != event.tag:
            return
        call.prompts_left.pop(0)
        actions = call.session.prompt_finished(event.tag)
        if not actions and call.prompts_left:
            self._play_next(call)
        self._perform(call, actions)

    def _timer_fired(self, call_id: str, timer_id: str) -> None:
        call = self._calls.get(call_id)
        if call is None or call.ended or call.session is None:
            return
        self._perform(call, call.session.timer_fired(timer_id))

    def _perform(self, call: HotlineCall, actions: list[IvrAction]) -> None:
        if call.early and call.session is not None and needs_the_caller(call.session):
            call.early = False
            self._telephony.send(m.Answer(call.call_id))
        for action in actions:
            if isinstance(action, Play):
                call.language = action.language or call.language
                call.prompts_left = list(action.prompts)
                self._play_next(call)
            elif isinstance(action, StopPlayback):
                call.prompts_left.clear()
                self._telephony.send(m.StopPrompt(call.call_id))
            elif isinstance(action, StartTimer):
                call.timers.start(action.timer_id, action.seconds)
            elif isinstance(action, CancelTimer):
                call.timers.cancel(action.timer_id)
            elif isinstance(action, Enqueue):
                self._enqueue(call, action)
            elif isinstance(action, Transfer):
                self._ivr_transfer(call, action)
            elif isinstance(action, Hangup):
                self._ivr_finished(call, IvrOutcome.FLOW_HANGUP)
                self._telephony.send(m.Hangup(call.call_id))

    def _ivr_transfer(self, call: HotlineCall, action: Transfer) -> None:
        """The flow's `transfer` node: a blind transfer as `sip.transfer_mode` says; a
        target that cannot be reached sends the caller to the default queue."""
        self._ivr_finished(call, IvrOutcome.TRANSFERRED)  # what the flow asked for
        self._cancel_timers(call)
        call.prompts_left.clear()
        try:
            self.transfer_out(call.call_id, action.target)
        except ValueError as exc:
            log.warning("IVR transfer to %s impossible (%s); queueing", action.target, exc)
            self._enqueue(call, Enqueue(self._policy.default_queue, 0))

    def _ivr_finished(self, call: HotlineCall, outcome: IvrOutcome) -> None:
        if call.ivr_outcome is None:
            call.ivr_outcome = outcome
            self._bus.publish(IvrFinished(self._clock.now(), call.call_id, outcome))
            self._write(call, ivr_outcome=outcome.value, ivr_attributes=dict(call.attributes))

    def _enqueue(self, call: HotlineCall, action: Enqueue) -> None:
        call.attributes = dict(action.attributes)
        self._ivr_finished(call, IvrOutcome.QUEUED)
        self._cancel_timers(call)
        call.prompts_left.clear()
        self._telephony.send(m.PlayMusic(call.call_id))
        call.queued = True
        self._announcer.waiting(call.call_id, call.language)
        skills = dict(action.skills) or None
        fire(
            self._acd_store,
            cmd.Enqueue(
                call.call_id,
                action.queue,
                call.caller,
                action.priority,
                skills,
                dict(action.attributes) or None,
            ),
        )

    def _cancel_timers(self, call: HotlineCall) -> None:
        call.timers.cancel_all()

    def _play_next(self, call: HotlineCall) -> None:
        name = call.prompts_left[0]
        path = PromptLibrary(self._prompts.directory, call.language).path(name)
        self._telephony.send(m.PlayPrompt(call.call_id, (path,), name))

    def _play(self, call: HotlineCall, *prompts: str) -> None:
        paths = tuple(self._prompts.path(name) for name in prompts)
        self._telephony.send(m.PlayPrompt(call.call_id, paths, "+".join(prompts)))

    # ----- queued callbacks: the caller's side ---------------------------------------

    def _callback_key(self, call: HotlineCall, digit: str) -> None:
        """The queue's callback key asks the ACD to keep the place as a callback to the
        caller's number; once it agreed, the caller hears the confirmation and is hung up.
        Ignored while an agent's phone rings with the call, and for anonymous callers."""
        if call.callback_pending or call.callback_number is not None:
            return
        acd_call = self._acd_call(call.call_id)
        if acd_call is None or self._policy.callback_keys.get(acd_call.queue) != digit:
            return
        if acd_call.phase is not CallPhase.WAITING or acd_call.callback is not None:
            log.info("call %s: callback key while %s; ignored", call.call_id, acd_call.phase)
            return
        if not callable_number(call.caller):
            log.info("call %s: no number to call back; callback key ignored", call.call_id)
            return
        call.callback_pending = True
        number = call.caller

        def done(request: asyncio.Future[None]) -> None:
            call.callback_pending = False
            if request.cancelled() or request.exception() is not None:
                reason = "cancelled" if request.cancelled() else request.exception()
                log.warning("callback request of %s refused: %s", call.call_id, reason)
                return
            self._callback_taken(call, number)

        self._acd_store.submit(cmd.RequestCallback(call.call_id, number)).add_done_callback(done)

    def _callback_taken(self, call: HotlineCall, number: str) -> None:
        """The call is a queued callback now: confirm, then hang up (PromptFinished)."""
        call.callback_number = number
        self._announcer.stop(call.call_id)
        if call.ended:
            return
        call.prompts_left.clear()
        path = PromptLibrary(self._prompts.directory, call.language).path(CALLBACK_PROMPT)
        self._telephony.send(m.PlayPrompt(call.call_id, (path,), CALLBACK_PROMPT))

    def _on_callback_requested(self, event: acd_ev.CallbackRequested) -> None:
        # Written once per cluster: by the process whose command (or tick) made it.
        if self._acd_store.applying_own:
            self._write_id(event.call_id, outcome=CallOutcome.CALLBACK, queue=event.queue)

    def _acd_call(self, call_id: str) -> AcdCall | None:
        return self._acd.call(call_id) if self._acd.has_call(call_id) else None

    def _dial_agent(
        self, event: acd_ev.CallOffered, owner: HotlineCall | CallbackDial, shown: str
    ) -> None:
        """Ring the offered agent's phone: one leg per offer, so that a ring-all call rings
        every offered phone at once."""
        uri = self._endpoints.get(event.agent_id)
        if uri is None:
            log.warning("agent %s has no phone to offer calls to", event.agent_id)
            failed = cmd.OfferFailed(event.call_id, OfferFailure.UNREACHABLE, event.agent_id)
            fire(self._acd_store, failed)
            return
        leg_id = str(uuid.uuid4())
        owner.offers[event.agent_id] = leg_id
        self._agent_legs[leg_id] = AgentLeg(leg_id, event.call_id, event.agent_id, owner)
        self._telephony.send(m.Dial(leg_id, uri, shown))

    def _on_leg_answered(self, event: m.LegAnswered) -> None:
        leg = self._agent_legs.get(event.leg_id)
        if leg is None:
            dial = self._callee_legs.get(event.leg_id)
            if dial is not None:
                self._callee_answered(dial, event.leg_id)
            supervision = self._supervisions.by_leg(event.leg_id)
            if supervision is not None:
                self._supervisor_answered(supervision)
            return
        owner = leg.owner
        gone = owner.ended if isinstance(owner, HotlineCall) else owner.done
        acd_call = self._acd_call(leg.call_id)
        if (
            gone
            or owner.offers.get(leg.agent_id) != leg.leg_id
            or acd_call is None
            or acd_call.phase is not CallPhase.OFFERED
            or leg.agent_id not in acd_call.offered_to
        ):
            # Answered too late: the offer was withdrawn (ring timeout, another phone of a
            # ring-all call answered first, the caller left).
            log.info("agent %s answered call %s too late", leg.agent_id, leg.call_id)
            self._telephony.send(m.Hangup(event.leg_id))
            return
        leg_id = event.leg_id

        def refused(answered: asyncio.Future[None]) -> None:
            # Bridged only once the ACD agrees (CallAnswered / CallbackDialing): in a
            # cluster a ring timeout or another agent may have won in the meantime.
            if answered.cancelled() or answered.exception() is not None:
                self._telephony.send(m.Hangup(leg_id))

        self._acd_store.submit(cmd.Answered(leg.call_id, leg.agent_id)).add_done_callback(refused)

    def _held_party(self, leg_id: str) -> tuple[str, str] | None:
        """For a connected agent leg: (the other party's leg, this leg)."""
        leg = self._agent_legs.get(leg_id)
        if leg is None:
            return None
        owner = leg.owner
        if isinstance(owner, CallbackDial):
            if owner.done or owner.agent_leg != leg_id or owner.callee_leg is None:
                return None
            acd_call = self._acd_call(owner.call_id)
            if acd_call is None or acd_call.dialing or acd_call.phase is not CallPhase.CONNECTED:
                return None
            return owner.callee_leg, leg_id
        if owner.ended or owner.agent_leg != leg_id:
            return None
        acd_call = self._acd_call(owner.call_id)
        if acd_call is None or acd_call.phase is not CallPhase.CONNECTED:
            return None
        return owner.call_id, leg_id

    def _on_leg_held(self, event: m.LegHeld) -> None:
        """The agent's phone put the caller on hold: music, not silence, until it resumes.
        The caller's own phone did: the IVR's input timers and the queue's announcements
        wait for the caller's return."""
        call = self._calls.get(event.leg_id)
        if call is not None:
            call.timers.hold()
            self._announcer.caller_held(call.call_id, True)
            return
        held = self._held_party(event.leg_id)
        if held is not None:
            self._telephony.send(m.PlayMusic(held[0]))

    def _on_leg_resumed(self, event: m.LegResumed) -> None:
        caller = self._calls.get(event.leg_id)
        if caller is not None:
            caller.timers.resume()
            self._announcer.caller_held(caller.call_id, False)
            return
        held = self._held_party(event.leg_id)
        call = self._calls.get(held[0]) if held is not None else None
        if call is not None and (call.held or self.transferring(call.call_id)):
            return  # the console holds the caller too, or a transfer is under way: music
        if held is not None:
            self._telephony.send(m.Connect(*held))

    def _on_leg_ended(self, event: m.LegEnded) -> None:
        for call_id, (_, leg_id) in list(self._handovers.items()):
            if leg_id == event.leg_id:  # the consulted agent hung up as it was handed over:
                del self._handovers[call_id]  # its phone is rung as for any offer
        leg = self._agent_legs.pop(event.leg_id, None)
        if leg is not None:
            if isinstance(leg.owner, CallbackDial):
                self._callback_agent_leg_ended(leg.owner, leg, event)
            else:
                self._agent_leg_ended(leg.owner, leg, event)
            return
        dial = self._callee_legs.pop(event.leg_id, None)
        if dial is not None:
            self._callee_leg_ended(dial, event)
            return
        supervision = self._supervisions.by_leg(event.leg_id)
        if supervision is not None:
            self._supervisor_leg_ended(supervision, event)
            return
        call = self._calls.get(event.leg_id)
        if call is None:
            return
        call.ended = True
        self._cancel_timers(call)
        self._announcer.stop(call.call_id)
        call.media.update({f"caller_{k}": v for k, v in event.media.items()})
        outcome: CallOutcome | None = None
        # The caller left: the agents' phones stop ringing (CANCEL), or the talk ends.
        for leg_id in call.offers.values():
            self._telephony.send(m.Hangup(leg_id, 487))
        if call.agent_leg is not None:
            self._telephony.send(m.Hangup(call.agent_leg, 487))
        self._end_supervisions(call)
        if call.transferred_to is not None:
            pass  # transferred out: its outcome was written then
        elif call.callback_number is not None:
            # A queued callback: its caller is expected to leave, the ACD keeps the call
            # (its outcome, "callback", was written when the ACD took the request).
            pass
        elif call.queued:
            # An abandon or the end of a talk; sent without asking the ACD first, which
            # may not have applied the enqueue yet when the ACD is shared through Redis.
            # (After a pending callback request, it is applied after it: a no-op then.)
            fire(self._acd_store, cmd.Hangup(call.call_id))
        else:
            outcome = CallOutcome.INTERRUPTED if self.shutting_down else CallOutcome.IVR_HANGUP
            self._ivr_finished(call, IvrOutcome.CALLER_HANGUP)
        del self._calls[event.leg_id]
        self._write(call, ended_at=_utc(self._clock.now()), outcome=outcome, media=dict(call.media))

    def _agent_leg_ended(self, call: HotlineCall, leg: AgentLeg, event: m.LegEnded) -> None:
        if call.agent_leg == leg.leg_id:
            call.media.update({f"agent_{k}": v for k, v in event.media.items()})
            call.agent_leg = None
            self._end_supervisions(call)
            if call.ended:  # the caller hung up first; complete the media figures
                self._write(call, media=dict(call.media))
            elif self.transferring(call.call_id):
                pass  # the transfer's outcome decides where the caller goes
            else:
                # The agent hung up: end the caller's leg; its LegEnded completes the record.
                self._telephony.send(m.Hangup(call.call_id))
            return
        if call.offers.get(leg.agent_id) != leg.leg_id:
            return  # a withdrawn offer's leg (another phone answered, ring timeout)
        del call.offers[leg.agent_id]
        if call.ended:
            return
        self._offer_leg_failed(leg, event)

    def _offer_leg_failed(self, leg: AgentLeg, event: m.LegEnded) -> None:
        """A ringing agent leg ended without the call being bridged to it."""
        acd_call = self._acd_call(leg.call_id)
        if (
            acd_call is not None
            and acd_call.phase is CallPhase.OFFERED
            and leg.agent_id in acd_call.offered_to
        ):
            failure = offer_failure(event.status_code)
            fire(self._acd_store, cmd.OfferFailed(leg.call_id, failure, leg.agent_id))

    # ----- ACD events ----------------------------------------------------------------

    def _on_offered(self, event: acd_ev.CallOffered) -> None:
        if event.callback is not None:
            self._offer_callback(event)
            return
        call = self._calls.get(event.call_id)
        if call is None or call.ended or self._handed_over(event, call):
            return
        self._announcer.cut_short(call.call_id)
        self._dial_agent(event, call, call.caller)

    def _on_offer_withdrawn(self, event: acd_ev.OfferWithdrawn) -> None:
        owner: HotlineCall | CallbackDial | None = self._callbacks.get(event.call_id)
        if owner is None or event.agent_id not in owner.offers:
            owner = self._calls.get(event.call_id)
        if owner is None:
            return
        leg_id = owner.offers.pop(event.agent_id, None)
        if leg_id is None:
            return  # the leg ended first (busy, declined...): it was taken off `offers`
        # Ring timeout, another phone answered (ring-all), the caller left, the call
        # moved, or the agent rejected it from the console: stop this phone ringing
        # (CANCEL; a BYE if it answered in the meantime).
        self._telephony.send(m.Hangup(leg_id, 487))

    # ----- queued callbacks: dialling (the leader) -----------------------------------

    def _offer_callback(self, event: acd_ev.CallOffered) -> None:
        """A queued callback reached an agent: ring the agent's phone first. Dialled by
        the leader of the processes sharing the ACD (the only one in a single process):
        the caller who asked for it has hung up, so no process owns the call."""
        if not self._acd_store.is_leader or event.callback is None:
            return
        dial = self._callbacks.get(event.call_id)
        if dial is None or dial.done:
            dial = self._callbacks[event.call_id] = CallbackDial(event.call_id, event.callback)
        self._dial_agent(event, dial, event.callback)

    def _on_callback_dialing(self, event: acd_ev.CallbackDialing) -> None:
        """The agent took the callback: music to the agent, and dial the number."""
        dial = self._callbacks.get(event.call_id)
        if dial is None:
            return
        leg_id = dial.offers.pop(event.agent_id, None)
        template = self._policy.outbound_uri_template
        if leg_id is None or template is None:
            if template is None:
                log.error("callback %s: sip.outbound_uri_template is not set", event.call_id)
            dial.agent_leg, dial.agent_id = leg_id, event.agent_id
            fire(self._acd_store, cmd.CallbackFailed(event.call_id))
            self._end_try(dial)
            return
        dial.agent_leg, dial.agent_id = leg_id, event.agent_id
        self._telephony.send(m.PlayMusic(leg_id))
        callee = str(uuid.uuid4())
        dial.callee_leg = callee
        self._callee_legs[callee] = dial
        uri = template.format(number=event.number)
        log.info("callback %s: agent %s answered, dialling %s", event.call_id, event.agent_id, uri)
        self._telephony.send(m.Dial(callee, uri, event.number))
        dial.callee_timer = asyncio.get_running_loop().call_later(
            self._policy.outbound_ring_timeout_seconds, self._callee_ring_timeout, dial, callee
        )

    def _callee_ring_timeout(self, dial: CallbackDial, leg_id: str) -> None:
        dial.callee_timer = None
        if dial.callee_leg == leg_id and not dial.done:
            self._telephony.send(m.Hangup(leg_id, 487))  # CANCEL: a try not answered

    def _callee_answered(self, dial: CallbackDial, leg_id: str) -> None:
        if dial.callee_timer is not None:
            dial.callee_timer.cancel()
            dial.callee_timer = None
        acd_call = self._acd_call(dial.call_id)
        if dial.done or dial.callee_leg != leg_id or acd_call is None or not acd_call.dialing:
            self._telephony.send(m.Hangup(leg_id))
            return

        def refused(answered: asyncio.Future[None]) -> None:
            if answered.cancelled() or answered.exception() is not None:
                self._telephony.send(m.Hangup(leg_id))

        self._acd_store.submit(cmd.CallbackAnswered(dial.call_id)).add_done_callback(refused)

    def _on_callback_connected(self, event: acd_ev.CallbackConnected) -> None:
        dial = self._callbacks.get(event.call_id)
        if dial is None or dial.done or dial.agent_leg is None or dial.callee_leg is None:
            return
        self._telephony.send(m.Connect(dial.agent_leg, dial.callee_leg))
        self._write_id(
            event.call_id,
            agent=event.agent_id,
            answered_at=_utc(event.at),
            outcome=CallOutcome.CALLED_BACK,
        )

    def _on_callback_failed(self, event: acd_ev.CallbackFailed) -> None:
        """A try failed (ours, or a hang-up while dialling): end what is left of its legs;
        the ACD retries later (a new try, new legs) or dropped the callback."""
        dial = self._callbacks.pop(event.call_id, None)
        if dial is not None:
            self._end_try(dial)
        if event.retry_at is None and self._acd_store.applying_own:
            self._write_id(event.call_id, outcome=CallOutcome.CALLBACK_FAILED)

    def _end_try(self, dial: CallbackDial) -> None:
        """Hang up the try's legs politely: BYE to the agent, CANCEL or BYE to the callee."""
        if self._callbacks.get(dial.call_id) is dial:
            del self._callbacks[dial.call_id]
        if dial.done:
            return
        dial.done = True
        if dial.callee_timer is not None:
            dial.callee_timer.cancel()
            dial.callee_timer = None
        if dial.callee_leg is not None:
            self._telephony.send(m.Hangup(dial.callee_leg, 487))
        if dial.agent_leg is not None:
            self._telephony.send(m.Hangup(dial.agent_leg))
        for leg_id in dial.offers.values():
            self._telephony.send(m.Hangup(leg_id, 487))

    def _callee_leg_ended(self, dial: CallbackDial, event: m.LegEnded) -> None:
        dial.media.update({f"callee_{k}": v for k, v in event.media.items()})
        if dial.callee_leg != event.leg_id:
            return
        dial.callee_leg = None
        if dial.done:
            self._dial_finished(dial)
            return
        acd_call = self._acd_call(dial.call_id)
        if acd_call is not None and acd_call.dialing:
            log.info(
                "callback %s: %s did not answer (%d %s)",
                dial.call_id,
                dial.number,
                event.status_code,
                event.reason,
            )
            fire(self._acd_store, cmd.CallbackFailed(dial.call_id))
        elif acd_call is not None and acd_call.agent_id == dial.agent_id:
            fire(self._acd_store, cmd.Hangup(dial.call_id))  # the callee ended the talk
        self._end_try(dial)
        self._dial_finished(dial)

    def _callback_agent_leg_ended(
        self, dial: CallbackDial, leg: AgentLeg, event: m.LegEnded
    ) -> None:
        if dial.agent_leg == leg.leg_id:
            dial.media.update({f"agent_{k}": v for k, v in event.media.items()})
            dial.agent_leg = None
            if not dial.done:
                # The agent hung up: while the callee rang that is a failed try (the ACD
                # retries it), after the callee answered the end of the talk.
                acd_call = self._acd_call(dial.call_id)
                if acd_call is not None and acd_call.agent_id == leg.agent_id:
                    fire(self._acd_store, cmd.Hangup(dial.call_id))
                self._end_try(dial)
            self._dial_finished(dial)
            return
        if dial.offers.get(leg.agent_id) != leg.leg_id:
            return
        del dial.offers[leg.agent_id]
        if not dial.done:
            self._offer_leg_failed(leg, event)
        if not dial.offers and dial.agent_leg is None and self._callbacks.get(dial.call_id) is dial:
            del self._callbacks[dial.call_id]  # the next offer is a new try

    def _dial_finished(self, dial: CallbackDial) -> None:
        """Both legs of a try are gone: keep their media figures in the call's record."""
        if dial.agent_leg is None and dial.callee_leg is None and dial.media:
            self._write_id(dial.call_id, media=dict(dial.media))

    def _on_enqueued(self, event: acd_ev.CallEnqueued) -> None:
        call = self._calls.get(event.call_id)
        if call is not None:
            self._write(call, queue=event.queue, enqueued_at=_utc(event.at))

    def _on_answered(self, event: acd_ev.CallAnswered) -> None:
        call = self._calls.get(event.call_id)
        if call is None:
            return
        leg_id = call.offers.pop(event.agent_id, None)
        if leg_id is None:
            # The answering leg is gone already (it hung up as the ACD took the answer).
            log.warning("call %s: agent %s's leg is gone", call.call_id, event.agent_id)
            self._telephony.send(m.Hangup(call.call_id))
        else:
            call.agent_leg, call.agent_id = leg_id, event.agent_id
            self._telephony.send(m.Connect(call.call_id, leg_id))
        self._write(
            call,
            agent=event.agent_id,
            answered_at=_utc(event.at),
            pickup_latency_seconds=round(event.wait_seconds, 3),
            outcome=CallOutcome.ANSWERED,
        )
        self._attach_incident(call, _utc(event.at))

    def _attach_incident(self, call: HotlineCall, now: datetime) -> None:
        """A known caller's call joins its open incident or opens one. Otherwise the
        agent may have told who it is (`identify_caller` on a shared line, before the
        answer): the store then attaches the call record's employee. Unknown callers
        leave a call record only (there is nobody to open the incident for)."""
        employee_id = call.employee.id if call.employee is not None else None
        store, window = self._store, self._policy.attach_window_hours

        async def attach() -> None:
            await store.attach_call_to_incident(call.call_id, employee_id, now, window)

        data = {"call_id": call.call_id, "employee_id": employee_id, "at": now}
        self._recorder.submit(f"incident for {call.call_id}", attach, data)

    def _on_overflowed(self, event: acd_ev.CallOverflowed) -> None:
        """A queue limit was hit. To another queue: the caller keeps waiting there. Ticket
        only: say so, open (or attach to) the caller's incident, and end the call."""
        call = self._calls.get(event.call_id)
        if call is None:
            return
        if event.target_kind is OverflowKind.QUEUE:
            self._write(call, queue=event.target)
            return
        if event.target_kind is OverflowKind.CALLBACK:
            # A queued callback to the caller's number now (CallbackRequested follows):
            # confirm it and end the call, as after the callback key.
            acd_call = self._acd_call(call.call_id)
            number = acd_call.callback if acd_call and acd_call.callback else call.caller
            self._callback_taken(call, number)
            return
        call.overflowed = True
        self._announcer.stop(call.call_id)
        self._play(call, OVERFLOW_PROMPT)
        self._write(call, outcome=CallOutcome.OVERFLOWED)
        self._attach_incident(call, _utc(event.at))

    def _on_transferred(self, event: acd_ev.CallTransferred) -> None:
        """The call moved (a console's transfer, a supervisor's move). A connected caller
        leaves its agent: BYE to the agent's phone, music while the caller waits again."""
        call = self._calls.get(event.call_id)
        if call is None or call.ended:
            return
        if call.agent_leg is not None and event.from_agent is not None:
            leg_id = call.agent_leg
            # Detached first: that leg's LegEnded must not end the caller's leg.
            call.agent_leg, call.agent_id, call.held = None, None, False
            self._end_supervisions(call)
            self._telephony.send(m.PlayMusic(call.call_id))
            self._telephony.send(m.Hangup(leg_id))
        if event.to_queue != event.from_queue:
            self._write(call, queue=event.to_queue)

    def _on_completed(self, event: acd_ev.CallCompleted) -> None:
        """The ACD ended a connected call whose legs are still up (a console's hang-up,
        possibly from another process): end them; their LegEnded completes the record."""
        call = self._calls.get(event.call_id)
        if call is not None and not call.ended:
            if call.transferred_to is None:  # a transferred caller's legs are the transfer's
                self._telephony.send(m.Hangup(call.call_id))
            return
        dial = self._callbacks.get(event.call_id)
        if dial is not None and not dial.done:
            self._end_try(dial)

    def _on_abandoned(self, event: acd_ev.CallAbandoned) -> None:
        call = self._calls.get(event.call_id)
        if call is not None:
            outcome = CallOutcome.INTERRUPTED if self.shutting_down else CallOutcome.ABANDONED
            self._write(call, outcome=outcome)

    # ----- records -------------------------------------------------------------------

    def _write(self, call: HotlineCall, **fields: object) -> None:
        self._write_id(call.call_id, **fields)

    def _write_id(self, call_id: str, **fields: object) -> None:
        values = {k: v for k, v in fields.items() if v is not None}
        if not values:
            return
        store = self._store

        async def write() -> None:
            await store.update_call_record(call_id, **values)  # type: ignore[arg-type]

        self._recorder.submit(f"update of {call_id}", write, {"call_id": call_id, **values})
