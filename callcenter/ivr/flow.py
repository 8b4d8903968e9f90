"""The IVR flow engine: events in, actions out, no I/O (tested without SIP).

The flow of the first release is a greeting followed by the queue; menus, business
hours and caller-attribute branches extend the same event/action vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class CallerProfile:
    known: bool
    vip: bool


# ----- actions the engine asks for ----------------------------------------------------


@dataclass(frozen=True)
class Play:
    prompt: str


@dataclass(frozen=True)
class Enqueue:
    queue: str
    priority: int


IvrAction = Play | Enqueue


class _Step(StrEnum):
    START = "start"
    GREETING = "greeting"
    DONE = "done"


class GreetingThenQueue:
    """Greet the caller, then hand it to the queue; a VIP caller is queued with priority."""

    VIP_PRIORITY = 10

    def __init__(self, queue: str, greeting: str = "greeting") -> None:
        self.queue = queue
        self.greeting = greeting
        self._step = _Step.START

    @property
    def finished(self) -> bool:
        return self._step is _Step.DONE

    def start(self) -> list[IvrAction]:
        if self._step is not _Step.START:
            raise RuntimeError("the flow has already started")
        self._step = _Step.GREETING
        return [Play(self.greeting)]

    def prompt_finished(self, prompt: str, caller: CallerProfile) -> list[IvrAction]:
        if self._step is not _Step.GREETING or prompt != self.greeting:
            return []
        self._step = _Step.DONE
        return [Enqueue(self.queue, self.VIP_PRIORITY if caller.vip else 0)]
