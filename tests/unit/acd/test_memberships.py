"""An agent serves several queues, each with its own level and penalty, changeable live."""

from __future__ import annotations

import pytest

from callcenter.acd.errors import InvalidSetting, UnknownAgent, UnknownQueue
from callcenter.acd.events import AgentMembershipChanged
from callcenter.acd.model import DEFAULT_LEVEL, AgentState, CallPhase, Membership, QueueSettings
from tests.unit.acd.desk import HELPDESK, Desk

VIP = "vip"


def two_queue_desk() -> Desk:
    return Desk([QueueSettings(HELPDESK), QueueSettings(VIP)])


def test_bare_queue_names_get_the_default_level_and_no_penalty(desk: Desk) -> None:
    desk.acd.add_agent("a1", [HELPDESK])

    assert desk.acd.agent("a1").memberships == {HELPDESK: Membership(DEFAULT_LEVEL, 0)}
    assert DEFAULT_LEVEL == 5


def test_memberships_may_be_given_per_queue() -> None:
    desk = two_queue_desk()
    desk.acd.add_agent("a1", {HELPDESK: Membership(level=8), VIP: Membership(penalty=2)})

    a1 = desk.acd.agent("a1")
    assert a1.queues == frozenset({HELPDESK, VIP})
    assert (a1.memberships[HELPDESK].level, a1.memberships[VIP].penalty) == (8, 2)


@pytest.mark.parametrize("level", [0, 11, -1])
def test_levels_are_one_to_ten(level: int) -> None:
    with pytest.raises(InvalidSetting):
        Membership(level=level)


def test_a_negative_penalty_is_refused() -> None:
    with pytest.raises(InvalidSetting):
        Membership(penalty=-1)


def test_readding_with_bare_names_keeps_the_levels_already_set() -> None:
    desk = two_queue_desk()
    desk.acd.add_agent("a1", {HELPDESK: Membership(level=9, penalty=1)})

    desk.acd.add_agent("a1", [HELPDESK, VIP])  # e.g. the account list reloaded

    assert desk.acd.agent("a1").memberships == {
        HELPDESK: Membership(9, 1),
        VIP: Membership(),
    }


def test_set_membership_takes_effect_at_once_and_routes() -> None:
    desk = two_queue_desk()
    desk.login("a1", HELPDESK)
    desk.acd.enqueue("v1", VIP, "x")
    assert desk.acd.call("v1").phase is CallPhase.WAITING
    desk.clear()

    desk.acd.set_membership("a1", {VIP: Membership(level=7)})

    assert desk.offered_to("v1") == "a1"
    assert desk.acd.agent("a1").queues == frozenset({VIP})
    assert desk.kinds()[0] == "AgentMembershipChanged"
    assert desk.of(AgentMembershipChanged)[0].queues == (VIP,)


def test_leaving_a_queue_stops_its_calls_but_not_the_call_in_hand() -> None:
    desk = two_queue_desk()
    desk.login("a1", HELPDESK, VIP)
    desk.acd.enqueue("h1", HELPDESK, "x")
    desk.acd.answered("h1")

    desk.acd.set_membership("a1", [VIP])
    desk.acd.enqueue("h2", HELPDESK, "x")
    desk.acd.hangup("h1")

    assert desk.state("a1") is AgentState.AVAILABLE
    assert desk.acd.call("h2").phase is CallPhase.WAITING


def test_an_unchanged_membership_is_not_an_event(desk: Desk) -> None:
    desk.login("a1")
    desk.clear()
    desk.acd.set_membership("a1", [HELPDESK])

    assert desk.events == []


def test_set_membership_refuses_unknown_agents_and_queues(desk: Desk) -> None:
    desk.acd.add_agent("a1", [HELPDESK])
    with pytest.raises(UnknownAgent):
        desk.acd.set_membership("ghost", [HELPDESK])
    with pytest.raises(UnknownQueue):
        desk.acd.set_membership("a1", {"sales": Membership()})
    assert desk.acd.agent("a1").queues == frozenset({HELPDESK})


def test_lower_penalty_agents_get_calls_first(desk: Desk) -> None:
    desk.acd.add_agent("backup", {HELPDESK: Membership(penalty=1)})
    desk.acd.set_agent_state("backup", AgentState.AVAILABLE)  # the longest idle
    desk.advance(10)
    desk.acd.add_agent("first", {HELPDESK: Membership(penalty=0)})
    desk.acd.set_agent_state("first", AgentState.AVAILABLE)

    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.enqueue("c2", HELPDESK, "x")

    assert desk.offered_to("c1") == "first"
    # The only lower-penalty agent is busy: the backup takes the next call.
    assert desk.offered_to("c2") == "backup"


def test_a_higher_penalty_agent_waits_while_a_lower_one_is_free() -> None:
    desk = two_queue_desk()
    desk.acd.add_agent("backup", {HELPDESK: Membership(penalty=5)})
    desk.acd.set_agent_state("backup", AgentState.AVAILABLE)
    desk.login("first", HELPDESK)
    desk.acd.enqueue("c1", HELPDESK, "x")
    desk.acd.answered("c1")
    desk.acd.hangup("c1")  # "first" is free again, and idle for less time

    desk.acd.enqueue("c2", HELPDESK, "x")

    assert desk.offered_to("c2") == "first"
    assert desk.state("backup") is AgentState.AVAILABLE


def test_penalty_is_per_queue() -> None:
    desk = two_queue_desk()
    desk.acd.add_agent("a1", {HELPDESK: Membership(penalty=3), VIP: Membership(penalty=0)})
    desk.acd.add_agent("a2", {HELPDESK: Membership(penalty=0), VIP: Membership(penalty=3)})
    desk.acd.set_agent_state("a1", AgentState.AVAILABLE)
    desk.acd.set_agent_state("a2", AgentState.AVAILABLE)

    desk.acd.enqueue("v1", VIP, "x")

    assert desk.offered_to("v1") == "a1"
