"""The CMDB over HTTP, on SQLite and PostgreSQL: items, relations, maintenance, the due
list and plans, and hardware repairs stepping the item's status; client errors as RFC 9457
problem details naming the field."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from pytest_aiohttp import AiohttpClient
from sqlalchemy import select

from callcenter.db import models
from callcenter.demo import REPAIR_SUBJECT, load_demo_repair, years_after
from callcenter.tickets.store import SqlTicketStore
from tests.integration.test_api import Desk, plain_desk
from tests.integration.test_kb_api import problem_field

#: The demo data is dated from the day it is loaded; the desk's clock is noon of that day.
TODAY = date.today()


@pytest.fixture
def demo_day() -> date:
    """The demo data is dated from the same day as the desk's clock."""
    return TODAY


def _day(days: int) -> str:
    return (TODAY + timedelta(days=days)).isoformat()


@pytest.fixture
async def desk(aiohttp_client: AiohttpClient, demo_store: SqlTicketStore) -> Desk:
    await load_demo_repair(demo_store, TODAY)
    return await plain_desk(
        aiohttp_client,
        demo_store,
        datetime.combine(TODAY, time(12), tzinfo=UTC),
        token_ttl=3600 * 24 * 30,
    )


async def _send(
    desk: Desk, method: str, path: str, who: str, body: Any = None
) -> tuple[int, str, Any]:
    resp = await desk.client.request(method, path, json=body, headers=await desk.auth(who))
    if resp.status == 204:
        return resp.status, resp.content_type, None
    return resp.status, resp.content_type, await resp.json()


async def _ok(desk: Desk, method: str, path: str, who: str, body: Any = None) -> Any:
    status, _, reply = await _send(desk, method, path, who, body)
    assert status in (200, 201), reply
    return reply


async def _problem(
    desk: Desk, method: str, path: str, who: str, body: Any = None, *, status: int
) -> str | None:
    got, content_type, reply = await _send(desk, method, path, who, body)
    assert got == status, reply
    return problem_field(got, content_type, reply)


async def _ids(desk: Desk) -> dict[str, int]:
    reply = await _ok(desk, "GET", "/api/v1/items?limit=200", "alice")
    return {item["name"]: item["id"] for item in reply["items"]}


async def _ticket(desk: Desk, subject: str, device_id: int | None = None) -> int:
    now = datetime.combine(TODAY, time(9), tzinfo=UTC)
    async with desk.store.write_transaction() as session:
        row = models.Ticket(
            status="new",
            priority=3,
            subject=subject,
            device_id=device_id,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        await session.flush()
        return row.id


async def test_every_cmdb_route_needs_a_token(desk: Desk) -> None:
    for method, path in [
        ("GET", "/api/v1/items"),
        ("GET", "/api/v1/items/1"),
        ("PATCH", "/api/v1/items/1"),
        ("GET", "/api/v1/items/1/relations"),
        ("POST", "/api/v1/items/1/relations"),
        ("DELETE", "/api/v1/items/1/relations?other_id=2&kind=depends_on"),
        ("GET", "/api/v1/items/1/maintenance"),
        ("POST", "/api/v1/items/1/maintenance"),
        ("GET", "/api/v1/maintenance/due"),
        ("GET", "/api/v1/maintenance/plans"),
        ("PUT", "/api/v1/maintenance/plans"),
        ("GET", "/api/v1/tickets/1/repairs"),
        ("POST", "/api/v1/tickets/1/repairs"),
        ("GET", "/api/v1/repairs/1"),
        ("PATCH", "/api/v1/repairs/1"),
    ]:
        resp = await desk.client.request(method, path)
        assert resp.status == 401, (method, path)


async def test_items_page_by_name_with_the_cmdb_fields(desk: Desk) -> None:
    reply = await _ok(desk, "GET", "/api/v1/items?limit=2&offset=1", "alice")
    assert (reply["total"], reply["limit"], reply["offset"]) == (7, 2, 1)
    assert [i["name"] for i in reply["items"]] == ["CGS-PRN-0001", "KJC-COM-0001"]
    printer, computer = reply["items"]
    assert (printer["category"], printer["status"], printer["owner"]) == (
        "printer",
        "in_repair",
        None,
    )
    assert printer["department"] == "CGS"  # nobody owns it: the name's department
    assert printer["maintainer"] == "Pearl River Office Equipment"
    assert (computer["category"], computer["owner"], computer["department"]) == (
        "pc",
        "zhangsanKJC",
        "KJC",
    )
    assert computer["in_warranty"] is True
    assert computer["warranty_end"] == years_after(TODAY, 2).isoformat()


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("type=laptop", ["KJC-COM-0002", "KJC-COM-0003"]),
        ("category=software", ["KJC-SOF-0001"]),
        ("status=in_repair", ["CGS-PRN-0001"]),
        ("owner=zhangsanKJC", ["KJC-COM-0001", "KJC-PRN-0001"]),
        ("department=CGS", ["CGS-COM-0001", "CGS-PRN-0001"]),
        ("department=KJC&type=laptop&owner=wangwuKJC", ["KJC-COM-0003"]),
        (f"warranty_before={_day(0)}", ["CGS-COM-0001", "KJC-PRN-0001"]),
        ("department=NONE", []),
    ],
)
async def test_items_filter(desk: Desk, query: str, names: list[str]) -> None:
    reply = await _ok(desk, "GET", f"/api/v1/items?{query}", "bob")
    assert [i["name"] for i in reply["items"]] == names
    assert reply["total"] == len(names)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=broken", "status"),
        ("category=toaster", "category"),
        ("warranty_before=2025-13-01", "warranty_before"),
        ("warranty_before=soon", "warranty_before"),
        ("limit=0", "limit"),
        ("offset=x", "offset"),
        ("department=K%25", "department"),
        ("type=" + "x" * 33, "type"),
    ],
)
async def test_bad_item_filters_are_problems(desk: Desk, query: str, field: str) -> None:
    assert await _problem(desk, "GET", f"/api/v1/items?{query}", "alice", status=400) == field


async def test_one_item_and_unknown_ones(desk: Desk) -> None:
    ids = await _ids(desk)
    item = await _ok(desk, "GET", f"/api/v1/items/{ids['KJC-SOF-0001']}", "alice")
    assert (item["category"], item["type"], item["department"]) == ("software", "software", "KJC")
    assert await _problem(desk, "GET", "/api/v1/items/999999", "alice", status=404) == "item_id"
    assert await _problem(desk, "GET", "/api/v1/items/abc", "alice", status=400) == "item_id"


async def test_supervisors_edit_items(desk: Desk) -> None:
    ids = await _ids(desk)
    path = f"/api/v1/items/{ids['KJC-COM-0002']}"
    status, _, _ = await _send(desk, "PATCH", path, "alice", {"maintainer": "X"})
    assert status == 403
    item = await _ok(
        desk,
        "PATCH",
        path,
        "sue",
        {"maintainer": " Lenovo Service ", "location": "Room 301", "owner": None},
    )
    assert (item["maintainer"], item["location"], item["owner"]) == (
        "Lenovo Service",
        "Room 301",
        None,
    )
    assert item["department"] == "KJC" and item["status"] == "in_use"
    item = await _ok(desk, "PATCH", path, "sue", {"status": "in_stock", "owner": "lisiKJC"})
    assert (item["status"], item["owner"]) == ("in_stock", "lisiKJC")
    again = await _ok(desk, "GET", path, "bob")
    assert again == item


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "broken"}, "status"),
        ({"status": None}, "status"),
        ({"category": "toaster"}, "category"),
        ({"category": None}, "category"),
        ({"owner": "nobodyKJC"}, "owner"),
        ({"warranty_end": "1990-01-01"}, "warranty_end"),
        ({"purchase_date": "2999-01-01"}, "purchase_date"),
        ({"purchase_date": "0001-01-01"}, "purchase_date"),
        ({"warranty_end": "9999-12-31"}, "warranty_end"),
        ({"name": "KJC-COM-9999"}, "name"),
        ({"maintainer": "   "}, "maintainer"),
        ({"maintainer": 5}, "maintainer"),
    ],
)
async def test_bad_item_changes_are_problems(desk: Desk, body: dict[str, Any], field: str) -> None:
    ids = await _ids(desk)
    path = f"/api/v1/items/{ids['KJC-COM-0001']}"
    assert await _problem(desk, "PATCH", path, "sue", body, status=400) == field
    item = await _ok(desk, "GET", path, "sue")
    assert (item["status"], item["owner"], item["category"]) == ("in_use", "zhangsanKJC", "pc")


async def test_relations_both_ways_and_their_rules(desk: Desk) -> None:
    ids = await _ids(desk)
    pc, software, printer = ids["KJC-COM-0001"], ids["KJC-SOF-0001"], ids["KJC-PRN-0001"]
    relations = (await _ok(desk, "GET", f"/api/v1/items/{pc}/relations", "alice"))["relations"]
    assert sorted((r["item_id"], r["kind"], r["other_id"]) for r in relations) == sorted(
        [(printer, "connected_to", pc), (software, "installed_on", pc)]
    )
    base = f"/api/v1/items/{pc}/relations"
    for body, status, field in [
        ({"other_id": pc, "kind": "depends_on"}, 400, "other_id"),
        ({"other_id": software, "kind": "depends_on"}, 409, "other_id"),  # a cycle
        ({"other_id": ids["KJC-COM-0002"], "kind": "installed_on"}, 409, "kind"),
        ({"other_id": printer, "kind": "connected_to"}, 409, "other_id"),  # stored reversed
        ({"other_id": 999999, "kind": "depends_on"}, 404, "other_id"),
        ({"other_id": printer, "kind": "belongs_to"}, 400, "kind"),
        ({"other_id": 0, "kind": "depends_on"}, 400, "other_id"),
        ({"kind": "depends_on"}, 400, "other_id"),
    ]:
        assert await _problem(desk, "POST", base, "sue", body, status=status) == field, body
    status, _, _ = await _send(desk, "POST", base, "alice", {"other_id": 1, "kind": "depends_on"})
    assert status == 403
    server = ids["CGS-COM-0001"]
    created = await _ok(desk, "POST", base, "sue", {"other_id": server, "kind": "depends_on"})
    assert (created["item_id"], created["other_id"], created["created_by"]) == (pc, server, "sue")
    # The other end sees it too, and the reverse would now be a cycle.
    seen = await _ok(desk, "GET", f"/api/v1/items/{server}/relations", "bob")
    assert [(r["item_id"], r["kind"]) for r in seen["relations"]] == [
        (server, "connected_to"),
        (pc, "depends_on"),
    ]
    reverse = {"other_id": pc, "kind": "depends_on"}
    path = f"/api/v1/items/{server}/relations"
    assert await _problem(desk, "POST", path, "sue", reverse, status=409) == "other_id"

    delete = f"{base}?other_id={server}&kind=depends_on"
    assert (await _send(desk, "DELETE", delete, "sue"))[0] == 204
    assert await _problem(desk, "DELETE", delete, "sue", status=404) == "other_id"
    # connected_to is removed from either end.
    mirrored = f"{base}?other_id={printer}&kind=connected_to"
    assert (await _send(desk, "DELETE", mirrored, "sue"))[0] == 204
    missing_kind = f"{base}?other_id={printer}"
    assert await _problem(desk, "DELETE", missing_kind, "sue", status=400) == "kind"
    assert await _problem(desk, "DELETE", base + "?kind=depends_on", "sue", status=400) == (
        "other_id"
    )
    unknown = "/api/v1/items/999999/relations"
    assert await _problem(desk, "GET", unknown, "sue", status=404) == "item_id"


async def test_the_due_list_overdue_first_by_department(desk: Desk) -> None:
    reply = await _ok(desk, "GET", "/api/v1/maintenance/due", "alice")
    assert (reply["today"], reply["before"]) == (_day(0), _day(0))
    assert [(i["name"], i["overdue_days"]) for i in reply["items"]] == [
        ("KJC-COM-0002", 280),  # never serviced: from its purchase
        ("CGS-COM-0001", 30),  # last serviced 150 days ago, every 120
        ("KJC-COM-0003", 0),
    ]
    first = reply["items"][0]
    assert (first["last_preventive"], first["interval_days"], first["due"]) == (
        None,
        120,
        _day(-280),
    )
    kjc = await _ok(desk, "GET", f"/api/v1/maintenance/due?department=KJC&before={_day(70)}", "bob")
    # KJC services PCs every 90 days (the demo plan), printers every 270.
    assert [(i["name"], i["due"]) for i in kjc["items"]] == [
        ("KJC-COM-0002", _day(-280)),
        ("KJC-COM-0003", _day(0)),
        ("KJC-COM-0001", _day(60)),
        ("KJC-PRN-0001", _day(70)),
    ]
    assert (
        await _problem(desk, "GET", "/api/v1/maintenance/due?before=tomorrow", "bob", status=400)
        == "before"
    )
    assert (
        await _problem(desk, "GET", "/api/v1/maintenance/due?department=a-b", "bob", status=400)
        == "department"
    )


async def test_preventive_maintenance_moves_the_next_due_date(desk: Desk) -> None:
    ids = await _ids(desk)
    laptop = ids["KJC-COM-0002"]
    path = f"/api/v1/items/{laptop}/maintenance"
    record = await _ok(
        desk,
        "POST",
        path,
        "bob",
        {"kind": "preventive", "by": "Guangzhou PC Service Co.", "notes": "Cleaned."},
    )
    assert (record["kind"], record["recorded_by"], record["ticket_id"]) == (
        "preventive",
        "bob",
        None,
    )
    assert record["done_at"] == datetime.combine(TODAY, time(12), tzinfo=UTC).isoformat()
    history = (await _ok(desk, "GET", path, "alice"))["records"]
    assert [r["kind"] for r in history] == ["preventive", "repair"]  # newest first
    due = await _ok(desk, "GET", "/api/v1/maintenance/due", "alice")
    assert "KJC-COM-0002" not in [i["name"] for i in due["items"]]
    later = await _ok(desk, "GET", f"/api/v1/maintenance/due?before={_day(120)}", "alice")
    entry = next(i for i in later["items"] if i["name"] == "KJC-COM-0002")
    assert (entry["last_preventive"], entry["due"]) == (_day(0), _day(120))


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"kind": "cleaning", "by": "x"}, 400, "kind"),
        ({"kind": "repair"}, 400, "by"),
        ({"kind": "repair", "by": "  "}, 400, "by"),
        ({"kind": "repair", "by": "x", "done_at": "2030-01-01T00:00:00Z"}, 400, "done_at"),
        ({"kind": "repair", "by": "x", "done_at": "2024-01-01T00:00:00"}, 400, "done_at"),
        ({"kind": "repair", "by": "x", "done_at": "0001-01-01T00:00:00+14:00"}, 400, "done_at"),
        ({"kind": "repair", "by": "x", "ticket_id": 999999}, 404, "ticket_id"),
        ({"kind": "repair", "by": "x", "extra": 1}, 400, "extra"),
    ],
)
async def test_bad_maintenance_records_are_problems(
    desk: Desk, body: dict[str, Any], status: int, field: str
) -> None:
    ids = await _ids(desk)
    path = f"/api/v1/items/{ids['KJC-COM-0001']}/maintenance"
    assert await _problem(desk, "POST", path, "alice", body, status=status) == field
    assert (await _ok(desk, "GET", path, "alice"))["records"] == []


async def test_plans_set_the_interval_per_department(desk: Desk) -> None:
    plans = await _ok(desk, "GET", "/api/v1/maintenance/plans", "alice")
    assert plans["plans"] == [{"department": "KJC", "category": "pc", "interval_days": 90}]
    body = {"department": "CGS", "category": "pc", "interval_days": 90}
    status, _, _ = await _send(desk, "PUT", "/api/v1/maintenance/plans", "alice", body)
    assert status == 403
    assert await _ok(desk, "PUT", "/api/v1/maintenance/plans", "sue", body) == body
    due = await _ok(desk, "GET", "/api/v1/maintenance/due?department=CGS", "alice")
    assert [(i["name"], i["overdue_days"]) for i in due["items"]] == [("CGS-COM-0001", 60)]
    body["interval_days"] = 150
    await _ok(desk, "PUT", "/api/v1/maintenance/plans", "sue", body)
    everywhere = {"department": None, "category": "printer", "interval_days": 200}
    await _ok(desk, "PUT", "/api/v1/maintenance/plans", "sue", everywhere)
    plans = await _ok(desk, "GET", "/api/v1/maintenance/plans", "alice")
    assert sorted(
        (p["department"] or "", p["category"], p["interval_days"]) for p in plans["plans"]
    ) == [
        ("", "printer", 200),
        ("CGS", "pc", 150),
        ("KJC", "pc", 90),
    ]
    for wrong, status, field in [
        ({"department": "CGS", "category": "pc", "interval_days": 30}, 400, "interval_days"),
        ({"department": "CGS", "category": "printer", "interval_days": 400}, 400, "interval_days"),
        ({"department": "XYZ", "category": "pc", "interval_days": 90}, 404, "department"),
        ({"department": "CGS", "category": "toaster", "interval_days": 90}, 400, "category"),
        ({"category": "pc", "interval_days": 90}, 400, "department"),
    ]:
        assert (
            await _problem(desk, "PUT", "/api/v1/maintenance/plans", "sue", wrong, status=status)
            == field
        ), wrong


async def _step(desk: Desk, repair_id: int, body: dict[str, Any]) -> Any:
    return await _ok(desk, "PATCH", f"/api/v1/repairs/{repair_id}", "bob", body)


async def test_the_demo_printer_comes_back_from_the_repair_centre(desk: Desk) -> None:
    async with desk.store.write_transaction() as session:
        ticket_id = await session.scalar(
            select(models.Ticket.id).where(models.Ticket.subject == REPAIR_SUBJECT)
        )
    repairs = (await _ok(desk, "GET", f"/api/v1/tickets/{ticket_id}/repairs", "alice"))["repairs"]
    assert [(r["state"], r["in_warranty"], r["open"]) for r in repairs] == [
        ("at_vendor", True, True)
    ]
    assert repairs[0]["allowed_actions"] == ["return_item", "write_off"]
    done = await _step(desk, repairs[0]["id"], {"action": "return_item"})
    assert (done["state"], done["open"], done["item"]["status"]) == ("returned", False, "in_use")
    assert done["closed_at"] == datetime.combine(TODAY, time(12), tzinfo=UTC).isoformat()
    history = await _ok(desk, "GET", f"/api/v1/items/{done['item_id']}/maintenance", "alice")
    assert [(r["kind"], r["by"], r["ticket_id"]) for r in history["records"]] == [
        ("repair", "Kyocera", ticket_id)
    ]
    assert await _ok(desk, "GET", f"/api/v1/repairs/{done['id']}", "sue") == {
        k: v for k, v in done.items() if k != "item"
    }


async def test_in_warranty_repair_by_the_vendor_on_site(desk: Desk) -> None:
    ids = await _ids(desk)
    ticket = await _ticket(desk, "PC does not boot", ids["KJC-COM-0001"])
    status, _, task = await _send(desk, "POST", f"/api/v1/tickets/{ticket}/repairs", "alice")
    assert status == 201, task
    assert (task["item_id"], task["in_warranty"], task["state"]) == (
        ids["KJC-COM-0001"],
        True,
        "new",
    )
    wrong = await _problem(
        desk,
        "PATCH",
        f"/api/v1/repairs/{task['id']}",
        "bob",
        {"action": "quote", "amount": 5},
        status=409,
    )
    assert wrong == "action"
    onsite = await _step(desk, task["id"], {"action": "vendor_visit"})
    assert (onsite["state"], onsite["item"]["status"]) == ("vendor_onsite", "in_repair")
    back = await _step(desk, task["id"], {"action": "return_item"})
    assert (back["state"], back["item"]["status"]) == ("returned", "in_use")


async def test_out_of_warranty_needs_a_quote_and_a_named_approver(desk: Desk) -> None:
    ids = await _ids(desk)
    ticket = await _ticket(desk, "Desktop fan is loud")
    path = f"/api/v1/tickets/{ticket}/repairs"
    assert await _problem(desk, "POST", path, "alice", status=400) == "item_id"  # no device
    task = await _ok(desk, "POST", path, "alice", {"item_id": ids["CGS-COM-0001"]})
    assert (task["in_warranty"], task["allowed_actions"]) == (False, ["quote", "write_off"])
    again = await _problem(desk, "POST", path, "bob", {"item_id": ids["CGS-COM-0001"]}, status=409)
    assert again == "item_id"  # one open repair per item
    step = f"/api/v1/repairs/{task['id']}"
    for body, status, field in [
        ({"action": "start_repair"}, 409, "action"),  # no quote, no approval
        ({"action": "quote"}, 400, "amount"),
        ({"action": "quote", "amount": 1.234}, 400, "amount"),
        ({"action": "quote", "amount": -1}, 400, "amount"),
        ({"action": "send_to_vendor"}, 409, "action"),
        ({"action": "fix"}, 400, "action"),
    ]:
        assert await _problem(desk, "PATCH", step, "bob", body, status=status) == field, body
    quoted = await _step(desk, task["id"], {"action": "quote", "amount": 450.5})
    assert (quoted["state"], quoted["quote_amount"], quoted["item"]["status"]) == (
        "quoted",
        450.5,
        "in_use",
    )
    assert await _problem(desk, "PATCH", step, "bob", {"action": "start_repair"}, status=409) == (
        "action"
    )
    for nobody in ({"action": "approve"}, {"action": "approve", "approved_by": " "}):
        assert await _problem(desk, "PATCH", step, "bob", nobody, status=400) == "approved_by"
    approved = await _step(desk, task["id"], {"action": "approve", "approved_by": "Chen Jing"})
    assert (approved["state"], approved["approved_by"]) == ("approved", "Chen Jing")
    assert approved["approved_at"] == datetime.combine(TODAY, time(12), tzinfo=UTC).isoformat()
    repairing = await _step(desk, task["id"], {"action": "start_repair"})
    assert repairing["item"]["status"] == "in_repair"
    back = await _step(desk, task["id"], {"action": "return_item"})
    assert (back["state"], back["item"]["status"]) == ("returned", "in_use")
    history = await _ok(desk, "GET", f"/api/v1/items/{ids['CGS-COM-0001']}/maintenance", "bob")
    assert history["records"][0]["by"] == "Guangzhou PC Service Co."  # its maintainer


async def test_rejected_quote_closes_and_a_write_off_retires_the_item(desk: Desk) -> None:
    ids = await _ids(desk)
    printer = ids["KJC-PRN-0001"]
    ticket = await _ticket(desk, "Printer smells burnt", printer)
    task = await _ok(desk, "POST", f"/api/v1/tickets/{ticket}/repairs", "alice", {})
    await _step(desk, task["id"], {"action": "quote", "amount": 2000})
    closed = await _step(desk, task["id"], {"action": "reject"})
    assert (closed["state"], closed["open"], closed["item"]["status"]) == (
        "closed",
        False,
        "in_use",
    )
    assert closed["allowed_actions"] == ["write_off"]
    gone = await _step(desk, task["id"], {"action": "write_off"})
    assert (gone["state"], gone["item"]["status"]) == ("written_off", "retired")
    path = f"/api/v1/tickets/{ticket}/repairs"
    assert await _problem(desk, "POST", path, "alice", {}, status=409) == "item_id"  # retired
    assert (
        await _problem(
            desk,
            "PATCH",
            f"/api/v1/repairs/{task['id']}",
            "bob",
            {"action": "write_off"},
            status=409,
        )
        == "action"
    )


async def test_warranty_is_judged_on_the_day_the_task_is_created(desk: Desk) -> None:
    ids = await _ids(desk)
    laptop = ids["KJC-COM-0003"]
    await _ok(desk, "PATCH", f"/api/v1/items/{laptop}", "sue", {"warranty_end": _day(0)})
    ticket = await _ticket(desk, "Hinge broken", laptop)
    task = await _ok(desk, "POST", f"/api/v1/tickets/{ticket}/repairs", "alice", {})
    assert task["in_warranty"] is True
    desk.clock.advance(3 * 86400)
    item = await _ok(desk, "GET", f"/api/v1/items/{laptop}", "alice")
    assert item["in_warranty"] is False
    still = await _ok(desk, "GET", f"/api/v1/repairs/{task['id']}", "alice")
    assert still["in_warranty"] is True
    assert (await _step(desk, task["id"], {"action": "send_to_vendor"}))["state"] == "at_vendor"


async def test_unknown_tickets_and_repairs(desk: Desk) -> None:
    assert await _problem(desk, "GET", "/api/v1/tickets/999999/repairs", "alice", status=404) == (
        "ticket_id"
    )
    assert (
        await _problem(
            desk, "POST", "/api/v1/tickets/999999/repairs", "alice", {"item_id": 1}, status=404
        )
        == "ticket_id"
    )
    assert await _problem(desk, "GET", "/api/v1/repairs/999999", "alice", status=404) == (
        "repair_id"
    )
    assert (
        await _problem(
            desk, "PATCH", "/api/v1/repairs/999999", "bob", {"action": "reject"}, status=404
        )
        == "repair_id"
    )
    closed = await _ticket(desk, "Done already", 1)
    async with desk.store.write_transaction() as session:
        row = await session.get(models.Ticket, closed)
        assert row is not None
        row.status = "closed"
    assert (
        await _problem(desk, "POST", f"/api/v1/tickets/{closed}/repairs", "alice", {}, status=409)
        == "ticket_id"
    )
    ticket = await _ticket(desk, "Something")
    assert (
        await _problem(
            desk,
            "POST",
            f"/api/v1/tickets/{ticket}/repairs",
            "alice",
            {"item_id": 999999},
            status=404,
        )
        == "item_id"
    )
