from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from callcenter.auth.tokens import Principal, TokenSigner
from callcenter.clock import ManualClock
from callcenter.tickets.records import Role

SECRET = b"s" * 32


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _forge(payload: bytes, secret: bytes = SECRET) -> str:
    """A token signed with the right secret around any payload we like."""
    body = _b64(payload)
    signature = _b64(hmac.new(secret, body.encode(), hashlib.sha256).digest())
    return f"{body}.{signature}"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_764_000_000.0)


@pytest.fixture
def signer(clock: ManualClock) -> TokenSigner:
    return TokenSigner(SECRET, 3600, clock)


def test_round_trip(signer: TokenSigner) -> None:
    token = signer.issue("alice", Role.AGENT)
    assert signer.verify(token) == Principal("alice", Role.AGENT, 1_764_003_600.0)


def test_token_is_url_and_header_safe(signer: TokenSigner) -> None:
    token = signer.issue("zhang san/é", Role.SUPERVISOR)
    assert token.isascii()
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    principal = signer.verify(token)
    assert principal is not None and principal.username == "zhang san/é"


def test_expires_at_ttl(signer: TokenSigner, clock: ManualClock) -> None:
    token = signer.issue("alice", Role.ADMIN)
    clock.advance(3599)
    assert signer.verify(token) is not None
    clock.advance(1)
    assert signer.verify(token) is None


def test_other_secret_rejects(signer: TokenSigner, clock: ManualClock) -> None:
    other = TokenSigner(b"t" * 32, 3600, clock)
    assert other.verify(signer.issue("alice", Role.AGENT)) is None


def test_tampered_payload_rejected(signer: TokenSigner) -> None:
    payload, signature = signer.issue("alice", Role.AGENT).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["role"] = "admin"
    forged = _b64(json.dumps(claims, separators=(",", ":")).encode())
    assert signer.verify(f"{forged}.{signature}") is None


def test_tampered_signature_rejected(signer: TokenSigner) -> None:
    token = signer.issue("alice", Role.AGENT)
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert signer.verify(flipped) is None


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        ".",
        "abc",
        "abc.",
        ".abc",
        "a.b.c",
        "é.é",
        "\x00.\x00",
        "x" * 10_000,
        "!!!.???",
        "Bearer abc.def",
    ],
)
def test_garbage_is_none_not_an_error(signer: TokenSigner, garbage: str) -> None:
    assert signer.verify(garbage) is None


@pytest.mark.parametrize(
    "payload",
    [
        b"\xff\xfe not utf-8",
        b"not json",
        b"[1, 2]",
        b'"alice"',
        b"{}",
        b'{"sub": "alice", "role": "agent"}',
        b'{"sub": "", "role": "agent", "exp": 1864000000}',
        b'{"sub": 7, "role": "agent", "exp": 1864000000}',
        b'{"sub": "alice", "role": "root", "exp": 1864000000}',
        b'{"sub": "alice", "role": ["agent"], "exp": 1864000000}',
        b'{"sub": "alice", "role": "agent", "exp": "1864000000"}',
        b'{"sub": "alice", "role": "agent", "exp": true}',
        b'{"sub": "alice", "role": "agent", "exp": NaN}',
        b'{"sub": "alice", "role": "agent", "exp": Infinity}',
    ],
)
def test_well_signed_but_malformed_claims_rejected(signer: TokenSigner, payload: bytes) -> None:
    assert signer.verify(_forge(payload)) is None


def test_well_signed_claims_accepted(signer: TokenSigner) -> None:
    token = _forge(b'{"sub": "bob", "role": "supervisor", "exp": 1864000000.5}')
    assert signer.verify(token) == Principal("bob", Role.SUPERVISOR, 1_864_000_000.5)


def test_refuses_empty_secret(clock: ManualClock) -> None:
    with pytest.raises(ValueError, match="secret"):
        TokenSigner(b"", 3600, clock)


def test_refuses_non_positive_ttl(clock: ManualClock) -> None:
    with pytest.raises(ValueError, match="lifetime"):
        TokenSigner(SECRET, 0, clock)


def test_the_account_version_travels_in_the_token(signer: TokenSigner) -> None:
    principal = signer.verify(signer.issue("alice", Role.AGENT, 7))
    assert principal == Principal("alice", Role.AGENT, 1_764_003_600.0, 7)


@pytest.mark.parametrize("version", [-1, 1.5, "3", True, None])
def test_a_version_we_never_issue_is_refused(signer: TokenSigner, version: object) -> None:
    claims = {"sub": "alice", "role": "agent", "exp": 1_764_003_600, "ver": version}
    assert signer.verify(_forge(json.dumps(claims).encode())) is None
