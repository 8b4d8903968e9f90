"""The SQL ticket store on real databases: every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Integer, MetaData, Table, func, select, update
from sqlalchemy.engine import Connection

from callcenter.auth.passwords import verify_password
from callcenter.db import models
from callcenter.db.engine import make_engine
from callcenter.db.migrate import alembic_config, upgrade
from callcenter.demo import load_demo, load_demo_repair, years_after
from callcenter.tickets.records import AcdEventEntry, CallOutcome, Role, TicketStatus
from callcenter.tickets.store import SqlTicketStore, open_store
from callcenter.tickets.ticket_repo import TicketRepo
from callcenter.tickets.workflow import Tier, WorkflowError

T0 = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
WINDOW = 8.0


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SqlTicketStore]:
    await upgrade(database_url)
    store = open_store(database_url, "CN")
    try:
        yield store
    finally:
        await store.close()


async def _add_employee(
    store: SqlTicketStore, username: str, phones: tuple[str, ...] = (), vip: bool = False
) -> int:
    """An employee of a test organisation, numbers stored as typed and as E.164."""
    from callcenter.directory.phone import normalise

    async with store.write_transaction() as session:
        organisation = await session.scalar(
            select(models.Organisation).where(models.Organisation.name == "Test Org")
        )
        if organisation is None:
            organisation = models.Organisation(name="Test Org")
            session.add(organisation)
            await session.flush()
        employee = models.Employee(
            organisation_id=organisation.id, username=username, name=username.title(), vip=vip
        )
        session.add(employee)
        await session.flush()
        for raw in phones:
            e164 = normalise(raw, "CN")
            assert e164 is not None
            session.add(
                models.EmployeePhone(employee_id=employee.id, number_raw=raw, number_e164=e164)
            )
        return employee.id


async def _new_call(
    store: SqlTicketStore, employee_id: int | None, arrived_at: datetime, caller: str = "+8620"
) -> str:
    call_id = str(uuid.uuid4())
    await store.open_call_record(call_id, f"sip-{call_id}", caller, employee_id, arrived_at)
    return call_id


async def _count(store: SqlTicketStore, model: Any) -> int:
    async with store.write_transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


# -- schema --------------------------------------------------------------------------------


def _diff(connection: Connection, metadata: MetaData) -> list[Any]:
    context = MigrationContext.configure(
        connection,
        opts={
            "compare_type": True,
            "compare_server_default": True,
            "include_name": models.in_models,
        },
    )
    return _without_inline_fk_names(list(compare_metadata(context, metadata)))


def _fk_key(fk: Any) -> tuple[str, tuple[str, ...], str]:
    return (fk.table.name, tuple(c.name for c in fk.columns), fk.referred_table.name)


def _without_inline_fk_names(diff: list[Any]) -> list[Any]:
    """SQLite keeps a reference added with ADD COLUMN inline, and SQLAlchemy reflects it
    without its name and ON DELETE (migration 0013): such a remove/add pair of the same
    reference is no difference. A reference missing from the database still shows."""
    removed = {
        _fk_key(entry[1]): entry
        for entry in diff
        if entry[0] == "remove_fk" and entry[1].name is None
    }
    added = {_fk_key(entry[1]): entry for entry in diff if entry[0] == "add_fk"}
    same = removed.keys() & added.keys()
    dropped = {id(removed[key]) for key in same} | {id(added[key]) for key in same}
    return [entry for entry in diff if id(entry) not in dropped]


async def test_migrations_create_exactly_the_models_schema(database_url: str) -> None:
    await upgrade(database_url)
    await upgrade(database_url)  # a second run finds nothing to do
    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(_diff, models.Base.metadata) == []
            # The comparison does see differences: a table the migrations lack.
            extra = MetaData()
            for table in models.Base.metadata.tables.values():
                table.to_metadata(extra)
            Table("not_migrated", extra, Column("id", Integer, primary_key=True))
            diff = await connection.run_sync(_diff, extra)
            assert [entry[0] for entry in diff] == ["add_table"]
            version = await connection.exec_driver_sql("SELECT version_num FROM alembic_version")
            head = ScriptDirectory.from_config(alembic_config()).get_current_head()
            assert version.scalars().all() == [head] and head is not None
    finally:
        await engine.dispose()


async def test_upgrade_creates_the_sqlite_directory(tmp_path: Path) -> None:
    path = tmp_path / "var" / "deeper" / "callcenter.db"
    await upgrade(f"sqlite+aiosqlite:///{path}")
    assert path.is_file()


async def test_sqlite_connections_use_wal_and_foreign_keys(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'callcenter.db'}"
    await upgrade(url)
    store = open_store(url, "CN")
    try:
        async with store.engine.connect() as connection:
            journal = await connection.exec_driver_sql("PRAGMA journal_mode")
            keys = await connection.exec_driver_sql("PRAGMA foreign_keys")
            busy = await connection.exec_driver_sql("PRAGMA busy_timeout")
            assert (journal.scalar(), keys.scalar(), busy.scalar()) == ("wal", 1, 10_000)
        with pytest.raises(Exception, match="FOREIGN KEY"):
            await store.open_call_record("call-1", None, "x", 999, T0)
    finally:
        await store.close()


# -- demo data -----------------------------------------------------------------------------


async def test_demo_load_is_idempotent_and_complete(store: SqlTicketStore) -> None:
    today = date(2025, 3, 10)
    tables = [
        models.Organisation,
        models.Department,
        models.Employee,
        models.EmployeePhone,
        models.Device,
        models.Agent,
        models.KbArticle,
        models.KbArticleTarget,
        models.CiRelation,
        models.MaintenanceRecord,
        models.MaintenancePlan,
    ]
    added = await load_demo(store, today=today)
    counts = [await _count(store, table) for table in tables]
    assert added == sum(counts)
    assert counts[0] == 1 and counts[5] == 3
    async with store.write_transaction() as session:
        hashes = sorted(await session.scalars(select(models.Agent.password_hash)))

    assert await load_demo(store, today=today + timedelta(days=1)) == 0
    assert [await _count(store, table) for table in tables] == counts
    # The demo repair is a ticket of its own, loaded apart (tests expect no tickets).
    assert await _count(store, models.Ticket) == 0
    assert await load_demo_repair(store, today) == 2
    assert await load_demo_repair(store, today) == 0
    assert [await _count(store, t) for t in (models.Ticket, models.RepairTaskRecord)] == [1, 1]
    async with store.write_transaction() as session:
        assert sorted(await session.scalars(select(models.Agent.password_hash))) == hashes

    zhang = await store.employee_by_username("zhangsanKJC")
    assert zhang is not None
    assert (zhang.name, zhang.department, zhang.organisation, zhang.vip) == (
        "Zhang San",
        "KJC",
        "Demo Corp",
        False,
    )
    assert zhang.phones == ("+862088881001",)
    assert [e.username for e in await store.find_employees_by_phone("+862088881001")] == [
        "zhangsanKJC"
    ]
    devices = {d.name: d for d in await store.devices_of(zhang.id)}
    assert set(devices) == {"KJC-COM-0001", "KJC-PRN-0001"}
    computer, printer = devices["KJC-COM-0001"], devices["KJC-PRN-0001"]
    assert (computer.asset_tag, computer.type, computer.warranty_end) == (
        "0000COM0001",
        "desktop",
        date(2027, 3, 10),
    )
    assert (printer.asset_tag, printer.type, printer.owner_id) == (
        "0000PRN0001",
        "printer",
        zhang.id,
    )

    agents = {a.username: a for a in await store.agent_accounts()}
    assert list(agents) == ["alice", "bob", "sue"]
    alice, bob, sue = agents["alice"], agents["bob"], agents["sue"]
    assert (alice.role, alice.sip_uri, alice.queues) == (
        Role.AGENT,
        "sip:alice@127.0.0.1:5062",
        ("helpdesk",),
    )
    assert (bob.sip_uri, bob.queues) == ("sip:bob@127.0.0.1:5063", ("helpdesk",))
    assert (sue.role, sue.sip_uri, sue.queues) == (
        Role.SUPERVISOR,
        "sip:sue@127.0.0.1:5064",
        (),
    )
    assert verify_password("alice-demo", alice.password_hash)
    assert verify_password("sue-demo", sue.password_hash)
    assert not verify_password("alice-demo", bob.password_hash)
    assert await store.agent_account("nobody") is None


def test_years_after_handles_leap_days() -> None:
    assert years_after(date(2024, 2, 29), 2) == date(2026, 2, 28)
    assert years_after(date(2025, 3, 10), -1) == date(2024, 3, 10)


# -- identification ------------------------------------------------------------------------


async def test_phone_lookup_matches_any_stored_format_and_shared_lines(
    store: SqlTicketStore,
) -> None:
    ann = await _add_employee(store, "ann", ("020-8888 5001", "(020) 8888/5000"))
    ben = await _add_employee(store, "ben", ("+86 20 8888-5000",))
    cai = await _add_employee(store, "cai", ("0086 20 8888 5000", "13800138000"))
    await _add_employee(store, "dan", ("020 8888 5009",))

    shared = await store.find_employees_by_phone("+862088885000")
    assert [e.id for e in shared] == [ann, ben, cai]
    assert [e.phones for e in shared] == [
        ("+862088885001", "+862088885000"),
        ("+862088885000",),
        ("+862088885000", "+8613800138000"),
    ]
    # The number asked for is normalised too.
    assert [e.id for e in await store.find_employees_by_phone("020 8888 5000")] == [ann, ben, cai]
    assert [e.username for e in await store.find_employees_by_phone("+862088885001")] == ["ann"]
    assert await store.find_employees_by_phone("+862088889999") == []
    assert await store.find_employees_by_phone("anonymous") == []
    assert await store.employee_by_username("nobody") is None


# -- call records --------------------------------------------------------------------------


async def test_call_record_is_opened_updated_and_read_back(store: SqlTicketStore) -> None:
    await load_demo(store)
    zhang = await store.employee_by_username("zhangsanKJC")
    assert zhang is not None
    # Aware but not UTC: stored and returned as the same instant in UTC.
    arrived = datetime(2025, 3, 10, 17, 0, tzinfo=timezone(timedelta(hours=8)))
    await store.open_call_record("call-1", "abc@host", "020 8888 1001", zhang.id, arrived)

    record = await store.call_record("call-1")
    assert record is not None
    assert (record.caller, record.employee_id, record.employee_username) == (
        "+862088881001",
        zhang.id,
        "zhangsanKJC",
    )
    assert (record.outcome, record.queue, record.agent, record.ticket_id) == (
        CallOutcome.IN_PROGRESS,
        None,
        None,
        None,
    )
    assert record.arrived_at == T0 and record.arrived_at.tzinfo == UTC
    assert record.media == {}

    await store.update_call_record(
        "call-1", queue="helpdesk", enqueued_at=T0 + timedelta(seconds=5)
    )
    await store.update_call_record(
        "call-1",
        agent="alice",
        answered_at=T0 + timedelta(seconds=12),
        pickup_latency_seconds=7.25,
        outcome=CallOutcome.ANSWERED,
    )
    await store.update_call_record(
        "call-1", ended_at=T0 + timedelta(minutes=3), media={"caller": 9000, "agent": 8990}
    )
    await store.update_call_record("call-1")  # nothing to change

    record = await store.call_record("call-1")
    assert record is not None
    assert (record.queue, record.agent, record.outcome, record.pickup_latency_seconds) == (
        "helpdesk",
        "alice",
        CallOutcome.ANSWERED,
        7.25,
    )
    assert (record.enqueued_at, record.answered_at, record.ended_at) == (
        T0 + timedelta(seconds=5),
        T0 + timedelta(seconds=12),
        T0 + timedelta(minutes=3),
    )
    assert record.media == {"caller": 9000, "agent": 8990}
    assert record.sip_call_id == "abc@host"
    assert record.transfer_target is None

    # A transfer to an outside number: its target stays through later media figures.
    await store.update_call_record(
        "call-1", outcome=CallOutcome.TRANSFERRED, transfer_target="+8613800138000"
    )
    await store.update_call_record("call-1", media={"caller": 9100, "agent": 8990})
    record = await store.call_record("call-1")
    assert record is not None
    assert (record.outcome, record.transfer_target) == (CallOutcome.TRANSFERRED, "+8613800138000")
    assert record.media == {"caller": 9100, "agent": 8990}

    with pytest.raises(LookupError):
        await store.update_call_record("no-such-call", queue="helpdesk")
    with pytest.raises(LookupError):
        await store.update_call_record("no-such-call", transfer_target="+8613800138000")
    with pytest.raises(LookupError):
        await store.update_call_record("no-such-call")
    assert await store.call_record("no-such-call") is None


async def test_unnormalisable_callers_are_kept_as_received(store: SqlTicketStore) -> None:
    await store.open_call_record("call-anon", None, "anonymous", None, T0)
    record = await store.call_record("call-anon")
    assert record is not None
    assert (record.caller, record.employee_username, record.sip_call_id) == (
        "anonymous",
        None,
        None,
    )


async def test_naive_timestamps_are_refused(store: SqlTicketStore) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        await store.open_call_record("call-naive", None, "x", None, datetime(2025, 1, 1))
    assert await store.call_record("call-naive") is None


async def test_recovery_closes_only_calls_left_in_progress(store: SqlTicketStore) -> None:
    first = await _new_call(store, None, T0)
    second = await _new_call(store, None, T0 + timedelta(seconds=1))
    done = await _new_call(store, None, T0 + timedelta(seconds=2))
    await store.update_call_record(
        done, outcome=CallOutcome.ABANDONED, ended_at=T0 + timedelta(seconds=30)
    )
    now = T0 + timedelta(hours=1)

    await store.mark_calls_alive([second], T0 + timedelta(seconds=40))
    assert await store.recover_interrupted_calls(now) == 2
    # Each ends when it was last known alive: its heartbeat, else its arrival.
    for call_id, last_alive in ((first, T0), (second, T0 + timedelta(seconds=40))):
        record = await store.call_record(call_id)
        assert record is not None
        assert (record.outcome, record.ended_at) == (CallOutcome.INTERRUPTED, last_alive)
    untouched = await store.call_record(done)
    assert untouched is not None
    assert (untouched.outcome, untouched.ended_at) == (
        CallOutcome.ABANDONED,
        T0 + timedelta(seconds=30),
    )
    assert await store.recover_interrupted_calls(now) == 0


async def test_recovery_ends_answered_calls_cut_by_a_crash(store: SqlTicketStore) -> None:
    talking = await _new_call(store, None, T0)
    await store.update_call_record(
        talking, outcome=CallOutcome.ANSWERED, answered_at=T0 + timedelta(seconds=8)
    )
    listening = await _new_call(store, None, T0)
    await store.update_call_record(
        listening, outcome=CallOutcome.ANSWERED, answered_at=T0 + timedelta(seconds=5)
    )
    await store.mark_calls_alive([listening], T0 + timedelta(minutes=20))
    now = T0 + timedelta(hours=1)
    assert await store.recover_interrupted_calls(now) == 2
    record = await store.call_record(talking)
    assert record is not None  # no heartbeat: it was last known alive when answered
    assert (record.outcome, record.ended_at) == (CallOutcome.ANSWERED, T0 + timedelta(seconds=8))
    record = await store.call_record(listening)
    assert record is not None
    assert (record.outcome, record.ended_at) == (CallOutcome.ANSWERED, T0 + timedelta(minutes=20))


async def test_a_heartbeat_after_the_recovery_time_ends_the_call_at_recovery(
    store: SqlTicketStore,
) -> None:
    call = await _new_call(store, None, T0)
    await store.mark_calls_alive([call], T0 + timedelta(minutes=5))  # a clock ahead
    assert await store.recover_interrupted_calls(T0 + timedelta(minutes=1)) == 1
    record = await store.call_record(call)
    assert record is not None and record.ended_at == T0 + timedelta(minutes=1)
    await store.mark_calls_alive([call], T0 + timedelta(minutes=9))  # ended: not stamped
    assert await store.recover_interrupted_calls(T0 + timedelta(hours=1)) == 0


async def test_acd_history_is_appended_in_order_and_read_per_call(
    store: SqlTicketStore,
) -> None:
    entries = [
        AcdEventEntry(T0, "CallEnqueued", "c1", "helpdesk", None, {"position": 1}),
        AcdEventEntry(T0, "CallEnqueued", "c2", "helpdesk", None, {"position": 2}),
        AcdEventEntry(T0 + timedelta(seconds=3), "CallOffered", "c1", "helpdesk", "alice", {}),
        AcdEventEntry(T0 + timedelta(seconds=5), "CallAnswered", "c1", "helpdesk", "alice", {}),
    ]
    await store.append_acd_events(entries[:2])
    await store.append_acd_events(entries[2:])
    await store.append_acd_events([])
    got = await store.acd_events("c1")
    assert [e.type for e in got] == ["CallEnqueued", "CallOffered", "CallAnswered"]
    assert got[0] == entries[0] and got[2].agent == "alice"
    assert await store.acd_events("nobody") == []


async def test_acd_state_is_saved_and_replaced(store: SqlTicketStore) -> None:
    assert await store.load_acd_state() is None
    await store.save_acd_state({"version": 1, "agents": [{"agent_id": "alice"}]}, T0)
    await store.save_acd_state({"version": 1, "agents": []}, T0 + timedelta(seconds=10))
    assert await store.load_acd_state() == {"version": 1, "agents": []}
    assert await _count(store, models.AcdSnapshot) == 1


async def test_recent_calls_newest_first_with_limit(store: SqlTicketStore) -> None:
    ann = await _add_employee(store, "ann", ("020 8888 5001",))
    offsets = [30, 10, 50, 20, 40]  # minutes after T0, opened out of order
    ids = {
        offset: await _new_call(
            store, ann if offset % 20 == 0 else None, T0 + timedelta(minutes=offset)
        )
        for offset in offsets
    }

    recent = await store.recent_calls(3)
    assert [r.id for r in recent] == [ids[50], ids[40], ids[30]]
    assert [r.arrived_at for r in recent] == [T0 + timedelta(minutes=m) for m in (50, 40, 30)]
    assert [r.employee_username for r in recent] == [None, "ann", None]
    assert [r.id for r in await store.recent_calls(100)] == [ids[m] for m in (50, 40, 30, 20, 10)]
    assert await store.recent_calls(0) == []


# -- incidents -----------------------------------------------------------------------------


async def _set_status(store: SqlTicketStore, ticket_id: int, status: TicketStatus) -> None:
    async with store.write_transaction() as session:
        await session.execute(
            update(models.Ticket).where(models.Ticket.id == ticket_id).values(status=status.value)
        )


async def test_calls_attach_to_a_recent_open_incident_else_open_one(
    store: SqlTicketStore,
) -> None:
    await load_demo(store)
    zhang = await store.employee_by_username("zhangsanKJC")
    assert zhang is not None
    computer = next(d for d in await store.devices_of(zhang.id) if d.type == "desktop")

    first_call = await _new_call(store, zhang.id, T0)
    first = await store.attach_call_to_incident(first_call, zhang.id, T0, WINDOW)
    ticket = await store.ticket(first)
    assert ticket is not None
    assert (ticket.kind, ticket.status, ticket.priority, ticket.subject) == (
        "incident",
        TicketStatus.NEW,
        3,
        "Phone call from Zhang San",
    )
    assert (ticket.employee_id, ticket.device_id, ticket.call_ids) == (
        zhang.id,
        computer.id,
        (first_call,),
    )
    assert ticket.created_at == ticket.updated_at == T0

    # Called back within the window: same incident, touched.
    later = T0 + timedelta(hours=7)
    second_call = await _new_call(store, zhang.id, later)
    assert await store.attach_call_to_incident(second_call, zhang.id, later, WINDOW) == first
    ticket = await store.ticket(first)
    assert ticket is not None
    assert (ticket.updated_at, ticket.created_at) == (later, T0)
    assert ticket.call_ids == (first_call, second_call)
    record = await store.call_record(second_call)
    assert record is not None and record.ticket_id == first

    # The window runs from the last update: past it, a new incident.
    much_later = later + timedelta(hours=WINDOW, minutes=1)
    third_call = await _new_call(store, zhang.id, much_later)
    second = await store.attach_call_to_incident(third_call, zhang.id, much_later, WINDOW)
    assert second != first

    # A resolved incident is not reopened by a call, however recent.
    await _set_status(store, second, TicketStatus.RESOLVED)
    soon = much_later + timedelta(minutes=5)
    fourth_call = await _new_call(store, zhang.id, soon)
    third = await store.attach_call_to_incident(fourth_call, zhang.id, soon, WINDOW)
    assert third not in (first, second)

    # In progress still counts as open.
    await _set_status(store, third, TicketStatus.IN_PROGRESS)
    fifth_call = await _new_call(store, zhang.id, soon + timedelta(minutes=1))
    assert await store.attach_call_to_incident(fifth_call, zhang.id, soon, WINDOW) == third

    tickets = await store.tickets_of("zhangsanKJC")
    assert [t.id for t in tickets] == [third, second, first]
    assert [t.call_ids for t in tickets] == [
        (fourth_call, fifth_call),
        (third_call,),
        (first_call, second_call),
    ]
    assert [t.status for t in tickets] == [
        TicketStatus.IN_PROGRESS,
        TicketStatus.RESOLVED,
        TicketStatus.NEW,
    ]
    assert await store.tickets_of("lisiKJC") == []


async def test_vip_incidents_get_higher_priority_and_their_laptop(store: SqlTicketStore) -> None:
    await load_demo(store)
    wang = await store.employee_by_username("wangwuKJC")
    assert wang is not None and wang.vip
    call_id = await _new_call(store, wang.id, T0)
    ticket = await store.ticket(await store.attach_call_to_incident(call_id, wang.id, T0, WINDOW))
    assert ticket is not None
    devices = {d.id: d.name for d in await store.devices_of(wang.id)}
    assert (ticket.priority, ticket.device_id and devices[ticket.device_id]) == (2, "KJC-COM-0003")


async def test_an_employee_without_computer_gets_an_incident_without_device(
    store: SqlTicketStore,
) -> None:
    ann = await _add_employee(store, "ann")
    call_id = await _new_call(store, ann, T0)
    ticket = await store.ticket(await store.attach_call_to_incident(call_id, ann, T0, WINDOW))
    assert ticket is not None
    assert (ticket.device_id, ticket.subject) == (None, "Phone call from Ann")


async def test_a_zero_window_opens_an_incident_per_call(store: SqlTicketStore) -> None:
    ann = await _add_employee(store, "ann")
    first = await store.attach_call_to_incident(await _new_call(store, ann, T0), ann, T0, 0)
    second = await store.attach_call_to_incident(await _new_call(store, ann, T0), ann, T0, 0)
    assert first != second
    assert len(await store.tickets_of("ann")) == 2


async def test_attach_refuses_unknown_calls_and_employees(store: SqlTicketStore) -> None:
    ann = await _add_employee(store, "ann")
    call_id = await _new_call(store, ann, T0)
    with pytest.raises(LookupError):
        await store.attach_call_to_incident("no-such-call", ann, T0, WINDOW)
    with pytest.raises(LookupError):
        await store.attach_call_to_incident(call_id, ann + 1000, T0, WINDOW)
    assert await store.tickets_of("ann") == []
    assert await store.ticket(1) is None


async def test_concurrent_calls_of_one_employee_share_one_incident(
    store: SqlTicketStore,
) -> None:
    for round_ in range(3):
        employee = await _add_employee(store, f"emp{round_}")
        calls = [await _new_call(store, employee, T0) for _ in range(4)]
        ticket_ids = await asyncio.gather(
            *(store.attach_call_to_incident(c, employee, T0, WINDOW) for c in calls)
        )
        assert len(set(ticket_ids)) == 1
        tickets = await store.tickets_of(f"emp{round_}")
        assert len(tickets) == 1
        assert sorted(tickets[0].call_ids) == sorted(calls)


async def test_wrap_up_form_and_notes_land_on_the_calls_ticket(store: SqlTicketStore) -> None:
    zhang = await _add_employee(store, "zhang", ("02088881001",))
    await store.open_call_record("call-1", None, "+862088881001", zhang, T0)
    ticket_id = await store.attach_call_to_incident("call-1", zhang, T0, WINDOW)
    later = T0 + timedelta(minutes=5)
    assert (
        await store.add_ticket_note("call-1", " rebooted ", author="alice", now=later) == ticket_id
    )
    saved = await store.save_wrap_up(
        "call-1",
        author="alice",
        now=later,
        subject="Printer jams",
        category="printer",
        priority=2,
        status=TicketStatus.RESOLVED,
        resolution="cleaned the tray",
    )
    assert saved == ticket_id
    ticket = await store.ticket(ticket_id)
    assert ticket is not None
    assert (ticket.subject, ticket.priority, ticket.status) == (
        "Printer jams",
        2,
        TicketStatus.RESOLVED,
    )
    assert ticket.updated_at == later
    assert (ticket.category, ticket.resolution, ticket.resolved_at) == (
        "printer",
        "cleaned the tray",
        later,
    )
    assert (ticket.contacts, ticket.version) == (1, 4)  # opened, the call, the note, the form
    # The note is a row of its own, naming the call; the description stays as it was.
    assert await store.ticket_description(ticket_id) == ""
    notes = await TicketRepo(store).notes(ticket_id)
    assert [(n.author, n.text, n.call_id, n.internal, n.at) for n in notes] == [
        ("alice", "rebooted", "call-1", False, later)
    ]
    trail = [(e.actor, e.field, e.old, e.new) for e in await store.ticket_audit(ticket_id)]
    assert trail == [
        ("system", "kind", None, "incident"),
        ("system", "status", None, "new"),
        ("system", "priority", None, "3"),
        ("system", "tier", None, "tier1_service_desk"),
        ("system", "contacts", "0", "1"),
        ("alice", "note", None, str(notes[0].id)),
        ("alice", "status", "new", "resolved"),
        ("alice", "resolved_at", None, later.isoformat()),
        ("alice", "priority", "3", "2"),
        ("alice", "subject", "Phone call from Zhang", "Printer jams"),
        ("alice", "category", None, "printer"),
        ("alice", "resolution", None, "cleaned the tray"),
    ]
    with pytest.raises(ValueError, match="asset tag"):
        await store.save_wrap_up("call-1", author="alice", now=later, device_asset_tag="nope")
    with pytest.raises(LookupError):
        await store.add_ticket_note("no-such-call", "x", author="alice", now=later)


async def test_the_wrap_up_follows_the_workflow_and_records_first_contact_resolution(
    store: SqlTicketStore,
) -> None:
    li = await _add_employee(store, "li", ("02088881002",))
    await store.open_call_record("call-3", None, "+862088881002", li, T0)
    ticket_id = await store.attach_call_to_incident("call-3", li, T0, WINDOW)
    later = T0 + timedelta(minutes=3)
    with pytest.raises(WorkflowError, match="cannot go from new to closed"):
        await store.save_wrap_up("call-3", author="alice", now=later, status=TicketStatus.CLOSED)
    untouched = await store.ticket(ticket_id)
    assert untouched is not None and (untouched.status, untouched.version) == ("new", 2)
    await store.save_wrap_up(
        "call-3",
        author="alice",
        now=later,
        status=TicketStatus.RESOLVED,
        description="VPN drops every hour",
        first_contact_resolved=True,
    )
    ticket = await store.ticket(ticket_id)
    assert ticket is not None and ticket.first_contact_resolved is True
    assert await store.ticket_description(ticket_id) == (
        "[2025-03-10T09:03:00+00:00 wrap-up by alice] VPN drops every hour"
    )
    fields = [e.field for e in await store.ticket_audit(ticket_id) if e.actor == "alice"]
    assert fields == ["status", "resolved_at", "first_contact_resolved", "description"]


async def test_an_agent_escalates_the_calls_ticket_through_the_workflow(
    store: SqlTicketStore,
) -> None:
    he = await _add_employee(store, "he", ("02088881004",))
    await store.open_call_record("call-4", None, "+862088881004", he, T0)
    ticket_id = await store.attach_call_to_incident("call-4", he, T0, WINDOW)
    later = T0 + timedelta(minutes=4)
    assert (
        await store.escalate_call_ticket(
            "call-4", Tier.ONSITE, author="alice", now=later, reason="printer fuser broken"
        )
        == ticket_id
    )
    ticket = await store.ticket(ticket_id)
    assert ticket is not None
    assert (ticket.tier, ticket.assignee, ticket.status) == ("onsite", None, "assigned")
    trail = [(e.field, e.new, e.reason) for e in await store.ticket_audit(ticket_id)]
    assert ("tier", "onsite", "printer fuser broken") in trail
    await store.save_wrap_up("call-4", author="alice", now=later, status=TicketStatus.RESOLVED)
    with pytest.raises(WorkflowError, match="cannot be assigned"):
        await store.escalate_call_ticket(
            "call-4", Tier.EXPERT, author="alice", now=later, reason="again"
        )


async def test_each_call_on_a_ticket_is_a_contact(store: SqlTicketStore) -> None:
    wu = await _add_employee(store, "wu", ("02088881003",))
    for n, minutes in enumerate((0, 30)):
        await store.open_call_record(f"c{n}", None, "+862088881003", wu, T0)
        first = await store.attach_call_to_incident(
            f"c{n}", wu, T0 + timedelta(minutes=minutes), WINDOW
        )
    ticket = await store.ticket(first)
    assert ticket is not None and (ticket.contacts, ticket.call_ids) == (2, ("c0", "c1"))


async def test_a_note_on_a_call_without_ticket_opens_one(store: SqlTicketStore) -> None:
    await store.open_call_record("call-2", None, "+8610999", None, T0)
    ticket_id = await store.add_ticket_note("call-2", "who is this?", author="bob", now=T0)
    ticket = await store.ticket(ticket_id)
    assert ticket is not None
    assert (ticket.kind, ticket.status, ticket.employee_id, ticket.call_ids) == (
        "incident",
        TicketStatus.NEW,
        None,
        ("call-2",),
    )
    assert ticket.subject == "Phone call from +8610999"
    record = await store.call_record("call-2")
    assert record is not None and record.ticket_id == ticket_id


async def test_the_call_record_keeps_the_ivr_outcome_and_the_agents_disposition(
    store: SqlTicketStore,
) -> None:
    zhang = await _add_employee(store, "zhang", ("02088881001",))
    await store.open_call_record("call-1", None, "+862088881001", zhang, T0)
    await store.update_call_record(
        "call-1", ivr_outcome="queued", ivr_attributes={"topic": "hardware", "urgent": "yes"}
    )
    await store.attach_call_to_incident("call-1", zhang, T0, WINDOW)
    later = T0 + timedelta(minutes=5)
    await store.save_wrap_up("call-1", author="alice", now=later, disposition="follow_up")
    record = await store.call_record("call-1")
    assert record is not None
    assert (record.ivr_outcome, record.ivr_attributes) == (
        "queued",
        {"topic": "hardware", "urgent": "yes"},
    )
    assert record.disposition == "follow_up"
    # A form without a disposition leaves the one given before.
    await store.save_wrap_up("call-1", author="alice", now=later, resolution="new toner")
    record = await store.call_record("call-1")
    assert record is not None and record.disposition == "follow_up"


async def test_a_record_from_before_the_ivr_knows_nothing_of_it(store: SqlTicketStore) -> None:
    await store.open_call_record("call-2", None, "+862088881002", None, T0)
    record = await store.call_record("call-2")
    assert record is not None
    assert (record.ivr_outcome, record.ivr_attributes, record.disposition) == (None, {}, None)
