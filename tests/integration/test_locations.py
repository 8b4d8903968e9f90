"""A client's locations: listed with head counts, created by supervisors, given to
employees of the same organisation; the migration files the survey's item locations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pytest_aiohttp import AiohttpClient
from sqlalchemy import select, text

from callcenter.db import models
from callcenter.db.engine import make_engine
from callcenter.db.migrate import migrate_to
from callcenter.tickets.store import SqlTicketStore
from tests.integration.test_api import Desk, plain_desk
from tests.integration.test_kb_api import problem_field

BASE = "/api/v1/locations"


@pytest.fixture
async def desk(aiohttp_client: AiohttpClient, demo_store: SqlTicketStore) -> Desk:
    return await plain_desk(aiohttp_client, demo_store, datetime(2026, 12, 1, 9, tzinfo=UTC))


async def send(desk: Desk, method: str, path: str, who: str, body: Any = None) -> tuple[int, Any]:
    resp = await desk.client.request(method, path, json=body, headers=await desk.auth(who))
    payload = await resp.json(content_type=None)
    if resp.status >= 400 and resp.status != 401:
        problem_field(resp.status, resp.content_type, payload)
    return resp.status, payload


async def organisation(desk: Desk, name: str = "Demo Corp") -> int:
    async with desk.store.write_transaction() as session:
        found = await session.scalar(
            select(models.Organisation.id).where(models.Organisation.name == name)
        )
        if found is None:
            row = models.Organisation(name=name)
            session.add(row)
            await session.flush()
            found = row.id
    return found


async def test_every_location_route_needs_a_token(desk: Desk) -> None:
    for method, path in [
        ("GET", BASE),
        ("POST", BASE),
        ("GET", f"{BASE}/1"),
        ("PUT", "/api/v1/employees/zhangsanKJC/location"),
    ]:
        resp = await desk.client.request(method, path)
        assert resp.status == 401, (method, path)


async def test_a_supervisor_creates_a_location_and_places_an_employee(desk: Desk) -> None:
    org = await organisation(desk)
    body = {"organisation_id": org, "name": "HQ, floor 3", "address": "1 Demo Road"}
    status, created = await send(desk, "POST", BASE, "sue", body)
    assert status == 201, created
    assert (created["name"], created["employees"], created["items"]) == ("HQ, floor 3", 0, 0)

    status, placed = await send(
        desk,
        "PUT",
        "/api/v1/employees/zhangsanKJC/location",
        "sue",
        {"location_id": created["id"]},
    )
    assert (status, placed) == (200, {"username": "zhangsanKJC", "location_id": created["id"]})
    status, listed = await send(desk, "GET", f"{BASE}?organisation_id={org}", "alice")
    assert status == 200
    mine = next(loc for loc in listed["locations"] if loc["id"] == created["id"])
    assert mine["employees"] == 1 and mine["organisation"] == "Demo Corp"
    status, one = await send(desk, "GET", f"{BASE}/{created['id']}", "alice")
    assert status == 200
    assert one["employee_list"] == [{"username": "zhangsanKJC", "name": "Zhang San"}]

    status, cleared = await send(
        desk, "PUT", "/api/v1/employees/zhangsanKJC/location", "sue", {"location_id": None}
    )
    assert (status, cleared["location_id"]) == (200, None)
    status, one = await send(desk, "GET", f"{BASE}/{created['id']}", "alice")
    assert one["employees"] == 0 and one["employee_list"] == []


async def test_refusals_name_the_field(desk: Desk) -> None:
    org = await organisation(desk)
    other = await organisation(desk, "Other Client")
    status, _ = await send(desk, "POST", BASE, "alice", {"organisation_id": org, "name": "X"})
    assert status == 403
    status, hq = await send(desk, "POST", BASE, "sue", {"organisation_id": org, "name": "HQ"})
    assert status == 201
    cases: list[tuple[str, str, Any, int, str]] = [
        ("POST", BASE, {"organisation_id": org, "name": "HQ"}, 409, "name"),
        ("POST", BASE, {"organisation_id": 999999, "name": "HQ"}, 404, "organisation_id"),
        ("POST", BASE, {"organisation_id": org, "name": ""}, 400, "name"),
        ("PUT", "/api/v1/employees/nobody/location", {"location_id": hq["id"]}, 404, "username"),
        (
            "PUT",
            "/api/v1/employees/zhangsanKJC/location",
            {"location_id": 999999},
            422,
            "location_id",
        ),
    ]
    status, foreign = await send(
        desk, "POST", BASE, "sue", {"organisation_id": other, "name": "Annex"}
    )
    assert status == 201
    cases.append(
        (
            "PUT",
            "/api/v1/employees/zhangsanKJC/location",
            {"location_id": foreign["id"]},
            422,
            "location_id",
        )
    )
    for method, path, body, expected, field in cases:
        status, problem = await send(desk, method, path, "sue", body)
        assert (status, problem["field"]) == (expected, field), (path, body, problem)
    status, problem = await send(desk, "GET", f"{BASE}/999999", "alice")
    assert (status, problem["field"]) == (404, "location_id")


async def test_the_migration_files_the_surveyed_item_locations(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(migrate_to, "0012")
            await connection.execute(text("INSERT INTO organisation (name) VALUES ('Acme')"))
            await connection.execute(
                text(
                    "INSERT INTO employee (organisation_id, username, name, vip) "
                    "SELECT id, 'amyACM', 'Amy', false FROM organisation WHERE name = 'Acme'"
                )
            )
            for n, where in enumerate(["Room 101", "Room 101", None], start=1):
                await connection.execute(
                    text(
                        "INSERT INTO device (asset_tag, name, type, status, category, "
                        "owner_employee_id, location) SELECT :tag, :name, 'desktop', 'in_use', "
                        "'pc', id, :where FROM employee WHERE username = 'amyACM'"
                    ),
                    {"tag": f"0001COM000{n}", "name": f"ACM-COM-000{n}", "where": where},
                )
            await connection.run_sync(migrate_to, "head")
            sites = (await connection.execute(text("SELECT id, name FROM location"))).all()
            assert [name for _, name in sites] == ["Room 101"]
            placed = (
                await connection.execute(
                    text("SELECT asset_tag, location_id FROM device ORDER BY asset_tag")
                )
            ).all()
            assert placed == [
                ("0001COM0001", sites[0][0]),
                ("0001COM0002", sites[0][0]),
                ("0001COM0003", None),
            ]
            await connection.run_sync(migrate_to, "0012", True)
            await connection.run_sync(migrate_to, "head")
    finally:
        await engine.dispose()
