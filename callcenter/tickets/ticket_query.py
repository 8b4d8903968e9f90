"""Pure rules of the ticket API: listing parameters, page cursors, ETags, link kinds and the
parent/child cycle check.

No I/O: the query string comes in as a mapping, a `TicketQuery` (or a `QueryError` naming
the parameter at fault) comes out; the repository turns it into SQL.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from callcenter.tickets.workflow import Kind, Status, Tier

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_OFFSET = 1_000_000
#: Sort keys: columns that are never null, so a keyset cursor can compare them.
SORT_KEYS = frozenset({"id", "created_at", "updated_at", "priority", "status", "kind", "tier"})
DEFAULT_SORT = (("created_at", True),)
#: Keys a listing accepts; anything else is a typo the client should hear about.
PARAMETERS = frozenset(
    {
        "limit",
        "cursor",
        "offset",
        "sort",
        "status",
        "kind",
        "priority",
        "tier",
        "assignee",
        "employee",
        "category",
        "device",
        "open",
        "created_after",
        "created_before",
    }
)
MAX_TEXT = 64

E = TypeVar("E", bound=enum.StrEnum)
_DIGITS = re.compile(r"[0-9]{1,10}")
#: RFC 3339 (what OpenAPI's `date-time` means), seconds and zone required.
_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
MAX_ID = 2**31 - 1


class QueryError(ValueError):
    """A listing parameter the rules refuse; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class TicketQuery:
    """A validated listing request. `sort` is (key, descending) pairs; `after` the keyset
    position a cursor carries (the sort keys' values of the last row seen, then its id)."""

    limit: int = DEFAULT_LIMIT
    offset: int = 0
    sort: tuple[tuple[str, bool], ...] = DEFAULT_SORT
    statuses: frozenset[Status] = frozenset()
    kinds: frozenset[Kind] = frozenset()
    priorities: frozenset[int] = frozenset()
    tiers: frozenset[Tier] = frozenset()
    assignee: str | None = None
    employee: str | None = None
    category: str | None = None
    device: str | None = None
    open: bool | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    after: tuple[object, ...] | None = None
    #: The raw parameters that shape the result (no paging ones), for the `next` link.
    echo: tuple[tuple[str, str], ...] = field(default=())


def parse_query(params: Mapping[str, str]) -> TicketQuery:
    """The listing request in `params` (one value per name); QueryError on the first fault."""
    for name in params:
        if name not in PARAMETERS:
            raise QueryError(name, "unknown parameter")
    if "cursor" in params and "offset" in params:
        raise QueryError("cursor", "give cursor or offset, not both")
    sort = parse_sort(params.get("sort"))
    after = None
    if "cursor" in params:
        after = decode_cursor(params["cursor"], sort)
    echo = tuple(
        (name, params[name]) for name in sorted(params) if name not in ("cursor", "offset", "limit")
    )
    return TicketQuery(
        limit=_int(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
        offset=_int(params, "offset", 0, 0, MAX_OFFSET),
        sort=sort,
        statuses=_enums(params, "status", Status),
        kinds=_enums(params, "kind", Kind),
        priorities=frozenset(
            _number(value, "priority", 1, 5) for value in _list(params, "priority")
        ),
        tiers=_enums(params, "tier", Tier),
        assignee=_text(params, "assignee"),
        employee=_text(params, "employee"),
        category=_text(params, "category"),
        device=_text(params, "device"),
        open=_bool(params, "open"),
        created_after=_moment(params, "created_after"),
        created_before=_moment(params, "created_before"),
        after=after,
        echo=echo,
    )


def parse_sort(raw: str | None) -> tuple[tuple[str, bool], ...]:
    """`-updated_at,priority` -> (("updated_at", True), ("priority", False))."""
    if raw is None:
        return DEFAULT_SORT
    keys: list[tuple[str, bool]] = []
    for part in raw.split(","):
        descending = part.startswith("-")
        name = part[1:] if descending else part
        if name not in SORT_KEYS:
            choices = ", ".join(sorted(SORT_KEYS))
            raise QueryError("sort", f"{name or part!r} is not one of {choices}")
        if any(name == seen for seen, _ in keys):
            raise QueryError("sort", f"{name} given twice")
        keys.append((name, descending))
    return tuple(keys)


def encode_cursor(sort: Iterable[tuple[str, bool]], values: Iterable[object]) -> str:
    """An opaque cursor: the sort it belongs to and the last row's key values."""
    data = {
        "s": [("-" if desc else "") + name for name, desc in sort],
        "v": [v.isoformat() if isinstance(v, datetime) else v for v in values],
    }
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: tuple[tuple[str, bool], ...]) -> tuple[object, ...]:
    """The key values a cursor carries (`sort_with_tiebreak`'s keys); QueryError if it is
    not one of ours or was made for another sort."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError):
        raise QueryError("cursor", "not a cursor this API issued") from None
    expected = [("-" if desc else "") + name for name, desc in sort]
    if not isinstance(data, dict) or data.get("s") != expected:
        raise QueryError("cursor", "issued for another sort, or not a cursor this API issued")
    values = data.get("v")
    names = [name for name, _ in sort_with_tiebreak(sort)]
    if not isinstance(values, list) or len(values) != len(names):
        raise QueryError("cursor", "not a cursor this API issued")
    return tuple(_cursor_value(name, value) for name, value in zip(names, values, strict=True))


def sort_with_tiebreak(sort: tuple[tuple[str, bool], ...]) -> tuple[tuple[str, bool], ...]:
    """The sort made total: `id` last (in the first key's direction) unless already there."""
    if any(name == "id" for name, _ in sort):
        return sort
    return (*sort, ("id", sort[0][1]))


# -- ETags ---------------------------------------------------------------------------


def etag(version: int) -> str:
    return f'"{version}"'


def if_match_version(header: str | None) -> int | None:
    """The version an If-Match header names (`"7"` or `W/"7"`); None if absent. A header
    naming no version (`*`, several, garbage) is a ValueError."""
    if header is None:
        return None
    text = header
    if text.startswith("W/"):
        text = text[2:]
    if len(text) >= 3 and text[0] == '"' and text[-1] == '"' and text[1:-1].isdigit():
        value = int(text[1:-1])
        if value <= MAX_ID:
            return value
    raise ValueError('If-Match: must name one version, as "7"')


# -- links ---------------------------------------------------------------------------


class LinkKind(enum.StrEnum):
    """How a ticket relates to another, seen from the first. Stored as the kinds on the
    left of `INVERSE` only (`parent` is stored as the other's `child`)."""

    DUPLICATE = "duplicate"  # this is a duplicate of the other
    DUPLICATED_BY = "duplicated_by"
    RELATED = "related"
    CHILD = "child"  # this is a child of the other
    PARENT = "parent"
    CAUSED_BY = "caused_by"  # this was caused by the other
    CAUSES = "causes"


#: The stored kinds and how the other ticket sees them.
INVERSE: Mapping[LinkKind, LinkKind] = {
    LinkKind.DUPLICATE: LinkKind.DUPLICATED_BY,
    LinkKind.RELATED: LinkKind.RELATED,
    LinkKind.CHILD: LinkKind.PARENT,
    LinkKind.CAUSED_BY: LinkKind.CAUSES,
}
_STORED_OF = {inverse: stored for stored, inverse in INVERSE.items()}


def stored_link(ticket_id: int, other_id: int, kind: LinkKind) -> tuple[int, int, LinkKind]:
    """The row (ticket_id, other_id, stored kind) for "ticket `kind` other". `related`
    is symmetric: stored with the lower id first, so it exists once."""
    if kind in INVERSE:
        if kind is LinkKind.RELATED and ticket_id > other_id:
            return other_id, ticket_id, kind
        return ticket_id, other_id, kind
    return other_id, ticket_id, _STORED_OF[kind]


def seen_from(ticket_id: int, row: tuple[int, int, str]) -> tuple[int, LinkKind]:
    """(other ticket, kind) of a stored row as `ticket_id` sees it."""
    source, target, kind = row
    stored = LinkKind(kind)
    if source == ticket_id:
        return target, stored
    return source, INVERSE[stored]


def creates_cycle(child_of: Iterable[tuple[int, int]], child: int, parent: int) -> bool:
    """Would "`child` is a child of `parent`" close a loop, given the existing
    (child, parent) pairs? It does when `child` is `parent` or one of its ancestors."""
    parents: dict[int, set[int]] = {}
    for c, p in child_of:
        parents.setdefault(c, set()).add(p)
    seen: set[int] = set()
    todo = [parent]
    while todo:
        current = todo.pop()
        if current == child:
            return True
        if current in seen:
            continue
        seen.add(current)
        todo.extend(parents.get(current, ()))
    return False


# -- internals -----------------------------------------------------------------------


def _int(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    return default if raw is None else _number(raw, name, low, high)


def _number(raw: str, name: str, low: int, high: int) -> int:
    if not _DIGITS.fullmatch(raw) or not low <= int(raw) <= high:
        raise QueryError(name, f"must be an integer from {low} to {high}")
    return int(raw)


def _list(params: Mapping[str, str], name: str) -> list[str]:
    raw = params.get(name)
    if raw is None:
        return []
    values = raw.split(",")
    if not all(values):
        raise QueryError(name, "empty value")
    return values


def _enums(params: Mapping[str, str], name: str, kind: type[E]) -> frozenset[E]:
    found: set[E] = set()
    for value in _list(params, name):
        try:
            found.add(kind(value))
        except ValueError:
            choices = ", ".join(member.value for member in kind)
            raise QueryError(name, f"{value!r} is not one of {choices}") from None
    return frozenset(found)


def _text(params: Mapping[str, str], name: str) -> str | None:
    raw = params.get(name)
    if raw is None:
        return None
    if not raw.strip() or len(raw) > MAX_TEXT:
        raise QueryError(name, f"must be 1 to {MAX_TEXT} characters")
    return raw.strip()


def _bool(params: Mapping[str, str], name: str) -> bool | None:
    raw = params.get(name)
    if raw is None:
        return None
    if raw == "true":
        return True
    if raw == "false":
        return False
    raise QueryError(name, "must be true or false")


def _moment(params: Mapping[str, str], name: str) -> datetime | None:
    raw = params.get(name)
    if raw is None:
        return None
    problem = "must be an RFC 3339 date-time with a zone, as 2025-03-10T09:00:00Z"
    if not _DATE_TIME.fullmatch(raw):
        raise QueryError(name, problem)
    try:
        moment = datetime.fromisoformat(raw.upper().replace("Z", "+00:00"))
    except ValueError:
        raise QueryError(name, problem) from None
    return moment.astimezone(UTC)


def _cursor_value(name: str, value: object) -> object:
    if name in ("id", "priority"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise QueryError("cursor", "not a cursor this API issued")
        return value
    if not isinstance(value, str):
        raise QueryError("cursor", "not a cursor this API issued")
    if name in ("created_at", "updated_at"):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise QueryError("cursor", "not a cursor this API issued") from None
        if moment.tzinfo is None:
            raise QueryError("cursor", "not a cursor this API issued")
        return moment
    return value
