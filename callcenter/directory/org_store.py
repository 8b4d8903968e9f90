"""Organisations' SLA policy, service calendar and account manager in the database.

`organisation.sla_policy` names the policy; `org_service` holds the calendar and the
account manager. Reading for a new ticket (`organisation_sla`) runs inside the caller's
transaction; the rest are short transactions of their own on the ticket store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.db import models
from callcenter.directory.org_sla import (
    OrgSla,
    check_calendar,
    check_policy,
    choose_calendar,
    choose_policy,
)
from callcenter.tickets.calendar import calendar_data

if TYPE_CHECKING:
    from callcenter.tickets.store import SqlTicketStore


@dataclass(frozen=True)
class OrgService:
    """An organisation's service settings: as stored (None: default) and in effect."""

    organisation_id: int
    name: str
    policy: str | None
    calendar: dict[str, Any] | None
    account_manager: str | None
    account_manager_email: str | None
    effective_policy: str
    effective_calendar: dict[str, Any]
    updated_at: datetime | None
    updated_by: str | None


async def organisation_sla(session: AsyncSession, organisation_id: int) -> OrgSla | None:
    """The organisation's own policy name and calendar (None: no such organisation)."""
    row = (
        await session.execute(
            select(models.Organisation.sla_policy, models.OrgService.calendar)
            .outerjoin(
                models.OrgService,
                models.OrgService.organisation_id == models.Organisation.id,
            )
            .where(models.Organisation.id == organisation_id)
        )
    ).one_or_none()
    if row is None:
        return None
    policy, calendar = row
    return OrgSla(organisation_id, policy, calendar)


async def org_service(store: SqlTicketStore, organisation_id: int) -> OrgService | None:
    async with store._read() as session:
        return await _org_service(store, session, organisation_id)


async def set_org_service(
    store: SqlTicketStore,
    organisation_id: int,
    *,
    policy: str | None,
    calendar: dict[str, Any] | None,
    account_manager: str | None,
    account_manager_email: str | None,
    actor: str,
    now: datetime,
) -> OrgService | None:
    """Replace the organisation's settings (None: back to the default); None if unknown.

    An invalid policy name or calendar raises `OrgSlaError` naming the field. Open
    tickets keep their clocks (module `org_sla`).
    """
    check_policy(policy, store.sla.policies)
    if calendar is not None:
        calendar = calendar_data(check_calendar(calendar))
    async with store.write_transaction() as session:
        org = await session.scalar(
            select(models.Organisation)
            .where(models.Organisation.id == organisation_id)
            .with_for_update()
        )
        if org is None:
            return None
        org.sla_policy = policy
        row = await session.get(models.OrgService, organisation_id)
        if row is None:
            row = models.OrgService(organisation_id=organisation_id)
            session.add(row)
        row.calendar = calendar
        row.account_manager = account_manager
        row.account_manager_email = account_manager_email
        row.updated_at, row.updated_by = now, actor
        await session.flush()
        return await _org_service(store, session, organisation_id)


async def _org_service(
    store: SqlTicketStore, session: AsyncSession, organisation_id: int
) -> OrgService | None:
    found = (
        await session.execute(
            select(models.Organisation, models.OrgService)
            .outerjoin(
                models.OrgService,
                models.OrgService.organisation_id == models.Organisation.id,
            )
            .where(models.Organisation.id == organisation_id)
        )
    ).one_or_none()
    if found is None:
        return None
    org, service = found
    own = OrgSla(organisation_id, org.sla_policy, service.calendar if service else None)
    setup = store.sla
    return OrgService(
        organisation_id=organisation_id,
        name=org.name,
        policy=org.sla_policy,
        calendar=None if own.calendar is None else dict(own.calendar),
        account_manager=service.account_manager if service else None,
        account_manager_email=service.account_manager_email if service else None,
        effective_policy=choose_policy(own, setup.policies, setup.default_policy).name,
        effective_calendar=calendar_data(choose_calendar(own, setup.calendar)),
        updated_at=service.updated_at if service else None,
        updated_by=service.updated_by if service else None,
    )
