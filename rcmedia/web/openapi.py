"""The JSON API as an OpenAPI 3.1 document, served at ``GET /api/v1/openapi.json``.

Written as data. The response schemas live next to the functions that render the documents
(``documents.py``, ``schedule_documents.py``, ``asrun.py``, ``auth.py``); the request bodies and
parameters are built here from the same constants the parsers check (``rcmedia.core.changes``,
``rcmedia.web.api``). A test holds every ``/api/v1`` route of the app to appear here, and
schemathesis fuzzes the running API against it (tests/integration/web/test_openapi_fuzz.py).
"""

from __future__ import annotations

import functools
import json

from aiohttp import hdrs, web

from rcmedia import __version__
from rcmedia.core.changes import (
    EDIT_FIELDS,
    EDITABLE,
    MAX_CATEGORY,
    MAX_DESCRIPTION,
    MAX_SERIES,
    MAX_TITLE,
)
from rcmedia.core.edits import EditKind
from rcmedia.core.models import AssetStatus, JobState, Output, Source
from rcmedia.web.access import JSON_TYPE, SESSION_COOKIE
from rcmedia.web.accounts_openapi import account_paths, account_schemas
from rcmedia.web.api import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET
from rcmedia.web.asrun import ASRUN_SCHEMA
from rcmedia.web.auth import ME_SCHEMA
from rcmedia.web.channels_api import CSV_TYPE, AsRunFormat
from rcmedia.web.documents import (
    ASSET_SCHEMA,
    ID,
    INSTANT,
    JOB_SCHEMA,
    Document,
    enum_of,
    nullable,
    page_schema,
)
from rcmedia.web.ops_openapi import AIRINGS_QUERY, GRID_BODY, GRID_INVALID
from rcmedia.web.ops_openapi import SCHEMAS as OPS_SCHEMAS
from rcmedia.web.params import FIRST_DATE, LAST_DATE
from rcmedia.web.schedule_documents import CHANNEL_SCHEMA, DAY_SCHEMA, GUIDE_SCHEMA
from rcmedia.web.uploads import UPLOAD_SCHEMA
from rcmedia.web.uploads_openapi import upload_paths

OPENAPI_PATH = "/api/v1/openapi.json"
# what a write needs: a live session (POST /login) or an API token
SECURITY: list[dict[str, list[str]]] = [{"session": []}, {"bearer": []}]

ERROR_SCHEMA: Document = {
    "type": "object",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {
        "error": {"type": "string", "description": "what was wrong, and what to do"},
        "field": {"type": "string", "description": "the field at fault (400)"},
        "retry_after": {"type": "integer", "description": "seconds to wait before retrying (503)"},
        "current_version": {"description": "the version now stored (409 on a stale version)"},
        "refusals": {
            "type": "array",
            "description": "every refused insert of a copy of locks (422): nothing was copied",
            "items": {
                "type": "object",
                "properties": {
                    "date": {"type": "string", "format": "date"},
                    "start": {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]},
                    "reason": {"type": "string"},
                },
                "required": ["date", "start", "reason"],
            },
        },
    },
}

_ERRORS = {
    "400": "A parameter or field is wrong; `field` names a body field.",
    "401": "No live session or API token: log in with `POST /login` first, or send a token.",
    "403": "The account's role does not allow this, or the request came from another site.",
    "404": "No such asset, job, channel or output (or a path part out of bounds).",
    "409": "The current state refuses the change (withdrawn asset, refused edit) or the version is stale.",
    "413": "The body is larger than the server takes (1 MiB).",
    "415": "Writes must be sent as `Content-Type: application/json`.",
    "422": "The edit is well formed but the schedule refuses it (overlap, fixed slot, rights).",
    "503": "The catalog is busy with another writer: retry after `Retry-After` seconds.",
}


def _error(status: str) -> Document:
    response: Document = {
        "description": _ERRORS[status],
        "content": {JSON_TYPE: {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if status == "503":
        response["headers"] = {
            "Retry-After": {"description": "seconds", "schema": {"type": "string", "pattern": "^[0-9]+$"}}
        }
    return response


def _ok(schema_name: str, description: str, **headers: Document) -> Document:
    response: Document = {
        "description": description,
        "content": {JSON_TYPE: {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}},
    }
    if headers:
        response["headers"] = headers
    return response


def _operation(
    summary: str,
    tag: str,
    ok: Document,
    errors: str,
    *,
    parameters: tuple[str, ...] = (),
    body: Document | None = None,
    write: bool = False,
    description: str = "",
) -> Document:
    """One operation; ``parameters`` name components, ``errors`` the error statuses, e.g. "400 404"."""
    operation: Document = {
        "summary": summary,
        "tags": [tag],
        "operationId": "_".join(summary.lower().replace("'", "").split()),
        "parameters": [{"$ref": f"#/components/parameters/{name}"} for name in parameters],
        "responses": {"200": ok, **{status: _error(status) for status in errors.split()}},
    }
    if description:
        operation["description"] = description
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {JSON_TYPE: {"schema": body}}}
    if write:
        operation["security"] = SECURITY
    return operation


def _day_action(extra: Document, required: tuple[str, ...] = ()) -> Document:
    """The body of a whole-day action (rcmedia.web.day_actions_api)."""
    return {
        "type": "object",
        "properties": {
            "output": enum_of(Output),
            "date": {"type": "string", "format": "date", "description": "the broadcast day"},
            **extra,
            "version": {
                "type": "integer",
                "minimum": 1,
                "description": "the day's version the action was based on: a stale one is a 409",
            },
        },
        "required": ["output", "date", *required],
        "additionalProperties": False,
    }


def _schedule_events() -> Document:
    """The stream of day versions (rcmedia.web.schedule_events): not JSON, so described by hand."""
    operation = _operation(
        "Stream schedule events",
        "schedules",
        {
            "description": "server-sent events: `event: day`, `id:` a cursor, `data:` "
            '`{"channel", "output", "day", "version"}`; a `: ping` comment every 15 s',
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
        "400 401 403 404 503",
        description="Operator or admin. An event per (output, day) of the channel whose version "
        "changed, whoever changed it. Reconnecting with `Last-Event-ID` first sends the changes "
        "missed since (or, after a server restart, every built day's current version).",
    )
    operation["parameters"] = [
        {"$ref": "#/components/parameters/Channel"},
        {"$ref": "#/components/parameters/Output"},
        {
            "name": "Last-Event-ID",
            "in": "header",
            "required": False,
            "schema": {"type": "string"},
            "description": "the `id:` of the last event received",
        },
    ]
    operation["security"] = SECURITY
    return operation


def _job_events() -> Document:
    """The stream of job changes (rcmedia.web.job_events): not JSON, so described by hand."""
    operation = _operation(
        "Stream job events",
        "jobs",
        {
            "description": "server-sent events: `event: job`, `id:` a cursor, `data:` the Job "
            "document; a `: ping` comment every 15 s",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
        "400 401 503",
        description="Any signed-in account. Each job's state and progress as it changes. Reconnecting "
        "with `Last-Event-ID` first sends the jobs changed since that event.",
    )
    operation["parameters"] = [
        {
            "name": "Last-Event-ID",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "pattern": "^[0-9]{1,18}-[0-9]{1,18}$"},
            "description": "the `id:` of the last event received",
        }
    ]
    operation["security"] = SECURITY
    return operation


def _query(name: str, schema: Document, description: str) -> Document:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _parameters() -> Document:
    return {
        "Id": {
            "name": "id",
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 0, "maximum": 10**18 - 1},
        },
        "Channel": {
            "name": "channel",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "pattern": "^[a-z0-9-]{1,64}$"},
        },
        "Limit": _query(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
            "page size",
        ),
        "Offset": _query(
            "offset", {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0}, "items skipped"
        ),
        "Text": _query(
            "q",
            {"type": "string"},
            (
                "words to find, all in one of title, series, description or original file name: "
                "Chinese by its characters (two or more: every adjacent pair), Latin words and numbers whole, "
                "any case; title matches first, then series, description, file name, then by id. "
                "Only punctuation or spaces: no search"
            ),
        ),
        "Series": _query("series", {"type": "string"}, "the series, exactly"),
        "Source": _query("source", enum_of(Source), "where the asset came from"),
        "Status": _query("status", enum_of(AssetStatus), "the asset's status"),
        "JobState": _query("state", enum_of(JobState), "the job's state"),
        "Output": _query(
            "output", enum_of(Output), "the output (default iptv when the channel is on it, else its first)"
        ),
        "Date": _query(
            "date",
            {"type": "string", "format": "date"},
            f"a broadcast day, {FIRST_DATE} to {LAST_DATE} (default: the day on air now in the "
            "channel's zone)",
        ),
        "AsRunFormat": _query(
            "format", enum_of(AsRunFormat), "json (default) or csv, a spreadsheet download"
        ),
        "IfMatch": {
            "name": "If-Match",
            "in": "header",
            "required": False,
            "schema": {"type": "string"},
            "description": "the ETag of the thing's GET (a schedule day, an asset): a write based on a "
            "stale one is refused (409)",
        },
    }


def _metadata_change() -> Document:
    def text(limit: int, *, null: bool = False) -> Document:
        schema: Document = {"type": "string", "maxLength": limit}
        return nullable(schema) if null else schema

    properties: Document = {
        "title": {**text(MAX_TITLE), "minLength": 1, "pattern": r"\S"},
        "series": text(MAX_SERIES, null=True),
        "episode": nullable({"type": "integer", "minimum": 0, "maximum": 2**31 - 1}),
        "description": text(MAX_DESCRIPTION, null=True),
        "categories": {
            "type": "array",
            "items": {"type": "string", "minLength": 1, "maxLength": MAX_CATEGORY, "pattern": r"\S"},
        },
    }
    assert set(properties) == set(EDITABLE)
    properties["version"] = {
        "type": "integer",
        "minimum": 1,
        "maximum": 2**63 - 1,
        "description": "the asset's version this change was made on: a stale one is a 409",
    }
    return {
        "type": "object",
        "properties": properties,
        "minProperties": 1,
        "additionalProperties": False,
        "description": "The fields to change; the others stay as they are (null clears series and episode).",
    }


def _rights_body() -> Document:
    window = {
        "type": "object",
        "properties": {"output": enum_of(Output), "start": nullable(INSTANT), "end": nullable(INSTANT)},
        "required": ["output"],
        "additionalProperties": False,
    }
    return {
        "type": "array",
        "items": window,
        "description": "The whole list of windows; instants with their UTC offset, 1970 to 9999-12-30, "
        "null (or absent) for an open end; end after start.",
    }


def _schedule_edit() -> Document:
    """One schema per action, each with exactly the fields that action takes."""
    fields: Document = {
        "event_start": {**INSTANT, "description": "start of the event edited (with its UTC offset)"},
        "asset_id": ID,
        "to": {**INSTANT, "description": "the new start (with its UTC offset)"},
    }
    variants = []
    for kind in EditKind:
        needed = sorted(EDIT_FIELDS[kind])
        variants.append(
            {
                "title": kind.value,
                "type": "object",
                "properties": {
                    "output": enum_of(Output),
                    "date": {"type": "string", "format": "date", "description": "the broadcast day edited"},
                    "action": {"const": kind.value},
                    **{name: fields[name] for name in needed},
                    "version": {
                        "type": "integer",
                        "minimum": 0,
                        "description": "the day's version this edit was based on: a stale one is a 409",
                    },
                },
                "required": ["output", "date", "action", *needed],
                "additionalProperties": False,
            }
        )
    return {"oneOf": variants}


def _airings() -> Document:
    operation = _operation(
        "List an asset's airings",
        "assets",
        _ok("Airings", "its scheduled and past airings per channel output"),
        "400 404 503",
        parameters=("Id",),
        description="Where the asset is scheduled (what withdrawing it affects) and where it aired.",
    )
    operation["parameters"] += AIRINGS_QUERY
    return operation


def _grid_apply() -> Document:
    operation = _operation(
        "Apply a channel's grid file",
        "channels",
        _ok("GridApplied", "the file was applied and the channel's days rebuilt"),
        "400 401 403 404 409 413 415 503",
        parameters=("Channel",),
        body=GRID_BODY,
        write=True,
        description="Operator or admin. Validated as `rcmedia channels apply` does; the channel id "
        "in the file must be this one. The days from the one on air now are rebuilt, keeping the "
        "freeze horizon and locked events.",
    )
    operation["responses"]["422"] = GRID_INVALID
    return operation


def _paths() -> Document:
    assets = ("Text", "Series", "Source", "Status", "Limit", "Offset")
    asrun_ok: Document = {
        "description": "the as-run log: JSON, or CSV with ?format=csv",
        "content": {
            JSON_TYPE: {"schema": {"$ref": "#/components/schemas/AsRun"}},
            CSV_TYPE.split(";")[0]: {"schema": {"type": "string"}},
        },
    }
    etag = {"description": "the day's version, for If-Match", "schema": {"type": "string"}}
    asset_etag = {"description": "the asset's version, for If-Match", "schema": {"type": "string"}}
    return {
        "/api/v1/assets": {
            "get": _operation(
                "List assets", "assets", _ok("AssetPage", "a page of assets"), "400 503", parameters=assets
            )
        },
        "/api/v1/assets/{id}": {
            "get": _operation(
                "Get an asset",
                "assets",
                _ok("Asset", "the asset", ETag=asset_etag),
                "404 503",
                parameters=("Id",),
            ),
            "patch": _operation(
                "Change an asset's metadata",
                "assets",
                _ok("Asset", "the asset as changed", ETag=asset_etag),
                "400 401 403 404 409 413 415 503",
                parameters=("Id", "IfMatch"),
                body=_metadata_change(),
                write=True,
                description="Editor or admin. Send the asset's `version` (or its ETag as If-Match): "
                "a change based on a stale version is a 409 with the current one.",
            ),
        },
        "/api/v1/assets/{id}/rights": {
            "put": _operation(
                "Set an asset's rights",
                "assets",
                _ok("Asset", "the asset with its new rights", ETag=asset_etag),
                "400 401 403 404 409 413 415 503",
                parameters=("Id", "IfMatch"),
                body=_rights_body(),
                write=True,
                description="Editor or admin. Replaces every window.",
            )
        },
        "/api/v1/assets/{id}/withdraw": {
            "post": _operation(
                "Withdraw an asset",
                "assets",
                _ok("Asset", "the withdrawn asset", ETag=asset_etag),
                "400 401 403 404 409 413 415 503",
                parameters=("Id", "IfMatch"),
                body={"type": "object", "description": "ignored; send {}"},
                write=True,
                description="Editor or admin. The slate replaces it after the freeze horizon.",
            )
        },
        "/api/v1/assets/{id}/airings": {"get": _airings()},
        "/api/v1/jobs": {
            "get": _operation(
                "List jobs",
                "jobs",
                _ok("JobPage", "a page of jobs, newest first"),
                "400 503",
                parameters=("JobState", "Limit", "Offset"),
            )
        },
        "/api/v1/jobs/events": {"get": _job_events()},
        "/api/v1/jobs/{id}": {
            "get": _operation("Get a job", "jobs", _ok("Job", "the job"), "404 503", parameters=("Id",))
        },
        "/api/v1/jobs/{id}/retry": {
            "post": _operation(
                "Retry a job",
                "jobs",
                _ok("Job", "the job, queued again"),
                "400 401 403 404 409 413 415 503",
                parameters=("Id",),
                body={"type": "object", "description": "ignored; send {}"},
                write=True,
                description="Editor or admin. A failed job is queued again with all its attempts; "
                "any other state is a 409 with the reason.",
            )
        },
        "/api/v1/jobs/{id}/cancel": {
            "post": _operation(
                "Cancel a job",
                "jobs",
                _ok("Job", "the job, failed with the reason 'cancelled by <user>'"),
                "400 401 403 404 409 413 415 503",
                parameters=("Id",),
                body={"type": "object", "description": "ignored; send {}"},
                write=True,
                description="Editor or admin. A queued job fails at once; a running one fails at once "
                "and its attempt stops at its next progress report. A finished job is a 409.",
            )
        },
        "/api/v1/channels": {
            "get": _operation(
                "List channels", "channels", _ok("ChannelList", "every applied channel, by number"), "503"
            )
        },
        "/api/v1/channels/{channel}": {
            "get": _operation(
                "Get a channel", "channels", _ok("Channel", "the channel"), "404 503", parameters=("Channel",)
            )
        },
        "/api/v1/channels/{channel}/schedule": {
            "get": _operation(
                "Get a channel's schedule",
                "schedules",
                _ok("Day", "a broadcast day of the channel output", ETag=etag),
                "400 404 503",
                parameters=("Channel", "Output", "Date"),
            )
        },
        "/api/v1/channels/{channel}/grid": {"post": _grid_apply()},
        "/api/v1/channels/{channel}/schedule/edits": {
            "post": _operation(
                "Edit a channel's schedule",
                "schedules",
                _ok("Day", "the edited day", ETag=etag),
                "400 401 403 404 409 413 415 422 503",
                parameters=("Channel", "IfMatch"),
                body=_schedule_edit(),
                write=True,
                description="Operator or admin. Send the day's `version` (or its ETag as If-Match): "
                "an edit based on a stale version is a 409 with the current one.",
            )
        },
        "/api/v1/channels/{channel}/schedule/rebuild": {
            "post": _operation(
                "Rebuild a day of a channel's schedule",
                "schedules",
                _ok("Day", "the rebuilt day", ETag=etag),
                "400 401 403 404 409 413 415 422 503",
                parameters=("Channel", "IfMatch"),
                body=_day_action({}),
                write=True,
                description="Operator or admin. The day is built again from the grid; its locked events "
                "and everything before the freeze horizon stay. A day wholly before the horizon is a 422.",
            )
        },
        "/api/v1/channels/{channel}/schedule/copy-locks": {
            "post": _operation(
                "Copy a day's locks to other dates",
                "schedules",
                _ok("CopiedLocks", "the source day and each target day's new version"),
                "400 401 403 404 409 413 415 422 503",
                parameters=("Channel", "IfMatch"),
                body=_day_action(
                    {
                        "to": {
                            "type": "array",
                            "items": {"type": "string", "format": "date"},
                            "minItems": 1,
                            "maxItems": 62,
                            "description": "the broadcast days to copy the locks to",
                        }
                    },
                    ("to",),
                ),
                write=True,
                description="Operator or admin. Each locked programme of the day is inserted (locked) at "
                "the same local time on every date of `to`. All or nothing: when any insert is refused, "
                "the 422 lists every refusal (`refusals`: date, start, reason) and nothing is stored.",
            )
        },
        "/api/v1/channels/{channel}/schedule/events": {"get": _schedule_events()},
        "/api/v1/channels/{channel}/guide": {
            "get": _operation(
                "Get a channel's guide",
                "schedules",
                _ok("Guide", "a broadcast day of the channel output's guide"),
                "400 404 503",
                parameters=("Channel", "Output", "Date"),
                description="What `/epg.xml` lists, as JSON: no gap and no overlap. Idents, filler and "
                "slate fold into the programme before them (its `stop` is the next programme's start, "
                "`content_duration` its own length); a stretch with no programme before it is an "
                "interlude titled with the channel's `interlude_title`.",
            )
        },
        "/api/v1/channels/{channel}/asrun": {
            "get": _operation(
                "Get a channel's as-run log",
                "schedules",
                asrun_ok,
                "400 404 503",
                parameters=("Channel", "Output", "Date", "AsRunFormat"),
            )
        },
        "/api/v1/me": {
            "get": {
                **_operation("Who am I", "accounts", _ok("Me", "the logged-in account"), "401 503"),
                "security": SECURITY,
            }
        },
        OPENAPI_PATH: {
            "get": _operation(
                "Get this document",
                "meta",
                {"description": "OpenAPI 3.1", "content": {JSON_TYPE: {"schema": {"type": "object"}}}},
                "",
            )
        },
    }


@functools.cache
def openapi_document() -> Document:
    """The whole document (built once: it depends on nothing but the code)."""
    channel_list: Document = {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Channel"}},
            "total": {"type": "integer", "minimum": 0},
        },
        "required": ["items", "total"],
        "additionalProperties": False,
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "rcmedia JSON API",
            "version": __version__,
            "description": "Assets, ingest jobs, channels, schedules and the as-run log. Reads are "
            "anonymous; writes need a session (`POST /login` with `{name, password}` as JSON sets the "
            f"`{SESSION_COOKIE}` cookie) or an API token (`Authorization: Bearer`) with the right role, "
            "and `Content-Type: application/json`. "
            "Errors are `{error, field?}` with 400/401/403/404/409/413/415/422, and 503 with "
            "`Retry-After` while the catalog is busy. Times are ISO 8601 in UTC.",
        },
        "tags": [
            {"name": name}
            for name in ("assets", "jobs", "uploads", "channels", "schedules", "accounts", "meta")
        ],
        "paths": _paths() | upload_paths() | account_paths(),
        "components": {
            "schemas": {
                "Error": ERROR_SCHEMA,
                "Asset": ASSET_SCHEMA,
                "AssetPage": page_schema({"$ref": "#/components/schemas/Asset"}),
                "Job": JOB_SCHEMA,
                "JobPage": page_schema({"$ref": "#/components/schemas/Job"}),
                "Channel": CHANNEL_SCHEMA,
                "ChannelList": channel_list,
                "Day": DAY_SCHEMA,
                "CopiedLocks": {
                    "type": "object",
                    "required": ["day", "copied", "versions"],
                    "additionalProperties": False,
                    "properties": {
                        "day": {"$ref": "#/components/schemas/Day"},
                        "copied": {
                            "type": "integer",
                            "minimum": 0,
                            "description": "locked programmes copied",
                        },
                        "versions": {
                            "type": "object",
                            "additionalProperties": {"type": "integer"},
                            "description": "each target day → its version after the copy",
                        },
                    },
                },
                "Guide": GUIDE_SCHEMA,
                "AsRun": ASRUN_SCHEMA,
                "Me": ME_SCHEMA,
                "Upload": UPLOAD_SCHEMA,
                **OPS_SCHEMAS,
                **account_schemas(),
            },
            "parameters": _parameters(),
            "securitySchemes": {
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": SESSION_COOKIE,
                    "description": "Set by `POST /login` (form or JSON `{name, password}`); ended by "
                    "`POST /logout`. A write whose Origin names another site is refused (403).",
                },
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token (`rcmedia users token NAME` or "
                    "`POST /api/v1/users/{name}/tokens`) as `Authorization: Bearer rcm_…`. A bad one is a "
                    "401 and never falls back to the session cookie.",
                },
            },
        },
    }


@functools.cache
def _body() -> bytes:
    return json.dumps(openapi_document(), ensure_ascii=False, indent=1).encode("utf-8")


async def openapi_json(_request: web.Request) -> web.Response:
    return web.Response(
        body=_body(),
        headers={hdrs.CONTENT_TYPE: f"{JSON_TYPE}; charset=utf-8", hdrs.CACHE_CONTROL: "no-cache"},
    )
