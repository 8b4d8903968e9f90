"""Blind transfers of a caller to an outside number, as `sip.transfer_mode` says.

- `refer`: REFER on the caller's leg (Refer-To from `sip.transfer_uri_template`, else
  `sip.outbound_uri_template`); the PBX (or the caller's phone) places the new call. A
  NOTIFY with a 2xx sipfrag is success and the bridge ends the caller's leg.
- `bridge`: a new outbound leg to the target; the caller hears music while it rings and
  is bridged to it once it answers. The bridge keeps both legs up until either ends.

While a transfer is under way the caller hears music and the agent stays on the call
(the ACD still has it connected): a rejected REFER, a NOTIFY with a final non-2xx answer,
a target that does not answer or `sip.transfer_timeout_seconds` passing returns the
caller to the agent. What follows an outcome (the agent's release, the record, the
console's push) is the call flow's: `on_done` tells it.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from callcenter.events import EventBus
from callcenter.softphone_bridge import messages as m

log = logging.getLogger(__name__)


class TransferUnavailable(ValueError):
    """No URI can be made for the target: no template is configured for numbers."""


@dataclass(frozen=True)
class TransferPolicy:
    mode: str = "refer"  # "refer" or "bridge"
    #: A SIP URI with `{number}`; None: only SIP URIs (an IVR's target) can be reached.
    uri_template: str | None = None
    timeout_seconds: float = 30.0


@dataclass
class OutsideTransfer:
    """One blind transfer of a caller's leg (`call_id`) to `target`."""

    call_id: str
    target: str  # the number or SIP URI as asked
    uri: str
    mode: str
    #: The agent who asked; None for the IVR's `transfer` node.
    agent_id: str | None
    #: The bridged leg to the target (`bridge` mode).
    out_leg: str | None = None
    timer: asyncio.TimerHandle | None = field(default=None, repr=False)
    #: The outcome is known (or the caller left): later reports are ignored.
    done: bool = False
    succeeded: bool = False
    #: "blind", or "attended" for a consultation with an outside number handed over.
    kind: str = "blind"


class Telephony(Protocol):
    def send(self, command: m.Command) -> None: ...


#: What the call flow does once a transfer's outcome is known: (transfer, ok, reason).
TransferDone = Callable[[OutsideTransfer, bool, str], None]


class OutsideTransfers:
    """The transfers under way (and the bridged ones still talking), by the caller's leg."""

    def __init__(
        self,
        telephony: Telephony,
        bus: EventBus,
        policy: TransferPolicy,
        on_done: TransferDone,
    ) -> None:
        self._telephony = telephony
        self._policy = policy
        self._on_done = on_done
        self._by_caller: dict[str, OutsideTransfer] = {}
        self._by_out_leg: dict[str, OutsideTransfer] = {}
        bus.subscribe(m.ReferSucceeded, self._on_refer_succeeded)
        bus.subscribe(m.ReferFailed, self._on_refer_failed)
        bus.subscribe(m.LegAnswered, self._on_leg_answered)
        bus.subscribe(m.LegEnded, self._on_leg_ended)

    @property
    def mode(self) -> str:
        return self._policy.mode

    def uri(self, target: str) -> str:
        """The SIP URI of a number (through the template) or of a SIP URI (as is)."""
        if target.startswith(("sip:", "sips:")):
            return target
        template = self._policy.uri_template
        if template is None:
            raise TransferUnavailable(
                "transfers to a number need sip.transfer_uri_template or sip.outbound_uri_template"
            )
        return template.format(number=target)

    def pending(self, call_id: str) -> OutsideTransfer | None:
        """The caller's transfer whose outcome is not known yet."""
        transfer = self._by_caller.get(call_id)
        return transfer if transfer is not None and not transfer.done else None

    def start(self, call_id: str, target: str, agent_id: str | None, caller: str) -> None:
        """Music to the caller, then REFER or dial the target. TransferUnavailable when no
        URI can be made; the caller then stays as it was."""
        uri = self.uri(target)
        transfer = OutsideTransfer(call_id, target, uri, self._policy.mode, agent_id)
        self._by_caller[call_id] = transfer
        self._telephony.send(m.PlayMusic(call_id))
        if transfer.mode == "bridge":
            transfer.out_leg = str(uuid.uuid4())
            self._by_out_leg[transfer.out_leg] = transfer
            self._telephony.send(m.Dial(transfer.out_leg, uri, caller))
        else:
            self._telephony.send(m.Refer(call_id, uri))
        log.info("call %s: %s transfer to %s (%s)", call_id, transfer.mode, target, uri)
        transfer.timer = asyncio.get_running_loop().call_later(
            self._policy.timeout_seconds, self._timed_out, transfer
        )

    def adopt(
        self, call_id: str, target: str, agent_id: str | None, leg_id: str
    ) -> OutsideTransfer:
        """A consultation leg to an outside number the caller is now bridged to: its end
        and the caller's end each end the other, as for a bridged transfer."""
        transfer = OutsideTransfer(
            call_id, target, target, "bridge", agent_id, leg_id, None, True, True, "attended"
        )
        self._by_caller[call_id] = transfer
        self._by_out_leg[leg_id] = transfer
        return transfer

    # ----- bridge events -------------------------------------------------------------

    def _on_refer_succeeded(self, event: m.ReferSucceeded) -> None:
        transfer = self.pending(event.leg_id)
        if transfer is not None and transfer.mode == "refer":
            self._finish(transfer, True, f"{event.status_code}")

    def _on_refer_failed(self, event: m.ReferFailed) -> None:
        transfer = self.pending(event.leg_id)
        if transfer is not None and transfer.mode == "refer":
            self._finish(transfer, False, f"{event.status_code} {event.reason}".strip())

    def _on_leg_answered(self, event: m.LegAnswered) -> None:
        transfer = self._by_out_leg.get(event.leg_id)
        if transfer is None:
            return
        if transfer.done:  # answered after the timeout or after the caller left
            self._telephony.send(m.Hangup(event.leg_id))
            return
        self._telephony.send(m.Connect(transfer.call_id, event.leg_id))
        self._finish(transfer, True, "answered")

    def _on_leg_ended(self, event: m.LegEnded) -> None:
        transfer = self._by_out_leg.pop(event.leg_id, None)
        if transfer is not None:
            transfer.out_leg = None
            if not transfer.done:
                self._finish(transfer, False, f"{event.status_code} {event.reason}".strip())
            elif transfer.succeeded:
                # The target ended the bridged talk: so does the caller's leg.
                self._by_caller.pop(transfer.call_id, None)
                self._telephony.send(m.Hangup(transfer.call_id))
            return
        transfer = self._by_caller.pop(event.leg_id, None)
        if transfer is None:
            return
        # The caller left: whatever is under way (ringing, talking) ends with it.
        transfer.done = True
        self._cancel_timer(transfer)
        if transfer.out_leg is not None:
            self._telephony.send(m.Hangup(transfer.out_leg, 487))

    def _timed_out(self, transfer: OutsideTransfer) -> None:
        transfer.timer = None
        if transfer.done:
            return
        if transfer.out_leg is not None:
            self._telephony.send(m.Hangup(transfer.out_leg, 487))  # CANCEL the ringing
        self._finish(transfer, False, "timeout")

    # ----- outcome -------------------------------------------------------------------

    def _finish(self, transfer: OutsideTransfer, ok: bool, reason: str) -> None:
        transfer.done, transfer.succeeded = True, ok
        self._cancel_timer(transfer)
        log.info(
            "call %s: transfer to %s %s (%s)",
            transfer.call_id,
            transfer.target,
            "succeeded" if ok else "failed",
            reason,
        )
        if not ok or transfer.mode != "bridge":
            # Only a bridged talk has more to follow (its legs' ends).
            self._by_caller.pop(transfer.call_id, None)
        self._on_done(transfer, ok, reason)

    @staticmethod
    def _cancel_timer(transfer: OutsideTransfer) -> None:
        if transfer.timer is not None:
            transfer.timer.cancel()
            transfer.timer = None
