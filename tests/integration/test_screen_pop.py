"""The screen pop's store reads on real databases: shared lines, numbers written in
tickets ("maybe"), the agent identifying the caller, and migration 0012's backfill."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import delete, select

from callcenter.db import models
from callcenter.db.engine import make_engine
from callcenter.db.migrate import alembic_config, upgrade
from callcenter.directory.caller_identity import UnknownCall, UnknownEmployee, identify_caller
from callcenter.directory.phone import normalise
from callcenter.tickets.screen_pop_query import CANDIDATES
from callcenter.tickets.store import SqlTicketStore, open_store
from callcenter.tickets.ticket_repo import NewTicket, TicketRepo
from callcenter.tickets.workflow import Actor, Kind, Role

T0 = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
WINDOW = 8.0
LINE = "+862088885000"  # a department's shared line
STRANGER = "+862088887777"  # nobody's number
AGENT = Actor("alice", Role.AGENT)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SqlTicketStore]:
    await upgrade(database_url, "CN")
    store = open_store(database_url, "CN")
    try:
        yield store
    finally:
        await store.close()


async def _employees(store: SqlTicketStore, count: int, phone: str | None = LINE) -> list[int]:
    async with store.write_transaction() as session:
        organisation = models.Organisation(name=f"Org {uuid.uuid4().hex[:6]}")
        session.add(organisation)
        await session.flush()
        ids = []
        for n in range(count):
            employee = models.Employee(
                organisation_id=organisation.id, username=f"user{n:02d}", name=f"User {n:02d}"
            )
            session.add(employee)
            await session.flush()
            if phone is not None:
                e164 = normalise(phone, "CN")
                assert e164 is not None
                session.add(
                    models.EmployeePhone(
                        employee_id=employee.id, number_raw=phone, number_e164=e164
                    )
                )
            ids.append(employee.id)
        return ids


async def _call(store: SqlTicketStore, caller: str = LINE, answered: bool = True) -> str:
    call_id = str(uuid.uuid4())
    await store.open_call_record(call_id, None, caller, None, T0)
    if answered:
        await store.update_call_record(call_id, answered_at=T0 + timedelta(seconds=20))
    return call_id


# -- shared lines --------------------------------------------------------------------------


async def test_a_shared_line_offers_every_employee_on_it(store: SqlTicketStore) -> None:
    await _employees(store, 3)
    pop = await store.screen_pop("020 8888 5000")
    assert pop.matches == 3 and pop.employee is None
    assert [e.username for e in pop.candidates] == ["user00", "user01", "user02"]
    assert {e.organisation for e in pop.candidates} != {""}
    assert pop.devices == [] and pop.open_tickets == [] and pop.maybe == []


async def test_a_big_line_lists_twenty_but_counts_all(store: SqlTicketStore) -> None:
    await _employees(store, CANDIDATES + 3)
    pop = await store.screen_pop(LINE)
    assert pop.matches == CANDIDATES + 3
    assert len(pop.candidates) == CANDIDATES


async def test_one_employee_on_the_number_is_the_caller(store: SqlTicketStore) -> None:
    await _employees(store, 1)
    pop = await store.screen_pop(LINE)
    assert pop.matches == 1 and pop.employee is not None
    assert pop.employee.username == "user00"
    assert [e.username for e in pop.candidates] == ["user00"]


async def test_the_screen_pop_of_a_named_employee(store: SqlTicketStore) -> None:
    await _employees(store, 2)
    pop = await store.screen_pop(LINE, username="user01")
    assert pop.employee is not None and pop.employee.username == "user01"
    assert pop.matches == 2
    with pytest.raises(LookupError):
        await store.screen_pop(LINE, username="nobody")


# -- numbers written in tickets ------------------------------------------------------------


async def test_a_number_only_in_ticket_text_is_a_maybe(store: SqlTicketStore) -> None:
    (owner,) = await _employees(store, 1, phone=None)
    repo = TicketRepo(store)
    written = await repo.create(
        NewTicket(
            Kind.INCIDENT,
            "Printer jam",
            3,
            description="Caller's colleague, reachable on (020) 8888-7777",
            employee="user00",
        ),
        AGENT,
        T0,
    )
    noted = await repo.create(NewTicket(Kind.INCIDENT, "VPN down", 3), AGENT, T0)
    await repo.add_note(
        noted.ticket.id,
        "rang back 020 8888 7777, no answer",
        internal=False,
        author="alice",
        now=T0 + timedelta(minutes=5),
    )
    await repo.create(NewTicket(Kind.INCIDENT, "Other number 020 8888 6666", 3), AGENT, T0)

    pop = await store.screen_pop(STRANGER)
    assert pop.matches == 0 and pop.employee is None
    by_id = {m.ticket_id: m for m in pop.maybe}
    assert set(by_id) == {written.ticket.id, noted.ticket.id}
    assert by_id[written.ticket.id].number_as_written == "(020) 8888-7777"
    assert by_id[written.ticket.id].employee is not None
    assert by_id[written.ticket.id].employee.id == owner  # type: ignore[union-attr]
    assert by_id[noted.ticket.id].employee is None
    assert by_id[noted.ticket.id].number_as_written == "020 8888 7777"


async def test_the_index_follows_edits_of_the_ticket_text(store: SqlTicketStore) -> None:
    repo = TicketRepo(store)
    ticket = await repo.create(NewTicket(Kind.INCIDENT, "Call 020 8888 7777 back", 3), AGENT, T0)
    assert [m.ticket_id for m in (await store.screen_pop(STRANGER)).maybe] == [ticket.ticket.id]
    await repo.update(
        ticket.ticket.id, ticket.ticket.version, {"subject": "Call back tomorrow"}, AGENT, T0
    )
    assert (await store.screen_pop(STRANGER)).maybe == []


async def test_the_call_flows_wrap_up_and_notes_are_indexed_too(store: SqlTicketStore) -> None:
    """Writes through the ORM anywhere (here the call flow's store methods) pass the hook."""
    call_id = await _call(store)
    ticket_id = await store.save_wrap_up(
        call_id, author="alice", now=T0, subject="Fax", description="fax 020-8888 7777 dead"
    )
    other = await store.add_ticket_note(
        await _call(store), "also try 138 0013 8000", author="alice", now=T0
    )
    maybe = (await store.screen_pop(STRANGER)).maybe
    assert [(m.ticket_id, m.number_as_written) for m in maybe] == [(ticket_id, "020-8888 7777")]
    mobile = (await store.screen_pop("+8613800138000")).maybe
    assert [(m.ticket_id, m.number_as_written) for m in mobile] == [(other, "138 0013 8000")]


async def test_a_merge_moves_the_notes_numbers_to_the_survivor(store: SqlTicketStore) -> None:
    repo = TicketRepo(store)
    survivor = await repo.create(NewTicket(Kind.INCIDENT, "Fax down", 3), AGENT, T0)
    duplicate = await repo.create(NewTicket(Kind.INCIDENT, "Fax broken", 3), AGENT, T0)
    await repo.add_note(
        duplicate.ticket.id, "fax is 020 8888 7777", internal=False, author="alice", now=T0
    )
    merged = await repo.merge(
        survivor.ticket.id, survivor.ticket.version, [duplicate.ticket.id], AGENT, T0
    )
    maybe = (await store.screen_pop(STRANGER)).maybe
    assert [m.ticket_id for m in maybe] == [merged.ticket.id] == [survivor.ticket.id]


async def test_a_known_employee_is_no_maybe(store: SqlTicketStore) -> None:
    await _employees(store, 1, phone=STRANGER)
    await TicketRepo(store).create(
        NewTicket(Kind.INCIDENT, "Call 020 8888 7777 back", 3), AGENT, T0
    )
    pop = await store.screen_pop(STRANGER)
    assert pop.matches == 1 and pop.maybe == []


async def test_migration_0012_indexes_existing_tickets(
    store: SqlTicketStore, database_url: str
) -> None:
    ticket = await TicketRepo(store).create(
        NewTicket(Kind.INCIDENT, "Fax on +86 20 8888 7777 broken", 3), AGENT, T0
    )
    engine = make_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(delete(models.TicketPhone))

            def down(sync_connection: object) -> None:
                config = alembic_config()
                config.attributes["connection"] = sync_connection
                command.downgrade(config, "0011")

            await connection.run_sync(down)
    finally:
        await engine.dispose()
    await upgrade(database_url, "CN")
    async with store.write_transaction() as session:
        rows = (await session.execute(select(models.TicketPhone))).scalars().all()
    assert [(r.ticket_id, r.number_e164, r.as_written) for r in rows] == [
        (ticket.ticket.id, STRANGER, "+86 20 8888 7777")
    ]


# -- the agent identifies the caller -------------------------------------------------------


async def test_identifying_an_answered_call_opens_the_employees_incident(
    store: SqlTicketStore,
) -> None:
    ids = await _employees(store, 3)
    call_id = await _call(store)
    # The call flow attached nothing at the answer: nobody was known.
    assert await store.attach_call_to_incident(call_id, None, T0, WINDOW) is None
    identified = await identify_caller(
        store, call_id, "user01", actor="alice", now=T0 + timedelta(minutes=1), window_hours=WINDOW
    )
    assert identified.employee_id == ids[1] and identified.ticket_id is not None
    record = await store.call_record(call_id)
    assert record is not None
    assert (record.employee_id, record.ticket_id) == (ids[1], identified.ticket_id)
    ticket = await store.ticket(identified.ticket_id)
    assert ticket is not None and ticket.employee_id == ids[1] and ticket.kind == "incident"
    # A later attach by the call flow (a transfer's second answer) changes nothing.
    assert await store.attach_call_to_incident(call_id, None, T0, WINDOW) == identified.ticket_id


async def test_identifying_before_the_answer_lets_the_answer_attach(
    store: SqlTicketStore,
) -> None:
    ids = await _employees(store, 2)
    call_id = await _call(store, answered=False)
    identified = await identify_caller(
        store, call_id, "user00", actor="alice", now=T0, window_hours=WINDOW
    )
    assert identified.ticket_id is None
    ticket_id = await store.attach_call_to_incident(call_id, None, T0, WINDOW)
    assert ticket_id is not None
    ticket = await store.ticket(ticket_id)
    assert ticket is not None and ticket.employee_id == ids[0]


async def test_a_ticket_without_employee_becomes_the_callers_in_the_audit(
    store: SqlTicketStore,
) -> None:
    ids = await _employees(store, 2)
    call_id = await _call(store)
    ticket_id = await store.add_ticket_note(call_id, "printer broken", author="alice", now=T0)
    before = await store.ticket(ticket_id)
    assert before is not None and before.employee_id is None
    identified = await identify_caller(
        store, call_id, "user01", actor="alice", now=T0, window_hours=WINDOW
    )
    assert identified.ticket_id == ticket_id
    after = await store.ticket(ticket_id)
    assert after is not None and after.employee_id == ids[1]
    assert after.version == before.version + 1
    entries = [e for e in await store.ticket_audit(ticket_id) if e.field == "employee"]
    assert [(e.actor, e.old, e.new) for e in entries] == [("alice", None, "user01")]


async def test_unknown_employee_or_call_is_refused(store: SqlTicketStore) -> None:
    await _employees(store, 1)
    call_id = await _call(store)
    with pytest.raises(UnknownEmployee):
        await identify_caller(store, call_id, "nobody", actor="alice", now=T0, window_hours=WINDOW)
    with pytest.raises(UnknownCall):
        await identify_caller(
            store, "no-call", "user00", actor="alice", now=T0, window_hours=WINDOW
        )
    record = await store.call_record(call_id)
    assert record is not None and record.employee_id is None
