"""Whether `serve` is about to expose well-known credentials to other machines.

The demo data's passwords are printed in the README and a server started without a
token secret makes one up per process: both are fine for a desk on this machine alone,
and neither is for one that listens on a network.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Iterable, Mapping

from callcenter.auth.passwords import verify_password
from callcenter.tickets.records import AgentAccount


def only_this_machine(host: str) -> bool:
    """True when `host` is a loopback address or name: nothing else can connect."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def published_passwords_in_use(
    accounts: Iterable[AgentAccount], published: Mapping[str, str]
) -> list[str]:
    """The usernames whose password is still the one published for them."""
    found = []
    for account in accounts:
        password = published.get(account.username)
        if (
            password is not None
            and account.active
            and await asyncio.to_thread(verify_password, password, account.password_hash)
        ):
            found.append(account.username)
    return found
