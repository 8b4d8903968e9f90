"""Configuration items: categories from types, warranty, and the relation rules."""

from __future__ import annotations

from datetime import date

import pytest

from callcenter.cmdb.model import (
    ItemCategory,
    Relation,
    RelationError,
    RelationKind,
    category_for_type,
    check_relation,
    in_warranty,
)

INSTALLED = RelationKind.INSTALLED_ON
CONNECTED = RelationKind.CONNECTED_TO
DEPENDS = RelationKind.DEPENDS_ON

#: 1, 2 PCs; 3 a server; 4 a printer; 5, 6 software; 7 a switch.
CATEGORIES = {
    1: ItemCategory.PC,
    2: ItemCategory.LAPTOP,
    3: ItemCategory.SERVER,
    4: ItemCategory.PRINTER,
    5: ItemCategory.SOFTWARE,
    6: ItemCategory.SOFTWARE,
    7: ItemCategory.NETWORK,
}


@pytest.mark.parametrize(
    ("device_type", "category"),
    [
        ("desktop", ItemCategory.PC),
        ("Desktop Computer", ItemCategory.PC),
        ("laptop", ItemCategory.LAPTOP),
        ("printer", ItemCategory.PRINTER),
        ("server", ItemCategory.SERVER),
        ("network_device", ItemCategory.NETWORK),
        ("switch", ItemCategory.NETWORK),
        ("software", ItemCategory.SOFTWARE),
        ("monitor", ItemCategory.PERIPHERAL),
        ("", ItemCategory.PERIPHERAL),
        (None, ItemCategory.PERIPHERAL),
    ],
)
def test_category_follows_the_surveyed_type(
    device_type: str | None, category: ItemCategory
) -> None:
    assert category_for_type(device_type) is category


def test_warranty_covers_its_last_day_and_nothing_without_an_end() -> None:
    end = date(2026, 3, 31)
    assert in_warranty(end, date(2026, 3, 31))
    assert not in_warranty(end, date(2026, 4, 1))
    assert not in_warranty(None, date(2000, 1, 1))


def _check(new: Relation, *existing: Relation) -> None:
    check_relation(new, existing, CATEGORIES)


def _refused(new: Relation, *existing: Relation) -> RelationError:
    with pytest.raises(RelationError) as caught:
        _check(new, *existing)
    return caught.value


@pytest.mark.parametrize("kind", list(RelationKind))
def test_no_item_relates_to_itself(kind: RelationKind) -> None:
    error = _refused(Relation(5, 5, kind))
    assert error.field == "other_id" and not error.conflict


def test_software_is_installed_on_a_computer() -> None:
    for computer in (1, 2, 3):
        _check(Relation(5, computer, INSTALLED))


@pytest.mark.parametrize(
    ("item", "other", "field"),
    [(1, 3, "kind"), (4, 1, "kind"), (5, 4, "other_id"), (5, 7, "other_id"), (5, 6, "other_id")],
)
def test_only_software_on_computers(item: int, other: int, field: str) -> None:
    error = _refused(Relation(item, other, INSTALLED))
    assert error.field == field and error.conflict


def test_an_installation_sits_on_one_computer() -> None:
    error = _refused(Relation(5, 2, INSTALLED), Relation(5, 1, INSTALLED))
    assert "already installed" in str(error)
    _check(Relation(6, 1, INSTALLED), Relation(5, 1, INSTALLED))  # another one may


def test_the_same_relation_is_stored_once() -> None:
    error = _refused(Relation(1, 7, CONNECTED), Relation(1, 7, CONNECTED))
    assert error.conflict
    _check(Relation(1, 7, DEPENDS), Relation(1, 7, CONNECTED))  # another kind is fine


def test_connected_to_is_the_same_either_way() -> None:
    _refused(Relation(7, 1, CONNECTED), Relation(1, 7, CONNECTED))


def test_depends_on_may_point_back_through_connected_to() -> None:
    _check(Relation(1, 4, DEPENDS), Relation(4, 1, CONNECTED))


def test_a_direct_cycle_is_refused() -> None:
    error = _refused(Relation(3, 1, DEPENDS), Relation(1, 3, DEPENDS))
    assert error.conflict and "cycle" in str(error)


def test_a_long_cycle_is_refused() -> None:
    chain = [Relation(1, 2, DEPENDS), Relation(2, 3, DEPENDS), Relation(3, 7, DEPENDS)]
    _refused(Relation(7, 1, DEPENDS), *chain)
    _check(Relation(1, 7, DEPENDS), *chain)  # a shortcut is no cycle


def test_installed_on_and_depends_on_together_make_a_cycle() -> None:
    # The PC depends on software installed on it: each rests on the other.
    _refused(Relation(1, 5, DEPENDS), Relation(5, 1, INSTALLED))


def test_a_diamond_is_no_cycle() -> None:
    diamond = [Relation(5, 1, INSTALLED), Relation(1, 3, DEPENDS), Relation(5, 7, DEPENDS)]
    _check(Relation(7, 3, DEPENDS), *diamond)
