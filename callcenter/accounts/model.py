"""The rules an account must follow, as plain functions: usernames, the password policy.

The password policy follows NIST SP 800-63B: length over composition, no passwords that
are known to attackers (the demo's published ones, the username itself), and nothing
that makes people write them down (no forced mixes of character classes, no expiry).
"""

from __future__ import annotations

import re

from callcenter.accounts.errors import BadAccountField
from callcenter.tickets.records import Role

PASSWORD_MIN_LENGTH = 12
#: Longer is refused: hashing cost grows with it and no one types more.
PASSWORD_MAX_LENGTH = 256
USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
DISPLAY_NAME_MAX_LENGTH = 200
#: Passwords published with the demo data (`callcenter.demo`) and other classics: known
#: to anyone who has read the README, so never a real account's.
KNOWN_PASSWORDS = frozenset(
    {
        "alice-demo",
        "bob-demo",
        "sue-demo",
        "password",
        "password123",
        "123456789012",
        "qwertyuiopas",
        "changeme",
        "letmein",
    }
)


def check_username(username: str) -> str:
    if not USERNAME.fullmatch(username):
        raise BadAccountField(
            "username", "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return username


def check_display_name(name: str) -> str:
    stripped = name.strip()
    if not stripped or len(stripped) > DISPLAY_NAME_MAX_LENGTH or not stripped.isprintable():
        raise BadAccountField(
            "display_name", f"1 to {DISPLAY_NAME_MAX_LENGTH} printable characters"
        )
    return stripped


def check_password(username: str, password: str) -> str:
    """The password if the policy allows it; else BadAccountField saying which rule."""
    if len(password) < PASSWORD_MIN_LENGTH:
        raise BadAccountField("password", f"at least {PASSWORD_MIN_LENGTH} characters")
    if len(password) > PASSWORD_MAX_LENGTH:
        raise BadAccountField("password", f"at most {PASSWORD_MAX_LENGTH} characters")
    lowered = password.lower()
    if username.lower() in lowered:
        raise BadAccountField("password", "must not contain the username")
    if lowered in KNOWN_PASSWORDS or len(set(password)) < 4:
        raise BadAccountField("password", "too easy to guess; choose a longer, unusual phrase")
    return password


def check_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise BadAccountField("role", f"{role!r} is not a role (known: {known})") from None
