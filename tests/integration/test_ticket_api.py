"""The ticket REST API on SQLite and PostgreSQL: listing, creation, workflow edits with
If-Match, audit, notes, links, merging duplicates, and two edits racing for one version."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from pytest_aiohttp import AiohttpClient
from sqlalchemy import select

from callcenter.db import models
from callcenter.tickets.errors import StaleVersion
from callcenter.tickets.priority import PriorityMatrix
from callcenter.tickets.store import SqlTicketStore
from callcenter.tickets.ticket_repo import _bump
from tests.integration.test_api import Desk, plain_desk
from tests.integration.test_kb_api import problem_field

T0 = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
BASE = "/api/v1/tickets"


@pytest.fixture
async def desk(aiohttp_client: AiohttpClient, demo_store: SqlTicketStore) -> Desk:
    return await plain_desk(aiohttp_client, demo_store, T0)


async def send(
    desk: Desk,
    method: str,
    path: str,
    who: str = "alice",
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any, Mapping[str, str]]:
    resp = await desk.client.request(
        method, path, json=body, headers={**await desk.auth(who), **(headers or {})}
    )
    payload = None if resp.status == 204 else await resp.json(content_type=None)
    if resp.status >= 400:
        problem_field(resp.status, resp.content_type, payload)
    return resp.status, payload, resp.headers


async def create(desk: Desk, who: str = "alice", **fields: Any) -> dict[str, Any]:
    body = {"subject": "Printer jams", **fields}
    status, ticket, headers = await send(desk, "POST", BASE, who, body)
    assert status == 201, ticket
    assert headers["Location"] == f"{BASE}/{ticket['id']}"
    assert headers["ETag"] == f'"{ticket["version"]}"'
    return ticket


async def patch(
    desk: Desk, ticket: dict[str, Any], body: Any, who: str = "alice", version: int | None = None
) -> tuple[int, Any, Mapping[str, str]]:
    match = f'"{ticket["version"] if version is None else version}"'
    return await send(desk, "PATCH", f"{BASE}/{ticket['id']}", who, body, {"If-Match": match})


async def _call(desk: Desk, call_id: str, at: datetime) -> int:
    """A call of Zhang San, attached by the call flow to an incident; the ticket id."""
    zhang = await desk.store.employee_by_username("zhangsanKJC")
    assert zhang is not None
    await desk.store.open_call_record(call_id, None, "+862088881001", zhang.id, at)
    return await desk.store.attach_call_to_incident(call_id, zhang.id, at, 8.0)


async def test_every_ticket_route_needs_a_token(desk: Desk) -> None:
    for method, path in [
        ("GET", BASE),
        ("POST", BASE),
        ("GET", f"{BASE}/1"),
        ("PATCH", f"{BASE}/1"),
        ("GET", f"{BASE}/1/audit"),
        ("GET", f"{BASE}/1/notes"),
        ("POST", f"{BASE}/1/notes"),
        ("POST", f"{BASE}/1/links"),
        ("DELETE", f"{BASE}/1/links/2/related"),
        ("POST", f"{BASE}/1/merge"),
    ]:
        resp = await desk.client.request(method, path)
        assert resp.status == 401, (method, path)


# ----- creation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "status", "tier", "clocks"),
    [
        ("incident", "new", "tier1_service_desk", True),
        ("service_request", "new", "tier1_service_desk", True),
        ("problem", "new", "tier1_service_desk", False),
        ("change", "pending_approval", "tier1_service_desk", False),
        ("complaint", "new", "account_manager", True),
    ],
)
async def test_create_every_kind(
    desk: Desk, kind: str, status: str, tier: str, clocks: bool
) -> None:
    ticket = await create(
        desk,
        kind=kind,
        subject="  Printer jams  ",
        description="Paper stuck in tray 2",
        employee="zhangsanKJC",
        device="0000PRN0001",
        category="printer",
        impact="high",
        urgency=2,
    )
    zhang = await desk.store.employee_by_username("zhangsanKJC")
    assert zhang is not None
    assert (ticket["kind"], ticket["status"], ticket["tier"], ticket["priority"]) == (
        kind,
        status,
        tier,
        2,  # impact high x urgency medium
    )
    assert (ticket["subject"], ticket["description"], ticket["category"]) == (
        "Printer jams",
        "Paper stuck in tray 2",
        "printer",
    )
    assert ticket["employee_id"] == zhang.id and ticket["device_id"] is not None
    assert (ticket["version"], ticket["links"], ticket["notes"], ticket["calls"]) == (1, [], [], [])
    assert ticket["created_at"] == T0.isoformat()
    assert bool(await desk.store.sla_clocks(ticket["id"])) is clocks
    status_code, trail, _ = await send(desk, "GET", f"{BASE}/{ticket['id']}/audit")
    assert status_code == 200
    fields = [(e["who"], e["field"], e["new"]) for e in trail["audit"]]
    assert ("alice", "kind", kind) in fields and ("alice", "category", "printer") in fields
    if kind == "change":
        assert ("alice", "status", "pending_approval") in fields


async def test_the_configured_priority_matrix_rates_impact_and_urgency(
    aiohttp_client: AiohttpClient, demo_store: SqlTicketStore
) -> None:
    strict = PriorityMatrix.from_data([[1, 1, 2], [1, 2, 3], [2, 3, 5]])
    desk = await plain_desk(aiohttp_client, demo_store, T0, priority_matrix=strict)
    ticket = await create(desk, impact="medium", urgency="high")
    assert ticket["priority"] == 1  # the default matrix says 2
    status, patched, _ = await send(
        desk,
        "PATCH",
        f"{BASE}/{ticket['id']}",
        body={"impact": "low", "urgency": "low"},
        headers={"If-Match": f'"{ticket["version"]}"'},
    )
    assert status == 200, patched
    assert patched["priority"] == 5


async def test_create_defaults_to_a_medium_incident(desk: Desk) -> None:
    ticket = await create(desk)
    assert (ticket["kind"], ticket["priority"], ticket["employee_id"]) == ("incident", 3, None)


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({}, 400, "subject"),
        ({"subject": "   "}, 400, "subject"),
        ({"subject": "x", "kind": "outage"}, 400, "kind"),
        ({"subject": "x", "impact": 4}, 400, "impact"),
        ({"subject": "x", "colour": "red"}, 400, "colour"),
        ({"subject": "x", "employee": "nobody"}, 422, "employee"),
        ({"subject": "x", "device": "0000XXX9999"}, 422, "device"),
        ("not an object", 400, "body"),
    ],
)
async def test_invalid_creations_name_the_field(
    desk: Desk, body: Any, status: int, field: str
) -> None:
    got, problem, _ = await send(desk, "POST", BASE, "alice", body)
    assert (got, problem["field"]) == (status, field)
    _, listing, _ = await send(desk, "GET", BASE)
    assert listing["tickets"] == []  # nothing written


# ----- listing ----------------------------------------------------------------------------


async def test_listing_filters(desk: Desk) -> None:
    first = await create(desk, employee="zhangsanKJC", category="printer", device="KJC-PRN-0001")
    desk.clock.advance(60)
    change = await create(desk, kind="change", employee="lisiKJC", impact=1, urgency=1)
    desk.clock.advance(60)
    third = await create(desk, kind="complaint", employee="zhangsanKJC")
    status, _, _ = await patch(desk, first, {"status": "resolved", "resolution": "cleaned"})
    assert status == 200

    async def ids(query: str) -> list[int]:
        status, body, _ = await send(desk, "GET", f"{BASE}?{query}")
        assert status == 200, body
        return [t["id"] for t in body["tickets"]]

    assert await ids("") == [third["id"], change["id"], first["id"]]  # newest first
    assert await ids("employee=zhangsanKJC") == [third["id"], first["id"]]
    assert await ids("status=resolved") == [first["id"]]
    assert await ids("status=new,pending_approval") == [third["id"], change["id"]]
    assert await ids("kind=change") == [change["id"]]
    assert await ids("priority=1") == [change["id"]]
    assert await ids("tier=account_manager") == [third["id"]]
    assert await ids("category=printer") == [first["id"]]
    assert await ids("device=0000PRN0001") == [first["id"]]
    assert await ids("open=true") == [third["id"], change["id"]]
    assert await ids("open=false") == [first["id"]]
    after = (T0 + timedelta(seconds=30)).isoformat()
    assert await ids(f"created_after={after.replace('+', '%2B')}") == [third["id"], change["id"]]
    before = (T0 + timedelta(seconds=90)).isoformat().replace("+00:00", "Z")
    assert await ids(f"created_before={before}") == [change["id"], first["id"]]
    assert await ids("sort=priority,-created_at") == [change["id"], third["id"], first["id"]]
    assert await ids("sort=id") == [first["id"], change["id"], third["id"]]
    assert await ids("assignee=alice") == []


async def test_listing_pages_with_next_links_and_offsets(desk: Desk) -> None:
    created = []
    for n in range(7):
        created.append((await create(desk, subject=f"ticket {n}", impact=1 + n % 3))["id"])
        if n % 2:
            desk.clock.advance(5)  # pairs share a creation time: the id breaks the tie
    seen: list[int] = []
    path: str | None = f"{BASE}?sort=-priority,created_at&limit=3&kind=incident"
    pages = 0
    while path is not None:
        status, body, _ = await send(desk, "GET", path)
        assert status == 200 and body["limit"] == 3
        seen += [t["id"] for t in body["tickets"]]
        path = body["next"]
        pages += 1
        if path is not None:
            query = parse_qs(urlsplit(path).query)
            assert query["kind"] == ["incident"] and query["sort"] == ["-priority,created_at"]
    assert pages == 3 and sorted(seen) == sorted(created) and len(seen) == 7
    status, everything, _ = await send(desk, "GET", f"{BASE}?sort=-priority,created_at")
    assert seen == [t["id"] for t in everything["tickets"]]
    status, body, _ = await send(desk, "GET", f"{BASE}?sort=-priority,created_at&offset=5")
    assert [t["id"] for t in body["tickets"]] == seen[5:] and body["next"] is None


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=x", "limit"),
        ("offset=-1", "offset"),
        ("cursor=abc&offset=1", "cursor"),
        ("cursor=!!!", "cursor"),
        ("sort=subject", "sort"),
        ("sort=-id,id", "sort"),
        ("status=open", "status"),
        ("kind=bug", "kind"),
        ("priority=9", "priority"),
        ("tier=tier9", "tier"),
        ("open=maybe", "open"),
        ("created_after=yesterday", "created_after"),
        ("created_before=2025-03-10T09:00:00", "created_before"),
        ("employee=", "employee"),
        ("category=" + "x" * 65, "category"),
        ("colour=red", "colour"),
        ("status=new&status=resolved", "status"),
    ],
)
async def test_bad_listing_parameters_are_problems_naming_them(
    desk: Desk, query: str, field: str
) -> None:
    status, problem, _ = await send(desk, "GET", f"{BASE}?{query}")
    assert (status, problem["field"], problem["code"]) == (400, field, "invalid_query")


async def test_a_cursor_belongs_to_its_sort(desk: Desk) -> None:
    for _ in range(3):
        await create(desk)
    _, body, _ = await send(desk, "GET", f"{BASE}?limit=1&sort=id")
    cursor = parse_qs(urlsplit(body["next"]).query)["cursor"][0]
    status, problem, _ = await send(desk, "GET", f"{BASE}?limit=1&sort=-id&cursor={cursor}")
    assert (status, problem["field"]) == (400, "cursor")


async def test_unknown_filter_references_are_404(desk: Desk) -> None:
    status, problem, _ = await send(desk, "GET", f"{BASE}?device=0000XXX9999")
    assert (status, problem["field"]) == (404, "device")


# ----- one ticket and its edits ------------------------------------------------------------


async def test_get_shows_version_calls_and_etag(desk: Desk) -> None:
    ticket_id = await _call(desk, "call-1", T0)
    status, ticket, headers = await send(desk, "GET", f"{BASE}/{ticket_id}")
    assert status == 200 and headers["ETag"] == f'"{ticket["version"]}"'
    assert ticket["version"] == 2  # opened, then the call counted as a contact
    assert [c["id"] for c in ticket["calls"]] == ["call-1"] == ticket["call_ids"]


async def test_patch_needs_a_current_if_match(desk: Desk) -> None:
    ticket = await create(desk)
    path = f"{BASE}/{ticket['id']}"
    status, problem, _ = await send(desk, "PATCH", path, "alice", {"status": "in_progress"})
    assert (status, problem["field"], problem["code"]) == (428, "If-Match", "precondition_required")
    for bad in ("*", "7", '"x"', '"1", "2"'):
        status, problem, _ = await send(
            desk, "PATCH", path, "alice", {"status": "in_progress"}, {"If-Match": bad}
        )
        assert (status, problem["field"]) == (400, "If-Match"), bad
    status, moved, headers = await send(
        desk, "PATCH", path, "alice", {"status": "in_progress"}, {"If-Match": 'W/"1"'}
    )
    assert (status, moved["status"], moved["version"], headers["ETag"]) == (
        200,
        "in_progress",
        2,
        '"2"',
    )
    status, problem, headers = await patch(desk, ticket, {"status": "resolved"}, version=1)
    assert (status, problem["code"], problem["field"]) == (412, "stale_version", "If-Match")
    assert "version 2" in problem["detail"] and headers["ETag"] == '"2"'
    status, again, _ = await send(desk, "GET", path)
    assert (again["status"], again["version"]) == ("in_progress", 2)  # the stale edit lost


async def test_patch_moves_through_the_workflow_and_audits(desk: Desk) -> None:
    ticket = await create(desk, employee="zhangsanKJC")
    status, ticket, _ = await patch(
        desk, ticket, {"tier": "tier1_service_desk", "assignee": "bob", "reason": "on shift"}
    )
    assert status == 200 and (ticket["status"], ticket["assignee"]) == ("assigned", "bob")
    status, ticket, _ = await patch(
        desk, ticket, {"escalate": "tier", "reason": "needs an expert", "priority": 2}
    )
    assert status == 200
    assert (ticket["tier"], ticket["assignee"], ticket["priority"]) == ("tier2_expert", None, 2)
    status, ticket, _ = await patch(desk, ticket, {"escalate": "manager", "reason": "new model"})
    assert status == 200 and ticket["escalation_level"] == 1
    desk.clock.advance(120)
    status, ticket, _ = await patch(
        desk,
        ticket,
        {"status": "resolved", "resolution": "replaced toner", "impact": 3, "urgency": "low"},
    )
    assert status == 200
    assert (ticket["status"], ticket["resolution"], ticket["priority"]) == (
        "resolved",
        "replaced toner",
        4,
    )
    assert ticket["resolved_at"] == (T0 + timedelta(seconds=120)).isoformat()
    assert ticket["version"] == 5
    status, trail, _ = await send(desk, "GET", f"{BASE}/{ticket['id']}/audit", "sue")
    assert status == 200
    mine = [(e["field"], e["old"], e["new"], e["reason"]) for e in trail["audit"] if e["who"]]
    assert ("tier", "tier1_service_desk", "tier2_expert", "needs an expert") in mine
    assert ("assignee", None, "bob", "on shift") in mine
    assert ("escalation_level", "0", "1", "new model") in mine
    assert ("resolution", None, "replaced toner", "") in mine
    assert ("priority", "2", "4", "") in mine
    assert all(set(e) == {"at", "who", "field", "old", "new", "reason"} for e in trail["audit"])
    clocks = await desk.store.sla_clocks(ticket["id"])
    started = [c for c in clocks.values() if c.segments]  # the on-site clock never ran
    assert started and all(c.stopped_at is not None for c in started)  # followed the move


@pytest.mark.parametrize(
    ("setup", "body", "field", "message"),
    [
        ({}, {"status": "closed"}, "status", "cannot go from new to closed"),
        ({}, {"escalate": "tier"}, "escalate", "needs a reason"),
        ({}, {"tier": "tier2_expert", "assignee": "alice"}, "tier", "does not work at"),
        ({}, {"tier": "account_manager"}, "tier", "only complaints"),
        ({}, {"approval": "approve"}, "approval", "not a change pending approval"),
        ({"kind": "change"}, {"approval": "approve"}, "approval", "cannot approve"),
        ({"kind": "change"}, {"status": "in_progress"}, "status", "cannot go from"),
        ({"kind": "complaint"}, {"status": "resolved"}, "status", "account operation manager"),
    ],
)
async def test_refused_moves_are_409_with_the_workflow_message(
    desk: Desk, setup: dict[str, Any], body: dict[str, Any], field: str, message: str
) -> None:
    ticket = await create(desk, **setup)
    for who in ("alice", "sue"):
        status, problem, _ = await patch(desk, ticket, body, who)
        assert (status, problem["code"], problem["field"]) == (409, "workflow_refused", field)
        assert message in problem["detail"] and "\n" not in problem["detail"]
    _, again, _ = await send(desk, "GET", f"{BASE}/{ticket['id']}")
    assert again["version"] == ticket["version"]  # nothing written


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"status": None}, 400, "status"),
        ({"status": "done"}, 400, "status"),
        ({"priority": 0}, 400, "priority"),
        ({"priority": 2, "impact": 1, "urgency": 1}, 400, "priority"),
        ({"impact": 1}, 400, "urgency"),
        ({"subject": ""}, 400, "subject"),
        ({"colour": "red"}, 400, "colour"),
        ({"device": "0000XXX9999"}, 422, "device"),
    ],
)
async def test_invalid_patches_name_the_field(
    desk: Desk, body: dict[str, Any], status: int, field: str
) -> None:
    ticket = await create(desk)
    got, problem, _ = await patch(desk, ticket, body)
    assert (got, problem["field"]) == (status, field)


async def test_unknown_tickets_are_404(desk: Desk) -> None:
    headers = {"If-Match": '"1"'}
    for method, path, body in [
        ("GET", f"{BASE}/999999", None),
        ("PATCH", f"{BASE}/999999", {"status": "resolved"}),
        ("GET", f"{BASE}/999999/audit", None),
        ("GET", f"{BASE}/999999/notes", None),
        ("POST", f"{BASE}/999999/notes", {"text": "x"}),
        ("POST", f"{BASE}/999999/links", {"other": 1, "kind": "related"}),
        ("DELETE", f"{BASE}/999999/links/1/related", None),
        ("POST", f"{BASE}/999999/merge", {"from": [1]}),
        ("GET", f"{BASE}/99999999999", None),
    ]:
        status, problem, _ = await send(desk, method, path, "alice", body, headers)
        assert (status, problem["code"], problem["field"]) == (404, "unknown_ticket", "ticket_id")


async def test_two_concurrent_edits_of_one_version_cannot_both_win(desk: Desk) -> None:
    ticket = await create(desk)
    results = await asyncio.gather(
        patch(desk, ticket, {"status": "in_progress", "reason": "alice"}, "alice"),
        patch(desk, ticket, {"status": "resolved", "reason": "sue"}, "sue"),
    )
    assert sorted(status for status, _, _ in results) == [200, 412]
    _, final, _ = await send(desk, "GET", f"{BASE}/{ticket['id']}")
    assert final["version"] == 2
    _, trail, _ = await send(desk, "GET", f"{BASE}/{ticket['id']}/audit")
    moves = [e for e in trail["audit"] if e["field"] == "status" and e["old"] is not None]
    assert len(moves) == 1 and moves[0]["new"] == final["status"]


async def test_the_version_guard_refuses_a_write_against_an_old_version(desk: Desk) -> None:
    """The UPDATE itself checks the version, not only the read before it."""
    ticket = await create(desk)
    async with desk.store.write_transaction() as session:
        row = await session.get_one(models.Ticket, ticket["id"])
        await _bump(session, row, 1, {"subject": "first"})
    async with desk.store.write_transaction() as session:
        row = await session.get_one(models.Ticket, ticket["id"])
        with pytest.raises(StaleVersion) as caught:
            await _bump(session, row, 1, {"subject": "second"})
        assert caught.value.current == 2
    async with desk.store._read() as session:
        subject = await session.scalar(
            select(models.Ticket.subject).where(models.Ticket.id == ticket["id"])
        )
    assert subject == "first"


# ----- notes --------------------------------------------------------------------------------


async def test_notes_from_the_api_and_the_console(desk: Desk) -> None:
    ticket_id = await _call(desk, "call-1", T0)
    path = f"{BASE}/{ticket_id}/notes"
    desk.clock.advance(30)
    # The console's note request during a call (callcenter/calls/control.py).
    await desk.store.add_ticket_note(
        "call-1", " customer rebooted ", author="bob", now=T0 + timedelta(seconds=10)
    )
    status, note, headers = await send(
        desk, "POST", path, "alice", {"text": " waiting for toner ", "internal": True}
    )
    assert status == 201 and headers["Location"] == path
    assert (note["author"], note["text"], note["internal"], note["call_id"]) == (
        "alice",
        "waiting for toner",
        True,
        None,
    )
    status, body, _ = await send(desk, "GET", path, "sue")
    assert status == 200
    assert [(n["author"], n["text"], n["call_id"]) for n in body["notes"]] == [
        ("bob", "customer rebooted", "call-1"),
        ("alice", "waiting for toner", None),
    ]
    _, ticket, _ = await send(desk, "GET", f"{BASE}/{ticket_id}")
    assert ticket["notes"] == body["notes"] and ticket["version"] == 4
    assert ticket["description"] == ""
    for bad, field in [({"text": "  "}, "text"), ({"text": "x", "internal": "yes"}, "internal")]:
        status, problem, _ = await send(desk, "POST", path, "alice", bad)
        assert (status, problem["field"]) == (400, field)


# ----- links --------------------------------------------------------------------------------


async def test_links_both_ways_and_their_refusals(desk: Desk) -> None:
    a, b, c = [(await create(desk, subject=s))["id"] for s in ("a", "b", "c")]
    status, link, headers = await send(
        desk, "POST", f"{BASE}/{a}/links", "alice", {"other": b, "kind": "parent"}
    )
    assert status == 201 and (link["other"], link["kind"], link["created_by"]) == (
        b,
        "parent",
        "alice",
    )
    assert headers["Location"] == f"{BASE}/{a}/links/{b}/parent"
    status, _, _ = await send(
        desk, "POST", f"{BASE}/{b}/links", "alice", {"other": c, "kind": "parent"}
    )
    assert status == 201
    _, ticket_a, _ = await send(desk, "GET", f"{BASE}/{a}")
    _, ticket_b, _ = await send(desk, "GET", f"{BASE}/{b}")
    assert [(x["other"], x["kind"]) for x in ticket_a["links"]] == [(b, "parent")]
    assert [(x["other"], x["kind"]) for x in ticket_b["links"]] == [(a, "child"), (c, "parent")]
    assert ticket_b["version"] == 3

    refusals = [
        (a, {"other": a, "kind": "related"}, 422, "self_link"),
        (a, {"other": 999999, "kind": "related"}, 422, "unknown_ticket"),
        (a, {"other": b, "kind": "parent"}, 409, "link_exists"),
        (b, {"other": a, "kind": "child"}, 409, "link_exists"),  # the same link, seen from b
        (c, {"other": a, "kind": "parent"}, 409, "link_cycle"),  # c would be a's parent
        (a, {"other": c, "kind": "child"}, 409, "link_cycle"),
        (a, {"other": b, "kind": "sibling"}, 400, "invalid_body"),
    ]
    for source, body, status, code in refusals:
        got, problem, _ = await send(desk, "POST", f"{BASE}/{source}/links", "alice", body)
        assert (got, problem["code"]) == (status, code), body

    status, _, _ = await send(
        desk, "POST", f"{BASE}/{c}/links", "sue", {"other": a, "kind": "related"}
    )
    assert status == 201
    status, problem, _ = await send(
        desk, "POST", f"{BASE}/{a}/links", "sue", {"other": c, "kind": "related"}
    )
    assert (status, problem["code"]) == (409, "link_exists")  # related is one link

    status, _, _ = await send(desk, "DELETE", f"{BASE}/{b}/links/{a}/child")
    assert status == 204
    status, problem, _ = await send(desk, "DELETE", f"{BASE}/{a}/links/{b}/parent")
    assert (status, problem["code"]) == (404, "unknown_link")
    status, problem, _ = await send(desk, "DELETE", f"{BASE}/{a}/links/{b}/sibling")
    assert (status, problem["field"]) == (400, "kind")
    _, ticket_a, _ = await send(desk, "GET", f"{BASE}/{a}")
    assert [(x["other"], x["kind"]) for x in ticket_a["links"]] == [(c, "related")]
    _, trail, _ = await send(desk, "GET", f"{BASE}/{a}/audit")
    assert [(e["old"], e["new"]) for e in trail["audit"] if e["field"] == "link"] == [
        (None, f"parent {b}"),
        (None, f"related {c}"),
        (f"parent {b}", None),
    ]


# ----- merging duplicates ----------------------------------------------------------------------


async def test_merge_moves_calls_notes_and_links_and_closes_the_duplicates(desk: Desk) -> None:
    survivor = await create(desk, subject="printer down")
    dup_id = await _call(desk, "call-1", T0)  # an incident with a call
    await desk.store.add_ticket_note("call-1", "same printer", author="bob", now=T0)
    resolved = await create(desk, subject="printer again")
    _, resolved, _ = await patch(desk, resolved, {"status": "resolved"})
    other = await create(desk, subject="unrelated")
    links = f"{BASE}/{dup_id}/links"
    await send(desk, "POST", links, "alice", {"other": other["id"], "kind": "caused_by"})
    await send(desk, "POST", links, "alice", {"other": survivor["id"], "kind": "related"})
    _, survivor, _ = await send(desk, "GET", f"{BASE}/{survivor['id']}")

    path = f"{BASE}/{survivor['id']}/merge"
    body = {"from": [dup_id, resolved["id"]]}
    status, problem, _ = await send(desk, "POST", path, "alice", body)
    assert (status, problem["field"]) == (428, "If-Match")
    status, problem, _ = await send(desk, "POST", path, "alice", body, {"If-Match": '"1"'})
    assert status == 412 and f"version {survivor['version']}" in problem["detail"]

    match = {"If-Match": f'"{survivor["version"]}"'}
    status, merged, headers = await send(desk, "POST", path, "sue", body, match)
    assert status == 200 and headers["ETag"] == f'"{merged["version"]}"'
    assert merged["version"] == survivor["version"] + 1
    assert merged["call_ids"] == ["call-1"] and merged["contacts"] == 1
    assert [n["text"] for n in merged["notes"]] == ["same printer"]
    assert sorted((x["other"], x["kind"]) for x in merged["links"]) == sorted(
        [(dup_id, "duplicated_by"), (resolved["id"], "duplicated_by"), (other["id"], "caused_by")]
    )
    _, dup, _ = await send(desk, "GET", f"{BASE}/{dup_id}")
    assert dup["status"] == "cancelled" and dup["call_ids"] == [] and dup["notes"] == []
    assert [(x["other"], x["kind"]) for x in dup["links"]] == [(survivor["id"], "duplicate")]
    _, closed, _ = await send(desk, "GET", f"{BASE}/{resolved['id']}")
    assert closed["status"] == "closed"
    _, trail, _ = await send(desk, "GET", f"{BASE}/{dup_id}/audit")
    assert ("sue", "merged_into", str(survivor["id"])) in [
        (e["who"], e["field"], e["new"]) for e in trail["audit"]
    ]
    record = await desk.store.call_record("call-1")
    assert record is not None and record.ticket_id == survivor["id"]


async def test_a_refused_merge_changes_nothing(desk: Desk) -> None:
    survivor = await create(desk)
    dup_id = await _call(desk, "call-1", T0)
    gone = await create(desk)
    _, gone, _ = await patch(desk, gone, {"status": "cancelled"})
    path = f"{BASE}/{survivor['id']}/merge"
    match = {"If-Match": '"1"'}
    for body, status, field in [
        ({"from": [dup_id, gone["id"]]}, 409, "from"),  # already cancelled
        ({"from": [dup_id, 999999]}, 422, "from"),
        ({"from": [survivor["id"]]}, 422, "from"),
        ({"from": []}, 400, "from"),
        ({"from": ["x"]}, 400, "from.0"),
    ]:
        got, problem, _ = await send(desk, "POST", path, "alice", body, match)
        assert (got, problem["field"]) == (status, field), body
    record = await desk.store.call_record("call-1")
    assert record is not None and record.ticket_id == dup_id
    _, dup, _ = await send(desk, "GET", f"{BASE}/{dup_id}")
    assert dup["status"] == "new" and dup["links"] == []
    _, gone_after, _ = await send(desk, "GET", f"{BASE}/{gone['id']}")
    status, problem, _ = await send(
        desk,
        "POST",
        f"{BASE}/{gone['id']}/merge",
        "alice",
        {"from": [dup_id]},
        {"If-Match": f'"{gone_after["version"]}"'},
    )
    assert (status, problem["code"]) == (409, "workflow_refused")


async def test_two_tickets_linked_from_both_sides_at_once(desk: Desk) -> None:
    """Two racing requests for one link: exactly one makes it, the other hears it exists
    (both lock the two tickets, in id order, before looking)."""
    a, b = [(await create(desk, subject=s))["id"] for s in ("a", "b")]
    await desk.auth("sue")  # logged in beforehand: the two requests really overlap
    for _ in range(3):
        results = await asyncio.gather(
            send(desk, "POST", f"{BASE}/{a}/links", "alice", {"other": b, "kind": "related"}),
            send(desk, "POST", f"{BASE}/{b}/links", "sue", {"other": a, "kind": "related"}),
        )
        assert sorted(status for status, _, _ in results) == [201, 409]
        winner = next(body for status, body, _ in results if status == 201)
        source = a if winner["other"] == b else b
        path = f"{BASE}/{source}/links/{winner['other']}/related"
        status, _, _ = await send(desk, "DELETE", path)
        assert status == 204
