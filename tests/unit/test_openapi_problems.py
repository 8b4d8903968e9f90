"""The OpenAPI fragments of problems, complaints and organisation SLAs describe exactly
the routes those modules add, and every schema they refer to exists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web

from callcenter.api import complaints, organisations, problems

FRAGMENTS = Path(__file__).parents[2] / "callcenter" / "api" / "openapi"
MODULES = {"problems": problems, "complaints": complaints, "organisations": organisations}
#: Defined by the document's common frame for every fragment (`callcenter/api/openapi`).
SHARED = {
    "schemas": {"Problem", "Error"},
    "responses": {"Unauthorized", "Error", "Problem"},
}
METHODS = {"get", "put", "post", "patch", "delete"}


def load(name: str) -> dict[str, Any]:
    data = yaml.safe_load((FRAGMENTS / f"{name}.yaml").read_text())
    assert isinstance(data, dict) and set(data) <= {"paths", "components"}
    return data


def refs(node: object) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        for value in node.values():
            found |= refs(value)
        return found
    if isinstance(node, list):
        return set().union(*(refs(item) for item in node)) if node else set()
    return set()


@pytest.mark.parametrize("name", sorted(MODULES))
def test_fragment_paths_are_the_modules_routes(name: str) -> None:
    app = web.Application()
    MODULES[name].add_routes(app)
    served = {
        (route.method.lower(), route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None and route.method != "HEAD"
    }
    documented = {
        (method, path)
        for path, item in load(name)["paths"].items()
        for method in item
        if method in METHODS
    }
    assert documented == served


@pytest.mark.parametrize("name", sorted(MODULES))
def test_operations_are_complete(name: str) -> None:
    for path, item in load(name)["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            assert operation["operationId"] and operation["tags"], (method, path)
            responses = operation["responses"]
            assert "401" in responses, (method, path)
            assert any(code.startswith("2") for code in responses), (method, path)
            params = [*item.get("parameters", []), *operation.get("parameters", [])]
            for placeholder in [p for p in path.split("/") if p.startswith("{")]:
                assert placeholder.strip("{}") in {p["name"] for p in params}, (method, path)


def test_every_component_referred_to_exists() -> None:
    defined = {section: set(names) for section, names in SHARED.items()}
    used: set[str] = set()
    for name in MODULES:
        data = load(name)
        for section, entries in data.get("components", {}).items():
            assert not defined.setdefault(section, set()) & set(entries), "names must not clash"
            defined[section] |= set(entries)
        used |= refs(data)
    for ref in used:
        prefix, section, component = ref.rsplit("/", 2)
        assert prefix == "#/components", ref
        assert component in defined.get(section, set()), ref
