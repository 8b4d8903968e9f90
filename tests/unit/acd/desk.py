"""A help desk on a manual clock whose events land in a list, shared by the ACD unit tests."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from callcenter.acd import events as ev
from callcenter.acd.acd import Acd
from callcenter.acd.model import AgentState, QueueSettings
from callcenter.clock import ManualClock

E = TypeVar("E", bound=ev.AcdEvent)

HELPDESK = "helpdesk"


class Desk:
    """An ACD plus the clock that drives it and every event it published, in order."""

    def __init__(
        self,
        queues: Iterable[QueueSettings] = (QueueSettings(HELPDESK),),
        publish: Callable[[ev.AcdEvent], None] | None = None,
        **options: Any,
    ) -> None:
        """`options` go to the Acd: pause_reasons, utc_offset_seconds, rng."""
        self.clock = ManualClock(1_000.0)
        self.events: list[ev.AcdEvent] = []
        self.acd = Acd(queues, self.clock, publish or self.events.append, **options)

    @property
    def now(self) -> float:
        return self.clock.now()

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    def login(self, agent_id: str, *queues: str) -> None:
        """Add an agent and make it available now (so login order is idle order)."""
        self.acd.add_agent(agent_id, queues or (HELPDESK,))
        self.acd.set_agent_state(agent_id, AgentState.AVAILABLE)

    def state(self, agent_id: str) -> AgentState:
        return self.acd.agent(agent_id).state

    def offered_to(self, call_id: str) -> str | None:
        return self.acd.call(call_id).agent_id

    def of(self, kind: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, kind)]

    def kinds(self) -> list[str]:
        return [type(e).__name__ for e in self.events]

    def clear(self) -> None:
        self.events.clear()


def make_desk(**settings: Any) -> Desk:
    """A desk whose helpdesk queue has the given settings."""
    return Desk([QueueSettings(HELPDESK, **settings)])
