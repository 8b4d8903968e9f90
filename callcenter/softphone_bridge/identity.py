"""Who is calling and whom they called, read from the raw INVITE (pure, no pjsua2).

Trunks and PBXs put the trusted caller number in P-Asserted-Identity (RFC 3325); From is
what the caller's phone claims. We prefer the former and fall back to the latter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SIP_USER = re.compile(r"sips?:([^@>\s]+)@", re.IGNORECASE)  # no "@": a URI without a user
_TEL_NUMBER = re.compile(r"tel:([^;>\s]+)", re.IGNORECASE)
_DISPLAY = re.compile(r'^\s*"((?:[^"\\]|\\.)*)"|^\s*([^<"]+?)\s*<')
_COMPACT = {"f": "from", "t": "to", "i": "call-id"}


def lenient(text: str) -> str:
    """Wire text made storable: invalid UTF-8 and NULs become U+FFFD.

    pjsua2 (SWIG) hands C strings over with each invalid byte as a lone surrogate; no
    database stores those, nor NUL. A call whose header carries odd bytes is still a call,
    and its record must be written.
    """
    if text.isascii() and "\x00" not in text:
        return text
    try:
        raw = text.encode("utf-8", "surrogateescape")  # the bytes as they came
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "surrogatepass")
    return raw.decode("utf-8", "replace").replace("\x00", "\ufffd")


@dataclass(frozen=True)
class CallerIdentity:
    user: str  # the user part of the URI: a number for phones and trunks
    display: str | None
    source: str  # the header it came from


def headers(message: str) -> dict[str, list[str]]:
    """Header values by lower-case full name, unfolded, compact forms expanded."""
    head = message.replace("\r\n", "\n").split("\n\n", 1)[0]
    unfolded = re.sub(r"\n[ \t]+", " ", head)
    found: dict[str, list[str]] = {}
    for line in unfolded.split("\n")[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            continue
        key = name.strip().lower()
        found.setdefault(_COMPACT.get(key, key), []).append(value.strip())
    return found


def uri_user(value: str) -> str | None:
    match = _SIP_USER.search(value) or _TEL_NUMBER.search(value)
    if match is None:
        return None
    return match.group(1).split(";", 1)[0] or None


def display_name(value: str) -> str | None:
    match = _DISPLAY.match(value)
    if match is None:
        return None
    name = match.group(1) if match.group(1) is not None else match.group(2)
    return name.strip() or None if name is not None else None


def caller_identity(message: str) -> CallerIdentity | None:
    found = headers(message)
    for header in ("p-asserted-identity", "from"):
        for value in found.get(header, []):
            # P-Asserted-Identity may carry a sip: and a tel: URI; the first one with a user wins.
            for part in value.split(","):
                user = uri_user(part)
                if user is not None:
                    return CallerIdentity(user, display_name(part), header)
    return None


def request_user(message: str) -> str | None:
    """The user part of the Request-URI: which service the caller dialled."""
    first = message.lstrip().split("\n", 1)[0]
    parts = first.split()
    if len(parts) < 2:
        return None
    return uri_user(parts[1])


def source_host(address: str) -> str:
    """'127.0.0.1:5070' or '[::1]:5070' -> the host alone."""
    if address.startswith("["):
        return address[1 : address.index("]")]
    host, _, _ = address.rpartition(":")
    return host or address
