"""The ACD in this process only: the default, and what `make run` uses."""

from __future__ import annotations

import asyncio

from callcenter.acd.acd import Acd
from callcenter.acd.commands import Command, Tick


class LocalAcdStore:
    def __init__(self, acd: Acd, node_id: str = "local") -> None:
        self._acd = acd
        self._node_id = node_id

    @property
    def acd(self) -> Acd:
        return self._acd

    @property
    def node_id(self) -> str:
        return self._node_id

    @property
    def applying_own(self) -> bool:
        return True

    @property
    def ending_lost_calls(self) -> bool:
        return False  # one process: none is ever lost while this one runs

    @property
    def is_leader(self) -> bool:
        return True

    def submit(self, command: Command) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        try:
            command.apply(self._acd)
        except Exception as exc:
            future.set_exception(exc)
        else:
            future.set_result(None)
        return future

    def tick(self) -> None:
        self.submit(Tick())

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass
