"""The OpenAPI schemas of the routes the catalog and grid pages added: an asset's airings and
applying a channel's grid file (their paths are in :mod:`rcmedia.web.openapi`)."""

from __future__ import annotations

from rcmedia.core.models import Output
from rcmedia.core.schedule import EventKind
from rcmedia.web.access import JSON_TYPE
from rcmedia.web.asset_airings import MAX_LIMIT, When
from rcmedia.web.documents import ID, INSTANT, Document, closed, enum_of, nullable
from rcmedia.web.grid_api import MAX_VERSION

AIRING_SCHEMA = closed(
    {
        "channel": {"type": "string"},
        "output": enum_of(Output),
        "start": INSTANT,
        "end": INSTANT,
        "title": {"type": "string"},
        "kind": enum_of(EventKind),
        "locked": {"type": "boolean"},
        "substitution": nullable({"type": "string"}),
        "frozen": nullable(
            {
                "type": "boolean",
                "description": "scheduled only: starts inside the freeze horizon, airs as built",
            }
        ),
    }
)

AIRINGS_SCHEMA = closed(
    {
        "asset": ID,
        "now": INSTANT,
        "freeze_until": INSTANT,
        "scheduled": {"type": "array", "items": AIRING_SCHEMA},
        "scheduled_total": {"type": "integer", "minimum": 0},
        "aired": {"type": "array", "items": AIRING_SCHEMA},
        "aired_total": {"type": "integer", "minimum": 0},
    },
    description="scheduled: built events from now, by start; aired: the as-run log's last 90 days, "
    "newest first",
)

GRID_APPLIED_SCHEMA = closed(
    {
        "channel": {"type": "string"},
        "version": {"type": "integer", "minimum": 1},
        "changed": {"type": "boolean", "description": "false: the text was the one applied already"},
        "diff": {"type": "string", "description": "unified diff of the stored file against the new one"},
        "rebuild_error": {
            "type": ["string", "null"],
            "description": "why the days could not be rebuilt (the file is applied all the same)",
        },
        "rebuilt": {
            "type": "array",
            "items": closed(
                {
                    "output": enum_of(Output),
                    "days": {"type": "array", "items": {"type": "string", "format": "date"}},
                    "events": {"type": "integer", "minimum": 0},
                }
            ),
        },
    }
)

GRID_ERRORS_SCHEMA = closed(
    {
        "error": {"type": "string"},
        "errors": {
            "type": "array",
            "items": closed(
                {
                    "file": nullable({"type": "string"}),
                    "line": nullable({"type": "integer", "minimum": 1}),
                    "key": nullable({"type": "string", "description": "the key path, e.g. slot[2].start"}),
                    "problem": {"type": "string"},
                }
            ),
        },
    },
    description="the file is invalid: every error by file, line and key; nothing was applied",
)

SCHEMAS: Document = {
    "Airings": AIRINGS_SCHEMA,
    "GridApplied": GRID_APPLIED_SCHEMA,
    "GridErrors": GRID_ERRORS_SCHEMA,
}


AIRINGS_QUERY: list[Document] = [
    {
        "name": "when",
        "in": "query",
        "required": False,
        "schema": enum_of(When),
        "description": "one list only",
    },
    {
        "name": "limit",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
        "description": "the most of each list",
    },
]

GRID_BODY = closed(
    {
        "text": {"type": "string", "description": "the channel file (TOML, see playlists/README.md)"},
        "version": {
            "type": "integer",
            "minimum": 0,
            "maximum": MAX_VERSION,
            "description": "the channel's version the file was written on (GET /api/v1/channels/{id})",
        },
    }
)

GRID_INVALID: Document = {
    "description": "the file is invalid (every error by file, line and key); nothing was applied",
    "content": {JSON_TYPE: {"schema": {"$ref": "#/components/schemas/GridErrors"}}},
}
