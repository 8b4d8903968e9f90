"""The ticket lifecycle: transitions per kind, roles, tiers, escalation, reopening, audit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from callcenter.tickets.workflow import (
    TRANSITIONS,
    Actor,
    AuditEntry,
    Kind,
    Role,
    Status,
    TicketState,
    Tier,
    WorkflowError,
    assign,
    auto_close_due,
    escalate,
    escalate_to_manager,
    escalation_manager,
    new_ticket,
    reopen,
    set_priority,
    transition,
)

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
AGENT = Actor("li.agent", Role.AGENT)
EXPERT = Actor("wang.expert", Role.EXPERT)
CUSTOMER = Actor("zhangshanKJC", Role.CUSTOMER)
AOM = Actor("chen.aom", Role.ACCOUNT_OPERATION_MANAGER)
CHANGE_MANAGER = Actor("zhao.cm", Role.CHANGE_MANAGER)
SYSTEM = Actor("system", Role.SYSTEM)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def ticket(kind: Kind = Kind.INCIDENT) -> TicketState:
    state, _ = new_ticket(42, kind, 3, AGENT, T0)
    return state


def walk(state: TicketState, *statuses: Status, actor: Actor = AGENT) -> TicketState:
    for n, status in enumerate(statuses, start=1):
        state, _ = transition(state, status, actor, at(n))
    return state


def test_new_ticket_is_audited_from_nothing() -> None:
    state, entries = new_ticket(7, "incident", 2, AGENT, T0)
    assert (state.status, state.tier, state.assignee) == (Status.NEW, Tier.SERVICE_DESK, None)
    assert [(e.field, e.old, e.new) for e in entries] == [
        ("kind", None, "incident"),
        ("status", None, "new"),
        ("priority", None, "2"),
        ("tier", None, "tier1_service_desk"),
    ]
    assert all(e.actor == "li.agent" and e.at == T0 and e.ticket_id == 7 for e in entries)


def test_solved_on_the_phone_then_closed() -> None:
    state, entries = transition(ticket(), Status.RESOLVED, AGENT, at(5), reason="reset password")
    assert state.status is Status.RESOLVED
    assert state.resolved_at == at(5)
    assert state.updated_at == at(5)
    assert entries == [
        AuditEntry(42, at(5), "li.agent", "status", "new", "resolved", "reset password"),
        AuditEntry(42, at(5), "li.agent", "resolved_at", None, at(5).isoformat(), "reset password"),
    ]
    closed, entries = transition(state, Status.CLOSED, CUSTOMER, at(10))
    assert closed.closed_at == at(10)
    assert {e.field for e in entries} == {"status", "closed_at"}


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        (
            Kind.INCIDENT,
            [
                Status.IN_PROGRESS,
                Status.WAITING_CUSTOMER,
                Status.IN_PROGRESS,
                Status.WAITING_VENDOR,
                Status.RESOLVED,
                Status.CLOSED,
            ],
        ),
        (Kind.SERVICE_REQUEST, [Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED]),
        (Kind.PROBLEM, [Status.IN_PROGRESS, Status.WAITING_VENDOR, Status.RESOLVED]),
        (Kind.COMPLAINT, [Status.IN_PROGRESS, Status.WAITING_CUSTOMER, Status.CANCELLED]),
    ],
)
def test_allowed_paths(kind: Kind, path: list[Status]) -> None:
    assert walk(ticket(kind), *path).status is path[-1]


@pytest.mark.parametrize(
    ("kind", "path", "refused"),
    [
        (Kind.INCIDENT, [], Status.CLOSED),  # a new ticket is not closed unresolved
        (Kind.INCIDENT, [], Status.WAITING_CUSTOMER),  # nobody has looked at it yet
        (Kind.INCIDENT, [Status.CANCELLED], Status.IN_PROGRESS),  # cancelled is final
        (Kind.INCIDENT, [Status.RESOLVED, Status.CLOSED], Status.IN_PROGRESS),  # so is closed
        (Kind.PROBLEM, [Status.IN_PROGRESS], Status.WAITING_CUSTOMER),
        (Kind.COMPLAINT, [Status.IN_PROGRESS], Status.WAITING_VENDOR),
        (Kind.CHANGE, [], Status.IN_PROGRESS),  # no work before approval
        (Kind.CHANGE, [], Status.RESOLVED),
    ],
)
def test_refused_moves(kind: Kind, path: list[Status], refused: Status) -> None:
    state = walk(ticket(kind), *path, actor=AOM if kind is Kind.COMPLAINT else AGENT)
    with pytest.raises(WorkflowError, match=f"cannot go from {state.status.value} to") as caught:
        transition(state, refused, AGENT, at(99))
    assert str(caught.value).startswith(f"{kind.value} 42: ")


def test_moving_to_the_same_status_or_an_unknown_one_is_refused() -> None:
    with pytest.raises(WorkflowError, match="already new"):
        transition(ticket(), Status.NEW, AGENT, at(1))
    with pytest.raises(WorkflowError, match="unknown status 'done'"):
        transition(ticket(), "done", AGENT, at(1))
    with pytest.raises(WorkflowError, match="unknown ticket kind 'bug'"):
        new_ticket(1, "bug", 3, AGENT, T0)


def test_every_kind_has_a_way_from_new_to_closed_or_cancelled() -> None:
    for kind, table in TRANSITIONS.items():
        seen, todo = {Status.NEW}, [Status.NEW]
        while todo:
            for nxt in table.get(todo.pop(), frozenset()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        assert Status.CANCELLED in seen, kind
        assert Status.CLOSED in seen, kind
        assert not table.get(Status.CLOSED) and not table.get(Status.CANCELLED), kind


def test_a_change_needs_approval_by_an_approver() -> None:
    state = walk(ticket(Kind.CHANGE), Status.PENDING_APPROVAL)
    with pytest.raises(WorkflowError, match=r"li\.agent \(agent\) cannot approve it"):
        transition(state, Status.ASSIGNED, AGENT, at(5))
    with pytest.raises(WorkflowError, match="cannot reject it"):
        transition(state, Status.CANCELLED, AGENT, at(5))
    with pytest.raises(WorkflowError, match="assigned once it is approved"):
        assign(state, Tier.EXPERT, "wang.expert", AGENT, at(5))
    approved, entries = transition(state, Status.ASSIGNED, CHANGE_MANAGER, at(5))
    assert approved.approved_by == "zhao.cm"
    assert ("approved_by", None, "zhao.cm") in [(e.field, e.old, e.new) for e in entries]
    rejected, _ = transition(
        state, Status.CANCELLED, Actor("asm", Role.ACCOUNT_SERVICE_MANAGER), at(5)
    )
    assert rejected.status is Status.CANCELLED and rejected.approved_by is None


def test_a_complaint_goes_to_the_account_operation_manager() -> None:
    state = ticket(Kind.COMPLAINT)
    assert state.tier is Tier.ACCOUNT_MANAGER
    with pytest.raises(WorkflowError, match="complaints stay with the account operation"):
        assign(state, Tier.EXPERT, None, AGENT, at(1))
    with pytest.raises(WorkflowError, match="no tier above account_manager"):
        escalate(state, AGENT, at(1), reason="angry")
    state, _ = assign(state, Tier.ACCOUNT_MANAGER, "chen.aom", AGENT, at(1))
    state = walk(state, Status.IN_PROGRESS, actor=AOM)
    with pytest.raises(WorkflowError, match="only the account operation manager resolves"):
        transition(state, Status.RESOLVED, AGENT, at(9))
    assert transition(state, Status.RESOLVED, AOM, at(9))[0].status is Status.RESOLVED
    assert escalation_manager(Kind.COMPLAINT) is Role.ACCOUNT_OPERATION_MANAGER
    assert escalation_manager(Kind.INCIDENT) is Role.ACCOUNT_SERVICE_MANAGER


def test_only_complaints_go_to_the_account_manager_tier() -> None:
    with pytest.raises(WorkflowError, match="only complaints"):
        assign(ticket(), Tier.ACCOUNT_MANAGER, "chen.aom", AGENT, at(1))


def test_assignment_and_functional_escalation_through_the_tiers() -> None:
    state, entries = assign(ticket(), Tier.SERVICE_DESK, "li.agent", AGENT, at(1))
    assert (state.status, state.assignee) == (Status.ASSIGNED, "li.agent")
    assert [(e.field, e.old, e.new) for e in entries] == [
        ("assignee", None, "li.agent"),
        ("status", "new", "assigned"),
    ]
    state = walk(state, Status.IN_PROGRESS)
    state, entries = escalate(state, AGENT, at(10), reason="needs an expert")
    assert (state.tier, state.assignee, state.status) == (Tier.EXPERT, None, Status.ASSIGNED)
    assert {(e.field, e.old, e.new) for e in entries} == {
        ("tier", "tier1_service_desk", "tier2_expert"),
        ("assignee", "li.agent", None),
        ("status", "in_progress", "assigned"),
    }
    assert all(e.reason == "needs an expert" for e in entries)
    state, _ = escalate(state, EXPERT, at(20), reason="vendor firmware bug")
    assert state.tier is Tier.VENDOR
    with pytest.raises(WorkflowError, match="no tier above tier3_vendor_senior"):
        escalate(state, EXPERT, at(30), reason="again")


def test_on_site_dispatch_and_escalation_back_to_the_experts() -> None:
    state, _ = assign(ticket(), Tier.ONSITE, "liu.onsite", AGENT, at(1), assignee_role=Role.ONSITE)
    assert (state.tier, state.status) == (Tier.ONSITE, Status.ASSIGNED)
    state, _ = escalate(state, Actor("liu.onsite", Role.ONSITE), at(50), reason="board dead")
    assert state.tier is Tier.EXPERT
    with pytest.raises(WorkflowError, match="does not work at onsite"):
        assign(ticket(), Tier.ONSITE, "li.agent", AGENT, at(1), assignee_role=Role.AGENT)


def test_escalation_needs_a_reason_and_an_open_ticket() -> None:
    with pytest.raises(WorkflowError, match="needs a reason"):
        escalate(ticket(), AGENT, at(1), reason=" ")
    with pytest.raises(WorkflowError, match="needs a reason"):
        escalate_to_manager(ticket(), AGENT, at(1), reason="")
    state, entries = escalate_to_manager(ticket(), AGENT, at(1), reason="new kind of scanner")
    assert state.escalation_level == 1 and state.tier is Tier.SERVICE_DESK
    assert [(e.field, e.old, e.new) for e in entries] == [("escalation_level", "0", "1")]
    closed = walk(ticket(), Status.RESOLVED, Status.CLOSED)
    with pytest.raises(WorkflowError, match="closed ticket cannot be escalated"):
        escalate_to_manager(closed, AGENT, at(9), reason="late")
    with pytest.raises(WorkflowError, match="resolved ticket cannot be assigned"):
        assign(walk(ticket(), Status.RESOLVED), Tier.EXPERT, None, AGENT, at(9))


def test_waiting_tickets_keep_waiting_when_handed_on() -> None:
    state = walk(ticket(), Status.IN_PROGRESS, Status.WAITING_VENDOR)
    state, _ = assign(state, Tier.VENDOR, "dell.engineer", EXPERT, at(5))
    assert state.status is Status.WAITING_VENDOR


def test_reopen_after_resolution() -> None:
    resolved = walk(ticket(), Status.IN_PROGRESS, Status.RESOLVED)
    assert resolved.resolved_at == at(2)
    state, entries = reopen(resolved, CUSTOMER, at(30), reason="still broken")
    assert (state.status, state.resolved_at, state.reopen_count) == (
        Status.IN_PROGRESS,
        None,
        1,
    )
    assert {e.field for e in entries} == {"status", "resolved_at", "reopen_count"}
    again = walk(state, Status.RESOLVED)
    state, _ = reopen(again, CUSTOMER, at(60))
    assert state.reopen_count == 2
    with pytest.raises(WorkflowError, match="only a resolved ticket can be reopened"):
        reopen(walk(again, Status.CLOSED), CUSTOMER, at(90))


def test_what_a_customer_and_the_system_may_do() -> None:
    with pytest.raises(WorkflowError, match="a customer cannot move it to resolved"):
        transition(walk(ticket(), Status.IN_PROGRESS), Status.RESOLVED, CUSTOMER, at(5))
    waiting = walk(ticket(), Status.IN_PROGRESS, Status.WAITING_CUSTOMER)
    assert transition(waiting, Status.IN_PROGRESS, CUSTOMER, at(5))[0].status is Status.IN_PROGRESS
    assert transition(ticket(), Status.CANCELLED, CUSTOMER, at(5))[0].status is Status.CANCELLED
    with pytest.raises(WorkflowError, match="cannot assign"):
        assign(ticket(), Tier.EXPERT, None, CUSTOMER, at(5))
    with pytest.raises(WorkflowError, match="no automatic move"):
        transition(ticket(), Status.CANCELLED, SYSTEM, at(5))


def test_auto_close_after_the_quiet_period() -> None:
    resolved = walk(ticket(), Status.RESOLVED)  # resolved at at(1)
    assert not auto_close_due(resolved, at(1) + timedelta(days=5) - timedelta(seconds=1))
    assert auto_close_due(resolved, at(1) + timedelta(days=5))
    assert not auto_close_due(ticket(), at(1) + timedelta(days=50))
    closed, _ = transition(resolved, Status.CLOSED, SYSTEM, at(1) + timedelta(days=5))
    assert closed.status is Status.CLOSED


def test_priority_changes_are_audited() -> None:
    state, entries = set_priority(ticket(), 1, AGENT, at(1), reason="whole floor down")
    assert state.priority == 1
    assert [(e.field, e.old, e.new, e.reason) for e in entries] == [
        ("priority", "3", "1", "whole floor down")
    ]
    assert set_priority(state, 1, AGENT, at(2)) == (state, [])  # no change, no entry
    with pytest.raises(WorkflowError, match=r"priority 9 not in 1\.\.5"):
        set_priority(state, 9, AGENT, at(2))


def test_times_are_aware_and_recorded_in_utc() -> None:
    with pytest.raises(WorkflowError, match="naive"):
        transition(ticket(), Status.IN_PROGRESS, AGENT, datetime(2026, 11, 27, 9, 0))
    local = datetime(2026, 11, 27, 18, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    state, entries = transition(ticket(), Status.RESOLVED, AGENT, local)
    assert state.resolved_at == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    assert state.resolved_at is not None and state.resolved_at.tzinfo is UTC
    assert entries[0].at.tzinfo is UTC
