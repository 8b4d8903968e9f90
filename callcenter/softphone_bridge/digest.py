"""SIP digest authentication of trunks (RFC 3261 §22, RFC 7616 MD5 with qop=auth).

Pure: the clock and the source of nonces are injected, nothing here touches the network
or PJSIP. The SIP thread asks `DigestGuard.judge` about each INVITE from a trunk that has
credentials and answers 401 with `challenge()`, 403, or lets the call through.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

#: Nonces remembered at most; the oldest is forgotten first (a flood cannot grow memory).
MAX_NONCES = 10_000
#: An expired nonce is still recognised this many lifetimes after issue, so that a peer
#: that answers it correctly is told stale=true (re-send, same credentials) instead of
#: being challenged as a stranger.
STALE_LIFETIMES = 4

_PARAM = re.compile(r'\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,"]*)\s*(?:,|$)')


def md5_hex(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def ha1(username: str, realm: str, password: str) -> str:
    """H(username:realm:password): what a trunk's secret is reduced to (and may be given as)."""
    return md5_hex(f"{username}:{realm}:{password}")


def response(
    ha1_hex: str,
    nonce: str,
    method: str,
    uri: str,
    qop: str | None = None,
    nc: str | None = None,
    cnonce: str | None = None,
) -> str:
    """The request-digest a client sends: with qop=auth (RFC 7616) or without (RFC 2069)."""
    ha2 = md5_hex(f"{method}:{uri}")
    if qop is None:
        return md5_hex(f"{ha1_hex}:{nonce}:{ha2}")
    return md5_hex(f"{ha1_hex}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")


def parse_authorization(value: str) -> dict[str, str] | None:
    """The parameters of a `Digest` Authorization header, names lower-cased; None if it
    is not a well-formed Digest header."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "digest" or not rest.strip():
        return None
    params: dict[str, str] = {}
    position = 0
    rest = rest.strip()
    while position < len(rest):
        match = _PARAM.match(rest, position)
        if match is None or match.end() == position:
            return None
        name, raw = match.group(1).lower(), match.group(2)
        if raw.startswith('"'):
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        params[name] = raw
        position = match.end()
    return params


@dataclass(frozen=True)
class TrunkCredentials:
    """What a trunk must prove: its username, in its realm, with HA1 of its secret."""

    username: str
    realm: str
    ha1: str


class Verdict(enum.Enum):
    ACCEPTED = "accepted"  # a correct answer to a live nonce: the call goes on
    MISSING = "missing"  # no (usable) Authorization, or a nonce we did not issue: 401
    STALE = "stale"  # right credentials, expired nonce: 401 with stale=true
    WRONG = "wrong"  # a wrong answer to our challenge: 403


@dataclass
class _Nonce:
    issued_at: float
    last_nc: int = 0  # the highest nonce count accepted; a lower or equal one is a replay


class DigestGuard:
    """Issues nonces with a bounded lifetime and judges the answers to them."""

    def __init__(
        self,
        lifetime_seconds: float,
        now: Callable[[], float],
        make_nonce: Callable[[], str] = lambda: secrets.token_hex(16),
    ) -> None:
        if lifetime_seconds <= 0:
            raise ValueError("lifetime_seconds must be > 0")
        self._lifetime = lifetime_seconds
        self._now = now
        self._make_nonce = make_nonce
        self._nonces: OrderedDict[str, _Nonce] = OrderedDict()

    def challenge(self, realm: str, stale: bool = False) -> str:
        """A WWW-Authenticate value with a fresh nonce."""
        nonce = self._issue()
        value = f'Digest realm="{realm}", nonce="{nonce}", algorithm=MD5, qop="auth"'
        return value + (", stale=true" if stale else "")

    def judge(self, authorizations: list[str], method: str, trunk: TrunkCredentials) -> Verdict:
        """Judge the Authorization headers of a request from a trunk with credentials."""
        params = next(
            (
                p
                for p in map(parse_authorization, authorizations)
                if p is not None and p.get("realm") == trunk.realm
            ),
            None,
        )
        if params is None:
            return Verdict.MISSING
        nonce = params.get("nonce", "")
        issued = self._nonces.get(nonce)
        now = self._now()
        if issued is None or now - issued.issued_at > STALE_LIFETIMES * self._lifetime:
            return Verdict.MISSING  # not ours (or long gone): a plain new challenge
        if params.get("algorithm", "MD5").upper() != "MD5" or "uri" not in params:
            return Verdict.WRONG
        qop = params.get("qop")
        nc_text, cnonce = params.get("nc"), params.get("cnonce")
        nc = 0
        if qop is not None:
            if qop.lower() != "auth" or nc_text is None or cnonce is None:
                return Verdict.WRONG
            try:
                nc = int(nc_text, 16)
            except ValueError:
                return Verdict.WRONG
        expected = response(trunk.ha1, nonce, method, params["uri"], qop, nc_text, cnonce)
        given = params.get("response", "").lower()
        if params.get("username") != trunk.username or not hmac.compare_digest(expected, given):
            return Verdict.WRONG
        if now - issued.issued_at > self._lifetime:
            return Verdict.STALE
        if qop is not None and nc <= issued.last_nc:
            return Verdict.STALE  # a replayed (or reordered) answer: prove it again
        if qop is None and issued.last_nc:
            return Verdict.STALE  # without a nonce count, a nonce serves once
        issued.last_nc = max(nc, 1)
        return Verdict.ACCEPTED

    def _issue(self) -> str:
        now = self._now()
        nonce = self._make_nonce()
        self._nonces[nonce] = _Nonce(now)
        horizon = STALE_LIFETIMES * self._lifetime
        while self._nonces:
            oldest = next(iter(self._nonces.values()))
            if len(self._nonces) <= MAX_NONCES and now - oldest.issued_at <= horizon:
                break
            self._nonces.popitem(last=False)
        return nonce

    def __len__(self) -> int:
        return len(self._nonces)
