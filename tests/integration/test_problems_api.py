"""Problems, complaints and organisation SLAs over HTTP, on SQLite and PostgreSQL: who may
do what, the replies' shapes, and client errors as RFC 9457 problem details."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pytest_aiohttp import AiohttpClient
from sqlalchemy import select

from callcenter.db import models
from callcenter.tickets.store import SqlTicketStore
from tests.integration.test_api import Desk, plain_desk
from tests.integration.test_kb_api import problem_field
from tests.integration.test_problems import MONDAY, PC, incident

ROUTES = [
    ("GET", "/api/v1/problems"),
    ("POST", "/api/v1/problems/scan"),
    ("PUT", "/api/v1/problems/1/known-error"),
    ("GET", "/api/v1/tickets/1/known-errors"),
    ("GET", "/api/v1/complaints"),
    ("POST", "/api/v1/complaints"),
    ("GET", "/api/v1/organisations/1/sla"),
    ("PUT", "/api/v1/organisations/1/sla"),
]


@pytest.fixture
async def desk(aiohttp_client: AiohttpClient, demo_store: SqlTicketStore) -> Desk:
    return await plain_desk(aiohttp_client, demo_store, MONDAY)


async def send(
    desk: Desk, method: str, path: str, who: str, body: Any = None
) -> tuple[int, str, Any]:
    resp = await desk.client.request(method, path, json=body, headers=await desk.auth(who))
    return resp.status, resp.content_type, await resp.json()


async def org_id(desk: Desk) -> int:
    async with desk.store.write_transaction() as session:
        found = await session.scalar(select(models.Organisation.id))
    assert found is not None
    return found


async def test_every_route_needs_a_token(desk: Desk) -> None:
    for method, path in ROUTES:
        resp = await desk.client.request(method, path)
        assert resp.status == 401, (method, path)


async def test_scan_list_and_mark_a_known_error(desk: Desk) -> None:
    ids = [await incident(desk.store, MONDAY - timedelta(days=d)) for d in (3, 2, 1)]
    status, _, body = await send(desk, "GET", "/api/v1/problems", "alice")
    assert (status, body) == (200, {"problems": []})

    status, content_type, body = await send(desk, "POST", "/api/v1/problems/scan", "alice")
    assert status == 403 and problem_field(status, content_type, body) is None

    status, _, body = await send(desk, "POST", "/api/v1/problems/scan", "sue")
    assert status == 200
    (created,) = body["created"]
    problem_id = created["id"]
    assert created == {
        "id": problem_id,
        "dimension": "configuration_item",
        "key": PC,
        "incident_ids": ids,
    }
    assert body["linked"] == [{"problem_id": problem_id, "incident_ids": ids}]
    assert (body["threshold"], body["window_days"]) == (3, 30.0)
    status, _, again = await send(desk, "POST", "/api/v1/problems/scan", "sue")
    assert (status, again["created"], again["linked"]) == (200, [], [])

    status, _, body = await send(desk, "GET", "/api/v1/problems", "alice")
    (listed,) = body["problems"]
    assert listed["id"] == problem_id and listed["incident_count"] == 3
    assert (listed["known_error"], listed["workaround"], listed["status"]) == (False, None, "new")

    path = f"/api/v1/problems/{problem_id}/known-error"
    status, content_type, body = await send(desk, "PUT", path, "alice", {"workaround": "x"})
    assert status == 403
    status, content_type, body = await send(desk, "PUT", path, "sue", {"workaround": "  "})
    assert status == 400 and problem_field(status, content_type, body) == "workaround"
    status, _, body = await send(desk, "PUT", path, "sue", {"workaround": " Reseat the RAM "})
    assert status == 200
    assert (body["known_error"], body["workaround"], body["known_error_by"]) == (
        True,
        "Reseat the RAM",
        "sue",
    )
    status, content_type, body = await send(
        desk, "PUT", "/api/v1/problems/99999/known-error", "sue", {"workaround": "x"}
    )
    assert status == 404 and problem_field(status, content_type, body) == "problem_id"
    # An incident that is not a problem is no problem either.
    status, _, body = await send(
        desk, "PUT", f"/api/v1/problems/{ids[0]}/known-error", "sue", {"workaround": "x"}
    )
    assert status == 404

    # A new incident on the PC: the workaround is in its ticket view.
    new = await incident(desk.store, MONDAY + timedelta(hours=1))
    status, _, body = await send(desk, "GET", f"/api/v1/tickets/{new}/known-errors", "alice")
    assert status == 200
    assert [k["workaround"] for k in body["known_errors"]] == ["Reseat the RAM"]
    status, _, ticket = await send(desk, "GET", f"/api/v1/tickets/{new}", "alice")
    assert status == 200 and ticket["known_errors"] == body["known_errors"]
    status, content_type, body = await send(
        desk, "GET", "/api/v1/tickets/99999/known-errors", "alice"
    )
    assert status == 404 and problem_field(status, content_type, body) == "ticket_id"


async def test_file_and_list_complaints(desk: Desk) -> None:
    organisation = await org_id(desk)
    status, _, body = await send(
        desk,
        "PUT",
        f"/api/v1/organisations/{organisation}/sla",
        "sue",
        {"account_manager": "mei", "account_manager_email": "mei@desk.example"},
    )
    assert status == 200
    about = await incident(desk.store, MONDAY - timedelta(days=1))
    status, _, body = await send(
        desk,
        "POST",
        "/api/v1/complaints",
        "alice",
        # 2.0 is an integer in JSON.
        {"subject": "Nobody came", "employee": "zhangsanKJC", "ticket_id": about, "priority": 2.0},
    )
    assert status == 201
    assert (body["assignee"], body["tier"], body["status"], body["filed_by"]) == (
        "mei",
        "account_manager",
        "assigned",
        "alice",
    )
    assert (body["organisation_id"], body["ticket_id"], body["escalation_level"]) == (
        organisation,
        about,
        0,
    )
    complaint_id = body["id"]

    status, _, listed = await send(desk, "GET", "/api/v1/complaints?open=true", "bob")
    assert status == 200 and [c["id"] for c in listed["complaints"]] == [complaint_id]
    status, _, listed = await send(
        desk, "GET", f"/api/v1/complaints?organisation_id={organisation + 1}", "bob"
    )
    assert listed == {"complaints": []}


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"subject": "x"}, 400, "organisation_id"),
        ({"subject": "", "organisation_id": 1}, 400, "subject"),
        ({"subject": "x", "employee": "nobody"}, 404, "employee"),
        ({"subject": "x", "organisation_id": 999}, 404, "organisation_id"),
        ({"subject": "x", "employee": "zhangsanKJC", "ticket_id": 99999}, 404, "ticket_id"),
        (
            {"subject": "x", "employee": "zhangsanKJC", "organisation_id": 999},
            400,
            "organisation_id",
        ),
        ({"subject": "x", "organisation_id": 1, "colour": "red"}, 400, "colour"),
        ({"subject": "x", "organisation_id": 1, "priority": 9}, 400, "priority"),
        ({"subject": "x", "organisation_id": 1, "priority": "2"}, 400, "priority"),
        ({"subject": "x", "organisation_id": 1, "priority": 2.5}, 400, "priority"),
    ],
)
async def test_bad_complaints_are_problems_naming_the_field(
    desk: Desk, body: dict[str, Any], status: int, field: str
) -> None:
    got, content_type, reply = await send(desk, "POST", "/api/v1/complaints", "alice", body)
    assert got == status
    assert problem_field(got, content_type, reply) == field
    if status == 404:
        assert (
            reply["code"]
            == {
                "employee": "unknown_employee",
                "organisation_id": "unknown_organisation",
                "ticket_id": "unknown_ticket",
            }[field]
        )


async def test_bad_complaint_queries(desk: Desk) -> None:
    for query, field in [("open=yes", "open"), ("organisation_id=x", "organisation_id")]:
        status, content_type, body = await send(desk, "GET", f"/api/v1/complaints?{query}", "sue")
        assert status == 400 and problem_field(status, content_type, body) == field


async def test_organisation_sla_get_and_put(desk: Desk) -> None:
    organisation = await org_id(desk)
    path = f"/api/v1/organisations/{organisation}/sla"
    status, content_type, body = await send(desk, "GET", path, "alice")
    assert status == 403 and problem_field(status, content_type, body) is None
    status, _, body = await send(desk, "GET", path, "sue")
    assert status == 200
    assert (body["policy"], body["calendar"], body["effective_policy"]) == (None, None, "standard")
    assert body["effective_calendar"]["timezone"] == "Asia/Shanghai"

    calendar = {
        "timezone": "Europe/Berlin",
        "hours": {"mon": ["09:00-17:00"], "fri": ["09:00-13:00"]},
        "holidays": ["2026-12-25"],
    }
    status, _, body = await send(
        desk, "PUT", path, "sue", {"policy": "premium", "calendar": calendar}
    )
    assert status == 200
    assert (body["policy"], body["effective_policy"], body["updated_by"]) == (
        "premium",
        "premium",
        "sue",
    )
    assert body["calendar"]["hours"] == {"mon": ["09:00-17:00"], "fri": ["09:00-13:00"]}
    assert body["calendar"] == body["effective_calendar"]
    assert body["updated_at"] == MONDAY.astimezone(UTC).isoformat()
    status, _, again = await send(desk, "GET", path, "sue")
    assert again == body

    # New tickets of its employees are timed on it.
    employee = await desk.store.employee_by_username("zhangsanKJC")
    assert employee is not None
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    await desk.store.open_call_record("c1", None, "+862088881001", employee.id, now)
    ticket_id = await desk.store.attach_call_to_incident("c1", employee.id, now, 8.0)
    clocks = await desk.store.sla_clocks(ticket_id)
    assert {c.calendar.zone.key for c in clocks.values()} == {"Europe/Berlin"}
    assert {c.policy for c in clocks.values()} == {"premium@1"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"policy": "gold"}, "policy"),
        ({"calendar": {"timezone": "Mars/Olympus", "always_open": True}}, "calendar"),
        ({"calendar": {"timezone": "UTC", "hours": {"mon": ["9-5"]}}}, "calendar"),
        ({"calendar": "24x7"}, "calendar"),
        ({"account_manager_email": "mei"}, "account_manager_email"),
        ({"colour": "blue"}, "colour"),
    ],
)
async def test_bad_sla_bodies_are_problems_naming_the_field(
    desk: Desk, body: dict[str, Any], field: str
) -> None:
    path = f"/api/v1/organisations/{await org_id(desk)}/sla"
    status, content_type, reply = await send(desk, "PUT", path, "sue", body)
    assert status == 400
    assert problem_field(status, content_type, reply) == field


async def test_unknown_organisations(desk: Desk) -> None:
    for method, path, body in [
        ("GET", "/api/v1/organisations/4242/sla", None),
        ("PUT", "/api/v1/organisations/4242/sla", {}),
        ("GET", "/api/v1/organisations/99999999999999/sla", None),
    ]:
        status, content_type, reply = await send(desk, method, path, "sue", body)
        assert status == 404 and problem_field(status, content_type, reply) == "organisation_id"
        assert reply["code"] == "unknown_organisation"
    status, content_type, reply = await send(desk, "GET", "/api/v1/organisations/x/sla", "sue")
    assert status == 400 and problem_field(status, content_type, reply) == "organisation_id"
