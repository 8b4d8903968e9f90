"""What the consoles ask of the live call flow, and the errors it answers with.

`calls/control.py` implements `CallControl` on the call flow (`calls/service.py`); a hub
built without one answers every such request with `not_supported`. The errors are domain
errors: they carry a code for the protocol, never an HTTP status or a close code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class CallControlError(Exception):
    """A call request the call flow refused; `code` goes to the console as is."""

    code = "call_control_failed"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class NotSupported(CallControlError):
    """The call flow (or the bridge under it) cannot do this yet."""

    code = "not_supported"


class CallNotFound(CallControlError):
    """No live call with that id (it ended meanwhile)."""

    code = "unknown_call"


@dataclass(frozen=True)
class TransferTarget:
    """Exactly one of the three is set (the protocol layer checks it)."""

    queue: str | None = None
    agent: str | None = None
    number: str | None = None  # an outside number, E.164
    #: A consultation first (attended transfer): an agent or a number, not a queue.
    attended: bool = False


@dataclass(frozen=True)
class WrapUpForm:
    """The after-call form: what the agent records on the call's ticket."""

    ticket_id: int | None = None  # None: the ticket the call was attached to, or a new one
    subject: str | None = None
    category: str | None = None
    priority: int | None = None  # 1 (critical) .. 4 (low)
    status: str | None = None  # new | in_progress | resolved | closed
    resolution: str | None = None
    device_asset_tag: str | None = None
    description: str | None = None  # appended to the ticket's text, signed and dated
    first_contact_resolved: bool | None = None  # the agent's verdict: solved on this call
    #: The agent's code for the call (one of `acd.dispositions`), kept on the call record.
    disposition: str | None = None
    #: The knowledge-base article that solved it (with status resolved or closed).
    kb_article_id: int | None = None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Monitoring:
    """A supervisor's supervision of a call, as a `listen`/`whisper`/`barge` reply says."""

    call_id: str
    agent: str
    mode: str  # listen | whisper | barge
    state: str  # ringing (the supervisor's phone rings) | active | ended


class CallControl(Protocol):
    """Call operations on behalf of an agent (or a supervisor for `move_call`).

    The hub has already checked that `call_id` is the agent's own call. Every method
    raises `CallControlError` (or an `AcdError`) to refuse; anything else is a bug and
    is answered `internal`.
    """

    async def accept(self, agent_id: str, call_id: str) -> None:
        """Answer the offered call from the console (the agent's phone leg connects)."""
        ...

    async def reject(self, agent_id: str, call_id: str) -> None:
        """Decline the offer; the ACD treats it as a rejected offer."""
        ...

    async def hangup(self, agent_id: str, call_id: str) -> None: ...

    async def hold(self, agent_id: str, call_id: str) -> None: ...

    async def resume(self, agent_id: str, call_id: str) -> None: ...

    async def transfer(self, agent_id: str, call_id: str, target: TransferTarget) -> None: ...

    async def complete_transfer(self, agent_id: str, call_id: str) -> None:
        """End an attended transfer's consultation by handing the caller to the target."""
        ...

    async def cancel_transfer(self, agent_id: str, call_id: str) -> None:
        """End an attended transfer's consultation: the agent is back with the caller."""
        ...

    async def send_dtmf(self, agent_id: str, call_id: str, digits: str) -> None: ...

    async def submit_wrap_up(self, agent_id: str, call_id: str, form: WrapUpForm) -> int | None:
        """Save the form on the call's ticket; returns the ticket id, if any."""
        ...

    async def add_note(self, agent_id: str, call_id: str, text: str) -> int | None:
        """Add a note to the call's ticket; returns the ticket id, if any."""
        ...

    async def escalate(
        self, agent_id: str, call_id: str, tier: str, reason: str, queue: str | None
    ) -> int:
        """Escalate the call's ticket to `tier2` or `onsite`; with `queue`, transfer the
        caller there too. Returns the ticket id."""
        ...

    async def move_call(self, call_id: str, target: TransferTarget, by: str) -> None:
        """A supervisor (`by`) moves a waiting or connected call to a queue or an agent."""
        ...

    async def monitor(
        self, supervisor: str, mode: str, agent: str | None, call_id: str | None
    ) -> Monitoring:
        """Listen to, whisper to or barge into an agent's call (the agent's current call,
        or `call_id`) on the supervisor's phone; another mode on the same call switches."""
        ...

    async def stop_monitoring(self, supervisor: str) -> Monitoring:
        """End the supervisor's supervision: its phone's leg is hung up."""
        ...
