"""The one interface through which edges change the ACD.

Reads go straight to `store.acd`, this process's copy, which is always consistent (it
changes only between events). Changes go through `submit` as commands
(`callcenter.acd.commands`), so the same call flow, consoles and API work whether the
ACD lives in this process or is shared by several through Redis.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from callcenter.acd.acd import Acd
from callcenter.acd.commands import Command
from callcenter.health import REDIS, DependencyDown, Health

log = logging.getLogger(__name__)


class AcdStoreUnavailable(Exception):
    """The shared ACD takes no more changes for now (Redis unreachable and the changes
    queued for it at their bound); the caller should refuse, and try again later."""


#: How long a console or API change may wait for the shared ACD to confirm it.
CHANGE_DEADLINE_SECONDS = 5.0


async def submit_change(
    store: AcdStore,
    command: Command,
    health: Health | None = None,
    deadline: float = CHANGE_DEADLINE_SECONDS,
) -> None:
    """Submit a change someone waits for: refused at once while Redis is known to fail,
    and given up after `deadline` (the store withdraws it if it was not written yet), so
    no request hangs on an outage. The ACD's own refusals pass through."""
    failing = health.failing(REDIS) if health is not None else None
    if failing is not None:
        raise DependencyDown(REDIS, failing.detail)
    try:
        async with asyncio.timeout(deadline):
            await store.submit(command)
    except TimeoutError:
        raise DependencyDown(REDIS, f"the change was not confirmed within {deadline:g} s") from None
    except AcdStoreUnavailable as exc:
        raise DependencyDown(REDIS, str(exc)) from None


class AcdStore(Protocol):
    @property
    def acd(self) -> Acd:
        """This process's copy of the ACD, for reads only."""
        ...

    @property
    def node_id(self) -> str:
        """This process among those sharing the ACD."""
        ...

    @property
    def applying_own(self) -> bool:
        """Whether the events published right now come from this process's own command
        (or its own tick): what is written once per cluster is written by that process."""
        ...

    @property
    def ending_lost_calls(self) -> bool:
        """Whether the events published right now end the calls of a lost process."""
        ...

    @property
    def is_leader(self) -> bool:
        """Whether this process does what one process does for all: ticking, saving."""
        ...

    def submit(self, command: Command) -> asyncio.Future[None]:
        """Apply `command` after every command this process submitted before it.

        The future ends when this process's copy has applied it, with the ACD's error if
        it refused the command. `fire` is for callers that do not wait.
        """
        ...

    def tick(self) -> None:
        """Time passed: let the ACD act on it (in a cluster, one process ticks for all)."""
        ...

    async def start(self) -> None:
        """Catch up with the shared state; the copy is current when this returns."""
        ...

    async def close(self) -> None: ...


def fire(store: AcdStore, command: Command) -> None:
    """Submit a command nobody waits for (the call flow's): a refusal is logged."""

    def done(f: asyncio.Future[None]) -> None:
        if not f.cancelled() and f.exception() is not None:
            log.warning("ACD refused %s: %s", command, f.exception())

    store.submit(command).add_done_callback(done)
