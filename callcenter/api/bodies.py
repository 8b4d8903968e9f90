"""Request bodies and query parameters, validated before a handler acts on them."""

from __future__ import annotations

import re
from typing import Annotated, Literal, TypeVar

from aiohttp import web
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from callcenter.api.errors import ApiError
from callcenter.tickets.records import DEFAULT_LEVEL, MAX_LEVEL, MAX_PENALTY, MIN_LEVEL

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


def _integral(value: object) -> object:
    """JSON has one number type: `5.0` is the integer 5 (JSON Schema, and so the OpenAPI
    document, says so), `5.5` is not. Strings stay refused."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


#: An integer body field: strict, except that a whole-valued JSON number counts.
Whole = Annotated[int, BeforeValidator(_integral)]

#: Queue and skill names: what the configuration and the database columns hold.
Name = Annotated[str, Field(min_length=1, max_length=64)]
Level = Annotated[Whole, Field(ge=MIN_LEVEL, le=MAX_LEVEL)]
#: More queues or skills than this for one agent is a mistake, not a desk.
MAX_ENTRIES = 100


class MembershipBody(_Body):
    """How an agent serves one queue; either field may be left out."""

    level: Level = DEFAULT_LEVEL
    penalty: Whole = Field(0, ge=0, le=MAX_PENALTY)


class MembershipsBody(_Body):
    """Every queue the agent is to serve: queue name -> membership."""

    queues: dict[Name, MembershipBody] = Field(max_length=MAX_ENTRIES)


class SkillsBody(_Body):
    """Every skill the agent is to have: name -> level 1-10."""

    skills: dict[Name, Level] = Field(max_length=MAX_ENTRIES)


#: Knowledge-base text: surrounding blanks are dropped, nothing blank is accepted.
ArticleTitle = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
]
ArticleText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)
]
Category = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
TargetNames = Annotated[list[ArticleTitle], Field(max_length=MAX_ENTRIES)]


class ArticleBody(_Body):
    """A new knowledge-base article."""

    title: ArticleTitle
    body: ArticleText
    category: Category
    models: TargetNames = []
    software: TargetNames = []


class ArticlePatchBody(_Body):
    """The fields of an article to change; the ones left out stay as they are."""

    title: ArticleTitle | None = None
    body: ArticleText | None = None
    category: Category | None = None
    models: TargetNames | None = None
    software: TargetNames | None = None


class ArticleUseBody(_Body):
    """The ticket an article solved."""

    ticket_id: Whole = Field(ge=1, le=2**31 - 1)


async def parse_body(request: web.Request, model: type[M], *, optional: bool = False) -> M:
    """The body as `model`; `optional`: an empty body is the model's defaults."""
    raw = await request.read()
    if optional and not raw.strip():
        raw = b"{}"
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        where, message = _first_problem(exc)
        raise ApiError(400, "invalid_body", message, field=where) from None


def _first_problem(exc: ValidationError) -> tuple[str, str]:
    """The field at fault (dotted path; "body" for the whole) and a message naming it."""
    error = exc.errors(include_url=False, include_input=False)[0]
    if error["type"] == "json_invalid":
        return "body", "body: not valid JSON"
    where = ".".join(str(part) for part in error["loc"]) or "body"
    return where, f"{where}: {error['msg']}"


def int_param(request: web.Request, name: str, default: int, minimum: int, maximum: int) -> int:
    """A bounded integer query parameter; anything else is the client's error."""
    raw = request.query.get(name)
    if raw is None:
        return default
    if not _DIGITS.fullmatch(raw) or not minimum <= int(raw) <= maximum:
        raise ApiError(
            400,
            "invalid_query",
            f"{name}: must be an integer from {minimum} to {maximum}",
            field=name,
        )
    return int(raw)


def id_param(request: web.Request, name: str) -> int:
    """A numeric id from the path; non-numeric is a bad request, not a missing resource."""
    raw = request.match_info[name]
    if not _DIGITS.fullmatch(raw):
        raise ApiError(400, "invalid_path", f"{name}: must be a non-negative integer", field=name)
    return int(raw)
