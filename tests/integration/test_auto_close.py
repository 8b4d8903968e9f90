"""Resolved tickets nobody reopened are closed by the system after `auto_close_days`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from callcenter.clock import ManualClock
from callcenter.tickets.service_monitor import AutoCloser
from callcenter.tickets.store import SqlTicketStore
from callcenter.tickets.ticket_repo import NewTicket, TicketRepo
from callcenter.tickets.workflow import Actor, Kind, Role, Status

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ALICE = Actor("alice", Role.AGENT)
AFTER = timedelta(days=5)


async def resolved_ticket(repo: TicketRepo, at: datetime, subject: str = "Printer jams") -> int:
    created = await repo.create(NewTicket(Kind.INCIDENT, subject, 3), ALICE, at)
    ticket = created.ticket
    resolved = await repo.update(
        ticket.id, ticket.version, {"status": "resolved", "resolution": "cleaned"}, ALICE, at
    )
    return resolved.ticket.id


async def status_of(repo: TicketRepo, ticket_id: int) -> Status:
    detail = await repo.detail(ticket_id)
    assert detail is not None
    return Status(detail.ticket.status)


async def test_a_resolved_ticket_closes_once_the_period_is_over(
    demo_store: SqlTicketStore,
) -> None:
    repo = TicketRepo(demo_store)
    ticket_id = await resolved_ticket(repo, T0)
    closer = AutoCloser(demo_store, ManualClock(T0.timestamp()), AFTER)

    assert await closer.scan(T0 + AFTER - timedelta(seconds=1)) == []
    assert await status_of(repo, ticket_id) is Status.RESOLVED
    assert await closer.scan(T0 + AFTER) == [ticket_id]
    assert await status_of(repo, ticket_id) is Status.CLOSED
    trail = [
        (e.actor, e.field, e.old, e.new, e.reason) for e in await demo_store.ticket_audit(ticket_id)
    ]
    assert (
        "system",
        "status",
        "resolved",
        "closed",
        "resolved 5 days ago and not reopened",
    ) in trail
    assert await closer.scan(T0 + 2 * AFTER) == []  # closed once


async def test_a_reopened_ticket_is_not_closed(demo_store: SqlTicketStore) -> None:
    repo = TicketRepo(demo_store)
    ticket_id = await resolved_ticket(repo, T0)
    detail = await repo.detail(ticket_id)
    assert detail is not None
    await repo.update(
        ticket_id, detail.ticket.version, {"status": "in_progress"}, ALICE, T0 + timedelta(days=1)
    )
    closer = AutoCloser(demo_store, ManualClock(T0.timestamp()), AFTER)
    assert await closer.scan(T0 + 2 * AFTER) == []
    assert await status_of(repo, ticket_id) is Status.IN_PROGRESS


async def test_the_oldest_resolved_tickets_close_first_within_the_limit(
    demo_store: SqlTicketStore,
) -> None:
    repo = TicketRepo(demo_store)
    newer = await resolved_ticket(repo, T0 + timedelta(hours=1), "Newer")
    older = await resolved_ticket(repo, T0, "Older")
    closed = await repo.close_resolved(T0 + 2 * AFTER, AFTER, limit=1)
    assert closed == [older]
    assert await status_of(repo, newer) is Status.RESOLVED
