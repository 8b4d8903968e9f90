"""The hardware repair state machine: warranty paths, quotes, approval, item status."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from callcenter.cmdb.model import ItemStatus
from callcenter.cmdb.repair import (
    RepairAction,
    RepairError,
    RepairState,
    RepairTask,
    Step,
    advance,
    allowed_actions,
    new_task,
)

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
A = RepairAction


def _task(warranty: bool) -> RepairTask:
    end = date(2027, 1, 1) if warranty else date(2026, 1, 1)
    return new_task(7, 3, end, NOW)


def _run(task: RepairTask, *steps: Step) -> tuple[RepairTask, list[ItemStatus | None]]:
    statuses: list[ItemStatus | None] = []
    for number, step in enumerate(steps, start=1):
        task, status = advance(task, step, NOW + timedelta(hours=number))
        statuses.append(status)
    return task, statuses


def test_warranty_is_judged_on_the_creation_day() -> None:
    assert new_task(1, 1, NOW.date(), NOW).in_warranty
    assert not new_task(1, 1, NOW.date() - timedelta(days=1), NOW).in_warranty
    assert not new_task(1, 1, None, NOW).in_warranty
    task = new_task(1, 1, NOW.date(), NOW)
    assert (task.state, task.created_at, task.ticket_id) == (RepairState.NEW, NOW, 1)


def test_in_warranty_vendor_on_site() -> None:
    task, statuses = _run(_task(True), Step(A.VENDOR_VISIT), Step(A.RETURN_ITEM))
    assert task.state is RepairState.RETURNED and not task.open
    assert statuses == [ItemStatus.IN_REPAIR, ItemStatus.IN_USE]
    assert task.closed_at == NOW + timedelta(hours=2)


def test_in_warranty_sent_to_the_repair_centre_and_returned() -> None:
    task, statuses = _run(_task(True), Step(A.SEND_TO_VENDOR))
    assert task.state is RepairState.AT_VENDOR and task.open
    assert statuses == [ItemStatus.IN_REPAIR]
    task, statuses = _run(task, Step(A.RETURN_ITEM))
    assert task.state is RepairState.RETURNED and statuses == [ItemStatus.IN_USE]


def test_out_of_warranty_quote_approval_repair_return() -> None:
    task, statuses = _run(
        _task(False),
        Step(A.QUOTE, quote_cents=45_000),
        Step(A.APPROVE, approved_by="  Chen Jing "),
        Step(A.START_REPAIR),
        Step(A.RETURN_ITEM),
    )
    assert task.state is RepairState.RETURNED
    assert statuses == [None, None, ItemStatus.IN_REPAIR, ItemStatus.IN_USE]
    assert task.quote_cents == 45_000
    assert (task.approved_by, task.approved_at) == ("Chen Jing", NOW + timedelta(hours=2))


def test_rejected_quote_closes_and_may_then_be_written_off() -> None:
    task, statuses = _run(_task(False), Step(A.QUOTE, quote_cents=1), Step(A.REJECT))
    assert task.state is RepairState.CLOSED and statuses == [None, None]
    assert task.approved_by is None and not task.open
    assert allowed_actions(task) == [A.WRITE_OFF]
    task, statuses = _run(task, Step(A.WRITE_OFF))
    assert task.state is RepairState.WRITTEN_OFF and statuses == [ItemStatus.RETIRED]
    assert allowed_actions(task) == []


@pytest.mark.parametrize("warranty", [True, False])
def test_written_off_while_away(warranty: bool) -> None:
    first = Step(A.SEND_TO_VENDOR) if warranty else Step(A.QUOTE, quote_cents=10)
    task, statuses = _run(_task(warranty), first, Step(A.WRITE_OFF))
    assert task.state is RepairState.WRITTEN_OFF and statuses[-1] is ItemStatus.RETIRED


@pytest.mark.parametrize("signer", [None, "", "   "])
def test_approval_needs_a_named_person(signer: str | None) -> None:
    task, _ = _run(_task(False), Step(A.QUOTE, quote_cents=100))
    with pytest.raises(RepairError) as caught:
        advance(task, Step(A.APPROVE, approved_by=signer), NOW)
    assert caught.value.field == "approved_by" and not caught.value.conflict


def test_no_repair_without_approval() -> None:
    task, _ = _run(_task(False), Step(A.QUOTE, quote_cents=100))
    with pytest.raises(RepairError) as caught:
        advance(task, Step(A.START_REPAIR), NOW)
    assert caught.value.conflict and caught.value.field == "action"
    assert "allowed: approve, reject, write_off" in str(caught.value)


@pytest.mark.parametrize("amount", [None, 0, -5, 100_000_000_01])
def test_a_quote_needs_a_sensible_amount(amount: int | None) -> None:
    with pytest.raises(RepairError) as caught:
        advance(_task(False), Step(A.QUOTE, quote_cents=amount), NOW)
    assert caught.value.field == "amount" and not caught.value.conflict


@pytest.mark.parametrize("action", [A.QUOTE, A.APPROVE, A.REJECT, A.START_REPAIR, A.RETURN_ITEM])
def test_warranty_repairs_take_no_paid_steps(action: RepairAction) -> None:
    with pytest.raises(RepairError) as caught:
        advance(_task(True), Step(action, quote_cents=5, approved_by="x"), NOW)
    assert caught.value.conflict


@pytest.mark.parametrize("action", [A.VENDOR_VISIT, A.SEND_TO_VENDOR, A.RETURN_ITEM, A.APPROVE])
def test_paid_repairs_start_with_a_quote(action: RepairAction) -> None:
    with pytest.raises(RepairError) as caught:
        advance(_task(False), Step(action, approved_by="x"), NOW)
    assert caught.value.conflict


def test_a_returned_item_takes_no_further_step() -> None:
    task, _ = _run(_task(True), Step(A.VENDOR_VISIT), Step(A.RETURN_ITEM))
    assert allowed_actions(task) == []
    for action in A:
        with pytest.raises(RepairError):
            advance(task, Step(action, quote_cents=1, approved_by="x"), NOW)


def test_allowed_actions_per_state() -> None:
    assert allowed_actions(_task(True)) == [A.VENDOR_VISIT, A.SEND_TO_VENDOR, A.WRITE_OFF]
    assert allowed_actions(_task(False)) == [A.QUOTE, A.WRITE_OFF]
    approved, _ = _run(
        _task(False), Step(A.QUOTE, quote_cents=3), Step(A.APPROVE, approved_by="Li")
    )
    assert allowed_actions(approved) == [A.START_REPAIR, A.WRITE_OFF]


def test_a_second_quote_is_a_wrong_step() -> None:
    task, _ = _run(_task(False), Step(A.QUOTE, quote_cents=3))
    with pytest.raises(RepairError):
        advance(task, Step(A.QUOTE, quote_cents=4), NOW)
