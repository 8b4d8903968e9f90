"""A client's locations (sites) in the database: listed with what is there, created, and
given to employees (where an on-site engineer goes) and items."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.db import models
from callcenter.tickets.store import SqlTicketStore


class LocationError(ValueError):
    """A location request the data refuses; `field` names the request field at fault,
    `missing` says it names something that does not exist (404 rather than 409)."""

    def __init__(self, field: str, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.field, self.missing = field, missing


@dataclass(frozen=True)
class Location:
    id: int
    organisation_id: int
    organisation: str
    name: str
    address: str | None
    employees: int
    items: int


@dataclass(frozen=True)
class Occupant:
    """An employee (username) or an item (asset tag) at a location, with its name."""

    key: str
    name: str


async def locations(store: SqlTicketStore, organisation_id: int | None = None) -> list[Location]:
    """Every location (of one organisation), by organisation and name, with head counts."""
    async with store._read() as session:
        return await _locations(session, organisation_id=organisation_id)


async def location(
    store: SqlTicketStore, location_id: int
) -> tuple[Location, list[Occupant], list[Occupant]] | None:
    """One location with its employees and its items, or None."""
    async with store._read() as session:
        found = await _locations(session, location_id=location_id)
        if not found:
            return None
        employees = await session.execute(
            select(models.Employee.username, models.Employee.name)
            .where(models.Employee.location_id == location_id)
            .order_by(models.Employee.username)
        )
        items = await session.execute(
            select(models.Device.asset_tag, models.Device.name)
            .where(models.Device.location_id == location_id)
            .order_by(models.Device.asset_tag)
        )
        return (
            found[0],
            [Occupant(k, n) for k, n in employees],
            [Occupant(k, n) for k, n in items],
        )


async def create_location(
    store: SqlTicketStore, organisation_id: int, name: str, address: str | None
) -> Location:
    try:
        async with store.write_transaction() as session:
            if await session.get(models.Organisation, organisation_id) is None:
                raise LocationError(
                    "organisation_id", f"no organisation {organisation_id}", missing=True
                )
            row = models.Location(organisation_id=organisation_id, name=name, address=address)
            session.add(row)
            await session.flush()
            location_id = row.id
    except IntegrityError:
        raise LocationError(
            "name", f"organisation {organisation_id} has {name!r} already"
        ) from None
    found = await location(store, location_id)
    assert found is not None
    return found[0]


async def set_employee_location(
    store: SqlTicketStore, username: str, location_id: int | None
) -> None:
    """Where the employee works; the location must be of the employee's organisation."""
    async with store.write_transaction() as session:
        employee = await session.scalar(
            select(models.Employee).where(models.Employee.username == username)
        )
        if employee is None:
            raise LocationError("username", f"no employee {username!r}", missing=True)
        if location_id is not None:
            site = await session.get(models.Location, location_id)
            if site is None:
                raise LocationError("location_id", f"no location {location_id}")
            if site.organisation_id != employee.organisation_id:
                raise LocationError(
                    "location_id", f"location {location_id} is not of {username}'s organisation"
                )
        employee.location_id = location_id


async def _locations(
    session: AsyncSession, *, organisation_id: int | None = None, location_id: int | None = None
) -> list[Location]:
    employees = (
        select(func.count(models.Employee.id))
        .where(models.Employee.location_id == models.Location.id)
        .scalar_subquery()
    )
    items = (
        select(func.count(models.Device.id))
        .where(models.Device.location_id == models.Location.id)
        .scalar_subquery()
    )
    query = (
        select(models.Location, models.Organisation.name, employees, items)
        .join(models.Organisation, models.Organisation.id == models.Location.organisation_id)
        .order_by(models.Organisation.name, models.Location.name)
    )
    if organisation_id is not None:
        query = query.where(models.Location.organisation_id == organisation_id)
    if location_id is not None:
        query = query.where(models.Location.id == location_id)
    rows = await session.execute(query)
    return [
        Location(row.id, row.organisation_id, org, row.name, row.address, int(e), int(i))
        for row, org, e, i in rows
    ]
