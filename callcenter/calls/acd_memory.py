"""What the ACD remembers across restarts, and its durable history (the queue log).

The state is saved every few seconds and at shutdown; the history is appended in
batches, in order, through the call recorder. Both go to the ticket database. When
several processes share the ACD, each writes the history of what it caused, and the
leader alone saves the state (a copy of what Redis holds, for a restart of everything).
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import logging
from datetime import UTC, datetime
from typing import Any

from callcenter.acd.events import AcdEvent
from callcenter.acd_store import AcdStore
from callcenter.clock import Clock
from callcenter.tickets.records import AcdEventEntry, TicketStore

from .recorder import CallRecorder

log = logging.getLogger(__name__)

#: A crash loses at most this much of the in-memory figures; the history loses nothing.
SAVE_EVERY_SECONDS = 10.0
HISTORY_FLUSH_SECONDS = 0.5


def _jsonable(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    return value


def history_entry(event: AcdEvent) -> AcdEventEntry:
    data = {f.name: getattr(event, f.name) for f in dataclasses.fields(event)}
    at = data.pop("at")
    return AcdEventEntry(
        at=datetime.fromtimestamp(at, UTC),
        type=type(event).__name__,
        call_id=data.pop("call_id", None),
        queue=data.pop("queue", None),
        agent=data.pop("agent_id", None),
        data=_jsonable(data),
    )


def after_restart(state: dict[str, Any]) -> dict[str, Any]:
    """Keep what outlives the process; drop what died with it.

    Callers' SIP legs ended with the old process, so only queued callbacks stay in line
    (they have no leg). A callback whose try was under way (the agent ringing, or the
    callee being dialled) waits again, in its place, for a new try. Agents who were
    ringing or talking come back paused (or in the state they had asked for after the
    call): their call is gone, and an agent should not be offered a call before
    confirming it is back at the desk.
    """
    state = dict(state)
    calls = [
        dict(c)
        for c in state["calls"]
        if c.get("callback") and (c["phase"] != "connected" or c.get("dialing"))
    ]
    for call in calls:
        call["phase"] = "waiting"
        call["agent_id"], call["offered_to"], call["offered_at"] = None, [], None
        call["dialing"] = False
    agents = []
    for agent in state["agents"]:
        agent = dict(agent)
        if agent["call_id"] is not None:  # every call left is waiting: nobody holds one
            if agent["state"] in ("offered", "on_call"):
                agent["state"] = agent["pending_state"] or "paused"
                agent["reason"] = agent["pending_reason"] if agent["pending_state"] else None
                agent["pending_state"] = agent["pending_reason"] = None
            agent["call_id"] = None
        agents.append(agent)
    state["calls"], state["agents"] = calls, agents
    return state


class AcdMemory:
    def __init__(
        self, acd_store: AcdStore, store: TicketStore, recorder: CallRecorder, clock: Clock
    ) -> None:
        self._acd_store, self._acd = acd_store, acd_store.acd
        self._store, self._recorder, self._clock = store, recorder, clock
        self._batch: list[AcdEventEntry] = []

    async def restore(self) -> bool:
        """Load the saved state into the (still empty) ACD; False when there is none."""
        saved = await self._store.load_acd_state()
        if saved is None:
            return False
        try:
            self._acd.restore_state(after_restart(saved))
        except (ValueError, KeyError, TypeError) as exc:
            log.error("saved ACD state not usable (%s); starting afresh", exc)
            return False
        return True

    def on_event(self, event: AcdEvent) -> None:
        if self._acd_store.applying_own:
            self._batch.append(history_entry(event))

    def flush_history(self) -> None:
        batch, self._batch = self._batch, []
        if batch:
            store = self._store
            self._recorder.submit(
                f"{len(batch)} ACD events", lambda: store.append_acd_events(batch)
            )

    def save_state(self) -> None:
        if not self._acd_store.is_leader:
            return
        state, at = self._acd.export_state(), datetime.fromtimestamp(self._clock.now(), UTC)
        store = self._store
        self._recorder.submit("ACD state", lambda: store.save_acd_state(state, at))

    async def run(self) -> None:
        """Flush the history often and save the state now and then; both again at the end."""
        next_save = self._clock.now() + SAVE_EVERY_SECONDS
        try:
            while True:
                await asyncio.sleep(HISTORY_FLUSH_SECONDS)
                self.flush_history()
                if self._clock.now() >= next_save:
                    next_save = self._clock.now() + SAVE_EVERY_SECONDS
                    self.save_state()
        finally:
            self.flush_history()
            self.save_state()
