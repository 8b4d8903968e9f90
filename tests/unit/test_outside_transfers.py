"""Blind transfers to an outside number (`calls/transfer.py`), driven by the bridge's
events as the pjsua2 thread would publish them; the commands it sends are recorded."""

from __future__ import annotations

import asyncio

import pytest

from callcenter.calls.transfer import (
    OutsideTransfer,
    OutsideTransfers,
    TransferPolicy,
    TransferUnavailable,
)
from callcenter.events import EventBus
from callcenter.softphone_bridge import messages as m

TEMPLATE = "sip:{number}@pbx.example.com"
NUMBER = "+8613800138000"


class Phones:
    """The bridge's command side: what was sent, in order."""

    def __init__(self) -> None:
        self.sent: list[m.Command] = []

    def send(self, command: m.Command) -> None:
        self.sent.append(command)

    def last(self) -> m.Command:
        return self.sent[-1]


class Desk:
    def __init__(self, mode: str, timeout: float = 30.0, template: str | None = TEMPLATE):
        self.bus = EventBus()
        self.phones = Phones()
        self.outcomes: list[tuple[str, bool, str]] = []
        self.done = asyncio.Event()
        self.transfers = OutsideTransfers(
            self.phones, self.bus, TransferPolicy(mode, template, timeout), self.on_done
        )

    def on_done(self, transfer: OutsideTransfer, ok: bool, reason: str) -> None:
        self.outcomes.append((transfer.call_id, ok, reason))
        self.done.set()


async def test_refer_success_is_reported_once() -> None:
    desk = Desk("refer")
    desk.transfers.start("caller", NUMBER, "alice", "+862088881001")
    assert desk.phones.sent == [
        m.PlayMusic("caller"),
        m.Refer("caller", f"sip:{NUMBER}@pbx.example.com"),
    ]
    assert desk.transfers.pending("caller") is not None

    desk.bus.publish(m.ReferSucceeded("caller", 200))
    desk.bus.publish(m.ReferFailed("caller", 487, "late"))  # after the outcome: ignored

    assert desk.outcomes == [("caller", True, "200")]
    assert desk.transfers.pending("caller") is None


async def test_refer_declined_is_a_failure_with_the_status() -> None:
    desk = Desk("refer")
    desk.transfers.start("caller", NUMBER, "alice", "+862088881001")
    desk.bus.publish(m.ReferFailed("caller", 603, "Decline"))
    assert desk.outcomes == [("caller", False, "603 Decline")]


async def test_no_outcome_in_time_is_a_failure() -> None:
    desk = Desk("refer", timeout=0.01)
    desk.transfers.start("caller", NUMBER, "alice", "+862088881001")
    await asyncio.wait_for(desk.done.wait(), 5)
    assert desk.outcomes == [("caller", False, "timeout")]
    desk.bus.publish(m.ReferSucceeded("caller", 200))  # too late
    assert len(desk.outcomes) == 1


async def test_bridge_mode_dials_and_bridges_then_ends_the_caller_with_the_target() -> None:
    desk = Desk("bridge")
    desk.transfers.start("caller", NUMBER, "alice", "+862088881001")
    play, dial = desk.phones.sent
    assert play == m.PlayMusic("caller")
    assert isinstance(dial, m.Dial)
    assert (dial.uri, dial.caller) == (f"sip:{NUMBER}@pbx.example.com", "+862088881001")

    desk.bus.publish(m.LegAnswered(dial.leg_id))
    assert desk.phones.last() == m.Connect("caller", dial.leg_id)
    assert desk.outcomes == [("caller", True, "answered")]

    desk.bus.publish(m.LegEnded(dial.leg_id, 200, "Normal call clearing", True))
    assert desk.phones.last() == m.Hangup("caller")


async def test_bridge_mode_target_busy_is_a_failure_and_a_late_answer_is_hung_up() -> None:
    desk = Desk("bridge", timeout=0.01)
    desk.transfers.start("caller", NUMBER, "alice", "+862088881001")
    dial = desk.phones.sent[1]
    assert isinstance(dial, m.Dial)
    await asyncio.wait_for(desk.done.wait(), 5)
    assert desk.phones.last() == m.Hangup(dial.leg_id, 487)  # CANCEL the ringing
    desk.bus.publish(m.LegAnswered(dial.leg_id))  # answered as the CANCEL crossed
    assert desk.phones.last() == m.Hangup(dial.leg_id)
    assert desk.outcomes == [("caller", False, "timeout")]

    other = Desk("bridge")
    other.transfers.start("caller", NUMBER, "alice", "+862088881001")
    busy = other.phones.sent[1]
    assert isinstance(busy, m.Dial)
    other.bus.publish(m.LegEnded(busy.leg_id, 486, "Busy Here", False))
    assert other.outcomes == [("caller", False, "486 Busy Here")]


async def test_the_caller_leaving_ends_the_ringing_target_without_an_outcome() -> None:
    desk = Desk("bridge")
    desk.transfers.start("caller", NUMBER, "alice", "+862088881001")
    dial = desk.phones.sent[1]
    assert isinstance(dial, m.Dial)
    desk.bus.publish(m.LegEnded("caller", 200, "BYE", True))
    assert desk.phones.last() == m.Hangup(dial.leg_id, 487)
    assert desk.outcomes == []


async def test_numbers_need_a_template_sip_uris_do_not() -> None:
    desk = Desk("refer", template=None)
    with pytest.raises(TransferUnavailable):
        desk.transfers.start("caller", NUMBER, "alice", "+862088881001")
    assert desk.phones.sent == []
    desk.transfers.start("caller", "sip:oncall@example.com", None, "+862088881001")
    assert desk.phones.last() == m.Refer("caller", "sip:oncall@example.com")
