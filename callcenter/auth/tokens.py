"""Bearer tokens: a signed claim of who the caller is, its role, its account's token
version and until when.

The signature proves we issued the token; whether it still counts is the account's
business (`auth.gate`): a token is void once its account's version moved on (logout,
new password, other role, disabled). A restart with a new (random) secret logs everyone
out. The format is `<payload>.<signature>`, both urlsafe base64 without padding; the
payload is JSON, the signature HMAC-SHA256 of the payload text.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
from dataclasses import dataclass
from typing import Any

from callcenter.clock import Clock
from callcenter.tickets.records import Role

#: Longest token `verify` looks at; anything bigger is garbage, not worth hashing.
MAX_TOKEN_LENGTH = 4096

_ROLES = frozenset(r.value for r in Role)


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of one request."""

    username: str
    role: Role
    expires_at: float  # seconds since the Unix epoch
    #: The account's token version when the token was issued (absent in a claim: 0).
    version: int = 0


class TokenSigner:
    def __init__(self, secret: bytes, ttl_seconds: int, clock: Clock) -> None:
        if not secret:
            raise ValueError("the token secret must not be empty")
        if ttl_seconds <= 0:
            raise ValueError("the token lifetime must be positive")
        self._secret = secret
        self._ttl = ttl_seconds
        self._clock = clock

    def issue(self, username: str, role: Role, version: int = 0) -> str:
        expires_at = math.floor(self._clock.now()) + self._ttl
        claims = {"sub": username, "role": role.value, "exp": expires_at, "ver": version}
        payload = _b64encode(json.dumps(claims, separators=(",", ":")).encode())
        return f"{payload}.{self._sign(payload)}"

    def verify(self, token: str) -> Principal | None:
        """The token's principal, or None for anything forged, malformed or expired.

        Never raises: the token comes straight from an untrusted header.
        """
        if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
            return None
        payload, dot, signature = token.partition(".")
        if not dot or not payload:
            return None
        # Comparing the encoded signatures keeps it constant time and needs no decoding.
        if not hmac.compare_digest(signature.encode(), self._sign(payload).encode()):
            return None
        claims = _claims(payload)
        if claims is None:
            return None
        username, role, expires_at, version = claims
        if self._clock.now() >= expires_at:
            return None
        return Principal(username, role, expires_at, version)

    def _sign(self, payload: str) -> str:
        return _b64encode(hmac.new(self._secret, payload.encode(), hashlib.sha256).digest())


def _claims(payload: str) -> tuple[str, Role, float, int] | None:
    """Decode a payload whose signature is good; None if it is not one we would issue."""
    try:
        data: Any = json.loads(_b64decode(payload))
    except (ValueError, binascii.Error):  # JSONDecodeError and UnicodeDecodeError included
        return None
    if not isinstance(data, dict):
        return None
    username, role, expires_at = data.get("sub"), data.get("role"), data.get("exp")
    if not isinstance(username, str) or not username:
        return None
    if not isinstance(role, str) or role not in _ROLES:
        return None
    if isinstance(expires_at, bool) or not isinstance(expires_at, int | float):
        return None
    if not math.isfinite(expires_at):
        return None
    version = data.get("ver", 0)
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        return None
    return username, Role(role), float(expires_at), version


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
