"""Whether a token still counts: signed by us, unexpired, and its account agrees.

The signature alone would keep a token alive for its whole lifetime after its account was
disabled, demoted, given a new password or logged out. So every request and every
console message also asks the account: it must exist, be active, hold the token's role
and be at the token's version. One indexed read per check; revocation is immediate in
every process that shares the database.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from callcenter.auth.tokens import Principal, TokenSigner
from callcenter.tickets.records import AgentAccount

AccountLookup = Callable[[str], Awaitable[AgentAccount | None]]


class TokenGate:
    def __init__(self, signer: TokenSigner, account: AccountLookup) -> None:
        self.signer = signer
        self._account = account

    async def principal(self, token: str) -> Principal | None:
        """The token's principal if it still counts; None for anything else."""
        found = self.signer.verify(token)
        if found is None or not await self.holds(found):
            return None
        return found

    async def holds(self, principal: Principal) -> bool:
        """Does the account still stand behind this (signed, unexpired) principal?"""
        account = await self._account(principal.username)
        return (
            account is not None
            and account.active
            and account.role is principal.role
            and account.token_version == principal.version
        )
