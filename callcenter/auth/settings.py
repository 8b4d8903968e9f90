"""The `auth` section of the settings: token signing and login lock-out."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from callcenter.auth.throttle import ThrottlePolicy

#: Shortest token secret accepted: HMAC-SHA256 wants a key as long as its output.
MIN_TOKEN_SECRET_LENGTH = 32


class AuthSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Signs API tokens; empty: a random secret per process (tokens die with it).
    token_secret: SecretStr = SecretStr("")
    token_ttl_seconds: int = Field(12 * 3600, ge=60)
    #: Wrong passwords for one username, or from one address, within the window before
    #: it is locked out for `login_lockout_seconds` (docs/security.md).
    login_failures_per_user: int = Field(5, ge=1, le=1000)
    login_failures_per_source: int = Field(20, ge=1, le=100_000)
    login_window_seconds: int = Field(900, ge=1)
    login_lockout_seconds: int = Field(900, ge=1)

    def login_policy(self) -> ThrottlePolicy:
        return ThrottlePolicy(
            per_user=self.login_failures_per_user,
            per_source=self.login_failures_per_source,
            window_seconds=self.login_window_seconds,
            lockout_seconds=self.login_lockout_seconds,
        )

    @field_validator("token_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        length = len(value.get_secret_value())
        if 0 < length < MIN_TOKEN_SECRET_LENGTH:
            raise ValueError(
                f"must be empty (a random secret per process) or at least "
                f"{MIN_TOKEN_SECRET_LENGTH} characters, not {length}"
            )
        return value
