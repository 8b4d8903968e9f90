from __future__ import annotations

import pytest

from callcenter.softphone_bridge.identity import (
    CallerIdentity,
    caller_identity,
    display_name,
    headers,
    lenient,
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


@pytest.mark.parametrize(
    ("wire", "stored"),
    [
        ("plain ascii", "plain ascii"),
        ("Zhang San 张三", "Zhang San 张三"),  # valid UTF-8 is kept as it is
        (b"Caller \xff\xfe".decode("utf-8", "surrogateescape"), "Caller \ufffd\ufffd"),
        (b"+86\xc3\x281001".decode("utf-8", "surrogateescape"), "+86\ufffd(1001"),
        ("nul\x00inside", "nul\ufffdinside"),
        ("lone \ud800 surrogate", "lone \ufffd\ufffd\ufffd surrogate"),
    ],
)
def test_wire_text_is_made_storable(wire: str, stored: str) -> None:
    assert lenient(wire) == stored
    lenient(wire).encode("utf-8")  # what a database driver does with it


def test_an_invite_with_odd_bytes_still_names_its_caller() -> None:
    raw = (
        b"INVITE sip:hotline@127.0.0.1 SIP/2.0\r\n"
        b'P-Asserted-Identity: "Caller \xff" <sip:+86208888\xfe1001@127.0.0.1>\r\n'
        b"From: <sip:1@127.0.0.1>;tag=1\r\n\r\n"
    )
    found = caller_identity(lenient(raw.decode("utf-8", "surrogateescape")))
    assert found == CallerIdentity("+86208888\ufffd1001", "Caller \ufffd", "p-asserted-identity")
