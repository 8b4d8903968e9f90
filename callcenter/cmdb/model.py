"""Configuration items: their categories and statuses, and the rules for relations.

A configuration item is a row of `device` (the table kept its first name): a PC, a
laptop, a printer or other peripheral, a server, a network device, or a software
installation. A software installation is an item `installed_on` a computer. Pure code:
the database adapter (`cmdb_store`) loads what the rules need and asks them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class ItemCategory(StrEnum):
    """What kind of item; decides maintenance plans and which relations make sense."""

    PC = "pc"
    LAPTOP = "laptop"
    PRINTER = "printer"
    PERIPHERAL = "peripheral"
    SERVER = "server"
    NETWORK = "network"
    SOFTWARE = "software"


class ItemStatus(StrEnum):
    """Where an item is in its life; repairs move it between in_use and in_repair.

    `lost` is kept because the asset import has always accepted it.
    """

    IN_USE = "in_use"
    IN_REPAIR = "in_repair"
    IN_STOCK = "in_stock"
    RETIRED = "retired"
    LOST = "lost"


class RelationKind(StrEnum):
    """`item` is installed on / connected to / depends on `other`."""

    INSTALLED_ON = "installed_on"
    CONNECTED_TO = "connected_to"
    DEPENDS_ON = "depends_on"


#: Software is installed on these.
COMPUTERS = frozenset({ItemCategory.PC, ItemCategory.LAPTOP, ItemCategory.SERVER})
#: Relations that mean "rests on": together they must never form a cycle.
DIRECTED = frozenset({RelationKind.INSTALLED_ON, RelationKind.DEPENDS_ON})

#: Device types as surveys write them (lower case) -> category; anything else is a
#: peripheral (monitor, scanner, telephone, ...).
TYPE_CATEGORIES: Mapping[str, ItemCategory] = {
    "desktop": ItemCategory.PC,
    "desktop computer": ItemCategory.PC,
    "pc": ItemCategory.PC,
    "computer": ItemCategory.PC,
    "workstation": ItemCategory.PC,
    "laptop": ItemCategory.LAPTOP,
    "notebook": ItemCategory.LAPTOP,
    "printer": ItemCategory.PRINTER,
    "mfp": ItemCategory.PRINTER,
    "copier": ItemCategory.PRINTER,
    "server": ItemCategory.SERVER,
    "network": ItemCategory.NETWORK,
    "network device": ItemCategory.NETWORK,
    "switch": ItemCategory.NETWORK,
    "router": ItemCategory.NETWORK,
    "firewall": ItemCategory.NETWORK,
    "access point": ItemCategory.NETWORK,
    "software": ItemCategory.SOFTWARE,
    "application": ItemCategory.SOFTWARE,
}


def category_for_type(device_type: str | None) -> ItemCategory:
    """The category an imported item gets from its free-text type."""
    key = " ".join((device_type or "").lower().replace("_", " ").split())
    return TYPE_CATEGORIES.get(key, ItemCategory.PERIPHERAL)


def in_warranty(warranty_end: date | None, today: date) -> bool:
    """Covered on `today`: the warranty's last day counts; no end date means none."""
    return warranty_end is not None and today <= warranty_end


@dataclass(frozen=True)
class Relation:
    item_id: int
    other_id: int
    kind: RelationKind


class RelationError(ValueError):
    """A relation the rules refuse; `conflict` when it clashes with stored ones."""

    def __init__(self, message: str, *, field: str, conflict: bool) -> None:
        super().__init__(message)
        self.field = field
        self.conflict = conflict


def check_relation(
    new: Relation, existing: Iterable[Relation], categories: Mapping[int, ItemCategory]
) -> None:
    """Raise `RelationError` unless `new` may join `existing`.

    Rules: no item relates to itself; a relation is stored once (connected_to in either
    direction counts as the same); only software is installed, only on a computer, and
    on one computer at a time; installed_on and depends_on together form no cycle.
    `categories` must hold both items of `new`.
    """
    if new.item_id == new.other_id:
        raise RelationError(
            "other_id: an item cannot relate to itself", field="other_id", conflict=False
        )
    stored = list(existing)
    for old in stored:
        same = (old.item_id, old.other_id) == (new.item_id, new.other_id)
        mirrored = (old.item_id, old.other_id) == (new.other_id, new.item_id)
        if old.kind is new.kind and (same or (mirrored and new.kind is RelationKind.CONNECTED_TO)):
            raise RelationError(
                f"other_id: item {new.item_id} is already {new.kind.value} item {new.other_id}",
                field="other_id",
                conflict=True,
            )
    if new.kind is RelationKind.INSTALLED_ON:
        if categories[new.item_id] is not ItemCategory.SOFTWARE:
            raise RelationError(
                "kind: only a software installation is installed_on another item",
                field="kind",
                conflict=True,
            )
        if categories[new.other_id] not in COMPUTERS:
            raise RelationError(
                "other_id: software is installed on a PC, laptop or server",
                field="other_id",
                conflict=True,
            )
        if any(o.kind is RelationKind.INSTALLED_ON and o.item_id == new.item_id for o in stored):
            raise RelationError(
                f"other_id: item {new.item_id} is already installed on a computer",
                field="other_id",
                conflict=True,
            )
    if new.kind in DIRECTED and _reaches(new.other_id, new.item_id, stored):
        raise RelationError(
            f"other_id: item {new.other_id} already rests on item {new.item_id} "
            "(installed_on/depends_on): this would make a cycle",
            field="other_id",
            conflict=True,
        )


def _reaches(start: int, goal: int, relations: Iterable[Relation]) -> bool:
    """Whether `goal` is reachable from `start` along installed_on/depends_on edges."""
    edges: dict[int, set[int]] = {}
    for relation in relations:
        if relation.kind in DIRECTED:
            edges.setdefault(relation.item_id, set()).add(relation.other_id)
    seen = {start}
    frontier = [start]
    while frontier:
        node = frontier.pop()
        if node == goal:
            return True
        for following in edges.get(node, ()):
            if following not in seen:
                seen.add(following)
                frontier.append(following)
    return False
