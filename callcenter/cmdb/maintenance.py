"""Preventive maintenance: intervals per department and item category, and the due list.

The source asks for PCs to be serviced every 3 to 6 months by department and
peripherals every 6 to 12 months. A plan sets the interval of one category, either for
one department or for all (department None); the built-in defaults fill the rest.
Servers, network devices and software have no interval unless a plan gives one.
Pure code: the dates and facts come from the caller.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from callcenter.cmdb.model import ItemCategory, ItemStatus


class MaintenanceKind(StrEnum):
    REPAIR = "repair"
    PREVENTIVE = "preventive"


PC_CLASS = frozenset({ItemCategory.PC, ItemCategory.LAPTOP})
PERIPHERAL_CLASS = frozenset({ItemCategory.PRINTER, ItemCategory.PERIPHERAL})

#: Allowed intervals in days, per category: the source's 3-6 and 6-12 months.
INTERVAL_LIMITS: Mapping[ItemCategory, tuple[int, int]] = {
    **{category: (90, 184) for category in PC_CLASS},
    **{category: (181, 366) for category in PERIPHERAL_CLASS},
    ItemCategory.SERVER: (7, 366),
    ItemCategory.NETWORK: (7, 366),
    ItemCategory.SOFTWARE: (7, 366),
}
#: Without a plan: PCs every 4 months, peripherals every 9.
DEFAULT_INTERVAL_DAYS: Mapping[ItemCategory, int] = {
    **{category: 120 for category in PC_CLASS},
    **{category: 270 for category in PERIPHERAL_CLASS},
}
#: Only items in use are serviced: stock, repair and retired items wait.
SERVICED_STATUSES = frozenset({ItemStatus.IN_USE})


class PlanError(ValueError):
    """An interval outside the category's limits."""


def check_interval(category: ItemCategory, days: int) -> None:
    low, high = INTERVAL_LIMITS[category]
    if not low <= days <= high:
        raise PlanError(f"interval_days: {category.value} every {low} to {high} days")


@dataclass(frozen=True)
class Plan:
    """Service `category` every `interval_days`; for one department, or all if None."""

    department: str | None
    category: ItemCategory
    interval_days: int


class PlanBook:
    """The intervals in force: a department's plan, else the all-departments plan, else
    the default."""

    def __init__(self, plans: Iterable[Plan] = ()) -> None:
        self._days: dict[tuple[str | None, ItemCategory], int] = {}
        for plan in plans:
            check_interval(plan.category, plan.interval_days)
            self._days[(plan.department, plan.category)] = plan.interval_days

    def interval(self, department: str | None, category: ItemCategory) -> int | None:
        for key in ((department, category), (None, category)):
            if key in self._days:
                return self._days[key]
        return DEFAULT_INTERVAL_DAYS.get(category)


@dataclass(frozen=True)
class ItemFacts:
    """What the due list needs to know of one item."""

    item_id: int
    name: str
    category: ItemCategory
    status: ItemStatus
    department: str | None
    purchase_date: date | None
    last_preventive: date | None


@dataclass(frozen=True)
class DueItem:
    item: ItemFacts
    interval_days: int
    due: date
    #: Days past due on `today`; 0 when not yet due.
    overdue_days: int


def next_due(item: ItemFacts, interval_days: int, today: date) -> date:
    """Last preventive maintenance + interval; never maintained: purchase + interval;
    no date known at all: due today."""
    base = item.last_preventive or item.purchase_date
    return today if base is None else base + timedelta(days=interval_days)


def due_list(
    items: Iterable[ItemFacts],
    plans: PlanBook,
    today: date,
    before: date | None = None,
    department: str | None = None,
) -> list[DueItem]:
    """Items in use due on or before `before` (default `today`), of `department` if
    given; overdue first (earliest due first), then by name."""
    limit = today if before is None else before
    found: list[DueItem] = []
    for item in items:
        if item.status not in SERVICED_STATUSES:
            continue
        if department is not None and item.department != department:
            continue
        interval = plans.interval(item.department, item.category)
        if interval is None:
            continue
        due = next_due(item, interval, today)
        if due <= limit:
            found.append(DueItem(item, interval, due, max(0, (today - due).days)))
    found.sort(key=lambda entry: (entry.due, entry.item.name))
    return found
