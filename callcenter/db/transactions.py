"""What a feature store needs from the database it shares: transactions, nothing more."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession


class Transactions(Protocol):
    def read_transaction(self) -> AbstractAsyncContextManager[AsyncSession]: ...

    def write_transaction(self) -> AbstractAsyncContextManager[AsyncSession]: ...
