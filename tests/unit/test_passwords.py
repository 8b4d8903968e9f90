from __future__ import annotations

import base64
import hashlib

import pytest

from callcenter.auth.passwords import hash_password, verify_password


def test_the_right_password_verifies() -> None:
    stored = hash_password("alice-demo")
    assert verify_password("alice-demo", stored) is True


def test_a_wrong_password_does_not() -> None:
    stored = hash_password("alice-demo")
    assert verify_password("alice-demo ", stored) is False
    assert verify_password("", stored) is False


def test_the_format_names_its_parameters_and_is_salted() -> None:
    first, second = hash_password("same"), hash_password("same")
    assert first != second
    scheme, params, salt, key = first.split("$")
    assert (scheme, params) == ("scrypt", "n=16384,r=8,p=1")
    assert len(base64.b64decode(salt + "==")) == 16
    assert len(base64.b64decode(key + "=")) == 32


def test_a_hash_made_elsewhere_with_the_same_parameters_verifies() -> None:
    salt = b"0123456789abcdef"
    key = hashlib.scrypt(b"s3cret \xe2\x82\xac", salt=salt, n=1024, r=8, p=1, dklen=32)
    encoded_salt, encoded_key = (base64.b64encode(raw).decode() for raw in (salt, key))
    stored = f"scrypt$n=1024,r=8,p=1${encoded_salt}${encoded_key}"
    assert verify_password("s3cret €", stored) is True
    assert verify_password("s3cret e", stored) is False


def test_non_ascii_passwords_round_trip() -> None:
    assert verify_password("密码-ünï", hash_password("密码-ünï")) is True


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "garbage",
        "bcrypt$2b$12$abcdefghijklmnopqrstuv",
        "scrypt$n=16384,r=8,p=1$c2FsdA",
        "scrypt$n=16384,r=8$c2FsdHNhbHRzYWx0c2FsdA$" + "A" * 43,
        "scrypt$n=16384,r=8,p=1,x=2$c2FsdHNhbHRzYWx0c2FsdA$" + "A" * 43,
        "scrypt$n=abc,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$" + "A" * 43,
        "scrypt$n=1000,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$" + "A" * 43,  # not a power of two
        "scrypt$n=1073741824,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$" + "A" * 43,  # absurd cost
        "scrypt$n=16384,r=8,p=1$not*base64$" + "A" * 43,
        "scrypt$n=16384,r=8,p=1$$" + "A" * 43,
        "scrypt$n=16384,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$QQ",  # key too short
        "scrypt$n16384,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$" + "A" * 43,
    ],
)
def test_malformed_stored_hashes_are_false_not_errors(stored: str) -> None:
    assert verify_password("anything", stored) is False


def test_an_unencodable_password_is_false_not_an_error() -> None:
    assert verify_password("\ud800", hash_password("x")) is False
