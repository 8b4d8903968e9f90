"""Account use cases for the CLI and the API: the rules checked, the password hashed off
the event loop, and the store told. Every change but `add` voids the
account's tokens (see `accounts.store`)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from callcenter.accounts.model import (
    check_display_name,
    check_password,
    check_role,
    check_username,
)
from callcenter.accounts.store import SqlAccounts
from callcenter.auth.passwords import hash_password
from callcenter.clock import Clock
from callcenter.tickets.records import AgentAccount


class AccountService:
    def __init__(self, accounts: SqlAccounts, clock: Clock) -> None:
        self._accounts = accounts
        self._clock = clock

    async def add(
        self,
        username: str,
        display_name: str,
        role: str,
        password: str,
        sip_uri: str | None = None,
    ) -> AgentAccount:
        check_username(username)
        name = check_display_name(display_name)
        checked_role = check_role(role)
        check_password(username, password)
        hashed = await asyncio.to_thread(hash_password, password)
        return await self._accounts.add(username, name, checked_role, hashed, sip_uri)

    async def list(self) -> list[AgentAccount]:
        return await self._accounts.all()

    async def change_password(self, username: str, password: str) -> None:
        await self._accounts.get(username)
        check_password(username, password)
        hashed = await asyncio.to_thread(hash_password, password)
        await self._accounts.set_password(username, hashed)

    async def change_role(self, username: str, role: str) -> None:
        await self._accounts.set_role(username, check_role(role))

    async def disable(self, username: str) -> None:
        since = datetime.fromtimestamp(self._clock.now(), UTC)
        await self._accounts.set_disabled(username, since)

    async def enable(self, username: str) -> None:
        await self._accounts.set_disabled(username, None)

    async def logout(self, username: str) -> None:
        await self._accounts.revoke_tokens(username)
