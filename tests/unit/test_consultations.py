"""Attended transfers' consultation legs (`calls/consult.py`), driven by the bridge's
events as the pjsua2 thread would publish them; the commands it sends are recorded."""

from __future__ import annotations

import asyncio

from callcenter.calls.consult import Consult, Consultations
from callcenter.events import EventBus
from callcenter.softphone_bridge import messages as m
from tests.unit.test_outside_transfers import Phones


class WatchedPhones(Phones):
    def __init__(self) -> None:
        super().__init__()
        self.hung_up = asyncio.Event()

    def send(self, command: m.Command) -> None:
        super().send(command)
        if isinstance(command, m.Hangup):
            self.hung_up.set()


class Desk:
    def __init__(self, ring_timeout: float = 30.0) -> None:
        self.bus = EventBus()
        self.phones = WatchedPhones()
        self.answered: list[str] = []
        self.ends: list[tuple[str, str, str]] = []
        self.consults = Consultations(
            self.phones, self.bus, ring_timeout, self.on_answered, self.on_end
        )

    def on_answered(self, consult: Consult) -> None:
        self.answered.append(consult.call_id)

    def on_end(self, consult: Consult, state: str, reason: str) -> None:
        self.ends.append((consult.call_id, state, reason))

    def start(self) -> Consult:
        return self.consults.start("caller", "alice", "bob", "bob", "sip:bob@desk", "+8620")


async def test_the_caller_waits_on_music_while_the_target_rings() -> None:
    desk = Desk()
    consult = desk.start()
    assert desk.phones.sent == [
        m.PlayMusic("caller"),
        m.Dial(consult.leg_id, "sip:bob@desk", "+8620"),
    ]
    desk.bus.publish(m.LegAnswered(consult.leg_id))
    assert consult.answered and desk.answered == ["caller"]
    assert desk.consults.hand_over("caller") is consult
    assert desk.consults.get("caller") is None
    desk.bus.publish(m.LegEnded(consult.leg_id, 200, "BYE", True))  # the call flow's now
    assert desk.ends == []


async def test_a_target_ringing_too_long_is_cancelled_and_reported_failed() -> None:
    desk = Desk(ring_timeout=0.01)
    consult = desk.start()
    await asyncio.wait_for(desk.phones.hung_up.wait(), 5)
    assert desk.phones.last() == m.Hangup(consult.leg_id, 487)  # CANCEL
    desk.bus.publish(m.LegEnded(consult.leg_id, 487, "Request Terminated", False))
    assert desk.ends == [("caller", "failed", "timeout")]
    assert desk.consults.get("caller") is None


async def test_the_caller_leaving_ends_the_consultation() -> None:
    desk = Desk()
    consult = desk.start()
    desk.bus.publish(m.LegAnswered(consult.leg_id))
    desk.bus.publish(m.LegEnded("caller", 200, "BYE", True))
    assert desk.phones.last() == m.Hangup(consult.leg_id, 487)
    assert desk.ends == [("caller", "ended", "the caller hung up")]


async def test_cancel_hangs_up_the_target() -> None:
    desk = Desk()
    consult = desk.start()
    assert desk.consults.cancel("caller") is consult
    assert desk.phones.last() == m.Hangup(consult.leg_id, 487)
    desk.bus.publish(m.LegEnded(consult.leg_id, 487, "Request Terminated", False))
    assert desk.ends == []  # cancelled by the agent: not a failure
