"""The CMDB's OpenAPI fragment names exactly the routes `cmdb.add_routes` serves, and its
references resolve within the fragment or to the shared error components."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from callcenter.api import cmdb

FRAGMENT = Path(cmdb.__file__).parent / "openapi" / "cmdb.yaml"
#: Provided by the assembled document's common frame, not by the fragment.
SHARED = {
    "#/components/schemas/Problem",
    "#/components/schemas/Error",
    "#/components/responses/Problem",
    "#/components/responses/Error",
    "#/components/responses/Unauthorized",
}
METHODS = {"get", "put", "post", "delete", "patch"}


def _fragment() -> dict[str, Any]:
    content = yaml.safe_load(FRAGMENT.read_text(encoding="utf-8"))
    assert isinstance(content, dict) and set(content) == {"paths", "components"}
    return content


def test_the_fragment_documents_every_route_and_no_other() -> None:
    app = web.Application()
    cmdb.add_routes(app)
    served = {
        (route.method.lower(), route.resource.canonical)
        for route in app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }
    documented = {
        (method, path)
        for path, item in _fragment()["paths"].items()
        for method in item
        if method in METHODS
    }
    assert documented == served


def test_every_operation_has_an_id_a_tag_and_the_401() -> None:
    ids = []
    for item in _fragment()["paths"].values():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            ids.append(operation["operationId"])
            assert operation["tags"] == ["cmdb"]
            assert "401" in operation["responses"]
            for status, reply in operation["responses"].items():
                if status.startswith("4") and status not in ("401", "413"):
                    assert reply == {"$ref": "#/components/responses/Problem"}, status
    assert len(ids) == len(set(ids))


def test_references_resolve() -> None:
    content = _fragment()
    text = FRAGMENT.read_text(encoding="utf-8")
    for ref in set(re.findall(r"#/components/[A-Za-z]+/[A-Za-z0-9]+", text)):
        if ref in SHARED:
            continue
        _, _, section, name = ref.split("/")
        assert name in content["components"][section], ref
