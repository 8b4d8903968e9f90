"""The one road by which state changes leave the core: typed events on a bus.

The bus is synchronous: a publisher's state is already consistent when it publishes,
and subscribers that need I/O hand the event to a task of their own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

log = logging.getLogger(__name__)

E = TypeVar("E")
Handler = Callable[[Any], None]


class EventBus:
    def __init__(self) -> None:
        self._handlers: list[tuple[type[Any], Handler]] = []

    def subscribe(self, event_type: type[E], handler: Callable[[E], None]) -> None:
        """Call handler for every published event that is an instance of event_type."""
        self._handlers.append((event_type, handler))

    def publish(self, event: object) -> None:
        for event_type, handler in list(self._handlers):
            if isinstance(event, event_type):
                try:
                    handler(event)
                except Exception:
                    # One broken consumer (a board, a metric) must never stop a call.
                    log.exception("event handler %r failed on %r", handler, event)
