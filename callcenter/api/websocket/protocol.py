"""The console protocol's framing: versions, close codes, and checking client messages.

Pure: no sockets, no ACD. A client message is a JSON object with a `type`; requests also
carry a client-chosen `id` that the reply repeats. `parse` turns raw text into a
`Request` or raises `ProtocolError` with the code and message the client is told.
The JSON Schemas in `callcenter/api/schemas/` describe the same messages for clients;
the tests keep the two in step.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

PROTOCOL_VERSION: Final = 1

#: Client-chosen request ids: a short string or an integer.
MAX_ID_LENGTH = 64
MAX_TEXT = 200
MAX_NOTE = 4000
ID = str | int


class Close(enum.IntEnum):
    """Close codes the server uses; 4xxx mirror the HTTP status they resemble."""

    NORMAL = 1000
    GOING_AWAY = 1001  # the server is shutting down
    MESSAGE_TOO_BIG = 1009  # a frame over the size limit
    INTERNAL = 1011
    TRY_AGAIN_LATER = 1013  # a dependency (the account database) cannot answer now
    UNAUTHORIZED = 4401  # no token, a bad or expired token, no auth message in time
    FORBIDDEN = 4403  # a valid token of the wrong role, or not an ACD agent
    PING_TIMEOUT = 4408  # no pong within the ping interval
    REPLACED = 4409  # a newer console of the same agent took over
    TOO_SLOW = 4429  # the client reads too slowly: its send queue overflowed


class Role(enum.StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"


class ProtocolError(Exception):
    """A message the client got wrong; answered with an error reply, never a close."""

    def __init__(self, code: str, message: str, request_id: ID | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.request_id = request_id


@dataclass(frozen=True)
class Request:
    type: str
    id: ID | None
    fields: dict[str, Any]

    def text(self, name: str) -> str:
        value = self.fields[name]
        assert isinstance(value, str)
        return value

    def opt_text(self, name: str) -> str | None:
        value = self.fields.get(name)
        assert value is None or isinstance(value, str)
        return value

    def opt_bool(self, name: str) -> bool | None:
        value = self.fields.get(name)
        assert value is None or isinstance(value, bool)
        return value

    def opt_int(self, name: str) -> int | None:
        value = self.fields.get(name)
        assert value is None or isinstance(value, int)
        return value


# ----- field kinds ---------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    max_length: int = MAX_TEXT
    pattern: re.Pattern[str] | None = None
    choices: frozenset[str] = frozenset()
    min_length: int = 1


@dataclass(frozen=True)
class Integer:
    minimum: int
    maximum: int


@dataclass(frozen=True)
class Boolean:
    pass


Kind = Text | Integer | Boolean

CALL_ID = Text(max_length=128)
NAME = Text(max_length=200)
REQUESTABLE = Text(choices=frozenset({"available", "paused", "logged_out"}))
DIGITS = Text(max_length=32, pattern=re.compile(r"[0-9*#A-Da-d]+"))
NUMBER = Text(max_length=32, pattern=re.compile(r"\+?[0-9]{2,20}"))
TICKET_STATUS = Text(choices=frozenset({"new", "in_progress", "resolved", "closed"}))
TRANSFER_MODE = Text(choices=frozenset({"blind", "attended"}))


@dataclass(frozen=True)
class Spec:
    """The fields of one message type: name -> (kind, required)."""

    fields: Mapping[str, tuple[Kind, bool]]
    #: Exactly one of these fields must be given (transfer targets).
    exactly_one: tuple[str, ...] = ()
    #: A request: it must carry an `id` and gets a reply.
    request: bool = True


def _call(**more: tuple[Kind, bool]) -> Spec:
    return Spec({"call_id": (CALL_ID, True), **more})


_TOKEN = Text(max_length=4096)
_COMMON: dict[str, Spec] = {
    "auth": Spec({"token": (_TOKEN, True)}, request=False),
    "ping": Spec({}),
}

AGENT_REQUESTS: dict[str, Spec] = {
    **_COMMON,
    "get_state": Spec({}),
    "set_state": Spec({"state": (REQUESTABLE, True), "reason": (NAME, False)}),
    "end_wrap_up": Spec({}),
    "accept": _call(),
    "reject": _call(),
    "hangup": _call(),
    "hold": _call(),
    "resume": _call(),
    "transfer": _call(
        queue=(NAME, False),
        agent=(NAME, False),
        number=(NUMBER, False),
        mode=(TRANSFER_MODE, False),
    ),
    "escalate": _call(
        tier=(Text(choices=frozenset({"tier2", "onsite"})), True),
        reason=(Text(max_length=MAX_NOTE), True),
        queue=(NAME, False),
    ),
    "transfer_complete": _call(),
    "transfer_cancel": _call(),
    "dtmf": _call(digits=(DIGITS, True)),
    "wrap_up": _call(
        ticket_id=(Integer(1, 2**31 - 1), False),
        subject=(NAME, False),
        category=(Text(max_length=64), False),
        priority=(Integer(1, 4), False),
        status=(TICKET_STATUS, False),
        resolution=(Text(max_length=MAX_NOTE), False),
        device_asset_tag=(Text(max_length=64), False),
        description=(Text(max_length=MAX_NOTE), False),
        first_contact_resolved=(Boolean(), False),
        disposition=(Text(max_length=32), False),
        kb_article_id=(Integer(1, 2**31 - 1), False),
    ),
    "add_note": _call(text=(Text(max_length=MAX_NOTE), True)),
    "identify_caller": _call(username=(Text(max_length=64), True)),
}
AGENT_REQUESTS["transfer"] = Spec(
    AGENT_REQUESTS["transfer"].fields, exactly_one=("queue", "agent", "number")
)

_SUPERVISED: dict[str, tuple[Kind, bool]] = {"agent": (NAME, False), "call_id": (CALL_ID, False)}
SUPERVISOR_REQUESTS: dict[str, Spec] = {
    **_COMMON,
    "get_snapshot": Spec({}),
    "force_state": Spec(
        {"agent": (NAME, True), "state": (REQUESTABLE, True), "reason": (NAME, False)}
    ),
    "move_call": Spec(
        {"call_id": (CALL_ID, True), "queue": (NAME, False), "agent": (NAME, False)},
        exactly_one=("queue", "agent"),
    ),
    "listen": Spec(_SUPERVISED, exactly_one=("agent", "call_id")),
    "whisper": Spec(_SUPERVISED, exactly_one=("agent", "call_id")),
    "barge": Spec(_SUPERVISED, exactly_one=("agent", "call_id")),
    "stop_monitoring": Spec({}),
}

REQUESTS: dict[Role, dict[str, Spec]] = {
    Role.AGENT: AGENT_REQUESTS,
    Role.SUPERVISOR: SUPERVISOR_REQUESTS,
}


# ----- parsing -------------------------------------------------------------------------


def parse(raw: str, role: Role) -> Request:
    """Check one text frame against the role's messages; raises ProtocolError."""
    try:
        data = json.loads(raw)
    except ValueError:
        raise ProtocolError("invalid_json", "the message is not valid JSON") from None
    if not isinstance(data, dict):
        raise ProtocolError("invalid_message", "a message must be a JSON object")
    request_id = data.get("id")
    if request_id is not None and not _valid_id(request_id):
        raise ProtocolError(
            "invalid_message", f"id: a string of 1-{MAX_ID_LENGTH} characters or an integer"
        )
    kind = data.get("type")
    if not isinstance(kind, str):
        raise ProtocolError("invalid_message", "type: a string is required", request_id)
    spec = REQUESTS[role].get(kind)
    if spec is None:
        raise ProtocolError("unknown_type", f"unknown message type {kind[:40]!r}", request_id)
    if spec.request and request_id is None:
        raise ProtocolError("invalid_message", "id: required on a request", None)
    fields = {k: v for k, v in data.items() if k not in ("type", "id")}
    for name in fields:
        if name not in spec.fields:
            raise ProtocolError("invalid_field", f"{name[:40]}: unknown field", request_id)
    for name, (field_kind, required) in spec.fields.items():
        if name not in fields or fields[name] is None:
            if required:
                raise ProtocolError("invalid_field", f"{name}: required", request_id)
            fields.pop(name, None)
            continue
        problem = _check(fields[name], field_kind)
        if problem:
            raise ProtocolError("invalid_field", f"{name}: {problem}", request_id)
    if spec.exactly_one and sum(1 for n in spec.exactly_one if n in fields) != 1:
        raise ProtocolError(
            "invalid_field", f"exactly one of {', '.join(spec.exactly_one)} is required", request_id
        )
    return Request(kind, request_id, fields)


def request_id_of(raw: str) -> ID | None:
    """The id of a message that failed later checks, if one can be read (for the reply)."""
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    request_id = data.get("id") if isinstance(data, dict) else None
    return request_id if _valid_id(request_id) else None


def _valid_id(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -(2**53) < value < 2**53
    return isinstance(value, str) and 0 < len(value) <= MAX_ID_LENGTH


def _check(value: object, kind: Kind) -> str | None:
    if isinstance(kind, Boolean):
        return None if isinstance(value, bool) else "true or false is required"
    if isinstance(kind, Integer):
        if isinstance(value, bool) or not isinstance(value, int):
            return "an integer is required"
        if not kind.minimum <= value <= kind.maximum:
            return f"must be from {kind.minimum} to {kind.maximum}"
        return None
    if not isinstance(value, str):
        return "a string is required"
    if kind.choices and value not in kind.choices:
        return f"one of {', '.join(sorted(kind.choices))}"
    if not kind.min_length <= len(value) <= kind.max_length:
        return f"{kind.min_length} to {kind.max_length} characters"
    if kind.pattern is not None and not kind.pattern.fullmatch(value):
        return "not in the expected format"
    return None


# ----- replies -------------------------------------------------------------------------


def ok(request_id: ID | None, result: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "ok", "id": request_id, "result": result or {}}


def error(request_id: ID | None, code: str, message: str) -> dict[str, Any]:
    return {"type": "error", "id": request_id, "code": code, "message": message}
