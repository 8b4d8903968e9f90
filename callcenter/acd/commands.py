"""Everything that changes the ACD, as data: one command per operation.

Edges do not call the ACD's methods to change it; they hand a command to the ACD store.
In one process the store applies it at once. With several processes the store appends
it to a shared log and every process applies the log, in the same order, to its own
copy of the ACD: the copies stay identical because the ACD is deterministic, given the
commands, their order and the instant each is applied at. That is why a command is
plain data with a JSON form, and why applying one must not read anything but the ACD.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar

from callcenter.acd.acd import Acd
from callcenter.acd.errors import UnknownCall
from callcenter.acd.model import AgentState, Membership, OfferFailure


class Command:
    """Base of the commands; `op` names it in the JSON form."""

    op: ClassVar[str]

    def apply(self, acd: Acd) -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class AddAgent(Command):
    """Add an agent, or bring a known one's queues and skills in line (idempotent)."""

    op: ClassVar[str] = "add_agent"
    agent_id: str
    queues: tuple[str, ...]
    skills: dict[str, int] | None = None

    def apply(self, acd: Acd) -> None:
        acd.add_agent(self.agent_id, self.queues, skills=self.skills)


@dataclass(frozen=True)
class SetMembership(Command):
    """Replace an agent's queues: queue -> (level, penalty)."""

    op: ClassVar[str] = "set_membership"
    agent_id: str
    memberships: dict[str, tuple[int, int]]

    def apply(self, acd: Acd) -> None:
        acd.set_membership(
            self.agent_id,
            {q: Membership(level, penalty) for q, (level, penalty) in self.memberships.items()},
        )


@dataclass(frozen=True)
class SetSkills(Command):
    op: ClassVar[str] = "set_skills"
    agent_id: str
    skills: dict[str, int]

    def apply(self, acd: Acd) -> None:
        acd.set_skills(self.agent_id, self.skills)


@dataclass(frozen=True)
class SetAgentState(Command):
    op: ClassVar[str] = "set_agent_state"
    agent_id: str
    state: AgentState
    reason: str | None = None

    def apply(self, acd: Acd) -> None:
        acd.set_agent_state(self.agent_id, self.state, self.reason)


@dataclass(frozen=True)
class EndWrapUp(Command):
    op: ClassVar[str] = "end_wrap_up"
    agent_id: str

    def apply(self, acd: Acd) -> None:
        acd.end_wrap_up(self.agent_id)


@dataclass(frozen=True)
class Enqueue(Command):
    op: ClassVar[str] = "enqueue"
    call_id: str
    queue: str
    caller: str
    priority: int = 0
    skills: dict[str, int] | None = None
    attributes: dict[str, str] | None = None

    def apply(self, acd: Acd) -> None:
        acd.enqueue(
            self.call_id,
            self.queue,
            self.caller,
            self.priority,
            skills=self.skills,
            attributes=self.attributes,
        )


@dataclass(frozen=True)
class Answered(Command):
    op: ClassVar[str] = "answered"
    call_id: str
    agent_id: str | None = None

    def apply(self, acd: Acd) -> None:
        acd.answered(self.call_id, self.agent_id)


@dataclass(frozen=True)
class OfferFailed(Command):
    op: ClassVar[str] = "offer_failed"
    call_id: str
    reason: OfferFailure
    agent_id: str | None = None

    def apply(self, acd: Acd) -> None:
        acd.offer_failed(self.call_id, self.reason, self.agent_id)


@dataclass(frozen=True)
class Hangup(Command):
    """The caller's leg ended. A call the ACD no longer has (it overflowed, or its
    enqueue was refused) is no error: the edge sends this without looking first, so a
    hang-up racing its own enqueue through the shared log is never lost."""

    op: ClassVar[str] = "hangup"
    call_id: str

    def apply(self, acd: Acd) -> None:
        if acd.has_call(self.call_id):
            acd.hangup(self.call_id)


@dataclass(frozen=True)
class Tick(Command):
    """Time passed: ring-no-answer, wrap-up end, max wait, skills relaxing."""

    op: ClassVar[str] = "tick"

    def apply(self, acd: Acd) -> None:
        acd.tick()


@dataclass(frozen=True)
class RequestCallback(Command):
    op: ClassVar[str] = "request_callback"
    call_id: str
    number: str

    def apply(self, acd: Acd) -> None:
        acd.request_callback(self.call_id, self.number)


@dataclass(frozen=True)
class CallbackAnswered(Command):
    op: ClassVar[str] = "callback_answered"
    call_id: str

    def apply(self, acd: Acd) -> None:
        acd.callback_answered(self.call_id)


@dataclass(frozen=True)
class CallbackFailed(Command):
    op: ClassVar[str] = "callback_failed"
    call_id: str

    def apply(self, acd: Acd) -> None:
        acd.callback_failed(self.call_id)


@dataclass(frozen=True)
class CancelCallback(Command):
    op: ClassVar[str] = "cancel_callback"
    call_id: str

    def apply(self, acd: Acd) -> None:
        acd.cancel_callback(self.call_id)


@dataclass(frozen=True)
class TransferToQueue(Command):
    op: ClassVar[str] = "transfer_to_queue"
    call_id: str
    queue: str

    def apply(self, acd: Acd) -> None:
        acd.transfer_to_queue(self.call_id, self.queue)


@dataclass(frozen=True)
class TransferToAgent(Command):
    op: ClassVar[str] = "transfer_to_agent"
    call_id: str
    agent_id: str
    #: The agent is an attended transfer's target, reserved by a consultation pause.
    reserved: bool = False

    def apply(self, acd: Acd) -> None:
        acd.transfer_to_agent(self.call_id, self.agent_id, self.reserved)


@dataclass(frozen=True)
class EndCalls(Command):
    """The legs of these calls are gone (their process died): each is hung up, as its
    own process would have done. Calls already gone are skipped."""

    op: ClassVar[str] = "end_calls"
    call_ids: tuple[str, ...] = field(default=())

    def apply(self, acd: Acd) -> None:
        for call_id in self.call_ids:
            with contextlib.suppress(UnknownCall):
                Hangup(call_id).apply(acd)


COMMANDS: dict[str, type[Command]] = {
    c.op: c
    for c in (
        AddAgent,
        SetMembership,
        SetSkills,
        SetAgentState,
        EndWrapUp,
        Enqueue,
        Answered,
        OfferFailed,
        Hangup,
        Tick,
        RequestCallback,
        CallbackAnswered,
        CallbackFailed,
        CancelCallback,
        TransferToQueue,
        TransferToAgent,
        EndCalls,
    )
}

_ENUMS: dict[str, type[AgentState] | type[OfferFailure]] = {
    "state": AgentState,
    "reason": OfferFailure,
}


def encode(command: Command) -> str:
    data = asdict(_dc(command))
    data["op"] = command.op
    return json.dumps(data, separators=(",", ":"))


def decode(text: str | bytes) -> Command:
    """The command of `encode`'s text; ValueError names what is wrong with a bad one."""
    try:
        data = json.loads(text)
        kind = COMMANDS[data.pop("op")]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not an ACD command: {exc}") from None
    try:
        values = {
            f.name: _field(kind, f.name, data[f.name]) for f in fields(_dc(kind)) if f.name in data
        }
        return kind(**values)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"bad {kind.op} command: {exc}") from None


def _dc(value: Any) -> Any:
    """Every command is a dataclass; the base class cannot say so to the type checker."""
    return value


def _field(kind: type[Command], name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in _ENUMS and not (kind is SetAgentState and name == "reason"):
        return _ENUMS[name](value)
    if name in ("queues", "call_ids"):
        return tuple(str(v) for v in value)
    if name == "memberships":
        return {str(q): (int(level), int(penalty)) for q, (level, penalty) in value.items()}
    if name == "attributes":
        return {str(k): str(v) for k, v in value.items()}
    if isinstance(value, Mapping):
        return {str(k): int(v) for k, v in value.items()}
    return value
