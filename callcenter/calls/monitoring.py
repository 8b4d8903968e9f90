"""Supervisors listening to, whispering to or barging into agents' calls.

Pure bookkeeping of the supervisions this process runs: the supervisor's phone is a leg
of its own (dialled like an agent offer), wired into the caller-agent call one way per
pair as the mode says (`softphone_bridge.messages.Monitor`). A supervisor monitors one
call at a time; another mode on the same call switches the wiring without redialling.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass


class MonitorMode(enum.StrEnum):
    LISTEN = "listen"  # the supervisor hears both; nobody hears the supervisor
    WHISPER = "whisper"  # as listen, and the agent hears the supervisor
    BARGE = "barge"  # everyone hears everyone


class MonitorState(enum.StrEnum):
    RINGING = "ringing"  # the supervisor's phone rings
    ACTIVE = "active"  # answered and wired into the call
    ENDED = "ended"


@dataclass
class Supervision:
    supervisor: str
    call_id: str
    agent_id: str
    leg_id: str  # the supervisor's leg
    mode: MonitorMode
    answered: bool = False
    #: Asked to end (stop_monitoring, the call ended): the leg is being hung up.
    stopping: str | None = None

    @property
    def state(self) -> MonitorState:
        return MonitorState.ACTIVE if self.answered else MonitorState.RINGING


class Supervisions:
    """The supervisions of this process, by supervisor and by the supervisor's leg.

    A supervision being hung up no longer counts as the supervisor's (a new one may
    start) but keeps its leg until the leg's end is reported.
    """

    def __init__(self) -> None:
        self._by_supervisor: dict[str, Supervision] = {}
        self._by_leg: dict[str, Supervision] = {}

    def of(self, supervisor: str) -> Supervision | None:
        return self._by_supervisor.get(supervisor)

    def by_leg(self, leg_id: str) -> Supervision | None:
        return self._by_leg.get(leg_id)

    def of_call(self, call_id: str) -> list[Supervision]:
        return [s for s in self._by_leg.values() if s.call_id == call_id]

    def start(self, supervisor: str, call_id: str, agent_id: str, mode: MonitorMode) -> Supervision:
        if supervisor in self._by_supervisor:
            raise ValueError(f"{supervisor!r} monitors a call already")
        supervision = Supervision(supervisor, call_id, agent_id, str(uuid.uuid4()), mode)
        self._by_supervisor[supervisor] = supervision
        self._by_leg[supervision.leg_id] = supervision
        return supervision

    def stop(self, supervision: Supervision, reason: str) -> bool:
        """Mark it ending; False when it was ending already."""
        if supervision.stopping is not None:
            return False
        supervision.stopping = reason
        self._forget(supervision)
        return True

    def leg_ended(self, leg_id: str) -> Supervision | None:
        supervision = self._by_leg.pop(leg_id, None)
        if supervision is not None:
            self._forget(supervision)
        return supervision

    def _forget(self, supervision: Supervision) -> None:
        if self._by_supervisor.get(supervision.supervisor) is supervision:
            del self._by_supervisor[supervision.supervisor]
