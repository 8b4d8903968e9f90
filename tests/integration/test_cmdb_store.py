"""The CMDB tables and adapter on SQLite and PostgreSQL: migration 0008, the category of
new items, database constraints, and rules that hold under concurrent writes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from callcenter.cmdb.maintenance import MaintenanceKind
from callcenter.cmdb.model import Relation, RelationError, RelationKind
from callcenter.cmdb.store import Invalid, ItemFilter, SqlCmdb
from callcenter.db import models
from callcenter.db.engine import make_engine
from callcenter.db.migrate import migrate_to, upgrade
from callcenter.tickets.store import SqlTicketStore, open_store

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SqlTicketStore]:
    await upgrade(database_url)
    ticket_store = open_store(database_url, "CN")
    try:
        yield ticket_store
    finally:
        await ticket_store.close()


async def _devices(store: SqlTicketStore, *types: str) -> list[int]:
    async with store.write_transaction() as session:
        rows = [
            models.Device(asset_tag=f"0000XXX{n:04d}", name=f"KJC-XXX-{n:04d}", type=kind)
            for n, kind in enumerate(types, start=1)
        ]
        session.add_all(rows)
        await session.flush()
        return [row.id for row in rows]


async def test_migration_gives_existing_items_a_category(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(migrate_to, "0006")
            for n, kind in enumerate(["desktop", "Network_Device", "monitor", "Laptop"]):
                await connection.execute(
                    text(
                        "INSERT INTO device (asset_tag, name, type, status) "
                        "VALUES (:tag, :name, :type, 'in_use')"
                    ),
                    {"tag": f"tag{n}", "name": f"name{n}", "type": kind},
                )
            await connection.run_sync(migrate_to, "0008")
            rows = await connection.execute(
                select(
                    models.Device.type, models.Device.category, models.Device.maintainer
                ).order_by(models.Device.id)
            )
            assert rows.all() == [
                ("desktop", "pc", None),
                ("Network_Device", "network", None),
                ("monitor", "peripheral", None),
                ("Laptop", "laptop", None),
            ]
            await connection.run_sync(migrate_to, "0006", True)
            columns = await connection.run_sync(
                lambda sync: [c["name"] for c in inspect(sync).get_columns("device")]
            )
            assert "category" not in columns and "maintainer" not in columns
            await connection.run_sync(migrate_to, "head")
    finally:
        await engine.dispose()


async def test_new_items_get_their_category_from_their_type(store: SqlTicketStore) -> None:
    ids = await _devices(store, "desktop", "switch", "scanner", "software")
    cmdb = SqlCmdb(store)
    found = [await cmdb.item(item_id) for item_id in ids]
    assert [(i.category.value, i.status.value) for i in found if i] == [
        ("pc", "in_use"),
        ("network", "in_use"),
        ("peripheral", "in_use"),
        ("software", "in_use"),
    ]


async def test_the_database_refuses_self_relations_and_unknown_kinds(
    store: SqlTicketStore,
) -> None:
    first, second = await _devices(store, "desktop", "printer")
    for item_id, other_id, kind in [(first, first, "depends_on"), (first, second, "owns")]:
        with pytest.raises(IntegrityError):
            async with store.write_transaction() as session:
                session.add(
                    models.CiRelation(
                        item_id=item_id,
                        other_id=other_id,
                        kind=kind,
                        created_at=NOW,
                        created_by="test",
                    )
                )


async def test_removing_an_item_removes_its_relations(store: SqlTicketStore) -> None:
    pc, printer = await _devices(store, "desktop", "printer")
    cmdb = SqlCmdb(store)
    await cmdb.add_relation(Relation(printer, pc, RelationKind.CONNECTED_TO), actor="sue", now=NOW)
    async with store.write_transaction() as session:
        device = await session.get(models.Device, printer)
        await session.delete(device)
    assert await cmdb.relations(pc) == []


async def test_concurrent_opposite_dependencies_cannot_both_land(store: SqlTicketStore) -> None:
    """Each alone is fine; together they are a cycle: one of each pair must lose, on every
    database (several pairs at once, so the writes really overlap)."""
    ids = await _devices(store, *["server"] * 12)
    pairs = list(zip(ids[::2], ids[1::2], strict=True))
    cmdb = SqlCmdb(store)
    attempts = []
    for first, second in pairs:
        for item_id, other_id in ((first, second), (second, first)):
            relation = Relation(item_id, other_id, RelationKind.DEPENDS_ON)
            attempts.append(cmdb.add_relation(relation, actor="t", now=NOW))
    results = await asyncio.gather(*attempts, return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    assert len(failures) == len(pairs), failures
    assert all(isinstance(f, RelationError) for f in failures)
    for first, _ in pairs:
        assert len(await cmdb.relations(first)) == 1


async def test_concurrent_repairs_of_one_item_open_one_task(store: SqlTicketStore) -> None:
    (pc,) = await _devices(store, "desktop")
    async with store.write_transaction() as session:
        ticket = models.Ticket(
            status="new", priority=3, subject="broken", device_id=pc, created_at=NOW, updated_at=NOW
        )
        session.add(ticket)
        await session.flush()
        ticket_id = ticket.id
    cmdb = SqlCmdb(store)
    results = await asyncio.gather(
        *(cmdb.create_repair(ticket_id, None, actor="bob", now=NOW) for _ in range(6)),
        return_exceptions=True,
    )
    failures = [r for r in results if isinstance(r, BaseException)]
    assert len(failures) == 5 and all(isinstance(f, Invalid) for f in failures)
    assert [t.item_id for t in await cmdb.repairs_of(ticket_id)] == [pc]
    (task,) = await cmdb.repairs_of(ticket_id)
    assert task.in_warranty is False  # no warranty end recorded
    assert task.created_at == NOW


async def test_due_list_reads_the_last_preventive_record(store: SqlTicketStore) -> None:
    old, fresh = await _devices(store, "desktop", "desktop")
    async with store.write_transaction() as session:
        for device_id in (old, fresh):
            device = await session.get(models.Device, device_id)
            assert device is not None
            device.purchase_date = date(2025, 1, 1)
    cmdb = SqlCmdb(store)
    for done in (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC)):
        await cmdb.add_maintenance(
            fresh,
            MaintenanceKind.PREVENTIVE,
            done_at=done,
            by="x",
            notes="",
            ticket_id=None,
            actor="t",
        )
    await cmdb.add_maintenance(
        old, MaintenanceKind.REPAIR, done_at=NOW, by="x", notes="", ticket_id=None, actor="t"
    )
    due = await cmdb.due(date(2026, 6, 1))
    assert [(d.item.item_id, d.due, d.item.last_preventive) for d in due] == [
        (old, date(2025, 5, 1), None)
    ]
    ahead = await cmdb.due(date(2026, 6, 1), before=date(2026, 9, 1), department="KJC")
    assert [(d.item.item_id, d.due) for d in ahead] == [
        (old, date(2025, 5, 1)),
        (fresh, date(2026, 8, 29)),
    ]


async def test_an_owner_without_department_leaves_the_name_to_decide(
    store: SqlTicketStore,
) -> None:
    (item_id,) = await _devices(store, "printer")
    async with store.write_transaction() as session:
        organisation = models.Organisation(name="Org")
        session.add(organisation)
        await session.flush()
        person = models.Employee(organisation_id=organisation.id, username="nodept", name="N")
        session.add(person)
        await session.flush()
        device = await session.get(models.Device, item_id)
        assert device is not None
        device.owner_employee_id = person.id
    cmdb = SqlCmdb(store)
    item = await cmdb.item(item_id)
    assert item is not None and (item.owner, item.department) == ("nodept", "KJC")
    found, total = await cmdb.items(ItemFilter(department="KJC"), limit=10, offset=0)
    assert [i.id for i in found] == [item_id] and total == 1
    assert (await cmdb.items(ItemFilter(department="CGS"), limit=10, offset=0))[1] == 0
