"""The CMDB in the ticket database: configuration items, their relations, maintenance
history and plans, and hardware repair tasks of tickets.

The rules are pure (`cmdb`, `maintenance`, `repair`); this adapter loads what they need
inside one transaction and writes what they decide. Writes that check stored rows first
(relation cycles, one open repair per item) are serialised: SQLite's writing transactions
are exclusive already, PostgreSQL takes a transaction-level advisory lock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Select, and_, delete, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from callcenter.cmdb.maintenance import (
    DueItem,
    ItemFacts,
    MaintenanceKind,
    Plan,
    PlanBook,
    check_interval,
    due_list,
)
from callcenter.cmdb.model import (
    ItemCategory,
    ItemStatus,
    Relation,
    RelationKind,
    check_relation,
)
from callcenter.cmdb.repair import RepairState, RepairTask, Step, advance, new_task
from callcenter.db import models
from callcenter.tickets.store import SqlTicketStore
from callcenter.tickets.workflow import FINAL_STATUSES

#: PostgreSQL advisory lock key of CMDB writes that check stored rows first.
_LOCK_KEY = 80_08

#: Item fields a client may change, and the ones that must not be blank.
EDITABLE = (
    "asset_tag",
    "name",
    "status",
    "category",
    "maintainer",
    "location",
    "model",
    "vendor",
    "serial",
    "purchase_date",
    "warranty_end",
    "owner",
)


class NotFound(LookupError):
    """No such item, ticket, repair or department; `field` names the request's key."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class Invalid(ValueError):
    """A value the rules refuse: `conflict` when it clashes with stored state."""

    def __init__(self, message: str, *, field: str, conflict: bool = False) -> None:
        super().__init__(message)
        self.field = field
        self.conflict = conflict


@dataclass(frozen=True)
class Item:
    id: int
    asset_tag: str
    name: str
    type: str
    category: ItemCategory
    status: ItemStatus
    model: str | None
    vendor: str | None
    maintainer: str | None
    serial: str | None
    purchase_date: date | None
    warranty_end: date | None
    owner: str | None
    department: str | None
    location: str | None


@dataclass(frozen=True)
class ItemFilter:
    type: str | None = None
    category: ItemCategory | None = None
    status: ItemStatus | None = None
    owner: str | None = None
    department: str | None = None
    #: Warranty ending before this day (items without a warranty end are left out).
    warranty_before: date | None = None


@dataclass(frozen=True)
class StoredRelation:
    item_id: int
    other_id: int
    kind: RelationKind
    created_at: datetime
    created_by: str


@dataclass(frozen=True)
class MaintenanceEntry:
    id: int
    item_id: int
    kind: MaintenanceKind
    done_at: datetime
    by: str
    notes: str
    ticket_id: int | None
    recorded_by: str


def department_of(owner_department: str | None, name: str) -> str | None:
    """The owner's department; an item nobody owns (or whose owner has none) belongs to
    the department its name starts with (`KJC-PRN-0001`: KJC), as the naming standard
    has it."""
    if owner_department is not None:
        return owner_department
    prefix, dash, _ = name.partition("-")
    return prefix if dash and prefix else None


_Owner = aliased(models.Employee)
_OwnerDepartment = aliased(models.Department)


def _item_query() -> Select[models.Device, str | None, str | None]:
    return (
        select(models.Device, _Owner.username, _OwnerDepartment.code)
        .outerjoin(_Owner, _Owner.id == models.Device.owner_employee_id)
        .outerjoin(_OwnerDepartment, _OwnerDepartment.id == _Owner.department_id)
    )


def _item(row: models.Device, owner: str | None, department: str | None) -> Item:
    return Item(
        id=row.id,
        asset_tag=row.asset_tag,
        name=row.name,
        type=row.type,
        category=ItemCategory(row.category),
        status=ItemStatus(row.status),
        model=row.model,
        vendor=row.vendor,
        maintainer=row.maintainer,
        serial=row.serial,
        purchase_date=row.purchase_date,
        warranty_end=row.warranty_end,
        owner=owner,
        department=department_of(department, row.name),
        location=row.location,
    )


def _like_prefix(code: str) -> str:
    escaped = code.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "-%"


def _department_condition(code: str) -> Any:
    """SQL for `department_of(...) == code`."""
    return or_(
        _OwnerDepartment.code == code,
        and_(
            _OwnerDepartment.code.is_(None),
            models.Device.name.like(_like_prefix(code), escape="\\"),
        ),
    )


def _relation(row: models.CiRelation) -> StoredRelation:
    return StoredRelation(
        row.item_id, row.other_id, RelationKind(row.kind), row.created_at, row.created_by
    )


def _entry(row: models.MaintenanceRecord) -> MaintenanceEntry:
    return MaintenanceEntry(
        row.id,
        row.item_id,
        MaintenanceKind(row.kind),
        row.done_at,
        row.by,
        row.notes,
        row.ticket_id,
        row.recorded_by,
    )


def _task(row: models.RepairTaskRecord) -> RepairTask:
    return RepairTask(
        id=row.id,
        ticket_id=row.ticket_id,
        item_id=row.item_id,
        in_warranty=row.in_warranty,
        state=RepairState(row.state),
        created_at=row.created_at,
        updated_at=row.updated_at,
        quote_cents=row.quote_cents,
        approved_by=row.approved_by,
        approved_at=row.approved_at,
        closed_at=row.closed_at,
    )


class SqlCmdb:
    """Configuration items and what hangs off them, in the ticket store's database."""

    def __init__(self, store: SqlTicketStore) -> None:
        self._store = store

    async def _serialise(self, session: AsyncSession) -> None:
        if self._store.engine.dialect.name == "postgresql":
            await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})

    # -- items ---------------------------------------------------------------------------

    async def items(self, wanted: ItemFilter, *, limit: int, offset: int) -> tuple[list[Item], int]:
        """One page of items by name, and how many match in all."""
        query = _item_query()
        conditions: list[Any] = []
        if wanted.type is not None:
            conditions.append(models.Device.type == wanted.type)
        if wanted.category is not None:
            conditions.append(models.Device.category == wanted.category.value)
        if wanted.status is not None:
            conditions.append(models.Device.status == wanted.status.value)
        if wanted.owner is not None:
            conditions.append(_Owner.username == wanted.owner)
        if wanted.department is not None:
            conditions.append(_department_condition(wanted.department))
        if wanted.warranty_before is not None:
            conditions.append(models.Device.warranty_end < wanted.warranty_before)
        query = query.where(*conditions)
        async with self._store._read() as session:
            total = await session.scalar(select(func.count()).select_from(query.subquery()))
            rows = await session.execute(
                query.order_by(models.Device.name).limit(limit).offset(offset)
            )
            return [_item(*row) for row in rows], total or 0

    async def item(self, item_id: int) -> Item | None:
        async with self._store._read() as session:
            return await _load_item(session, item_id)

    async def update_item(self, item_id: int, changes: Mapping[str, Any]) -> Item:
        """Apply `changes` (keys of `EDITABLE`; `owner` a username or None)."""
        unknown = set(changes) - set(EDITABLE)
        if unknown:
            raise Invalid(f"{min(unknown)}: not an editable field", field=min(unknown))
        async with self._store.write_transaction() as session:
            row = await session.get(models.Device, item_id)
            if row is None:
                raise NotFound(f"no item {item_id}", field="item_id")
            await _names_free(session, changes, item_id)
            for name, value in changes.items():
                if name == "owner":
                    row.owner_employee_id = await _employee_id(session, value)
                elif name in ("status", "category"):
                    setattr(row, name, str(value))
                else:
                    setattr(row, name, value)
            if (
                row.purchase_date is not None
                and row.warranty_end is not None
                and row.warranty_end < row.purchase_date
            ):
                field = "warranty_end" if "warranty_end" in changes else "purchase_date"
                raise Invalid(f"{field}: the warranty ends before the purchase date", field=field)
            await session.flush()
            item = await _load_item(session, item_id)
            assert item is not None
            return item

    async def create_item(self, values: Mapping[str, Any]) -> Item:
        """A new item: `asset_tag`, `name`, `type`, and any of `EDITABLE` (`category`
        defaults from the type, `status` to in_use)."""
        unknown = set(values) - set(EDITABLE) - {"type"}
        if unknown:
            raise Invalid(f"{min(unknown)}: not a field of an item", field=min(unknown))
        async with self._store.write_transaction() as session:
            await _names_free(session, values, None)
            fields = {k: v for k, v in values.items() if k != "owner" and v is not None}
            for key in ("status", "category"):
                if key in fields:
                    fields[key] = str(fields[key])
            row = models.Device(**fields)
            row.owner_employee_id = await _employee_id(session, values.get("owner"))
            if (
                row.purchase_date is not None
                and row.warranty_end is not None
                and row.warranty_end < row.purchase_date
            ):
                raise Invalid(
                    "warranty_end: the warranty ends before the purchase date",
                    field="warranty_end",
                )
            session.add(row)
            await session.flush()
            item = await _load_item(session, row.id)
            assert item is not None
            return item

    # -- relations -----------------------------------------------------------------------

    async def relations(self, item_id: int) -> list[StoredRelation]:
        """The item's relations both ways: where it is `item_id` and where `other_id`."""
        async with self._store._read() as session:
            await _require_item(session, item_id)
            rows = await session.scalars(
                select(models.CiRelation)
                .where(
                    or_(models.CiRelation.item_id == item_id, models.CiRelation.other_id == item_id)
                )
                .order_by(
                    models.CiRelation.kind, models.CiRelation.item_id, models.CiRelation.other_id
                )
            )
            return [_relation(row) for row in rows]

    async def add_relation(
        self, relation: Relation, *, actor: str, now: datetime
    ) -> StoredRelation:
        async with self._store.write_transaction() as session:
            await self._serialise(session)
            await _require_item(session, relation.item_id)
            categories = dict(
                (
                    await session.execute(
                        select(models.Device.id, models.Device.category).where(
                            models.Device.id.in_({relation.item_id, relation.other_id})
                        )
                    )
                ).all()
            )
            if relation.other_id not in categories:
                raise NotFound(f"no item {relation.other_id}", field="other_id")
            existing = [
                Relation(row.item_id, row.other_id, RelationKind(row.kind))
                for row in await session.scalars(select(models.CiRelation))
            ]
            check_relation(relation, existing, {k: ItemCategory(v) for k, v in categories.items()})
            row = models.CiRelation(
                item_id=relation.item_id,
                other_id=relation.other_id,
                kind=relation.kind.value,
                created_at=now,
                created_by=actor,
            )
            session.add(row)
            await session.flush()
            return _relation(row)

    async def remove_relation(self, relation: Relation) -> bool:
        """Remove it; connected_to is found in either direction. False if absent."""
        pairs = [(relation.item_id, relation.other_id)]
        if relation.kind is RelationKind.CONNECTED_TO:
            pairs.append((relation.other_id, relation.item_id))
        async with self._store.write_transaction() as session:
            await _require_item(session, relation.item_id)
            removed = 0
            for item_id, other_id in pairs:
                result = await session.execute(
                    delete(models.CiRelation).where(
                        models.CiRelation.item_id == item_id,
                        models.CiRelation.other_id == other_id,
                        models.CiRelation.kind == relation.kind.value,
                    )
                )
                removed += int(getattr(result, "rowcount", 0) or 0)
            return removed > 0

    # -- maintenance ---------------------------------------------------------------------

    async def maintenance(self, item_id: int) -> list[MaintenanceEntry]:
        """The item's service history, newest first."""
        async with self._store._read() as session:
            await _require_item(session, item_id)
            rows = await session.scalars(
                select(models.MaintenanceRecord)
                .where(models.MaintenanceRecord.item_id == item_id)
                .order_by(
                    models.MaintenanceRecord.done_at.desc(), models.MaintenanceRecord.id.desc()
                )
            )
            return [_entry(row) for row in rows]

    async def add_maintenance(
        self,
        item_id: int,
        kind: MaintenanceKind,
        *,
        done_at: datetime,
        by: str,
        notes: str,
        ticket_id: int | None,
        actor: str,
    ) -> MaintenanceEntry:
        async with self._store.write_transaction() as session:
            await _require_item(session, item_id)
            if ticket_id is not None and await session.get(models.Ticket, ticket_id) is None:
                raise NotFound(f"no ticket {ticket_id}", field="ticket_id")
            row = models.MaintenanceRecord(
                item_id=item_id,
                kind=kind.value,
                done_at=done_at,
                by=by,
                notes=notes,
                ticket_id=ticket_id,
                recorded_by=actor,
            )
            session.add(row)
            await session.flush()
            return _entry(row)

    async def plans(self) -> list[Plan]:
        async with self._store._read() as session:
            return await _plans(session)

    async def set_plan(self, plan: Plan) -> Plan:
        """Create or replace the plan of (department, category)."""
        check_interval(plan.category, plan.interval_days)
        async with self._store.write_transaction() as session:
            await self._serialise(session)
            department_id = None
            if plan.department is not None:
                department_id = await session.scalar(
                    select(models.Department.id).where(models.Department.code == plan.department)
                )
                if department_id is None:
                    raise NotFound(f"no department {plan.department}", field="department")
            row = await session.scalar(
                select(models.MaintenancePlan).where(
                    models.MaintenancePlan.department_id.is_(None)
                    if department_id is None
                    else models.MaintenancePlan.department_id == department_id,
                    models.MaintenancePlan.category == plan.category.value,
                )
            )
            if row is None:
                session.add(
                    models.MaintenancePlan(
                        department_id=department_id,
                        category=plan.category.value,
                        interval_days=plan.interval_days,
                    )
                )
            else:
                row.interval_days = plan.interval_days
            return plan

    async def due(
        self, today: date, *, before: date | None = None, department: str | None = None
    ) -> list[DueItem]:
        """Items due for preventive maintenance (`maintenance.due_list`)."""
        last = (
            select(
                models.MaintenanceRecord.item_id,
                func.max(models.MaintenanceRecord.done_at).label("last"),
            )
            .where(models.MaintenanceRecord.kind == MaintenanceKind.PREVENTIVE.value)
            .group_by(models.MaintenanceRecord.item_id)
            .subquery()
        )
        query = (
            _item_query()
            .add_columns(last.c.last)
            .outerjoin(last, last.c.item_id == models.Device.id)
            .where(models.Device.status == ItemStatus.IN_USE.value)
        )
        if department is not None:
            query = query.where(_department_condition(department))
        async with self._store._read() as session:
            book = PlanBook(await _plans(session))
            facts = []
            for device, owner, code, last_done in await session.execute(query):
                item = _item(device, owner, code)
                facts.append(
                    ItemFacts(
                        item.id,
                        item.name,
                        item.category,
                        item.status,
                        item.department,
                        item.purchase_date,
                        _date_of(last_done),
                    )
                )
        return due_list(facts, book, today, before, department)

    # -- repairs -------------------------------------------------------------------------

    async def create_repair(
        self, ticket_id: int, item_id: int | None, *, actor: str, now: datetime
    ) -> RepairTask:
        """A repair task on the ticket for `item_id` (default: the ticket's device)."""
        async with self._store.write_transaction() as session:
            await self._serialise(session)
            ticket = await session.get(models.Ticket, ticket_id)
            if ticket is None:
                raise NotFound(f"no ticket {ticket_id}", field="ticket_id")
            if ticket.status in FINAL_STATUSES:
                raise Invalid(
                    f"ticket_id: ticket {ticket_id} is {ticket.status}",
                    field="ticket_id",
                    conflict=True,
                )
            if item_id is None:
                item_id = ticket.device_id
                if item_id is None:
                    raise Invalid(
                        "item_id: the ticket has no device; name the item", field="item_id"
                    )
            device = await session.get(models.Device, item_id)
            if device is None:
                raise NotFound(f"no item {item_id}", field="item_id")
            if device.status == ItemStatus.RETIRED.value:
                raise Invalid(f"item_id: item {item_id} is retired", field="item_id", conflict=True)
            busy = await session.scalar(
                select(models.RepairTaskRecord.id).where(
                    models.RepairTaskRecord.item_id == item_id,
                    models.RepairTaskRecord.closed_at.is_(None),
                )
            )
            if busy is not None:
                raise Invalid(
                    f"item_id: item {item_id} is already under repair (repair {busy})",
                    field="item_id",
                    conflict=True,
                )
            task = new_task(ticket_id, item_id, device.warranty_end, now)
            row = models.RepairTaskRecord(
                ticket_id=ticket_id,
                item_id=item_id,
                in_warranty=task.in_warranty,
                state=task.state.value,
                created_at=now,
                created_by=actor,
                updated_at=now,
            )
            session.add(row)
            await session.flush()
            return _task(row)

    async def repair(self, repair_id: int) -> RepairTask | None:
        async with self._store._read() as session:
            row = await session.get(models.RepairTaskRecord, repair_id)
            return None if row is None else _task(row)

    async def repairs_of(self, ticket_id: int) -> list[RepairTask]:
        async with self._store._read() as session:
            if await session.get(models.Ticket, ticket_id) is None:
                raise NotFound(f"no ticket {ticket_id}", field="ticket_id")
            rows = await session.scalars(
                select(models.RepairTaskRecord)
                .where(models.RepairTaskRecord.ticket_id == ticket_id)
                .order_by(models.RepairTaskRecord.id)
            )
            return [_task(row) for row in rows]

    async def step_repair(
        self, repair_id: int, step: Step, *, actor: str, now: datetime
    ) -> tuple[RepairTask, Item]:
        """Take `step` (`repair.advance`), move the item's status with it, and record a
        returned repair in the item's maintenance history."""
        async with self._store.write_transaction() as session:
            row = await session.scalar(
                select(models.RepairTaskRecord)
                .where(models.RepairTaskRecord.id == repair_id)
                .with_for_update()
            )
            if row is None:
                raise NotFound(f"no repair {repair_id}", field="repair_id")
            task, status = advance(_task(row), step, now)
            row.state = task.state.value
            row.updated_at = task.updated_at
            row.quote_cents = task.quote_cents
            row.approved_by = task.approved_by
            row.approved_at = task.approved_at
            row.closed_at = task.closed_at
            device = await session.get(models.Device, row.item_id, with_for_update=True)
            assert device is not None  # the foreign key cascades
            if status is not None:
                device.status = status.value
            if task.state is RepairState.RETURNED:
                by = device.maintainer or device.vendor or actor
                if task.in_warranty:
                    by = device.vendor or by
                session.add(
                    models.MaintenanceRecord(
                        item_id=device.id,
                        kind=MaintenanceKind.REPAIR.value,
                        done_at=now,
                        by=by,
                        notes=f"repair {row.id} returned"
                        + (" (warranty)" if task.in_warranty else ""),
                        ticket_id=row.ticket_id,
                        recorded_by=actor,
                    )
                )
            await session.flush()
            item = await _load_item(session, device.id)
            assert item is not None
            return task, item


async def _load_item(session: AsyncSession, item_id: int) -> Item | None:
    row = (await session.execute(_item_query().where(models.Device.id == item_id))).first()
    return None if row is None else _item(*row)


async def _require_item(session: AsyncSession, item_id: int) -> None:
    if await session.get(models.Device, item_id) is None:
        raise NotFound(f"no item {item_id}", field="item_id")


async def _names_free(
    session: AsyncSession, values: Mapping[str, Any], item_id: int | None
) -> None:
    """The asset tag and name being set belong to no other item (409 rather than the
    unique key's error)."""
    for key, column in (("asset_tag", models.Device.asset_tag), ("name", models.Device.name)):
        if key not in values:
            continue
        holder = await session.scalar(select(models.Device.id).where(column == values[key]))
        if holder is not None and holder != item_id:
            raise Invalid(f"{key}: {values[key]!r} is item {holder}'s", field=key, conflict=True)


async def _employee_id(session: AsyncSession, username: Any) -> int | None:
    if username is None:
        return None
    found = await session.scalar(
        select(models.Employee.id).where(models.Employee.username == str(username))
    )
    if found is None:
        raise Invalid(f"owner: unknown employee {username!r}", field="owner")
    return found


async def _plans(session: AsyncSession) -> list[Plan]:
    rows = await session.execute(
        select(
            models.Department.code,
            models.MaintenancePlan.category,
            models.MaintenancePlan.interval_days,
        )
        .select_from(models.MaintenancePlan)
        .outerjoin(models.Department, models.Department.id == models.MaintenancePlan.department_id)
        .order_by(models.Department.code, models.MaintenancePlan.category)
    )
    return [Plan(code, ItemCategory(category), days) for code, category, days in rows]


def _date_of(moment: datetime | None) -> date | None:
    return None if moment is None else moment.astimezone(UTC).date()
