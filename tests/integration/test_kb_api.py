"""The knowledge base over HTTP, on SQLite and PostgreSQL: search, writes, suggestions,
uses, and client errors as RFC 9457 problem details."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from pytest_aiohttp import AiohttpClient

from callcenter.knowledge.store import SqlKnowledgeBase
from callcenter.tickets.store import SqlTicketStore
from tests.integration.test_api import Desk, plain_desk

JAM = "Printer shows a paper jam but no paper is stuck"
THINKPAD = "ThinkPad does not charge or turn on"
NEW_ARTICLE = {
    "title": "  Scanner sends nothing by e-mail ",
    "body": "Check the SMTP settings of the scanner.",
    "category": "printing",
    "models": ["ECOSYS M2540dn"],
    "software": [],
}


@pytest.fixture
async def desk(aiohttp_client: AiohttpClient, demo_store: SqlTicketStore) -> Desk:
    return await plain_desk(
        aiohttp_client,
        demo_store,
        datetime(2025, 3, 10, 9, 0, tzinfo=UTC),
        kb=SqlKnowledgeBase(demo_store),
    )


async def _send(
    desk: Desk, method: str, path: str, who: str, body: Any = None
) -> tuple[int, str, Any]:
    resp = await desk.client.request(method, path, json=body, headers=await desk.auth(who))
    return resp.status, resp.content_type, await resp.json()


def problem_field(status: int, content_type: str, body: Any) -> str | None:
    """The field an RFC 9457 reply names, after checking its shape."""
    assert content_type == "application/problem+json"
    assert set(body) == {"type", "title", "status", "detail", "code", "field"}
    assert body["status"] == status and body["type"] == f"/problems/{body['code']}"
    field = body["field"]
    assert field is None or isinstance(field, str)
    return field


async def test_every_kb_route_needs_a_token(desk: Desk) -> None:
    for method, path in [
        ("GET", "/api/v1/kb/articles"),
        ("POST", "/api/v1/kb/articles"),
        ("GET", "/api/v1/kb/articles/1"),
        ("PATCH", "/api/v1/kb/articles/1"),
        ("POST", "/api/v1/kb/articles/1/uses"),
        ("GET", "/api/v1/kb/suggestions?employee_id=1"),
    ]:
        resp = await desk.client.request(method, path)
        assert resp.status == 401, (method, path)


async def test_search_pages_and_sorts(desk: Desk) -> None:
    status, _, body = await _send(desk, "GET", "/api/v1/kb/articles?q=paper+jam", "alice")
    assert status == 200
    assert [a["title"] for a in body["articles"]] == [JAM]
    assert body["total"] == 1 and body["articles"][0]["score"] > 0
    assert body["articles"][0]["models"] == ["ECOSYS M2540dn", "LaserJet Pro M404dn"]

    status, _, body = await _send(
        desk, "GET", "/api/v1/kb/articles?limit=2&offset=1&sort=title", "alice"
    )
    assert status == 200 and (body["total"], body["limit"], body["offset"]) == (5, 2, 1)
    assert len(body["articles"]) == 2 and "score" not in body["articles"][0]
    status, _, body = await _send(desk, "GET", "/api/v1/kb/articles?category=printing", "bob")
    assert {a["category"] for a in body["articles"]} == {"printing"} and body["total"] == 2


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=abc", "limit"),
        ("offset=-1", "offset"),
        ("sort=rank", "sort"),
        ("q=" + "x" * 201, "q"),
    ],
)
async def test_bad_query_parameters_are_problems_naming_them(
    desk: Desk, query: str, field: str
) -> None:
    status, content_type, body = await _send(desk, "GET", f"/api/v1/kb/articles?{query}", "sue")
    assert status == 400
    assert problem_field(status, content_type, body) == field


async def test_supervisors_write_articles_agents_read_them(desk: Desk) -> None:
    status, content_type, body = await _send(
        desk, "POST", "/api/v1/kb/articles", "alice", NEW_ARTICLE
    )
    assert status == 403 and problem_field(status, content_type, body) is None

    resp = await desk.client.post(
        "/api/v1/kb/articles", json=NEW_ARTICLE, headers=await desk.auth("sue")
    )
    assert resp.status == 201
    created = await resp.json()
    assert resp.headers["Location"] == f"/api/v1/kb/articles/{created['id']}"
    assert (created["title"], created["author"], created["use_count"]) == (
        "Scanner sends nothing by e-mail",
        "sue",
        0,
    )
    status, _, found = await _send(desk, "GET", f"/api/v1/kb/articles/{created['id']}", "alice")
    assert status == 200 and found == created

    status, _, changed = await _send(
        desk,
        "PATCH",
        f"/api/v1/kb/articles/{created['id']}",
        "sue",
        {"category": "scanning", "software": ["Scan to Mail"]},
    )
    assert status == 200
    assert (changed["category"], changed["software"], changed["title"]) == (
        "scanning",
        ["Scan to Mail"],
        created["title"],
    )
    status, _, body = await _send(desk, "GET", "/api/v1/kb/articles?q=scan+mail", "bob")
    assert [a["id"] for a in body["articles"]] == [created["id"]]

    status, content_type, body = await _send(
        desk, "PATCH", "/api/v1/kb/articles/999999", "sue", {"title": "x"}
    )
    assert status == 404 and problem_field(status, content_type, body) == "article_id"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**NEW_ARTICLE, "title": "   "}, "title"),
        ({**NEW_ARTICLE, "title": "x" * 201}, "title"),
        ({k: v for k, v in NEW_ARTICLE.items() if k != "body"}, "body"),
        ({**NEW_ARTICLE, "category": 7}, "category"),
        ({**NEW_ARTICLE, "models": ["ok", ""]}, "models.1"),
        ({**NEW_ARTICLE, "colour": "red"}, "colour"),
        ("not an object", "body"),
    ],
)
async def test_invalid_articles_are_problems_naming_the_field(
    desk: Desk, body: Any, field: str
) -> None:
    status, content_type, reply = await _send(desk, "POST", "/api/v1/kb/articles", "sue", body)
    assert status == 400
    assert problem_field(status, content_type, reply) == field
    assert reply["detail"].startswith(f"{field}:")
    status, _, listing = await _send(desk, "GET", "/api/v1/kb/articles", "sue")
    assert listing["total"] == 5  # nothing written


async def test_patch_refuses_null_fields(desk: Desk) -> None:
    status, content_type, body = await _send(
        desk, "PATCH", "/api/v1/kb/articles/1", "sue", {"title": None}
    )
    assert status == 400 and problem_field(status, content_type, body) == "title"


async def test_suggestions_and_counted_uses(desk: Desk) -> None:
    li = await desk.store.employee_by_username("lisiKJC")
    assert li is not None
    status, _, body = await _send(
        desk, "GET", f"/api/v1/kb/suggestions?employee_id={li.id}", "alice"
    )
    assert status == 200
    assert [(s["title"], s["reason"]) for s in body["suggestions"]] == [(THINKPAD, "model")]
    article_id = body["suggestions"][0]["id"]

    call_id = str(uuid.uuid4())
    now = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
    await desk.store.open_call_record(call_id, None, "+862088881002", li.id, now)
    ticket_id = await desk.store.attach_call_to_incident(call_id, li.id, now, 8.0)
    status, _, body = await _send(
        desk, "GET", f"/api/v1/kb/suggestions?ticket_id={ticket_id}", "alice"
    )
    assert status == 200 and body["suggestions"][0]["id"] == article_id

    path = f"/api/v1/kb/articles/{article_id}/uses"
    status, _, body = await _send(desk, "POST", path, "alice", {"ticket_id": ticket_id})
    assert status == 201 and body["counted"] is True and body["article"]["use_count"] == 1
    status, _, body = await _send(desk, "POST", path, "bob", {"ticket_id": ticket_id})
    assert status == 200 and body["counted"] is False and body["article"]["use_count"] == 1

    status, content_type, body = await _send(desk, "POST", path, "bob", {"ticket_id": 999999})
    assert status == 404 and problem_field(status, content_type, body) == "ticket_id"
    status, content_type, body = await _send(
        desk, "POST", "/api/v1/kb/articles/999999/uses", "bob", {"ticket_id": ticket_id}
    )
    assert status == 404 and problem_field(status, content_type, body) == "article_id"


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("", 400, "employee_id"),
        ("employee_id=1&ticket_id=1", 400, "ticket_id"),
        ("employee_id=x", 400, "employee_id"),
        ("ticket_id=999999", 404, "ticket_id"),
    ],
)
async def test_bad_suggestion_requests(desk: Desk, query: str, status: int, field: str) -> None:
    got, content_type, body = await _send(desk, "GET", f"/api/v1/kb/suggestions?{query}", "bob")
    assert got == status and problem_field(status, content_type, body) == field
