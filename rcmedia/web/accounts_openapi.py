"""The account admin and audit routes in the OpenAPI document (rcmedia.web.accounts_api, audit_api)."""

from __future__ import annotations

from rcmedia.catalog.audit import MAX_ENTRIES
from rcmedia.core.accounts import MAX_CHANNELS, MAX_LABEL, MAX_NAME, MAX_PASSWORD, Role
from rcmedia.web.access import JSON_TYPE
from rcmedia.web.accounts_api import NEW_TOKEN_SCHEMA, TOKEN_SCHEMA, USER_SCHEMA
from rcmedia.web.audit_api import DEFAULT_ENTRIES, ENTRY_SCHEMA
from rcmedia.web.documents import Document, enum_of

SECURITY: list[dict[str, list[str]]] = [{"session": []}, {"bearer": []}]
_REASONS = {
    "400": "A parameter or field is wrong; `field` names a body field.",
    "401": "No live session or API token (or an invalid token: `WWW-Authenticate` says so).",
    "403": "Only admins manage accounts and read the audit log; or the request came from another site.",
    "404": "No such account or token.",
    "409": "The name is taken, no enabled admin would be left, or the account's version is stale.",
    "413": "The body is larger than the server takes (1 MiB).",
    "415": "Writes must be sent as `Content-Type: application/json`.",
    "503": "The catalog is busy with another writer: retry after `Retry-After` seconds.",
}
_WRITE_ERRORS = "400 401 403 404 409 413 415 503"


def _schema(name: str) -> Document:
    return {"$ref": f"#/components/schemas/{name}"}


def _list_of(name: str) -> Document:
    return {
        "type": "object",
        "properties": {"items": {"type": "array", "items": _schema(name)}},
        "required": ["items"],
        "additionalProperties": False,
    }


def _operation(
    summary: str,
    ok: Document,
    errors: str,
    *,
    status: str = "200",
    parameters: tuple[Document, ...] = (),
    body: Document | None = None,
    description: str = "",
) -> Document:
    responses: Document = {status: {"description": summary, "content": {JSON_TYPE: {"schema": ok}}}}
    for code in errors.split():
        responses[code] = {
            "description": _REASONS[code],
            "content": {JSON_TYPE: {"schema": _schema("Error")}},
        }
        if code == "503":
            responses[code]["headers"] = {
                "Retry-After": {"description": "seconds", "schema": {"type": "string", "pattern": "^[0-9]+$"}}
            }
    operation: Document = {
        "summary": summary,
        "tags": ["accounts"],
        "operationId": "_".join(summary.lower().replace("'", "").split()),
        "parameters": list(parameters),
        "responses": responses,
        "security": SECURITY,
        "description": description or "Admins only.",
    }
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {JSON_TYPE: {"schema": body}}}
    return operation


_NAME: Document = {
    "name": "name",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_NAME, "pattern": "^[^/]+$"},
}
_TOKEN_ID: Document = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 0, "maximum": 10**18 - 1},
}
_IF_MATCH: Document = {"$ref": "#/components/parameters/IfMatch"}
_CHANNELS: Document = {
    "type": ["array", "null"],
    "maxItems": MAX_CHANNELS,
    "items": {"type": "string", "pattern": "^[a-z0-9-]{1,64}$"},
    "description": "the channels an operator may change; null: every channel",
}
_PASSWORD: Document = {"type": "string", "minLength": 1, "maxLength": MAX_PASSWORD}


def _query(name: str, schema: Document, description: str) -> Document:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def account_schemas() -> Document:
    return {
        "User": USER_SCHEMA,
        "Token": TOKEN_SCHEMA,
        "NewToken": NEW_TOKEN_SCHEMA,
        "AuditEntry": ENTRY_SCHEMA,
    }


def account_paths() -> Document:
    user_etag = {"ETag": {"description": "the account's version, for If-Match", "schema": {"type": "string"}}}
    patch = _operation(
        "Change an account",
        _schema("User"),
        _WRITE_ERRORS,
        parameters=(_NAME, _IF_MATCH),
        body={
            "type": "object",
            "properties": {
                "role": enum_of(Role),
                "disabled": {"type": "boolean"},
                "channels": _CHANNELS,
                "version": {"type": "integer", "minimum": 1, "description": "a stale one is a 409"},
            },
            "anyOf": [{"required": ["role"]}, {"required": ["disabled"]}, {"required": ["channels"]}],
            "additionalProperties": False,
        },
        description="Admins only. Disabling ends the account's sessions and its tokens stop working. "
        "A change that would leave no enabled admin is a 409.",
    )
    patch["responses"]["200"]["headers"] = user_etag
    return {
        "/api/v1/users": {
            "get": _operation("List accounts", _list_of("User"), "401 403 503"),
            "post": _operation(
                "Add an account",
                _schema("User"),
                _WRITE_ERRORS,
                status="201",
                body={
                    "type": "object",
                    "properties": {
                        "name": {"type": "string", "minLength": 1, "maxLength": MAX_NAME},
                        "role": enum_of(Role),
                        "password": _PASSWORD,
                        "channels": _CHANNELS,
                    },
                    "required": ["name", "role", "password"],
                    "additionalProperties": False,
                },
            ),
        },
        "/api/v1/users/{name}": {"patch": patch},
        "/api/v1/users/{name}/password": {
            "post": _operation(
                "Reset an account's password",
                _schema("User"),
                _WRITE_ERRORS,
                parameters=(_NAME,),
                body={
                    "type": "object",
                    "properties": {"password": _PASSWORD},
                    "required": ["password"],
                    "additionalProperties": False,
                },
                description="Admins only. Ends the account's sessions; its API tokens stay valid.",
            )
        },
        "/api/v1/users/{name}/tokens": {
            "get": _operation(
                "List an account's API tokens", _list_of("Token"), "401 403 404 503", parameters=(_NAME,)
            ),
            "post": _operation(
                "Make an API token",
                _schema("NewToken"),
                _WRITE_ERRORS,
                status="201",
                parameters=(_NAME,),
                body={
                    "type": "object",
                    "properties": {"label": {"type": ["string", "null"], "maxLength": MAX_LABEL}},
                    "additionalProperties": False,
                },
                description="Admins only. The answer holds the secret: it is not shown again.",
            ),
        },
        "/api/v1/users/{name}/tokens/{id}": {
            "delete": _operation(
                "Revoke an API token",
                _schema("Token"),
                _WRITE_ERRORS,
                parameters=(_NAME, _TOKEN_ID),
                body={"type": "object", "description": "ignored; send {}"},
            )
        },
        "/api/v1/audit": {
            "get": _operation(
                "List audit entries",
                _list_of("AuditEntry"),
                "400 401 403 503",
                parameters=(
                    _query(
                        "since",
                        {"type": "string", "format": "date-time"},
                        "entries at or after (with offset)",
                    ),
                    _query("actor", {"type": "string"}, "an account's name, or cli:<os user>"),
                    _query("action", {"type": "string"}, "schedule.edit, asset.update, user.add, …"),
                    _query("target", {"type": "string"}, "a prefix of the target: channel/edu/, asset/12"),
                    _query(
                        "limit",
                        {"type": "integer", "minimum": 1, "maximum": MAX_ENTRIES, "default": DEFAULT_ENTRIES},
                        "entries at most",
                    ),
                    _query(
                        "before_id",
                        {"type": "integer", "minimum": 0, "maximum": 10**18 - 1},
                        "the last id of the previous page",
                    ),
                ),
                description="Admins only. Newest first.",
            )
        },
    }
