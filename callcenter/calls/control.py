"""The consoles' call control (`api/websocket/control.py`) on top of the live call flow.

Whatever the ACD decides goes through the ACD store as a command, so that it works from
any process sharing the ACD: the process holding the call's legs follows the ACD's
events (`CallService`: an offer withdrawn cancels the phone's leg, a completed call
hangs up its legs, a transferred call leaves its agent and hears music again). Hold,
resume, accept and DTMF have no ACD state: they act on the legs, so only the process
holding them can; asked elsewhere, they are forwarded to it (`remote_legs.py`) when the
ACD is shared.

- `accept` answers for an agent whose phone is the console (`browser:` endpoint): its
  browser leg answers, as a phone's leg would. A SIP phone must answer by itself.
- `send_dtmf` sends the keys on the caller's leg (RFC 4733, else SIP INFO).
- Transfers to an outside number act on the legs (REFER or a bridged leg, see
  `calls/transfer.py`): only the process holding them can.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Protocol

from callcenter.acd import commands as cmd
from callcenter.acd.acd import Acd
from callcenter.acd.core import CONSULT_PAUSE_REASON
from callcenter.acd.model import AcdCall, AgentState, CallPhase, OfferFailure
from callcenter.acd_store import AcdStore
from callcenter.api.websocket.control import (
    CallControlError,
    CallNotFound,
    Monitoring,
    NotSupported,
    TransferTarget,
    WrapUpForm,
)
from callcenter.clock import Clock
from callcenter.tickets.records import TicketStatus
from callcenter.tickets.workflow import Tier

from .consult import Consult
from .monitoring import MonitorMode, Supervision
from .service import CallLegs

log = logging.getLogger(__name__)

#: `escalate` targets: the tiers a phone agent hands a ticket to.
ESCALATION_TIERS = {"tier2": Tier.EXPERT, "onsite": Tier.ONSITE}


class CallStateError(CallControlError):
    """The call is not in a state that allows the request (ringing, not connected, held...)."""

    code = "invalid_call_state"


class CallElsewhere(CallControlError):
    """The call's legs are held by another process sharing the ACD: it cannot act on them."""

    code = "call_elsewhere"


class NoTicket(CallControlError):
    """The form or the note could not be put on a ticket (no call record, unknown ticket)."""

    code = "unknown_ticket"


class LegsElsewhere(Protocol):
    """Runs hold, resume, accept and DTMF on the process holding a call's legs
    (`RemoteLegs`)."""

    async def ask(self, op: str, agent_id: str, call_id: str, arg: str = "") -> None: ...


class CallLegsApi(Protocol):
    """The narrow part of `CallService` call control uses."""

    def legs(self, call_id: str) -> CallLegs | None: ...

    def hold(self, call_id: str) -> None: ...

    def resume(self, call_id: str) -> None: ...

    def transfer_out(self, call_id: str, target: str) -> None: ...

    def transferring(self, call_id: str) -> bool: ...

    def consultation(self, call_id: str) -> Consult | None: ...

    def consult(self, call_id: str, agent: str | None, number: str | None) -> None: ...

    def cancel_consult(self, call_id: str) -> None: ...

    async def complete_consult(self, call_id: str) -> None: ...

    def uses_browser(self, agent_id: str) -> bool: ...

    def answer_in_browser(self, call_id: str, agent_id: str) -> bool: ...

    def send_dtmf(self, call_id: str, digits: str) -> None: ...

    def supervisor_phone(self, supervisor: str) -> str | None: ...

    def supervision(self, supervisor: str) -> Supervision | None: ...

    def monitor(self, call_id: str, supervisor: str, mode: MonitorMode) -> Supervision: ...

    def stop_monitoring(self, supervisor: str) -> Supervision | None: ...


class TicketNotes(Protocol):
    """The ticket store's part call control uses (`SqlTicketStore`)."""

    async def save_wrap_up(
        self,
        call_id: str,
        *,
        author: str,
        now: datetime,
        ticket_id: int | None = None,
        subject: str | None = None,
        category: str | None = None,
        priority: int | None = None,
        status: TicketStatus | None = None,
        resolution: str | None = None,
        device_asset_tag: str | None = None,
        description: str | None = None,
        first_contact_resolved: bool | None = None,
        kb_article_id: int | None = None,
        disposition: str | None = None,
    ) -> int: ...

    async def add_ticket_note(
        self, call_id: str, text: str, *, author: str, now: datetime
    ) -> int: ...

    async def escalate_call_ticket(
        self, call_id: str, tier: Tier, *, author: str, now: datetime, reason: str
    ) -> int: ...


class CallFlowControl:
    """`CallControl` for the hub: checks the call's state, then commands the ACD or the legs."""

    def __init__(
        self,
        calls: CallLegsApi,
        acd_store: AcdStore,
        tickets: TicketNotes,
        clock: Clock,
        elsewhere: LegsElsewhere | None = None,
    ) -> None:
        self._calls = calls
        self._elsewhere = elsewhere
        self._acd_store = acd_store
        self._acd: Acd = acd_store.acd
        self._tickets = tickets
        self._clock = clock

    # ----- checks --------------------------------------------------------------------

    def _call(self, call_id: str) -> AcdCall:
        if not self._acd.has_call(call_id):
            raise CallNotFound(f"call {call_id!r} is not live any more")
        return self._acd.call(call_id)

    def _connected(self, agent_id: str, call_id: str) -> AcdCall:
        call = self._call(call_id)
        if call.phase is CallPhase.OFFERED and agent_id in call.offered_to:
            raise CallStateError(f"call {call_id!r} is still ringing: answer it on the phone")
        if call.phase is not CallPhase.CONNECTED or call.agent_id != agent_id:
            raise CallStateError(f"call {call_id!r} is not connected to {agent_id!r}")
        return call

    def _legs(self, agent_id: str, call_id: str) -> CallLegs:
        call = self._connected(agent_id, call_id)
        if call.callback is not None:
            raise NotSupported(f"call {call_id!r} is a callback: hold it on the phone")
        legs = self._calls.legs(call_id)
        if legs is None:
            raise CallElsewhere(f"call {call_id!r} is handled by another server process")
        if legs.agent_leg is None or legs.agent_id != agent_id:
            raise CallStateError(f"call {call_id!r} is not bridged to {agent_id!r}'s phone")
        self._not_transferring(call_id)
        return legs

    def _not_transferring(self, call_id: str) -> None:
        if self._calls.transferring(call_id):
            raise CallStateError(f"call {call_id!r} is being transferred")

    # ----- agent requests ------------------------------------------------------------

    async def accept(self, agent_id: str, call_id: str) -> None:
        await self._on_legs("accept", agent_id, call_id)

    def _accept_here(self, agent_id: str, call_id: str) -> None:
        call = self._call(call_id)
        if call.phase is not CallPhase.OFFERED or agent_id not in call.offered_to:
            raise CallStateError(f"call {call_id!r} is not ringing for {agent_id!r}")
        if not self._calls.uses_browser(agent_id):
            raise NotSupported("answer the call on the phone: the console cannot answer for it")
        if not self._calls.answer_in_browser(call_id, agent_id):
            raise CallElsewhere(f"call {call_id!r} is handled by another server process")
        log.info("agent %s accepted call %s in the browser", agent_id, call_id)

    async def reject(self, agent_id: str, call_id: str) -> None:
        call = self._call(call_id)
        if call.phase is not CallPhase.OFFERED or agent_id not in call.offered_to:
            raise CallStateError(f"call {call_id!r} is not ringing for {agent_id!r}")
        # The ACD pauses the agent and offers the call on; the call flow cancels the leg.
        await self._acd_store.submit(cmd.OfferFailed(call_id, OfferFailure.REJECTED, agent_id))
        log.info("agent %s rejected call %s from the console", agent_id, call_id)

    async def hangup(self, agent_id: str, call_id: str) -> None:
        self._connected(agent_id, call_id)
        # A completed call: the agent goes to wrap-up, the call flow hangs up both legs.
        await self._acd_store.submit(cmd.Hangup(call_id))
        log.info("agent %s hung up call %s from the console", agent_id, call_id)

    async def hold(self, agent_id: str, call_id: str) -> None:
        await self._on_legs("hold", agent_id, call_id)

    async def resume(self, agent_id: str, call_id: str) -> None:
        await self._on_legs("resume", agent_id, call_id)

    async def on_legs_here(self, op: str, agent_id: str, call_id: str, arg: str = "") -> None:
        """Hold, resume, accept or DTMF (`arg`: the digits) on this process's legs only:
        a request forwarded from another process is never forwarded again."""
        if op == "accept":
            self._accept_here(agent_id, call_id)
            return
        legs = self._legs(agent_id, call_id)
        if op == "dtmf":
            self._calls.send_dtmf(call_id, arg)
        elif op == "hold":
            if legs.held:
                raise CallStateError(f"call {call_id!r} is on hold already")
            self._calls.hold(call_id)
        elif op == "resume":
            if not legs.held:
                raise CallStateError(f"call {call_id!r} is not on hold")
            self._calls.resume(call_id)
        else:
            raise NotSupported(f"{op!r} does not act on a call's legs")

    async def _on_legs(self, op: str, agent_id: str, call_id: str, arg: str = "") -> None:
        try:
            await self.on_legs_here(op, agent_id, call_id, arg)
        except CallElsewhere:
            if self._elsewhere is None:
                raise
            await self._elsewhere.ask(op, agent_id, call_id, arg)
            log.info("agent %s: %s of call %s forwarded to its process", agent_id, op, call_id)

    async def transfer(self, agent_id: str, call_id: str, target: TransferTarget) -> None:
        self._connected(agent_id, call_id)
        self._not_transferring(call_id)
        if target.attended:
            await self._consult(agent_id, call_id, target)
            return
        if target.number is not None:
            await self._transfer_out(agent_id, call_id, target.number)
            return
        if target.agent == agent_id:
            raise CallStateError(f"call {call_id!r} is {agent_id!r}'s already")
        await self._move(call_id, target)
        log.info("agent %s transferred call %s to %s", agent_id, call_id, _name(target))

    async def _transfer_out(self, agent_id: str, call_id: str, number: str) -> None:
        """A blind transfer to an outside number: its outcome reaches the console as
        `transfer` pushes (and an error push when it failed)."""
        self._legs(agent_id, call_id)
        try:
            self._calls.transfer_out(call_id, number)
        except ValueError as exc:
            raise NotSupported(str(exc)) from None
        log.info("agent %s transfers call %s to %s", agent_id, call_id, number)

    async def _consult(self, agent_id: str, call_id: str, target: TransferTarget) -> None:
        """An attended transfer's first step. A target agent must be available; it is
        reserved (paused for "consultation", an ACD command) so that no call is offered to
        it while it is consulted."""
        if target.queue is not None:
            raise NotSupported("an attended transfer goes to an agent or a number, not a queue")
        self._legs(agent_id, call_id)
        reserved = target.agent
        if reserved is not None:
            if reserved == agent_id:
                raise CallStateError(f"call {call_id!r} is {agent_id!r}'s already")
            state = self._acd.agent(reserved).state
            if state is not AgentState.AVAILABLE:
                raise CallStateError(f"agent {reserved!r} is {state}, not available")
            pause = cmd.SetAgentState(reserved, AgentState.PAUSED, CONSULT_PAUSE_REASON)
            await self._acd_store.submit(pause)
            if self._acd.agent(reserved).reason != CONSULT_PAUSE_REASON:
                # A call reached the agent first: the pause waits behind it; take it back.
                await self._acd_store.submit(cmd.SetAgentState(reserved, AgentState.AVAILABLE))
                raise CallStateError(f"agent {reserved!r} just took another call")
        try:
            self._calls.consult(call_id, target.agent, target.number)
        except ValueError as exc:
            if reserved is not None:
                await self._acd_store.submit(cmd.SetAgentState(reserved, AgentState.AVAILABLE))
            raise NotSupported(str(exc)) from None
        log.info("agent %s consults %s about call %s", agent_id, _name(target), call_id)

    def _consulting(self, agent_id: str, call_id: str) -> Consult:
        self._connected(agent_id, call_id)
        consult = self._calls.consultation(call_id)
        if consult is None or consult.agent_id != agent_id:
            raise CallStateError(f"call {call_id!r} has no consultation under way")
        return consult

    async def complete_transfer(self, agent_id: str, call_id: str) -> None:
        if not self._consulting(agent_id, call_id).answered:
            raise CallStateError("the target has not answered yet: cancel, or wait")
        await self._calls.complete_consult(call_id)
        log.info("agent %s completed the transfer of call %s", agent_id, call_id)

    async def cancel_transfer(self, agent_id: str, call_id: str) -> None:
        self._consulting(agent_id, call_id)
        self._calls.cancel_consult(call_id)
        log.info("agent %s cancelled the transfer of call %s", agent_id, call_id)

    async def send_dtmf(self, agent_id: str, call_id: str, digits: str) -> None:
        await self._on_legs("dtmf", agent_id, call_id, digits)

    async def submit_wrap_up(self, agent_id: str, call_id: str, form: WrapUpForm) -> int | None:
        self._not_ringing(agent_id, call_id)
        status = TicketStatus(form.status) if form.status is not None else None
        try:
            ticket_id = await self._tickets.save_wrap_up(
                call_id,
                author=agent_id,
                now=self._now(),
                ticket_id=form.ticket_id,
                subject=form.subject,
                category=form.category,
                priority=form.priority,
                status=status,
                resolution=form.resolution,
                device_asset_tag=form.device_asset_tag,
                description=form.description,
                first_contact_resolved=form.first_contact_resolved,
                kb_article_id=form.kb_article_id,
                disposition=form.disposition,
            )
        except LookupError as exc:
            raise NoTicket(str(exc).strip("'\"")) from exc
        except ValueError as exc:  # an unknown device or article, a move the workflow refuses
            raise CallControlError(str(exc), "invalid_field") from exc
        agent = self._acd.agent(agent_id)
        if agent.state is AgentState.WRAP_UP and agent.call_id == call_id:
            await self._acd_store.submit(cmd.EndWrapUp(agent_id))
        return ticket_id

    async def add_note(self, agent_id: str, call_id: str, text: str) -> int | None:
        self._not_ringing(agent_id, call_id)
        try:
            return await self._tickets.add_ticket_note(
                call_id, text, author=agent_id, now=self._now()
            )
        except LookupError as exc:
            raise NoTicket(str(exc).strip("'\"")) from exc

    async def escalate(
        self, agent_id: str, call_id: str, tier: str, reason: str, queue: str | None
    ) -> int:
        """Escalate the call's ticket to tier 2 or on-site (the workflow's `assign`, in the
        audit trail); with `queue`, the caller is also transferred there (a tier-2 line)."""
        self._not_ringing(agent_id, call_id)
        try:
            ticket_id = await self._tickets.escalate_call_ticket(
                call_id, ESCALATION_TIERS[tier], author=agent_id, now=self._now(), reason=reason
            )
        except LookupError as exc:
            raise NoTicket(str(exc).strip("'\"")) from exc
        except ValueError as exc:  # the workflow refuses (a resolved ticket, ...)
            raise CallControlError(str(exc), "invalid_field") from exc
        log.info("agent %s escalated call %s's ticket %s to %s", agent_id, call_id, ticket_id, tier)
        if queue is not None:
            await self.transfer(agent_id, call_id, TransferTarget(queue=queue))
        return ticket_id

    # ----- supervisor requests -------------------------------------------------------

    async def move_call(self, call_id: str, target: TransferTarget, by: str) -> None:
        call = self._call(call_id)
        if call.phase is CallPhase.OFFERED:
            raise CallStateError(f"call {call_id!r} is ringing an agent: move it after")
        await self._move(call_id, target)
        log.info("supervisor %s moved call %s to %s", by, call_id, _name(target))

    async def monitor(
        self, supervisor: str, mode: str, agent: str | None, call_id: str | None
    ) -> Monitoring:
        """The supervisor's phone joins the agent's connected call (calls/monitoring.py).
        Only the process holding the call's legs can wire it in."""
        if agent is not None:
            call_id = self._acd.agent(agent).call_id  # UnknownAgent: unknown_agent
            if call_id is None:
                raise CallStateError(f"agent {agent!r} is on no call")
        assert call_id is not None
        call = self._call(call_id)
        if call.phase is not CallPhase.CONNECTED or call.agent_id is None:
            raise CallStateError(f"call {call_id!r} is not connected to an agent")
        if agent is not None and call.agent_id != agent:
            raise CallStateError(f"call {call_id!r} is not connected to {agent!r}")
        if call.callback is not None:
            raise NotSupported(f"call {call_id!r} is a callback: it cannot be monitored")
        if self._calls.supervisor_phone(supervisor) is None:
            raise NotSupported(f"supervisor {supervisor!r} has no phone (sip_uri) to listen on")
        legs = self._calls.legs(call_id)
        if legs is None:
            raise CallElsewhere(f"call {call_id!r} is handled by another server process")
        if legs.agent_leg is None or legs.agent_id != call.agent_id:
            raise CallStateError(f"call {call_id!r} is not bridged to its agent's phone")
        self._not_transferring(call_id)
        current = self._calls.supervision(supervisor)
        if current is not None and current.call_id != call_id:
            raise CallStateError(
                f"{supervisor!r} monitors call {current.call_id!r}: stop_monitoring first"
            )
        supervision = self._calls.monitor(call_id, supervisor, MonitorMode(mode))
        log.info("supervisor %s: %s on call %s", supervisor, mode, call_id)
        return _monitoring(supervision)

    async def stop_monitoring(self, supervisor: str) -> Monitoring:
        supervision = self._calls.stop_monitoring(supervisor)
        if supervision is None:
            raise CallStateError(f"{supervisor!r} monitors no call")
        log.info("supervisor %s stopped monitoring call %s", supervisor, supervision.call_id)
        return Monitoring(
            supervision.call_id, supervision.agent_id, supervision.mode.value, "ended"
        )

    # ----- helpers -------------------------------------------------------------------

    async def _move(self, call_id: str, target: TransferTarget) -> None:
        if target.number is not None:
            raise NotSupported("transfers to an outside number need the media bridge")
        if target.queue is not None:
            await self._acd_store.submit(cmd.TransferToQueue(call_id, target.queue))
        elif target.agent is not None:
            await self._acd_store.submit(cmd.TransferToAgent(call_id, target.agent))
        else:
            raise CallStateError("name a queue or an agent to transfer to")

    def _not_ringing(self, agent_id: str, call_id: str) -> None:
        """The form and notes belong to a call the agent talked on (or still does)."""
        if self._acd.has_call(call_id):
            call = self._acd.call(call_id)
            if call.phase is CallPhase.OFFERED and agent_id in call.offered_to:
                raise CallStateError(f"call {call_id!r} is ringing, not answered yet")

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock.now(), UTC)


def _monitoring(supervision: Supervision) -> Monitoring:
    return Monitoring(
        supervision.call_id,
        supervision.agent_id,
        supervision.mode.value,
        supervision.state.value,
    )


def _name(target: TransferTarget) -> str:
    return target.queue or target.agent or target.number or "?"
