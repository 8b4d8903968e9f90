"""Hardware repair as a task of a ticket: the source's process as a state machine.

In warranty: the vendor repairs on site (`vendor_visit`), or the item is sent to the
vendor's repair centre (`send_to_vendor`); either way it comes back (`return_item`).
Out of warranty: a quote is asked for (`quote`, with the amount), a named person signs
it (`approve`, `approved_by`) or turns it down (`reject`, which closes the task); an
approved repair starts (`start_repair`) and the item comes back (`return_item`). Any
unfinished task, or one closed after a rejected quote, may end with the item written off
(`write_off`). The item's status follows each step. Whether the warranty covers the
repair is decided once, from `warranty_end` on the day the task is created.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from callcenter.cmdb.model import ItemStatus, in_warranty

#: A quote above this (in cents) is a typing mistake, not a repair.
MAX_QUOTE_CENTS = 100_000_000_00


class RepairState(StrEnum):
    NEW = "new"
    VENDOR_ONSITE = "vendor_onsite"
    AT_VENDOR = "at_vendor"
    QUOTED = "quoted"
    APPROVED = "approved"
    REPAIRING = "repairing"
    RETURNED = "returned"
    CLOSED = "closed"
    WRITTEN_OFF = "written_off"


class RepairAction(StrEnum):
    VENDOR_VISIT = "vendor_visit"
    SEND_TO_VENDOR = "send_to_vendor"
    QUOTE = "quote"
    APPROVE = "approve"
    REJECT = "reject"
    START_REPAIR = "start_repair"
    RETURN_ITEM = "return_item"
    WRITE_OFF = "write_off"


#: States a task ends in; only `closed` may still be written off.
FINAL_STATES = frozenset({RepairState.RETURNED, RepairState.CLOSED, RepairState.WRITTEN_OFF})

#: (covered by warranty, state, action) -> next state.
_WARRANTY_STEPS: dict[tuple[RepairState, RepairAction], RepairState] = {
    (RepairState.NEW, RepairAction.VENDOR_VISIT): RepairState.VENDOR_ONSITE,
    (RepairState.NEW, RepairAction.SEND_TO_VENDOR): RepairState.AT_VENDOR,
    (RepairState.VENDOR_ONSITE, RepairAction.RETURN_ITEM): RepairState.RETURNED,
    (RepairState.AT_VENDOR, RepairAction.RETURN_ITEM): RepairState.RETURNED,
}
_PAID_STEPS: dict[tuple[RepairState, RepairAction], RepairState] = {
    (RepairState.NEW, RepairAction.QUOTE): RepairState.QUOTED,
    (RepairState.QUOTED, RepairAction.APPROVE): RepairState.APPROVED,
    (RepairState.QUOTED, RepairAction.REJECT): RepairState.CLOSED,
    (RepairState.APPROVED, RepairAction.START_REPAIR): RepairState.REPAIRING,
    (RepairState.REPAIRING, RepairAction.RETURN_ITEM): RepairState.RETURNED,
}
#: The item's status on entering a state; states not listed leave it as it is.
ITEM_STATUS: dict[RepairState, ItemStatus] = {
    RepairState.VENDOR_ONSITE: ItemStatus.IN_REPAIR,
    RepairState.AT_VENDOR: ItemStatus.IN_REPAIR,
    RepairState.REPAIRING: ItemStatus.IN_REPAIR,
    RepairState.RETURNED: ItemStatus.IN_USE,
    RepairState.WRITTEN_OFF: ItemStatus.RETIRED,
}


class RepairError(ValueError):
    """A step the task cannot take: `conflict` for the wrong step in this state (409),
    otherwise a missing or bad value (400) in `field`."""

    def __init__(self, message: str, *, field: str, conflict: bool) -> None:
        super().__init__(message)
        self.field = field
        self.conflict = conflict


@dataclass(frozen=True)
class RepairTask:
    ticket_id: int
    item_id: int
    in_warranty: bool
    state: RepairState
    created_at: datetime
    updated_at: datetime
    quote_cents: int | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None
    closed_at: datetime | None = None
    #: None until stored.
    id: int | None = None

    @property
    def open(self) -> bool:
        return self.state not in FINAL_STATES


@dataclass(frozen=True)
class Step:
    """What a client asks: the action and the values it needs."""

    action: RepairAction
    quote_cents: int | None = None
    approved_by: str | None = None


def new_task(ticket_id: int, item_id: int, warranty_end: date | None, now: datetime) -> RepairTask:
    """A task created at `now`: the warranty is judged on that day, once."""
    return RepairTask(
        ticket_id=ticket_id,
        item_id=item_id,
        in_warranty=in_warranty(warranty_end, now.date()),
        state=RepairState.NEW,
        created_at=now,
        updated_at=now,
    )


def allowed_actions(task: RepairTask) -> list[RepairAction]:
    """The actions the task may take now, in a stable order."""
    steps = _WARRANTY_STEPS if task.in_warranty else _PAID_STEPS
    found = [action for (state, action) in steps if state is task.state]
    if task.open or task.state is RepairState.CLOSED:
        found.append(RepairAction.WRITE_OFF)
    return found


def advance(task: RepairTask, step: Step, now: datetime) -> tuple[RepairTask, ItemStatus | None]:
    """The task after `step`, and the item's new status (None: unchanged)."""
    if step.action is RepairAction.WRITE_OFF:
        if not (task.open or task.state is RepairState.CLOSED):
            raise _wrong_step(task, step)
        target = RepairState.WRITTEN_OFF
    else:
        steps = _WARRANTY_STEPS if task.in_warranty else _PAID_STEPS
        found = steps.get((task.state, step.action))
        if found is None:
            raise _wrong_step(task, step)
        target = found
    changes: dict[str, object] = {"state": target, "updated_at": now}
    if step.action is RepairAction.QUOTE:
        if step.quote_cents is None:
            raise RepairError("amount: a quote needs its amount", field="amount", conflict=False)
        if not 0 < step.quote_cents <= MAX_QUOTE_CENTS:
            raise RepairError(
                "amount: must be more than 0 and at most 100,000,000",
                field="amount",
                conflict=False,
            )
        changes["quote_cents"] = step.quote_cents
    if step.action is RepairAction.APPROVE:
        signer = (step.approved_by or "").strip()
        if not signer:
            raise RepairError(
                "approved_by: the quote is approved by a named person",
                field="approved_by",
                conflict=False,
            )
        changes["approved_by"] = signer
        changes["approved_at"] = now
    if target in FINAL_STATES:
        changes["closed_at"] = now
    return replace(task, **changes), ITEM_STATUS.get(target)  # type: ignore[arg-type]


def _wrong_step(task: RepairTask, step: Step) -> RepairError:
    cover = "in warranty" if task.in_warranty else "out of warranty"
    allowed = ", ".join(a.value for a in allowed_actions(task)) or "none"
    return RepairError(
        f"action: {step.action.value} is not a step of a {task.state.value} repair "
        f"{cover} (allowed: {allowed})",
        field="action",
        conflict=True,
    )
