"""The OpenAPI 3.1 document of the REST API, assembled from YAML fragments.

Each resource module keeps its own fragment beside this file (`kb.yaml`, `admin.yaml`,
...) with top-level `paths:` and optionally `components:`; the document is their union
around a common frame (info, bearer security, the shared error schemas). Two fragments
naming the same path or component is a mistake the application refuses to start with,
rather than one silently hiding the other.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from callcenter import __version__

FRAGMENT_DIR = Path(__file__).parent
OPENAPI_VERSION = "3.1.0"
DOCUMENT_PATH = "/api/v1/openapi.json"
#: Operations anyone may call: everything else needs the bearer token (the global rule).
PUBLIC_OPERATIONS = frozenset(
    {("get", "/healthz"), ("get", "/readyz"), ("get", "/metrics"), ("post", "/api/v1/auth/login")}
)
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})

#: The error bodies every fragment may refer to.
SHARED_SCHEMAS: dict[str, Any] = {
    "Problem": {
        "description": (
            "RFC 9457 problem details, as the newer resources (the knowledge base) answer"
            " client errors, with content type application/problem+json."
        ),
        "type": "object",
        "required": ["type", "title", "status", "detail", "code", "field"],
        "properties": {
            "type": {
                "type": "string",
                "description": "`/problems/` followed by `code` (a relative URI).",
            },
            "title": {"type": "string", "description": "The HTTP status phrase."},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string", "description": "For people: what was wrong."},
            "instance": {"type": "string", "description": "Not sent yet; reserved."},
            "code": {"type": "string", "description": "Stable, for programs."},
            "field": {
                "type": ["string", "null"],
                "description": (
                    "The request field at fault: a dotted body path (`models.1`), a query or"
                    " path parameter, `body` for the whole body; null when none is."
                ),
            },
        },
    },
    "Error": {
        "description": "The older error envelope, of every route outside the knowledge base.",
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "description": "Stable, for programs."},
                    "message": {"type": "string", "description": "For people."},
                },
            }
        },
    },
}

#: Replies shared by many operations, e.g. `$ref: '#/components/responses/Unauthorized'`.
SHARED_RESPONSES: dict[str, Any] = {
    "Unauthorized": {
        "description": "No valid bearer token (`unauthorized`), in the envelope.",
        "headers": {
            "WWW-Authenticate": {"schema": {"type": "string", "const": "Bearer"}},
        },
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    },
    "Error": {
        "description": "A client error in the envelope (`code` says which).",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    },
    "Problem": {
        "description": "A client error as problem details (`code` and `field` say which).",
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    },
}


class FragmentError(ValueError):
    """A fragment that cannot be merged: bad shape, or a name another fragment has."""


def load_fragments(directory: Path = FRAGMENT_DIR) -> list[tuple[str, dict[str, Any]]]:
    """Every `*.yaml` of `directory` as (file name, content), in name order."""
    fragments = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            content = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise FragmentError(f"{path.name}: not valid YAML: {exc}") from None
        fragments.append((path.name, content))
    return fragments


def assemble(fragments: Iterable[tuple[str, Any]], version: str = __version__) -> dict[str, Any]:
    """The document: the common frame plus every fragment's paths and components."""
    paths: dict[str, Any] = {}
    components: dict[str, dict[str, Any]] = {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": copy.deepcopy(SHARED_SCHEMAS),
        "responses": copy.deepcopy(SHARED_RESPONSES),
    }
    owners: dict[tuple[str, str], str] = {
        ("components", f"{section}/{name}"): "the common frame"
        for section, entries in components.items()
        for name in entries
    }
    for source, fragment in fragments:
        if not isinstance(fragment, Mapping) or not set(fragment) <= {"paths", "components"}:
            raise FragmentError(f"{source}: must be a mapping of `paths` and `components`")
        for path, item in (fragment.get("paths") or {}).items():
            _claim(owners, ("paths", path), source)
            if not isinstance(item, Mapping):
                raise FragmentError(f"{source}: path {path}: must be a mapping")
            paths[path] = copy.deepcopy(dict(item))
        for section, entries in (fragment.get("components") or {}).items():
            if not isinstance(entries, Mapping):
                raise FragmentError(f"{source}: components/{section}: must be a mapping")
            for name, value in entries.items():
                _claim(owners, ("components", f"{section}/{name}"), source)
                components.setdefault(section, {})[name] = copy.deepcopy(value)
    for path, item in paths.items():
        for method, operation in item.items():
            if method in HTTP_METHODS and (method, path) in PUBLIC_OPERATIONS:
                operation["security"] = []
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Call center API",
            "version": version,
            "description": (
                "REST API of the IT-hotline call center. Every operation needs a bearer"
                " token from POST /api/v1/auth/login unless it says otherwise. The consoles'"
                " WebSockets (/ws/agent, /ws/supervisor) are described in docs/websocket.md."
            ),
        },
        "security": [{"bearer": []}],
        "paths": dict(sorted(paths.items())),
        "components": components,
    }


def _claim(owners: dict[tuple[str, str], str], key: tuple[str, str], source: str) -> None:
    if key in owners:
        raise FragmentError(f"{source}: {key[0]} {key[1]} is already defined by {owners[key]}")
    owners[key] = source


@functools.cache
def _assembled() -> dict[str, Any]:
    return assemble(load_fragments())


def document() -> dict[str, Any]:
    """The document of this installation's fragments, assembled once per process; a copy,
    so that a caller changing it (a test tool resolving references) changes no one else's."""
    return copy.deepcopy(_assembled())


@functools.cache
def _document_json() -> bytes:
    return json.dumps(_assembled(), separators=(",", ":")).encode()


OPENAPI_JSON = web.AppKey("openapi_json", bytes)


def add_routes(app: web.Application) -> None:
    """Serve the document; assembling it here makes a bad fragment fail the start-up."""
    app[OPENAPI_JSON] = _document_json()
    app.router.add_get(DOCUMENT_PATH, openapi_json)


async def openapi_json(request: web.Request) -> web.Response:
    return web.Response(body=request.app[OPENAPI_JSON], content_type="application/json")
