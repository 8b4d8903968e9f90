"""The ticket API's pure rules: listing parameters, cursors, If-Match, link kinds and the
parent/child loop check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from callcenter.api.tickets import WORKFLOW_ROLES
from callcenter.tickets.records import Role as AccountRole
from callcenter.tickets.ticket_query import (
    DEFAULT_LIMIT,
    LinkKind,
    QueryError,
    TicketQuery,
    creates_cycle,
    decode_cursor,
    encode_cursor,
    etag,
    if_match_version,
    parse_query,
    parse_sort,
    seen_from,
    sort_with_tiebreak,
    stored_link,
)
from callcenter.tickets.workflow import Kind, Role, Status, Tier


def test_an_empty_query_is_the_default_listing() -> None:
    query = parse_query({})
    assert query == TicketQuery()
    assert (query.limit, query.offset, query.sort) == (DEFAULT_LIMIT, 0, (("created_at", True),))


def test_every_filter_is_parsed() -> None:
    query = parse_query(
        {
            "status": "new,in_progress",
            "kind": "change",
            "priority": "1,2",
            "tier": "tier2_expert",
            "assignee": "bob",
            "employee": "zhangsanKJC",
            "category": "printer",
            "device": "0000PRN0001",
            "open": "false",
            "created_after": "2025-03-10t09:00:00.5z",
            "created_before": "2025-03-10T17:00:00+08:00",
            "limit": "200",
            "offset": "40",
            "sort": "-updated_at,priority",
        }
    )
    assert query.statuses == {Status.NEW, Status.IN_PROGRESS}
    assert query.kinds == {Kind.CHANGE} and query.tiers == {Tier.EXPERT}
    assert query.priorities == {1, 2}
    assert (query.assignee, query.employee, query.category, query.device) == (
        "bob",
        "zhangsanKJC",
        "printer",
        "0000PRN0001",
    )
    assert query.open is False
    assert query.created_after == datetime(2025, 3, 10, 9, 0, 0, 500_000, tzinfo=UTC)
    assert query.created_before == datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
    assert (query.limit, query.offset) == (200, 40)
    assert query.sort == (("updated_at", True), ("priority", False))
    # The next link repeats what shapes the result, never the paging.
    assert dict(query.echo).keys() == {
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
        "sort",
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"limit": "-1"}, "limit"),
        ({"limit": "1e3"}, "limit"),
        ({"offset": "1000001"}, "offset"),
        ({"offset": "1", "cursor": "x"}, "cursor"),
        ({"sort": "subject"}, "sort"),
        ({"sort": ""}, "sort"),
        ({"sort": "id,-id"}, "sort"),
        ({"sort": "+id"}, "sort"),
        ({"sort": "id, priority"}, "sort"),
        ({"status": "new, resolved"}, "status"),
        ({"limit": " 5"}, "limit"),
        ({"limit": "²"}, "limit"),
        ({"open": "1"}, "open"),
        ({"created_after": "2025-03-10T09:00+00:00"}, "created_after"),
        ({"created_after": "2025-03-10"}, "created_after"),
        ({"created_after": "2025-02-30T09:00:00Z"}, "created_after"),
        ({"status": "new,"}, "status"),
        ({"status": "open"}, "status"),
        ({"kind": "bug"}, "kind"),
        ({"priority": "0"}, "priority"),
        ({"priority": "high"}, "priority"),
        ({"tier": "tier9"}, "tier"),
        ({"open": "yes"}, "open"),
        ({"assignee": "  "}, "assignee"),
        ({"device": "x" * 65}, "device"),
        ({"created_after": "2025-03-10T09:00:00"}, "created_after"),
        ({"created_before": "monday"}, "created_before"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_parameter_is_named(params: dict[str, str], field: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(params)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")


def test_sort_keys_and_the_id_tiebreak() -> None:
    assert parse_sort("-updated_at,priority") == (("updated_at", True), ("priority", False))
    assert sort_with_tiebreak((("priority", True),)) == (("priority", True), ("id", True))
    assert sort_with_tiebreak((("id", False), ("priority", True))) == (
        ("id", False),
        ("priority", True),
    )


def test_a_cursor_round_trips_for_its_own_sort_only() -> None:
    sort = (("updated_at", True), ("status", False))
    at = datetime(2025, 3, 10, 9, 0, tzinfo=timezone(timedelta(hours=8)))
    cursor = encode_cursor(sort, [at, "new", 17])
    assert "=" not in cursor  # safe in a query string as is
    assert decode_cursor(cursor, sort) == (at, "new", 17)
    with pytest.raises(QueryError, match="another sort"):
        decode_cursor(cursor, (("updated_at", False), ("status", False)))
    query = parse_query({"sort": "-updated_at,status", "cursor": cursor})
    assert query.after == (at, "new", 17)


@pytest.mark.parametrize(
    "cursor",
    [
        "!!!",
        "",
        encode_cursor((("created_at", True),), ["not a time", 1]),
        encode_cursor((("created_at", True),), ["2025-03-10T09:00:00", 1]),  # naive
        encode_cursor((("created_at", True),), ["2025-03-10T09:00:00+00:00"]),
        encode_cursor((("created_at", True),), ["2025-03-10T09:00:00+00:00", "1"]),
        encode_cursor((("created_at", True),), ["2025-03-10T09:00:00+00:00", True]),
    ],
)
def test_forged_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(QueryError) as caught:
        decode_cursor(cursor, (("created_at", True),))
    assert caught.value.field == "cursor"


@pytest.mark.parametrize(
    ("header", "version"),
    [(None, None), ('"7"', 7), ('W/"7"', 7), ('"0012"', 12)],
)
def test_if_match_names_one_version(header: str | None, version: int | None) -> None:
    assert if_match_version(header) == version


@pytest.mark.parametrize(
    "header", ["*", "7", '"x"', '"1", "2"', '""', '"99999999999"', "", ' "7"', 'w/"7"']
)
def test_if_match_naming_no_version_is_refused(header: str) -> None:
    with pytest.raises(ValueError, match="If-Match"):
        if_match_version(header)


def test_the_etag_is_the_version_quoted() -> None:
    assert etag(7) == '"7"' and if_match_version(etag(7)) == 7


@pytest.mark.parametrize(
    ("kind", "row", "from_other"),
    [
        (LinkKind.CHILD, (1, 2, LinkKind.CHILD), LinkKind.PARENT),
        (LinkKind.PARENT, (2, 1, LinkKind.CHILD), LinkKind.CHILD),
        (LinkKind.DUPLICATE, (1, 2, LinkKind.DUPLICATE), LinkKind.DUPLICATED_BY),
        (LinkKind.DUPLICATED_BY, (2, 1, LinkKind.DUPLICATE), LinkKind.DUPLICATE),
        (LinkKind.CAUSED_BY, (1, 2, LinkKind.CAUSED_BY), LinkKind.CAUSES),
        (LinkKind.CAUSES, (2, 1, LinkKind.CAUSED_BY), LinkKind.CAUSED_BY),
        (LinkKind.RELATED, (1, 2, LinkKind.RELATED), LinkKind.RELATED),
    ],
)
def test_links_are_stored_one_way_and_read_both(
    kind: LinkKind, row: tuple[int, int, LinkKind], from_other: LinkKind
) -> None:
    assert stored_link(1, 2, kind) == row
    assert seen_from(1, row) == (2, kind)
    assert seen_from(2, row) == (1, from_other)


def test_related_is_stored_once_whichever_side_asks() -> None:
    assert stored_link(9, 4, LinkKind.RELATED) == stored_link(4, 9, LinkKind.RELATED)


def test_parent_child_loops() -> None:
    chain = [(1, 2), (2, 3)]  # 1 is a child of 2, 2 of 3
    assert creates_cycle(chain, 3, 1)  # 3 under 1 would loop 1 -> 2 -> 3 -> 1
    assert creates_cycle(chain, 3, 2)
    assert creates_cycle([], 5, 5)
    assert not creates_cycle(chain, 4, 1)  # a new leaf
    assert not creates_cycle(chain, 1, 3)  # a second path, no loop
    diamond = [(1, 2), (1, 3), (2, 4), (3, 4)]
    assert not creates_cycle(diamond, 5, 1)
    assert creates_cycle(diamond, 4, 1)


def test_token_roles_map_to_workflow_roles() -> None:
    assert WORKFLOW_ROLES == {
        AccountRole.AGENT: Role.AGENT,
        AccountRole.SUPERVISOR: Role.SUPERVISOR,
        AccountRole.ADMIN: Role.SUPERVISOR,
    }
