"""Agent occupancy: how much of its logged-in time an agent spent on calls and wrap-up.

The ACD feeds every state change in; a day of changes is kept (the longest window the
statistics answer for), plus, per agent, the last change before that day, which says
what the agent was doing when the day began.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

from callcenter.acd.errors import InvalidSetting
from callcenter.acd.model import AgentState

#: Time that counts as occupied: talking (including hold, which the core does not see
#: apart from talk) and after-call work. Ringing is not work yet.
OCCUPIED = frozenset({AgentState.ON_CALL, AgentState.WRAP_UP})


class AgentActivity:
    RETENTION_SECONDS = 24 * 3600.0

    def __init__(self) -> None:
        self._changes: dict[str, deque[tuple[float, AgentState]]] = {}

    def record(self, agent_id: str, state: AgentState, at: float) -> None:
        changes = self._changes.setdefault(agent_id, deque())
        changes.append((at, state))
        horizon = at - self.RETENTION_SECONDS
        # Keep the one change in force at the horizon; drop the ones before it.
        while len(changes) > 1 and changes[1][0] <= horizon:
            changes.popleft()

    def occupancy(self, agent_id: str, now: float, seconds: float) -> float | None:
        """Occupied time over logged-in time in (now - seconds, now]; None when never logged in."""
        since = now - seconds
        changes = list(self._changes.get(agent_id, ()))
        occupied = logged_in = 0.0
        for n, (start, state) in enumerate(changes):
            end = changes[n + 1][0] if n + 1 < len(changes) else now
            length = min(end, now) - max(start, since)
            if length <= 0 or state is AgentState.LOGGED_OUT:
                continue
            logged_in += length
            if state in OCCUPIED:
                occupied += length
        return occupied / logged_in if logged_in > 0 else None

    def export(self) -> dict[str, Any]:
        return {
            agent_id: [[at, state.value] for at, state in changes]
            for agent_id, changes in self._changes.items()
        }

    def restore(self, data: Mapping[str, Any]) -> None:
        try:
            self._changes = {
                str(agent_id): deque((float(at), AgentState(state)) for at, state in changes)
                for agent_id, changes in data.items()
            }
        except (TypeError, ValueError) as exc:
            raise InvalidSetting(f"not an agent activity export: {exc}") from None
