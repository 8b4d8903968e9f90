"""What the agent's console shows of a caller the moment a call is offered (the screen
pop): plain records, filled by `screen_pop_query` and shown by the WebSocket hub."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from callcenter.problems.model import KnownError


@dataclass(frozen=True)
class PopEmployee:
    id: int
    username: str
    name: str
    department: str | None
    organisation: str
    vip: bool


@dataclass(frozen=True)
class PopDevice:
    asset_tag: str
    name: str
    type: str
    model: str | None
    vendor: str | None
    warranty_end: date | None


@dataclass(frozen=True)
class PopTicket:
    id: int
    kind: str
    status: str
    priority: int
    subject: str
    device_id: int | None
    created_at: datetime
    updated_at: datetime
    category: str | None


@dataclass(frozen=True)
class PopArticle:
    id: int
    title: str
    category: str
    use_count: int
    reason: str


@dataclass(frozen=True)
class MaybeTicket:
    """A ticket whose text mentions the number: perhaps the caller, perhaps not."""

    ticket_id: int
    subject: str
    employee: PopEmployee | None
    number_as_written: str


@dataclass(frozen=True)
class ScreenPopData:
    #: How many employees have the number (all of them, not only `candidates`).
    matches: int
    candidates: list[PopEmployee]
    #: The caller when exactly one employee has the number, or the one asked for.
    employee: PopEmployee | None
    devices: list[PopDevice]
    open_tickets: list[PopTicket]
    recent_closed_tickets: list[PopTicket]
    kb_suggestions: list[PopArticle]
    known_errors: list[KnownError]
    maybe: list[MaybeTicket]
