"""The account rules (username form, password policy, roles) and the token gate."""

from __future__ import annotations

import dataclasses

import pytest

from callcenter.accounts.errors import BadAccountField
from callcenter.accounts.exposure import only_this_machine
from callcenter.accounts.model import (
    check_display_name,
    check_password,
    check_role,
    check_username,
)
from callcenter.auth.gate import TokenGate
from callcenter.auth.tokens import TokenSigner
from callcenter.clock import ManualClock
from callcenter.tickets.records import AgentAccount, Role


@pytest.mark.parametrize("name", ["alice", "zhang.san", "li_si-2", "A", "x" * 64])
def test_usernames_that_pass(name: str) -> None:
    assert check_username(name) == name


@pytest.mark.parametrize("name", ["", ".alice", "al ice", "alice/x", "é", "x" * 65, "a\n"])
def test_usernames_that_are_refused(name: str) -> None:
    with pytest.raises(BadAccountField) as refused:
        check_username(name)
    assert refused.value.field == "username"


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("eleven-char", "at least 12 characters"),
        ("x" * 257, "at most 256 characters"),
        ("my-name-is-ALICE!", "must not contain the username"),
        ("password123", "at least 12 characters"),  # 11: the length says it first
        ("123456789012", "too easy to guess"),
        ("abababababababab", "too easy to guess"),  # fewer than 4 distinct characters
    ],
)
def test_the_password_policy_names_the_rule(password: str, rule: str) -> None:
    with pytest.raises(BadAccountField, match=rule):
        check_password("alice", password)


def test_a_long_unusual_phrase_passes() -> None:
    assert check_password("alice", "correct horse battery staple") == (
        "correct horse battery staple"
    )


def test_display_names_are_trimmed_and_printable() -> None:
    assert check_display_name("  Alice Liddell ") == "Alice Liddell"
    for bad in ("", "   ", "a\tb", "x" * 201):
        with pytest.raises(BadAccountField, match="display_name"):
            check_display_name(bad)


def test_roles_are_the_known_ones() -> None:
    assert check_role("supervisor") is Role.SUPERVISOR
    with pytest.raises(BadAccountField, match="'boss' is not a role"):
        check_role("boss")


@pytest.mark.parametrize(
    ("host", "alone"),
    [
        ("127.0.0.1", True),
        ("127.8.9.1", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.5", False),
        ("desk.example", False),
    ],
)
def test_only_loopback_is_this_machine_alone(host: str, alone: bool) -> None:
    assert only_this_machine(host) is alone


ALICE = AgentAccount("alice", "Alice", Role.AGENT, "x", None, (), token_version=3)


@pytest.mark.parametrize(
    ("account", "counts"),
    [
        (ALICE, True),
        (None, False),  # deleted
        (dataclasses.replace(ALICE, active=False), False),
        (dataclasses.replace(ALICE, role=Role.SUPERVISOR), False),  # any other role
        (dataclasses.replace(ALICE, token_version=4), False),  # logged out since
    ],
)
async def test_a_token_counts_while_its_account_stands_behind_it(
    account: AgentAccount | None, counts: bool
) -> None:
    signer = TokenSigner(b"k" * 32, 3600, ManualClock(1_000.0))

    async def lookup(username: str) -> AgentAccount | None:
        assert username == "alice"
        return account

    gate = TokenGate(signer, lookup)
    token = signer.issue("alice", Role.AGENT, 3)
    assert (await gate.principal(token) is not None) is counts
    assert await gate.principal("forged.token") is None
