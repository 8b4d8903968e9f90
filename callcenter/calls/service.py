"""One hotline call from INVITE to BYE: IVR, queue, offer to an agent's phone, records.

Reacts to events only (bridge events and ACD events from the bus) and answers with
bridge commands and ACD operations; it holds the mapping between our call, its legs and
the agent, nothing else. All of it runs on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from callcenter.acd import commands as cmd
from callcenter.acd import events as acd_ev
from callcenter.acd.acd import Acd
from callcenter.acd.model import CallPhase, OfferFailure, OverflowKind
from callcenter.acd_store import AcdStore
from callcenter.acd_store.store import fire
from callcenter.clock import Clock
from callcenter.events import EventBus
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
from callcenter.ivr.flowfile import FlowSet
from callcenter.ivr.prompts import PromptLibrary
from callcenter.softphone_bridge import messages as m
from callcenter.ticketing.phone import normalise
from callcenter.ticketing.records import (
    OPEN_TICKET_STATUSES,
    CallOutcome,
    Employee,
    TicketStore,
)

from .recorder import CallRecorder

log = logging.getLogger(__name__)

#: Played to a caller a queue limit sends to "ticket only", before the call ends.
OVERFLOW_PROMPT = "overflow_ticket"
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
    timers: dict[str, asyncio.TimerHandle] = field(default_factory=dict)
    #: What the IVR collected (topic, incident number), for the ticket and the console.
    attributes: dict[str, str] = field(default_factory=dict)
    queued: bool = False
    overflowed: bool = False
    ivr_outcome: IvrOutcome | None = None
    ended: bool = False
    agent_leg: str | None = None
    agent_id: str | None = None
    media: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class CallPolicy:
    default_region: str
    attach_window_hours: float
    default_queue: str


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
        self._calls: dict[str, HotlineCall] = {}
        self._agent_legs: dict[str, HotlineCall] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.shutting_down = False
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

    @property
    def active_calls(self) -> int:
        return len(self._calls)

    def owns(self, call_id: str) -> bool:
        """Whether the call's caller leg is this process's."""
        return call_id in self._calls

    # ----- owned background work ---------------------------------------------------

    def _spawn(self, coro: Coroutine[object, object, None], name: str) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("call task %s failed", task.get_name(), exc_info=task.exception())

    async def run_timers(self, interval: float = 0.2) -> None:
        """Ring-no-answer and wrap-up end are the ACD's; time reaches it from here."""
        while True:
            await asyncio.sleep(interval)
            self._acd_store.tick()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # ----- bridge events -------------------------------------------------------------

    def _on_inbound(self, event: m.InboundCall) -> None:
        raw = event.caller_user or "anonymous"
        caller = normalise(raw, self._policy.default_region) or raw
        call = HotlineCall(event.leg_id, caller, self._clock.now())
        self._calls[call.call_id] = call
        self._telephony.send(m.Answer(call.call_id))
        self._spawn(self._identify_then_greet(call), f"ivr-{call.call_id}")
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

        self._recorder.submit(f"arrival of {call.call_id}", write)

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

        self._recorder.submit(f"refusal {call_id}", write)

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
        if call is not None and call.session is not None and not call.ended:
            log.debug("call %s: key %s (%s)", call.call_id, event.digit, event.method)
            self._perform(call, call.session.digit(event.digit))

    def _on_prompt_finished(self, event: m.PromptFinished) -> None:
        call = self._calls.get(event.leg_id)
        if call is None or call.ended:
            return
        if call.overflowed:
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
        call.timers.pop(timer_id, None)
        self._perform(call, call.session.timer_fired(timer_id))

    def _perform(self, call: HotlineCall, actions: list[IvrAction]) -> None:
        loop = asyncio.get_running_loop()
        for action in actions:
            if isinstance(action, Play):
                call.language = action.language or call.language
                call.prompts_left = list(action.prompts)
                self._play_next(call)
            elif isinstance(action, StopPlayback):
                call.prompts_left.clear()
                self._telephony.send(m.StopPrompt(call.call_id))
            elif isinstance(action, StartTimer):
                call.timers[action.timer_id] = loop.call_later(
                    action.seconds, self._timer_fired, call.call_id, action.timer_id
                )
            elif isinstance(action, CancelTimer):
                handle = call.timers.pop(action.timer_id, None)
                if handle is not None:
                    handle.cancel()
            elif isinstance(action, Enqueue):
                self._enqueue(call, action)
            elif isinstance(action, Transfer):
                self._ivr_finished(call, IvrOutcome.TRANSFERRED)
                # Transfers out of the IVR need an outbound leg the bridge cannot place
                # yet; the caller is not dropped but served by the desk instead.
                log.warning("IVR transfer to %s not supported yet; queueing", action.target)
                self._enqueue(call, Enqueue(self._policy.default_queue, 0))
            elif isinstance(action, Hangup):
                self._ivr_finished(call, IvrOutcome.FLOW_HANGUP)
                self._telephony.send(m.Hangup(call.call_id))

    def _ivr_finished(self, call: HotlineCall, outcome: IvrOutcome) -> None:
        if call.ivr_outcome is None:
            call.ivr_outcome = outcome
            self._bus.publish(IvrFinished(self._clock.now(), call.call_id, outcome))

    def _enqueue(self, call: HotlineCall, action: Enqueue) -> None:
        self._ivr_finished(call, IvrOutcome.QUEUED)
        self._cancel_timers(call)
        call.prompts_left.clear()
        call.attributes = dict(action.attributes)
        self._telephony.send(m.PlayMusic(call.call_id))
        call.queued = True
        skills = dict(action.skills) or None
        fire(
            self._acd_store,
            cmd.Enqueue(call.call_id, action.queue, call.caller, action.priority, skills),
        )

    def _cancel_timers(self, call: HotlineCall) -> None:
        for handle in call.timers.values():
            handle.cancel()
        call.timers.clear()

    def _play_next(self, call: HotlineCall) -> None:
        name = call.prompts_left[0]
        path = PromptLibrary(self._prompts.directory, call.language).path(name)
        self._telephony.send(m.PlayPrompt(call.call_id, (path,), name))

    def _play(self, call: HotlineCall, *prompts: str) -> None:
        paths = tuple(self._prompts.path(name) for name in prompts)
        self._telephony.send(m.PlayPrompt(call.call_id, paths, "+".join(prompts)))

    def _on_leg_answered(self, event: m.LegAnswered) -> None:
        call = self._agent_legs.get(event.leg_id)
        if call is None or call.ended or call.agent_leg != event.leg_id:
            return
        acd_call = self._acd.call(call.call_id) if self._acd.has_call(call.call_id) else None
        if acd_call is None or acd_call.phase is not CallPhase.OFFERED:
            self._telephony.send(m.Hangup(event.leg_id))  # answered too late
            return
        leg_id = event.leg_id

        def connect(answered: asyncio.Future[None]) -> None:
            # Bridged only once the ACD agrees: in a cluster a ring timeout may have
            # withdrawn the offer in the meantime.
            if answered.cancelled() or answered.exception() is not None:
                self._telephony.send(m.Hangup(leg_id))
            elif not call.ended:
                self._telephony.send(m.Connect(call.call_id, leg_id))

        self._acd_store.submit(cmd.Answered(call.call_id, call.agent_id)).add_done_callback(connect)

    def _talking_agent_leg(self, leg_id: str) -> HotlineCall | None:
        call = self._agent_legs.get(leg_id)
        if call is None or call.ended or call.agent_leg != leg_id:
            return None
        if not self._acd.has_call(call.call_id):
            return None
        return call if self._acd.call(call.call_id).phase is CallPhase.CONNECTED else None

    def _on_leg_held(self, event: m.LegHeld) -> None:
        """The agent's phone put the caller on hold: music, not silence, until it resumes."""
        call = self._talking_agent_leg(event.leg_id)
        if call is not None:
            self._telephony.send(m.PlayMusic(call.call_id))

    def _on_leg_resumed(self, event: m.LegResumed) -> None:
        call = self._talking_agent_leg(event.leg_id)
        if call is not None:
            self._telephony.send(m.Connect(call.call_id, event.leg_id))

    def _on_leg_ended(self, event: m.LegEnded) -> None:
        agent_call = self._agent_legs.pop(event.leg_id, None)
        if agent_call is not None:
            self._agent_leg_ended(agent_call, event)
            return
        call = self._calls.get(event.leg_id)
        if call is None:
            return
        call.ended = True
        self._cancel_timers(call)
        call.media.update({f"caller_{k}": v for k, v in event.media.items()})
        outcome: CallOutcome | None = None
        if call.queued:
            if call.agent_leg is not None:
                # The caller left: the agent's phone stops ringing, or the talk ends.
                self._telephony.send(m.Hangup(call.agent_leg, 487))
                call.agent_leg = None
            # An abandon or the end of a talk; sent without asking the ACD first, which
            # may not have applied the enqueue yet when the ACD is shared through Redis.
            fire(self._acd_store, cmd.Hangup(call.call_id))
        else:
            outcome = CallOutcome.INTERRUPTED if self.shutting_down else CallOutcome.IVR_HANGUP
            self._ivr_finished(call, IvrOutcome.CALLER_HANGUP)
        del self._calls[event.leg_id]
        self._write(call, ended_at=_utc(self._clock.now()), outcome=outcome, media=dict(call.media))

    def _agent_leg_ended(self, call: HotlineCall, event: m.LegEnded) -> None:
        call.media.update({f"agent_{k}": v for k, v in event.media.items()})
        if call.agent_leg != event.leg_id:
            if call.ended:  # the caller hung up first; complete the media figures
                self._write(call, media=dict(call.media))
            return
        call.agent_leg = None
        if call.ended:
            self._write(call, media=dict(call.media))
            return
        if not event.was_answered:
            acd_call = self._acd.call(call.call_id) if self._acd.has_call(call.call_id) else None
            if acd_call is not None and acd_call.phase is CallPhase.OFFERED:
                failure = offer_failure(event.status_code)
                fire(self._acd_store, cmd.OfferFailed(call.call_id, failure, call.agent_id))
            return
        # The agent hung up: end the caller's leg; its LegEnded completes the record.
        self._telephony.send(m.Hangup(call.call_id))

    # ----- ACD events ----------------------------------------------------------------

    def _on_offered(self, event: acd_ev.CallOffered) -> None:
        call = self._calls.get(event.call_id)
        if call is None:
            return
        uri = self._endpoints.get(event.agent_id)
        if uri is None:
            log.warning("agent %s has no phone to offer calls to", event.agent_id)
            failed = cmd.OfferFailed(event.call_id, OfferFailure.UNREACHABLE, event.agent_id)
            fire(self._acd_store, failed)
            return
        leg_id = str(uuid.uuid4())
        call.agent_leg, call.agent_id = leg_id, event.agent_id
        self._agent_legs[leg_id] = call
        self._telephony.send(m.Dial(leg_id, uri, call.caller))

    def _on_offer_withdrawn(self, event: acd_ev.OfferWithdrawn) -> None:
        call = self._calls.get(event.call_id)
        if call is None or call.agent_leg is None:
            return
        if event.reason is OfferFailure.NO_ANSWER or event.reason is None:
            # Ring timeout or the caller left: stop the agent's phone ringing (CANCEL).
            self._telephony.send(m.Hangup(call.agent_leg, 487))
            call.agent_leg = None

    def _on_enqueued(self, event: acd_ev.CallEnqueued) -> None:
        call = self._calls.get(event.call_id)
        if call is not None:
            self._write(call, queue=event.queue, enqueued_at=_utc(event.at))

    def _on_answered(self, event: acd_ev.CallAnswered) -> None:
        call = self._calls.get(event.call_id)
        if call is None:
            return
        self._write(
            call,
            agent=event.agent_id,
            answered_at=_utc(event.at),
            pickup_latency_seconds=round(event.wait_seconds, 3),
            outcome=CallOutcome.ANSWERED,
        )
        self._attach_incident(call, _utc(event.at))

    def _attach_incident(self, call: HotlineCall, now: datetime) -> None:
        """A known caller's call joins its open incident or opens one; unknown callers
        leave a call record only (there is nobody to open the incident for)."""
        employee = call.employee
        if employee is None:
            return
        store, window = self._store, self._policy.attach_window_hours

        async def attach() -> None:
            await store.attach_call_to_incident(call.call_id, employee.id, now, window)

        self._recorder.submit(f"incident for {call.call_id}", attach)

    def _on_overflowed(self, event: acd_ev.CallOverflowed) -> None:
        """A queue limit was hit. To another queue: the caller keeps waiting there. Ticket
        only: say so, open (or attach to) the caller's incident, and end the call."""
        call = self._calls.get(event.call_id)
        if call is None:
            return
        if event.target_kind is OverflowKind.QUEUE:
            self._write(call, queue=event.target)
            return
        call.overflowed = True
        self._play(call, OVERFLOW_PROMPT)
        self._write(call, outcome=CallOutcome.OVERFLOWED)
        self._attach_incident(call, _utc(event.at))

    def _on_abandoned(self, event: acd_ev.CallAbandoned) -> None:
        call = self._calls.get(event.call_id)
        if call is not None:
            outcome = CallOutcome.INTERRUPTED if self.shutting_down else CallOutcome.ABANDONED
            self._write(call, outcome=outcome)

    # ----- records -------------------------------------------------------------------

    def _write(self, call: HotlineCall, **fields: object) -> None:
        values = {k: v for k, v in fields.items() if v is not None}
        if not values:
            return
        store, call_id = self._store, call.call_id

        async def write() -> None:
            await store.update_call_record(call_id, **values)  # type: ignore[arg-type]

        self._recorder.submit(f"update of {call_id}", write)
