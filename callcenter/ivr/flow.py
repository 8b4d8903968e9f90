"""The IVR flow engine: events in, actions out, no I/O (tested without SIP).

The flow of the first release is a greeting followed by the queue; menus, business
hours and caller-attribute branches extend the same event/action vocabulary.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class CallerProfile:
    """What the caller lookup found; the engine's caller-attribute branches read it."""

    known: bool
    vip: bool
    #: The number of the caller's open incident, if the lookup found one.
    open_incident: str | None = None
    #: The caller's preferred language, used to pick a flow (`FlowSet.for_caller`).
    language: str = "en"


# ----- actions the engine asks for ----------------------------------------------------


@dataclass(frozen=True)
class Play:
    """Play prompts one after the other, each reported back with `prompt_finished`.

    `Play("greeting")` and `Play(prompts=("a", "b"))` both work: `prompt` is the first
    of `prompts`, and `prompts` is `(prompt,)` when only `prompt` is given.
    """

    prompt: str = ""
    prompts: tuple[str, ...] = ()
    language: str = "en"

    def __post_init__(self) -> None:
        prompts = tuple(self.prompts)
        if not prompts:
            if not self.prompt:
                raise ValueError("Play needs a prompt")
            prompts = (self.prompt,)
        object.__setattr__(self, "prompts", prompts)
        if not self.prompt:
            object.__setattr__(self, "prompt", prompts[0])
        elif self.prompt != prompts[0]:
            raise ValueError("Play: prompt must be the first of prompts")


@dataclass(frozen=True)
class Enqueue:
    """Hand the call to the ACD: `skills` is skill -> minimum level (1-10)."""

    queue: str
    priority: int
    skills: Mapping[str, int] = field(default_factory=dict)
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StopPlayback:
    """The caller pressed a key while a prompt played (barge-in): stop it, do not report it."""


@dataclass(frozen=True)
class StartTimer:
    """Call `timer_fired(timer_id)` after `seconds`, unless cancelled first."""

    timer_id: str
    seconds: float


@dataclass(frozen=True)
class CancelTimer:
    timer_id: str


@dataclass(frozen=True)
class Transfer:
    """Blind-transfer the caller to a SIP URI or a telephone number."""

    target: str


@dataclass(frozen=True)
class Hangup:
    reason: str


IvrAction = Play | Enqueue | StopPlayback | StartTimer | CancelTimer | Transfer | Hangup
