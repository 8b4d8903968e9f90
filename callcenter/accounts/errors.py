"""What account changes refuse, in words; `api/` and the CLI turn them into replies."""

from __future__ import annotations


class AccountError(Exception):
    """An account change that cannot be made as asked."""


class UnknownAccount(AccountError):
    def __init__(self, username: str) -> None:
        super().__init__(f"no account {username!r}")
        self.username = username


class AccountExists(AccountError):
    def __init__(self, username: str) -> None:
        super().__init__(f"an account {username!r} exists already")
        self.username = username


class BadAccountField(AccountError):
    """A field that breaks a stated rule (username form, password policy, role)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
