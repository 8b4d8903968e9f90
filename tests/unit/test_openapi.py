"""The OpenAPI document: a valid 3.1 document, one operation for every REST route and
no operation without a route, and fragments that cannot silently shadow each other."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from openapi_spec_validator import validate
from prometheus_client import CollectorRegistry

from callcenter import __version__, console
from callcenter.acd.acd import Acd
from callcenter.acd.model import QueueSettings
from callcenter.acd_store import LocalAcdStore
from callcenter.api import ApiDeps, build_app, openapi
from callcenter.auth.tokens import TokenSigner
from callcenter.clock import ManualClock
from callcenter.tickets.store import open_store

#: Routes that are not part of the REST document, by path prefix: the consoles' HTML and
#: static files, and the WebSocket upgrades (docs/websocket.md; registered only with a hub).
NOT_REST = (console.PREFIX, "/ws/")


def app_operations(app: web.Application) -> set[tuple[str, str]]:
    """(method, path) of every REST route; HEAD is implied by GET and not listed."""
    found = set()
    for route in app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if route.method != "HEAD" and not path.startswith(NOT_REST):
            found.add((route.method.lower(), path))
    return found


def document_operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method, path)
        for path, item in document["paths"].items()
        for method in item
        if method in openapi.HTTP_METHODS
    }


@pytest.fixture
def app(tmp_path: Path) -> Iterator[web.Application]:
    clock = ManualClock(0.0)
    acd = Acd([QueueSettings("helpdesk")], clock, lambda event: None)
    deps = ApiDeps(
        acd_store=LocalAcdStore(acd),
        # Connects lazily: no route is called here.
        store=open_store(f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}", "CN"),
        tokens=TokenSigner(b"unit-test-secret-0123456789abcdef", 60, clock),
        registry=CollectorRegistry(),
        clock=clock,
        ready=lambda: True,
    )
    yield build_app(deps)


def test_the_document_is_valid_openapi_3_1() -> None:
    document = openapi.document()
    validate(document)
    assert document["openapi"] == "3.1.0"
    assert document["info"]["version"] == __version__
    assert document["security"] == [{"bearer": []}]
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
    }
    assert "servers" not in document


def test_every_route_has_an_operation_and_every_operation_a_route(
    app: web.Application,
) -> None:
    routes, operations = app_operations(app), document_operations(openapi.document())
    assert sorted(routes - operations) == [], "routes the document does not describe"
    assert sorted(operations - routes) == [], "operations the server does not have"
    assert ("get", openapi.DOCUMENT_PATH) in routes


def test_only_the_public_routes_waive_the_token() -> None:
    document = openapi.document()
    waived = {
        (method, path)
        for method, path in document_operations(document)
        if document["paths"][path][method].get("security") == []
    }
    assert waived == openapi.PUBLIC_OPERATIONS


def test_every_operation_is_named_and_protected_ones_document_401() -> None:
    document = openapi.document()
    names = []
    for method, path in document_operations(document):
        operation = document["paths"][path][method]
        names.append(operation["operationId"])
        assert operation["tags"], (method, path)
        if (method, path) not in openapi.PUBLIC_OPERATIONS:
            assert "401" in operation["responses"], (method, path)
    assert len(names) == len(set(names)), "operationIds must be unique"


def test_shared_error_schemas_match_what_the_server_sends() -> None:
    schemas = openapi.document()["components"]["schemas"]
    # errors.problem_response and errors.error_response
    assert set(schemas["Problem"]["required"]) == {
        "type",
        "title",
        "status",
        "detail",
        "code",
        "field",
    }
    assert schemas["Error"]["properties"]["error"]["required"] == ["code", "message"]


def test_fragments_merge_paths_and_components() -> None:
    document = openapi.assemble(
        [
            ("a.yaml", {"paths": {"/a": {"get": {"responses": {}}}}}),
            (
                "b.yaml",
                {
                    "paths": {"/b": {"post": {"responses": {}}}},
                    "components": {"schemas": {"Bee": {"type": "string"}}},
                },
            ),
        ],
        version="9.9",
    )
    assert list(document["paths"]) == ["/a", "/b"]
    assert document["components"]["schemas"]["Bee"] == {"type": "string"}
    assert "Problem" in document["components"]["schemas"]
    assert document["info"]["version"] == "9.9"


@pytest.mark.parametrize(
    ("second", "clash"),
    [
        ({"paths": {"/a": {"post": {"responses": {}}}}}, "paths /a"),
        ({"components": {"schemas": {"Thing": {}}}}, "schemas/Thing"),
        ({"components": {"schemas": {"Problem": {}}}}, "schemas/Problem"),
        ({"components": {"responses": {"Unauthorized": {}}}}, "responses/Unauthorized"),
    ],
)
def test_a_name_defined_twice_is_an_error_naming_both_files(
    second: dict[str, Any], clash: str
) -> None:
    first = {
        "paths": {"/a": {"get": {"responses": {}}}},
        "components": {"schemas": {"Thing": {"type": "object"}}},
    }
    with pytest.raises(openapi.FragmentError, match=clash) as caught:
        openapi.assemble([("first.yaml", first), ("second.yaml", second)])
    assert "second.yaml" in str(caught.value)


@pytest.mark.parametrize("fragment", [[], {"path": {}}, {"paths": {"/a": []}}])
def test_a_misshapen_fragment_is_an_error(fragment: Any) -> None:
    with pytest.raises(openapi.FragmentError, match=r"bad\.yaml"):
        openapi.assemble([("bad.yaml", fragment)])


def test_a_duplicate_in_the_fragment_folder_fails_the_start_up(tmp_path: Path) -> None:
    for name in ("one.yaml", "two.yaml"):
        (tmp_path / name).write_text("paths:\n  /same:\n    get:\n      responses: {}\n")
    with pytest.raises(openapi.FragmentError, match=r"two\.yaml: paths /same .* one\.yaml"):
        openapi.assemble(openapi.load_fragments(tmp_path))


def test_a_fragment_that_is_not_yaml_is_an_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("paths:\n  /a: [unclosed\n")
    with pytest.raises(openapi.FragmentError, match=r"broken\.yaml: not valid YAML"):
        openapi.load_fragments(tmp_path)


def test_every_fragment_file_is_shipped_as_package_data() -> None:
    pyproject = (Path(__file__).parents[2] / "pyproject.toml").read_text()
    assert '"api/openapi/*.yaml"' in pyproject
    assert sorted(p.name for p in openapi.FRAGMENT_DIR.glob("*.yaml"))
