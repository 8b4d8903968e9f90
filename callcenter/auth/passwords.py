"""Agent passwords at rest: salted scrypt, in a format that names its own parameters.

The parameters travel with each hash so they can be raised later without invalidating
the hashes already stored; `verify_password` reads them back, within sane bounds so a
tampered row cannot make a login allocate gigabytes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SCHEME = "scrypt"
N = 2**14
R = 8
P = 1
SALT_BYTES = 16
KEY_BYTES = 32

_MAX_N = 2**20
_MAX_R = 32
_MAX_P = 16


def _derive(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    # scrypt needs 128*n*r bytes; the default maxmem (32 MiB) would refuse bigger n.
    maxmem = 128 * n * r * (p + 1) + 1024 * 1024
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=length, maxmem=maxmem
    )


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def hash_password(password: str) -> str:
    """`scrypt$n=16384,r=8,p=1$<salt>$<key>`, salt and key in base64 without padding."""
    salt = secrets.token_bytes(SALT_BYTES)
    key = _derive(password, salt, N, R, P, KEY_BYTES)
    return f"{SCHEME}$n={N},r={R},p={P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    """True if `password` matches; any malformed `stored` value is a plain False."""
    try:
        scheme, params, salt_text, key_text = stored.split("$")
        if scheme != SCHEME:
            return False
        values: dict[str, str] = {}
        for item in params.split(","):
            name, equals, value = item.partition("=")
            if not equals or name in values:
                return False
            values[name] = value
        if set(values) != {"n", "r", "p"}:
            return False
        n, r, p = int(values["n"]), int(values["r"]), int(values["p"])
        if not (1 < n <= _MAX_N and n & (n - 1) == 0 and 0 < r <= _MAX_R and 0 < p <= _MAX_P):
            return False
        salt, expected = _unb64(salt_text), _unb64(key_text)
        if not salt or not 16 <= len(expected) <= 64:
            return False
        actual = _derive(password, salt, n, r, p, len(expected))
    except ValueError:  # also bad base64 and passwords that are not encodable
        return False
    return hmac.compare_digest(actual, expected)
