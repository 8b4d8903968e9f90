"""Secrets kept out of what is printed or logged: URL passwords, secret settings."""

from __future__ import annotations

import re

#: The password of a URL's user part: `postgresql+asyncpg://user:PASSWORD@host/db`.
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^:/@\s'\"]*:)[^@\s'\"]*@", re.I)
#: Keys whose values are secrets: a config error names them but never shows the value.
SECRET_KEYS = ("secret", "password")


def redact(text: str) -> str:
    """`text` with every URL password replaced by `***`: safe to print or log."""
    return _URL_PASSWORD.sub(lambda m: m.group("head") + "***@", text)
