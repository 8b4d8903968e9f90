"""The queue board: waiting calls, longest wait, agents by state, totals."""

from __future__ import annotations

import pytest

from callcenter.acd.errors import UnknownQueue
from callcenter.acd.model import AgentState, OfferFailure, QueueSettings
from tests.unit.acd.desk import HELPDESK, Desk


def test_snapshot_of_an_empty_queue(desk: Desk) -> None:
    snap = desk.acd.snapshot(HELPDESK)

    assert (snap.name, snap.waiting, snap.longest_wait_seconds) == (HELPDESK, 0, 0.0)
    assert snap.agents == dict.fromkeys(AgentState, 0)
    assert (snap.offered_total, snap.answered_total, snap.abandoned_total) == (0, 0, 0)
    assert (snap.service_level_seconds, snap.service_level_target) == (20.0, 0.9)


def test_snapshot_counts_ringing_calls_as_waiting(desk: Desk) -> None:
    desk.login("a1")
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.advance(10)
    desk.acd.enqueue("c2", HELPDESK, "x")
    desk.advance(5)

    snap = desk.acd.snapshot(HELPDESK)
    assert snap.waiting == 2
    assert snap.longest_wait_seconds == pytest.approx(15.0)


def test_connected_calls_are_no_longer_waiting(desk: Desk) -> None:
    desk.login("a1")
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.advance(60)
    desk.acd.answered("c1")
    desk.acd.enqueue("c2", HELPDESK, "x")
    desk.advance(3)

    snap = desk.acd.snapshot(HELPDESK)
    assert snap.waiting == 1
    assert snap.longest_wait_seconds == pytest.approx(3.0)


def test_snapshot_counts_agents_by_state() -> None:
    desk = Desk([QueueSettings(HELPDESK, wrap_up_seconds=60.0), QueueSettings("vip")])
    for agent in ("on-call", "ringing", "wrapping", "free", "paused"):
        desk.login(agent)
        desk.advance(1)
    desk.acd.add_agent("out", [HELPDESK])
    desk.login("vip-only", "vip")
    desk.login("both", HELPDESK, "vip")
    desk.acd.set_agent_state("both", AgentState.PAUSED)
    desk.acd.set_agent_state("paused", AgentState.PAUSED, "lunch")
    desk.acd.enqueue("c1", HELPDESK, "x")
    assert desk.offered_to("c1") == "on-call"
    desk.acd.answered("c1")
    desk.acd.enqueue("c2", HELPDESK, "x")
    assert desk.offered_to("c2") == "ringing"
    desk.acd.answered("c2")
    desk.acd.hangup("c2")
    assert desk.state("ringing") is AgentState.WRAP_UP
    desk.acd.enqueue("c3", HELPDESK, "x")
    assert desk.offered_to("c3") == "wrapping"

    agents = desk.acd.snapshot(HELPDESK).agents
    assert agents == {
        AgentState.LOGGED_OUT: 1,
        AgentState.AVAILABLE: 1,  # free
        AgentState.OFFERED: 1,  # wrapping (named before it got its call)
        AgentState.ON_CALL: 1,
        AgentState.WRAP_UP: 1,  # ringing (likewise)
        AgentState.PAUSED: 2,  # paused, both
    }
    assert desk.acd.snapshot("vip").agents[AgentState.AVAILABLE] == 1
    assert desk.acd.snapshot("vip").agents[AgentState.PAUSED] == 1


def test_snapshot_totals_follow_the_calls(desk: Desk) -> None:
    desk.login("a1")
    desk.acd.enqueue("answered", HELPDESK, "x")
    desk.acd.answered("answered")
    desk.acd.enqueue("abandoned", HELPDESK, "x")
    desk.acd.hangup("abandoned")
    desk.acd.enqueue("waiting", HELPDESK, "x")

    snap = desk.acd.snapshot(HELPDESK)
    assert (snap.offered_total, snap.answered_total, snap.abandoned_total) == (3, 1, 1)
    assert snap.waiting == 1


def test_failed_offers_do_not_inflate_the_totals(desk: Desk) -> None:
    desk.login("a1")
    desk.login("a2")
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.offer_failed("c1", OfferFailure.BUSY)
    desk.acd.offer_failed("c1", OfferFailure.NO_ANSWER)

    snap = desk.acd.snapshot(HELPDESK)
    assert (snap.offered_total, snap.answered_total, snap.abandoned_total, snap.waiting) == (
        1,
        0,
        0,
        1,
    )


def test_snapshot_shows_the_queue_settings() -> None:
    desk = Desk([QueueSettings(HELPDESK, service_level_seconds=30.0, service_level_target=0.8)])
    snap = desk.acd.snapshot(HELPDESK)

    assert (snap.service_level_seconds, snap.service_level_target) == (30.0, 0.8)


def test_snapshot_of_an_unknown_queue_is_refused(desk: Desk) -> None:
    with pytest.raises(UnknownQueue):
        desk.acd.snapshot("sales")
