"""Problems, known errors, complaints and organisation SLAs in the database, on SQLite
and PostgreSQL: the scans, their idempotence, and the clocks of new tickets."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from callcenter.api.websocket.screen_pop import lookup
from callcenter.clock import ManualClock
from callcenter.complaints.model import ComplaintEscalated, ComplaintLimits, Limit
from callcenter.complaints.store import complaints, file_complaint
from callcenter.db import models
from callcenter.directory.org_store import org_service, set_org_service
from callcenter.problems.model import Dimension
from callcenter.problems.store import CAUSED_BY, SqlProblems
from callcenter.tickets.service_monitor import ComplaintMonitor, ProblemScanner
from callcenter.tickets.sla import ClockKind
from callcenter.tickets.store import SqlTicketStore
from callcenter.tickets.ticket_rows import apply_state, audit_rows, ticket_state
from callcenter.tickets.workflow import Actor, Role, Status, transition

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: Monday 2026-11-30 10:00 in Shanghai.
MONDAY = datetime(2026, 11, 30, 10, 0, tzinfo=SHANGHAI)
PC = "0000COM0001"  # Zhang San's desktop, a ThinkCentre M920t
EMPLOYEE = "zhangsanKJC"


async def incident(
    store: SqlTicketStore,
    created: datetime,
    asset_tag: str | None = PC,
    category: str | None = None,
    status: Status = Status.NEW,
) -> int:
    """An incident as the desk would have filed it, on a device of the demo data."""
    async with store.write_transaction() as session:
        device_id = (
            await session.scalar(
                select(models.Device.id).where(models.Device.asset_tag == asset_tag)
            )
            if asset_tag
            else None
        )
        ticket = models.Ticket(
            kind="incident",
            status=status.value,
            priority=3,
            subject="PC does not start",
            device_id=device_id,
            category=category,
            created_at=created,
            updated_at=created,
        )
        session.add(ticket)
        await session.flush()
        return ticket.id


async def links(store: SqlTicketStore, problem_id: int) -> set[int]:
    async with store.write_transaction() as session:
        rows = await session.scalars(
            select(models.TicketLink.ticket_id).where(
                models.TicketLink.other_id == problem_id, models.TicketLink.kind == CAUSED_BY
            )
        )
        return set(rows)


async def set_status(
    store: SqlTicketStore,
    ticket_id: int,
    status: Status,
    who: Actor,
    at: datetime = MONDAY + timedelta(hours=1),
) -> None:
    async with store.write_transaction() as session:
        row = await session.get_one(models.Ticket, ticket_id)
        state, entries = transition(ticket_state(row), status, who, at)
        apply_state(row, state)
        session.add_all(audit_rows(entries))


async def test_repeated_incidents_open_one_problem_and_later_ones_join_it(
    demo_store: SqlTicketStore,
) -> None:
    store = demo_store
    ids = [await incident(store, MONDAY - timedelta(days=d)) for d in (3, 2, 1)]
    problems = SqlProblems(store)
    first = await problems.scan(MONDAY)
    assert len(first.created) == 1
    problem_id, proposal = first.created[0]
    assert (proposal.dimension, proposal.key) == (Dimension.CONFIGURATION_ITEM, PC)
    assert first.linked == {problem_id: tuple(ids)}
    assert await links(store, problem_id) == set(ids)
    ticket = await store.ticket(problem_id)
    assert ticket is not None and ticket.kind == "problem" and ticket.status is Status.NEW
    assert ticket.device_id is not None
    assert [e.field for e in await store.ticket_audit(problem_id)][:2] == ["kind", "status"]

    # Idempotent: nothing new, nothing done.
    again = await problems.scan(MONDAY + timedelta(minutes=5))
    assert again.created == [] and again.linked == {}

    # One more incident on the PC joins the open problem, below the threshold.
    later = await incident(store, MONDAY + timedelta(hours=1))
    joined = await problems.scan(MONDAY + timedelta(hours=2))
    assert joined.created == [] and joined.linked == {problem_id: (later,)}
    (listed,) = await problems.open_problems()
    assert (listed.id, listed.incident_count, listed.known_error) == (problem_id, 4, False)


async def test_a_closed_problem_frees_its_key(demo_store: SqlTicketStore) -> None:
    store = demo_store
    for d in (3, 2, 1):
        await incident(store, MONDAY - timedelta(days=d), None, "VPN")
    problems = SqlProblems(store)
    ((old_problem, _),) = (await problems.scan(MONDAY)).created
    await set_status(store, old_problem, Status.CANCELLED, Actor("sue", Role.SUPERVISOR))
    assert await problems.open_problems() == []
    fresh = [await incident(store, MONDAY + timedelta(hours=h), None, "vpn ") for h in (1, 2, 3)]
    ((new_problem, proposal),) = (await problems.scan(MONDAY + timedelta(hours=4))).created
    assert new_problem != old_problem and proposal.key == "vpn"
    assert await links(store, new_problem) == set(fresh)


async def test_the_scanner_uses_its_threshold_and_window(demo_store: SqlTicketStore) -> None:
    store = demo_store
    clock = ManualClock(MONDAY.timestamp())
    for d in (10, 1):
        await incident(store, MONDAY - timedelta(days=d))
    scanner = ProblemScanner(store, clock, threshold=2, window=timedelta(days=7))
    assert (await scanner.scan()).created == []  # the older one is outside the week
    await incident(store, MONDAY - timedelta(hours=1))
    assert len((await scanner.scan()).created) == 1


async def test_a_known_error_shows_on_new_incidents_and_in_the_screen_pop(
    demo_store: SqlTicketStore,
) -> None:
    store = demo_store
    for d in (3, 2, 1):
        await incident(store, MONDAY - timedelta(days=d))
    problems = SqlProblems(store)
    ((problem_id, _),) = (await problems.scan(MONDAY)).created
    new_incident = await incident(store, MONDAY + timedelta(hours=1))
    assert await problems.known_errors_for_ticket(new_incident) == []

    marked = await problems.mark_known_error(
        problem_id, "Reseat the RAM module", "sue", MONDAY + timedelta(hours=2)
    )
    assert (
        marked is not None and marked.known_error and marked.workaround == "Reseat the RAM module"
    )
    assert [e.field for e in await store.ticket_audit(problem_id)][-2:] == [
        "known_error",
        "workaround",
    ]
    (known,) = await problems.known_errors_for_ticket(new_incident)
    assert (known.problem_id, known.workaround) == (problem_id, "Reseat the RAM module")
    assert await problems.known_errors_for_ticket(problem_id) == []  # not on itself
    other_pc = await incident(store, MONDAY, "0001COM0001")
    assert await problems.known_errors_for_ticket(other_pc) == []

    pop = await lookup(store, "+862088881001", (MONDAY + timedelta(hours=3)).timestamp())
    assert pop["employee"]["username"] == EMPLOYEE
    assert [k["workaround"] for k in pop["known_errors"]] == ["Reseat the RAM module"]
    assert await problems.mark_known_error(999_999, "x", "sue", MONDAY) is None


async def test_complaint_goes_to_the_account_manager_and_escalates_once(
    demo_store: SqlTicketStore,
) -> None:
    store = demo_store
    employee = await store.employee_by_username(EMPLOYEE)
    assert employee is not None
    async with store.write_transaction() as session:
        org_id = await session.scalar(select(models.Employee.organisation_id))
    assert org_id is not None
    await set_org_service(
        store,
        org_id,
        policy=None,
        calendar=None,
        account_manager="mei",
        account_manager_email="mei@desk.example",
        actor="sue",
        now=MONDAY,
    )
    about = await incident(store, MONDAY - timedelta(days=1))
    complaint = await file_complaint(
        store,
        subject="Nobody came",
        description="The engineer never arrived.",
        filed_by="alice",
        now=MONDAY,  # Monday 10:00: acknowledge by 15:00 (lunch does not count)
        employee=EMPLOYEE,
        about_ticket_id=about,
    )
    assert (complaint.assignee, complaint.tier, complaint.status) == (
        "mei",
        "account_manager",
        Status.ASSIGNED,
    )
    assert (complaint.organisation_id, complaint.about_ticket_id) == (org_id, about)
    async with store.write_transaction() as session:
        link = await session.get(models.TicketLink, (complaint.id, about, "related"))
    assert link is not None

    published: list[object] = []
    clock = ManualClock(MONDAY.timestamp())
    monitor = ComplaintMonitor(store, published.append, clock, ComplaintLimits(4 * 3600, 16 * 3600))
    clock.advance(5 * 3600)  # 15:00: the due instant itself is in time
    assert await monitor.scan() == []
    clock.advance(60)
    (event,) = await monitor.scan()
    assert isinstance(event, ComplaintEscalated) and published == [event]
    assert (event.level, event.limit, event.account_manager) == (1, Limit.ACKNOWLEDGE, "mei")
    assert event.due_at == datetime(2026, 11, 30, 15, 0, tzinfo=SHANGHAI)
    assert await monitor.scan() == []  # never twice
    (listed,) = await complaints(store, open_only=True)
    assert listed.escalation_level == 1
    audit = await store.ticket_audit(complaint.id)
    assert (audit[-1].field, audit[-1].old, audit[-1].new) == ("escalation_level", "0", "1")

    # The account manager takes it up late (15:30); resolving is due 16 business hours
    # after filing: 6.5 h on Monday, 8 h on Tuesday, 1.5 h on Wednesday -> 10:00.
    aom = Actor("mei", Role.ACCOUNT_OPERATION_MANAGER)
    await set_status(store, complaint.id, Status.IN_PROGRESS, aom, MONDAY + timedelta(hours=5.5))
    clock.advance(43 * 3600 - 60)  # Wednesday 10:00
    assert await monitor.scan() == []
    clock.advance(60)
    (second,) = await monitor.scan()
    assert (second.level, second.limit) == (2, Limit.RESOLVE)
    assert second.due_at == datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI)
    assert published == [event, second]
    assert await complaints(store, organisation_id=org_id + 1) == []


async def test_a_complaint_without_account_manager_waits_at_the_tier(
    demo_store: SqlTicketStore,
) -> None:
    async with demo_store.write_transaction() as session:
        org_id = await session.scalar(select(models.Organisation.id))
    assert org_id is not None
    complaint = await file_complaint(
        demo_store,
        subject="Rude agent",
        description="",
        filed_by="bob",
        now=MONDAY,
        organisation_id=org_id,
    )
    assert (complaint.assignee, complaint.status, complaint.employee_id) == (
        None,
        Status.NEW,
        None,
    )


async def test_new_tickets_are_timed_on_their_organisations_calendar_and_policy(
    demo_store: SqlTicketStore,
) -> None:
    store = demo_store
    employee = await store.employee_by_username(EMPLOYEE)
    assert employee is not None
    async with store.write_transaction() as session:
        org_id = await session.scalar(select(models.Organisation.id))
    assert org_id is not None

    async def new_incident(call_id: str, at: datetime) -> int:
        await store.open_call_record(call_id, None, "+862088881001", employee.id, at)
        return await store.attach_call_to_incident(call_id, employee.id, at, 0.0)

    default_ticket = await new_incident("c-default", MONDAY)
    clocks = await store.sla_clocks(default_ticket)
    assert clocks[ClockKind.RESOLUTION].calendar.zone.key == "Asia/Shanghai"
    assert clocks[ClockKind.FIRST_RESPONSE].target_seconds == 30 * 60  # standard

    service = await set_org_service(
        store,
        org_id,
        policy="premium",
        calendar={"timezone": "Europe/Berlin", "always_open": True},
        account_manager=None,
        account_manager_email=None,
        actor="sue",
        now=MONDAY,
    )
    assert service is not None and service.effective_policy == "premium"
    assert service.effective_calendar["timezone"] == "Europe/Berlin"
    premium_ticket = await new_incident("c-premium", MONDAY + timedelta(hours=9))
    assert premium_ticket != default_ticket
    clocks = await store.sla_clocks(premium_ticket)
    assert clocks[ClockKind.FIRST_RESPONSE].target_seconds == 10 * 60
    assert clocks[ClockKind.FIRST_RESPONSE].policy == "premium@1"
    assert clocks[ClockKind.RESOLUTION].calendar.zone.key == "Europe/Berlin"
    # A policy change leaves the open ticket's clocks as they started.
    old = await store.sla_clocks(default_ticket)
    assert old[ClockKind.FIRST_RESPONSE].target_seconds == 30 * 60
    assert old[ClockKind.RESOLUTION].calendar.zone.key == "Asia/Shanghai"

    # Back to the defaults.
    await set_org_service(
        store,
        org_id,
        policy=None,
        calendar=None,
        account_manager=None,
        account_manager_email=None,
        actor="sue",
        now=MONDAY,
    )
    reset = await org_service(store, org_id)
    assert reset is not None and (reset.policy, reset.calendar) == (None, None)
    assert reset.effective_policy == "standard"
    assert reset.effective_calendar["timezone"] == "Asia/Shanghai"
    assert await org_service(store, 424242) is None


async def test_incident_times_are_utc_in_the_scan(demo_store: SqlTicketStore) -> None:
    """The window compares aware instants on both databases (SQLite keeps naive UTC)."""
    store = demo_store
    edge = MONDAY.astimezone(UTC) - timedelta(days=30)
    await incident(store, edge - timedelta(seconds=1))
    await incident(store, edge)
    await incident(store, edge + timedelta(days=1))
    assert (await SqlProblems(store).scan(MONDAY)).created == []
    await incident(store, MONDAY)
    ((_, proposal),) = (await SqlProblems(store).scan(MONDAY)).created
    assert proposal.count == 3


async def test_two_scans_at_once_open_one_problem(demo_store: SqlTicketStore) -> None:
    """Two processes' scans on one database: one opens the problem, the other sees it."""
    for d in (3, 2, 1):
        await incident(demo_store, MONDAY - timedelta(days=d))
    first, second = await asyncio.gather(
        SqlProblems(demo_store).scan(MONDAY), SqlProblems(demo_store).scan(MONDAY)
    )
    assert len(first.created) + len(second.created) == 1
    assert len(await SqlProblems(demo_store).open_problems()) == 1
