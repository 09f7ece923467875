"""The OpenAPI 3.1 document at /api/v1/openapi.json: valid, and describing every /api/v1 route."""

from __future__ import annotations

from typing import Any

import schemathesis
from aiohttp import hdrs, web

from rcmedia.web.openapi import OPENAPI_PATH, openapi_document
from tests.integration.web.published import Client

METHODS = ("get", "put", "post", "patch", "delete", "options")


def route_operations(app: web.Application) -> set[tuple[str, str]]:
    """(method, path template) of every /api/v1 route the app answers (HEAD goes with GET)."""
    found = set()
    for route in app.router.routes():
        info: dict[str, Any] = dict(route.resource.get_info()) if route.resource is not None else {}
        path = info.get("formatter") or info.get("path") or ""
        if path.startswith("/api/v1/") and route.method != hdrs.METH_HEAD:
            found.add((route.method.lower(), path))
    return found


def documented_operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method, path) for path, item in document["paths"].items() for method in item if method in METHODS
    }


async def test_the_document_is_served(client: Client) -> None:
    response = await client.get(OPENAPI_PATH)
    assert response.status == 200
    assert response.content_type == "application/json"
    assert await response.json() == openapi_document()


def test_every_api_route_is_described_and_nothing_else(app: web.Application) -> None:
    routes = route_operations(app)
    assert len(routes) > 10
    # a new route cannot be forgotten, nor a removed one left behind
    assert documented_operations(openapi_document()) == routes


def test_the_document_is_valid_openapi_3_1() -> None:
    document = openapi_document()
    assert document["openapi"].startswith("3.1")
    schemathesis.openapi.from_dict(document).validate()  # the OpenAPI 3.1 meta-schema


def test_writes_need_the_session_and_say_why_they_may_fail() -> None:
    document = openapi_document()
    cookie = document["components"]["securitySchemes"]["session"]
    assert (cookie["type"], cookie["in"], cookie["name"]) == ("apiKey", "cookie", "rcmedia_session")
    for path, item in document["paths"].items():
        if path.startswith("/api/v1/uploads"):
            continue  # tus: its own rules, below
        for method, operation in item.items():
            responses = set(operation["responses"])
            if method != "get":
                assert operation["security"] == [{"session": []}, {"bearer": []}], (method, path)
                assert {"400", "401", "403", "404", "409", "415", "503"} <= responses, (method, path)
                assert operation["requestBody"]["content"].keys() == {"application/json"}
            elif path != OPENAPI_PATH:
                assert "503" in responses, path  # any catalog read may find it busy


def test_tus_writes_need_the_session_and_carry_bytes() -> None:
    paths = openapi_document()["paths"]
    for path, method in [
        ("/api/v1/uploads", "post"),
        ("/api/v1/uploads/{id}", "patch"),
        ("/api/v1/uploads/{id}", "delete"),
    ]:
        operation = paths[path][method]
        assert operation["security"] == [{"session": []}, {"bearer": []}], (method, path)
        assert {"401", "403", "412", "503"} <= set(operation["responses"]), (method, path)
        if "requestBody" in operation:
            assert operation["requestBody"]["content"].keys() == {"application/offset+octet-stream"}
    assert "security" not in paths["/api/v1/uploads"]["options"]  # the capabilities are public


def test_the_schedule_is_described_with_its_version_and_edits_with_theirs() -> None:
    document = openapi_document()
    day = document["components"]["schemas"]["Day"]
    assert day["properties"]["version"]["type"] == ["integer", "null"]
    schedule = document["paths"]["/api/v1/channels/{channel}/schedule"]["get"]
    assert "ETag" in schedule["responses"]["200"]["headers"]
    edit = document["paths"]["/api/v1/channels/{channel}/schedule/edits"]["post"]
    assert {"409", "422", "503"} <= set(edit["responses"])
    assert {"$ref": "#/components/parameters/IfMatch"} in edit["parameters"]
    variants = edit["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
    assert {v["properties"]["action"]["const"] for v in variants} == {
        "replace",
        "move",
        "insert",
        "delete",
        "lock",
        "unlock",
    }
    for variant in variants:
        assert "version" in variant["properties"]
        assert "version" not in variant["required"]
