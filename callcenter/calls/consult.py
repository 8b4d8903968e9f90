"""Attended (consultative) transfers: the legs of a consultation, per caller's call.

The agent asks the console for `transfer` with `mode: attended`: the caller hears music,
a consultation leg rings the target (another agent's phone, or an outside number), and
once it answers the agent and the target talk. The agent then completes (the caller is
bridged to the target; the agent goes to wrap-up) or cancels (the target is hung up, the
agent is back with the caller). The target ringing too long, refusing, or hanging up
during the consultation is a failure: the agent is back with the caller too.

This module follows the consultation leg; the call flow (`CallService`) does what each
outcome means for the caller, the agents and the ACD (`on_end`).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from callcenter.events import EventBus
from callcenter.softphone_bridge import messages as m

from .transfer import Telephony

log = logging.getLogger(__name__)


@dataclass
class Consult:
    """One consultation of a caller's call (`call_id`)."""

    call_id: str
    agent_id: str  # the agent consulting
    target: str  # the target agent's username, or the outside number
    target_agent: str | None  # set when the target is an agent (reserved in the ACD)
    leg_id: str  # the consultation leg
    answered: bool = False
    timer: asyncio.TimerHandle | None = field(default=None, repr=False)
    #: Why the consultation leg is being ended by us (a timeout), for the failure's report.
    ending: str | None = None


#: The consultation is over without a handover: (consult, state, reason), the state being
#: "failed" (the target did not answer or hung up) or "ended" (the caller left).
ConsultEnd = Callable[[Consult, str, str], None]


class Consultations:
    def __init__(
        self,
        telephony: Telephony,
        bus: EventBus,
        ring_timeout_seconds: float,
        on_answered: Callable[[Consult], None],
        on_end: ConsultEnd,
    ) -> None:
        self._telephony = telephony
        self._ring_timeout = ring_timeout_seconds
        self._on_answered = on_answered
        self._on_end = on_end
        self._by_call: dict[str, Consult] = {}
        self._by_leg: dict[str, Consult] = {}
        bus.subscribe(m.LegAnswered, self._on_leg_answered)
        bus.subscribe(m.LegEnded, self._on_leg_ended)

    def get(self, call_id: str) -> Consult | None:
        return self._by_call.get(call_id)

    def start(
        self,
        call_id: str,
        agent_id: str,
        target: str,
        target_agent: str | None,
        uri: str,
        shown: str,
    ) -> Consult:
        """Music to the caller, and ring the target."""
        consult = Consult(call_id, agent_id, target, target_agent, str(uuid.uuid4()))
        self._by_call[call_id] = consult
        self._by_leg[consult.leg_id] = consult
        self._telephony.send(m.PlayMusic(call_id))
        self._telephony.send(m.Dial(consult.leg_id, uri, shown))
        consult.timer = asyncio.get_running_loop().call_later(
            self._ring_timeout, self._ring_timed_out, consult
        )
        log.info("call %s: %s consults %s (%s)", call_id, agent_id, target, uri)
        return consult

    def hand_over(self, call_id: str) -> Consult:
        """The consultation ends in a handover: its leg is the call flow's from now on."""
        consult = self._forget(self._by_call[call_id])
        log.info("call %s: handed over to %s", call_id, consult.target)
        return consult

    def cancel(self, call_id: str) -> Consult:
        """The agent goes back to the caller: the target is hung up (CANCEL or BYE)."""
        consult = self._forget(self._by_call[call_id])
        self._telephony.send(m.Hangup(consult.leg_id, 487))
        return consult

    def _forget(self, consult: Consult) -> Consult:
        self._by_call.pop(consult.call_id, None)
        self._by_leg.pop(consult.leg_id, None)
        if consult.timer is not None:
            consult.timer.cancel()
            consult.timer = None
        return consult

    def _ring_timed_out(self, consult: Consult) -> None:
        consult.timer = None
        if self._by_leg.get(consult.leg_id) is consult and not consult.answered:
            consult.ending = "timeout"
            self._telephony.send(m.Hangup(consult.leg_id, 487))  # LegEnded reports it

    def _on_leg_answered(self, event: m.LegAnswered) -> None:
        consult = self._by_leg.get(event.leg_id)
        if consult is None:
            return
        consult.answered = True
        if consult.timer is not None:
            consult.timer.cancel()
            consult.timer = None
        self._on_answered(consult)

    def _on_leg_ended(self, event: m.LegEnded) -> None:
        consult = self._by_leg.get(event.leg_id)
        if consult is not None:
            self._forget(consult)
            reason = consult.ending or f"{event.status_code} {event.reason}".strip()
            self._on_end(consult, "failed", reason)
            return
        consult = self._by_call.get(event.leg_id)
        if consult is not None:  # the caller left during the consultation
            self._forget(consult)
            self._telephony.send(m.Hangup(consult.leg_id, 487))
            self._on_end(consult, "ended", "the caller hung up")
