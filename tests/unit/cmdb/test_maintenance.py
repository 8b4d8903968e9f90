"""Preventive maintenance plans and the due list."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from callcenter.cmdb.maintenance import (
    DEFAULT_INTERVAL_DAYS,
    ItemFacts,
    Plan,
    PlanBook,
    PlanError,
    check_interval,
    due_list,
    next_due,
)
from callcenter.cmdb.model import ItemCategory, ItemStatus

TODAY = date(2026, 6, 1)


def _item(
    item_id: int,
    category: ItemCategory = ItemCategory.PC,
    *,
    department: str | None = "KJC",
    purchased: date | None = date(2025, 1, 1),
    last: date | None = None,
    status: ItemStatus = ItemStatus.IN_USE,
) -> ItemFacts:
    return ItemFacts(item_id, f"ITEM-{item_id}", category, status, department, purchased, last)


def test_next_due_is_last_preventive_plus_interval() -> None:
    item = _item(1, purchased=date(2024, 1, 1), last=date(2026, 3, 1))
    assert next_due(item, 90, TODAY) == date(2026, 5, 30)


def test_never_maintained_is_due_from_purchase() -> None:
    assert next_due(_item(1, purchased=date(2026, 2, 1)), 120, TODAY) == date(2026, 6, 1)


def test_nothing_known_is_due_today() -> None:
    assert next_due(_item(1, purchased=None), 120, TODAY) == TODAY


def test_defaults_pcs_every_four_months_peripherals_every_nine() -> None:
    book = PlanBook()
    assert book.interval("KJC", ItemCategory.PC) == 120
    assert book.interval(None, ItemCategory.LAPTOP) == 120
    assert book.interval("KJC", ItemCategory.PRINTER) == 270
    assert book.interval("KJC", ItemCategory.PERIPHERAL) == 270
    assert book.interval("KJC", ItemCategory.SERVER) is None


def test_a_department_plan_beats_the_general_one_beats_the_default() -> None:
    book = PlanBook(
        [
            Plan(None, ItemCategory.PC, 150),
            Plan("KJC", ItemCategory.PC, 90),
            Plan(None, ItemCategory.SERVER, 30),
        ]
    )
    assert book.interval("KJC", ItemCategory.PC) == 90
    assert book.interval("CGS", ItemCategory.PC) == 150
    assert book.interval("CGS", ItemCategory.LAPTOP) == DEFAULT_INTERVAL_DAYS[ItemCategory.LAPTOP]
    assert book.interval("CGS", ItemCategory.SERVER) == 30


@pytest.mark.parametrize(
    ("category", "days", "ok"),
    [
        (ItemCategory.PC, 89, False),
        (ItemCategory.PC, 90, True),
        (ItemCategory.PC, 184, True),
        (ItemCategory.PC, 185, False),
        (ItemCategory.PRINTER, 180, False),
        (ItemCategory.PRINTER, 366, True),
        (ItemCategory.PERIPHERAL, 367, False),
        (ItemCategory.NETWORK, 6, False),
    ],
)
def test_intervals_stay_within_the_source_limits(
    category: ItemCategory, days: int, ok: bool
) -> None:
    if ok:
        check_interval(category, days)
    else:
        with pytest.raises(PlanError, match="interval_days"):
            check_interval(category, days)
        with pytest.raises(PlanError):
            PlanBook([Plan("KJC", category, days)])


def test_due_list_puts_overdue_first() -> None:
    items = [
        _item(1, last=TODAY - timedelta(days=120)),  # due today
        _item(2, last=TODAY - timedelta(days=200)),  # 80 days overdue
        _item(3, ItemCategory.PRINTER, purchased=TODAY - timedelta(days=300)),  # 30 overdue
        _item(4, last=TODAY - timedelta(days=10)),  # not due
    ]
    found = due_list(items, PlanBook(), TODAY)
    assert [(d.item.item_id, d.overdue_days) for d in found] == [(2, 80), (3, 30), (1, 0)]


def test_before_looks_ahead() -> None:
    items = [_item(1, last=TODAY - timedelta(days=100)), _item(2, last=TODAY - timedelta(days=50))]
    assert [d.item.item_id for d in due_list(items, PlanBook(), TODAY)] == []
    ahead = due_list(items, PlanBook(), TODAY, before=TODAY + timedelta(days=20))
    assert [(d.item.item_id, d.due) for d in ahead] == [(1, TODAY + timedelta(days=20))]


def test_due_list_by_department_with_its_own_interval() -> None:
    items = [
        _item(1, department="KJC", last=TODAY - timedelta(days=100)),
        _item(2, department="CGS", last=TODAY - timedelta(days=100)),
    ]
    book = PlanBook([Plan("KJC", ItemCategory.PC, 90)])
    assert [d.item.item_id for d in due_list(items, book, TODAY)] == [1]
    assert due_list(items, book, TODAY, department="CGS") == []
    assert [d.interval_days for d in due_list(items, book, TODAY, department="KJC")] == [90]


def test_items_not_in_use_or_without_a_plan_are_left_out() -> None:
    old = TODAY - timedelta(days=1000)
    items = [
        _item(1, purchased=old, status=ItemStatus.IN_STOCK),
        _item(2, purchased=old, status=ItemStatus.RETIRED),
        _item(3, purchased=old, status=ItemStatus.IN_REPAIR),
        _item(4, ItemCategory.SERVER, purchased=old),
        _item(5, ItemCategory.SOFTWARE, purchased=old),
    ]
    assert due_list(items, PlanBook(), TODAY) == []


def test_ties_are_ordered_by_name() -> None:
    items = [_item(2, purchased=None), _item(1, purchased=None)]
    assert [d.item.name for d in due_list(items, PlanBook(), TODAY)] == ["ITEM-1", "ITEM-2"]
