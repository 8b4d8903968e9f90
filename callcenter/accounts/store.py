"""Account rows: read with their queue memberships, created, and changed.

Every change that should end the sessions of an account (a new password, another role,
disabling, logout) bumps `agent.token_version` in the same transaction as the change:
there is no window in which the change is made and the old tokens still count.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Select, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from callcenter.accounts.errors import AccountExists, UnknownAccount
from callcenter.db import models
from callcenter.db.transactions import Transactions
from callcenter.tickets.records import MAX_LEVEL, MIN_LEVEL, AgentAccount, QueueMembership, Role


class SqlAccounts:
    def __init__(self, db: Transactions) -> None:
        self._db = db

    async def get(self, username: str) -> AgentAccount:
        account = await self.find(username)
        if account is None:
            raise UnknownAccount(username)
        return account

    async def all(self) -> list[AgentAccount]:
        async with self._db.read_transaction() as session:
            rows = await session.scalars(_agent_query().order_by(models.Agent.username))
            return [_agent(row) for row in rows]

    async def find(self, username: str) -> AgentAccount | None:
        async with self._db.read_transaction() as session:
            row = await session.scalar(_agent_query().where(models.Agent.username == username))
            return None if row is None else _agent(row)

    async def set_memberships(
        self, username: str, memberships: Mapping[str, QueueMembership]
    ) -> AgentAccount | None:
        """Replace the account's queues, levels and penalties, all or nothing."""
        wanted = {queue: QueueMembership(m.level, m.penalty) for queue, m in memberships.items()}
        async with self._db.write_transaction() as session:
            agent_id = await _lock_agent(session, username)
            if agent_id is None:
                return None
            await session.execute(
                delete(models.AgentQueue).where(models.AgentQueue.agent_id == agent_id)
            )
            session.add_all(
                models.AgentQueue(agent_id=agent_id, queue=queue, level=m.level, penalty=m.penalty)
                for queue, m in wanted.items()
            )
            return await _reload_agent(session, agent_id)

    async def set_membership(
        self, username: str, queue: str, membership: QueueMembership | None
    ) -> AgentAccount | None:
        """Add or change one queue of the account; None removes it (absent: no change)."""
        async with self._db.write_transaction() as session:
            agent_id = await _lock_agent(session, username)
            if agent_id is None:
                return None
            row = await session.get(models.AgentQueue, (agent_id, queue))
            if membership is None:
                if row is not None:
                    await session.delete(row)
            elif row is None:
                session.add(
                    models.AgentQueue(
                        agent_id=agent_id,
                        queue=queue,
                        level=membership.level,
                        penalty=membership.penalty,
                    )
                )
            else:
                row.level, row.penalty = membership.level, membership.penalty
            return await _reload_agent(session, agent_id)

    async def set_skills(self, username: str, skills: Mapping[str, int]) -> AgentAccount | None:
        """Replace the account's skills (name -> level 1-10)."""
        checked = {str(name): _skill_level(name, level) for name, level in skills.items()}
        async with self._db.write_transaction() as session:
            agent_id = await _lock_agent(session, username)
            if agent_id is None:
                return None
            await session.execute(
                update(models.Agent).where(models.Agent.id == agent_id).values(skills=checked)
            )
            return await _reload_agent(session, agent_id)

    async def add(
        self,
        username: str,
        display_name: str,
        role: Role,
        password_hash: str,
        sip_uri: str | None,
    ) -> AgentAccount:
        try:
            async with self._db.write_transaction() as session:
                taken = await session.scalar(
                    select(models.Agent.id).where(models.Agent.username == username)
                )
                if taken is not None:
                    raise AccountExists(username)
                session.add(
                    models.Agent(
                        username=username,
                        display_name=display_name,
                        password_hash=password_hash,
                        role=role.value,
                        sip_uri=sip_uri,
                        skills={},
                    )
                )
        except IntegrityError:  # a concurrent add of the same name won the race
            raise AccountExists(username) from None
        return await self.get(username)

    async def set_password(self, username: str, password_hash: str) -> None:
        await self._change(username, password_hash=password_hash)

    async def set_role(self, username: str, role: Role) -> None:
        await self._change(username, role=role.value)

    async def set_disabled(self, username: str, since: datetime | None) -> None:
        """Disable the account from `since`, or enable it again (None)."""
        await self._change(username, disabled_at=since)

    async def revoke_tokens(self, username: str) -> None:
        """Void every token issued so far (logout everywhere)."""
        await self._change(username)

    async def _change(self, username: str, **values: object) -> None:
        async with self._db.write_transaction() as session:
            changed = await session.execute(
                update(models.Agent)
                .where(models.Agent.username == username)
                .values(token_version=models.Agent.token_version + 1, **values)
            )
            if getattr(changed, "rowcount", 0) != 1:
                raise UnknownAccount(username)


def _agent_query() -> Select[models.Agent]:
    return select(models.Agent).options(selectinload(models.Agent.memberships))


async def _lock_agent(session: AsyncSession, username: str) -> int | None:
    """The account's id, its row locked until the transaction ends (PostgreSQL; SQLite's
    `BEGIN IMMEDIATE` already serialises writers): changes of one account queue up."""
    agent_id: int | None = await session.scalar(
        select(models.Agent.id).where(models.Agent.username == username).with_for_update()
    )
    return agent_id


async def _reload_agent(session: AsyncSession, agent_id: int) -> AgentAccount:
    """The account as the transaction leaves it (pending changes flushed first)."""
    await session.flush()
    row = await session.scalar(
        _agent_query().where(models.Agent.id == agent_id).execution_options(populate_existing=True)
    )
    assert row is not None
    return _agent(row)


def _skill_level(name: str, level: int) -> int:
    if not MIN_LEVEL <= level <= MAX_LEVEL:
        raise ValueError(f"skill {name!r}: level {level} is not from {MIN_LEVEL} to {MAX_LEVEL}")
    return level


def _agent(row: models.Agent) -> AgentAccount:
    memberships = {m.queue: QueueMembership(m.level, m.penalty) for m in row.memberships}
    return AgentAccount(
        username=row.username,
        display_name=row.display_name,
        role=Role(row.role),
        password_hash=row.password_hash,
        sip_uri=row.sip_uri,
        queues=tuple(memberships),
        skills={str(name): int(level) for name, level in row.skills.items()},
        memberships=memberships,
        token_version=row.token_version,
        active=row.disabled_at is None,
    )
