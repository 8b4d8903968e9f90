"""Request bodies and query parameters, validated before a handler acts on them."""

from __future__ import annotations

import re
from typing import Literal, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from callcenter.api.errors import ApiError

M = TypeVar("M", bound=BaseModel)

_DIGITS = re.compile(r"[0-9]{1,18}")


class _Body(BaseModel):
    # Strict: a number is not a username; unknown keys are typos the client should see.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class LoginBody(_Body):
    username: str = Field(min_length=1, max_length=200)
    password: str = Field(max_length=1024)


class AgentStateBody(_Body):
    state: Literal["available", "paused", "logged_out"]
    reason: str | None = Field(None, max_length=200)


async def parse_body(request: web.Request, model: type[M]) -> M:
    raw = await request.read()
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise ApiError(400, "invalid_body", _first_problem(exc)) from None


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors(include_url=False, include_input=False)[0]
    if error["type"] == "json_invalid":
        return "body: not valid JSON"
    where = ".".join(str(part) for part in error["loc"]) or "body"
    return f"{where}: {error['msg']}"


def int_param(request: web.Request, name: str, default: int, minimum: int, maximum: int) -> int:
    """A bounded integer query parameter; anything else is the client's error."""
    raw = request.query.get(name)
    if raw is None:
        return default
    if not _DIGITS.fullmatch(raw) or not minimum <= int(raw) <= maximum:
        raise ApiError(
            400, "invalid_query", f"{name}: must be an integer from {minimum} to {maximum}"
        )
    return int(raw)


def required_param(request: web.Request, name: str) -> str:
    value = request.query.get(name, "")
    if not value:
        raise ApiError(400, "invalid_query", f"{name}: required")
    return value


def id_param(request: web.Request, name: str) -> int:
    """A numeric id from the path; non-numeric is a bad request, not a missing resource."""
    raw = request.match_info[name]
    if not _DIGITS.fullmatch(raw):
        raise ApiError(400, "invalid_path", f"{name}: must be a non-negative integer")
    return int(raw)
