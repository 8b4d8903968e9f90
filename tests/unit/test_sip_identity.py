from __future__ import annotations

import pytest

from callcenter.softphone_bridge.identity import (
    caller_identity,
    display_name,
    headers,
    request_user,
    source_host,
    uri_user,
)


def invite(*lines: str) -> str:
    return "\r\n".join(["INVITE sip:hotline@10.0.0.1:5060 SIP/2.0", *lines, "", "v=0"])


def test_pai_wins_over_from() -> None:
    msg = invite(
        'From: "Desk phone" <sip:1001@pbx.example>;tag=a',
        "P-Asserted-Identity: <sip:+862088881001@pbx.example>",
    )
    found = caller_identity(msg)
    assert found is not None
    assert (found.user, found.source) == ("+862088881001", "p-asserted-identity")


def test_from_when_no_pai_with_display_name() -> None:
    found = caller_identity(invite('From: "Zhang San" <sip:02088881001@10.0.0.9>;tag=1'))
    assert found is not None
    assert (found.user, found.display, found.source) == ("02088881001", "Zhang San", "from")


def test_compact_from_and_tel_uri() -> None:
    found = caller_identity(invite("f: <tel:+862088881001>;tag=9"))
    assert found is not None and found.user == "+862088881001"


def test_pai_with_two_uris_takes_the_first_with_a_user() -> None:
    found = caller_identity(invite("P-Asserted-Identity: <sip:pbx.example>, <tel:+8610123>"))
    assert found is not None and found.user == "+8610123"


def test_no_identity() -> None:
    assert caller_identity(invite("Via: SIP/2.0/UDP x")) is None


def test_folded_headers_and_case() -> None:
    msg = invite("FROM: \r\n <sip:42@x>;tag=1")
    assert headers(msg)["from"] == ["<sip:42@x>;tag=1"]


@pytest.mark.parametrize(
    ("value", "user"),
    [
        ("<sip:alice@example.com>", "alice"),
        ("sip:bob@example.com;transport=tcp", "bob"),
        ("<sips:+123;phone-context=x@example.com>", "+123"),
        ("<sip:example.com>", None),
        ("garbage", None),
    ],
)
def test_uri_user(value: str, user: str | None) -> None:
    assert uri_user(value) == user


def test_display_name_quoted_and_bare() -> None:
    assert display_name('"A \\"B\\"" <sip:x@y>') == 'A \\"B\\"'
    assert display_name("Bare Name <sip:x@y>") == "Bare Name"
    assert display_name("<sip:x@y>") is None


def test_request_user() -> None:
    assert request_user(invite()) == "hotline"
    assert request_user("garbage") is None


@pytest.mark.parametrize(
    ("address", "host"), [("127.0.0.1:5070", "127.0.0.1"), ("[::1]:5070", "::1")]
)
def test_source_host(address: str, host: str) -> None:
    assert source_host(address) == host
