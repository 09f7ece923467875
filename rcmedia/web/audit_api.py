"""``GET /api/v1/audit`` (admins only): who changed what, newest first.

Query: ``since`` (an ISO 8601 instant with its offset), ``actor``, ``action`` (e.g.
``schedule.edit``), ``target`` (a prefix: ``channel/edu/``, ``asset/12``), ``limit`` (1…500,
default 100) and ``before_id`` (the last ``id`` of the previous page, for the next one).
"""

from __future__ import annotations

import asyncio

from aiohttp import hdrs, web

from rcmedia.catalog.audit import MAX_ENTRIES
from rcmedia.core.accounts import Role
from rcmedia.core.audit import MAX_ACTION, MAX_ACTOR, MAX_TARGET, AuditEntry
from rcmedia.core.changes import parse_instant
from rcmedia.errors import InvalidFieldError
from rcmedia.web.access import require_role
from rcmedia.web.documents import ID, INSTANT, Document, closed, iso_utc
from rcmedia.web.json_response import json_response
from rcmedia.web.keys import CATALOG_KEY
from rcmedia.web.params import int_param, text_param

DEFAULT_ENTRIES = 100

ENTRY_SCHEMA = closed(
    {
        "id": ID,
        "at": INSTANT,
        "actor": {"type": "string", "description": "an account's name, or cli:<os user>"},
        "action": {"type": "string", "description": "schedule.edit, asset.update, user.add, …"},
        "target": {"type": "string", "description": "channel/ID/OUTPUT/DAY, asset/ID, user/NAME, …"},
        "before": {"description": "what it was (null: nothing, or not recorded)"},
        "after": {"description": "what it became (null: nothing, or not recorded)"},
    }
)


def entry_document(entry: AuditEntry) -> Document:
    return {
        "id": entry.id,
        "at": iso_utc(entry.at),
        "actor": entry.actor,
        "action": entry.action,
        "target": entry.target,
        "before": entry.before,
        "after": entry.after,
    }


def _bounded(query: web.Request, name: str, limit: int) -> str | None:
    value = text_param(query.query, name)
    if value is not None and len(value) > limit:
        raise web.HTTPBadRequest(text=f"query parameter {name!r}: longer than {limit} characters")
    return value


async def audit_entries(request: web.Request) -> web.Response:
    await require_role(request, Role.ADMIN)
    query = request.query
    since_text = text_param(query, "since")
    try:
        since = parse_instant(since_text, "since") if since_text is not None else None
    except InvalidFieldError as exc:
        raise web.HTTPBadRequest(text=f"query parameter 'since': {exc.problem}") from None
    limit = int_param(query, "limit", default=DEFAULT_ENTRIES, minimum=1, maximum=MAX_ENTRIES)
    before_id = int_param(query, "before_id", default=0, minimum=0, maximum=10**18 - 1) or None
    entries = await asyncio.to_thread(
        request.app[CATALOG_KEY].audit.entries,
        since=since,
        actor=_bounded(request, "actor", MAX_ACTOR),
        action=_bounded(request, "action", MAX_ACTION),
        target_prefix=_bounded(request, "target", MAX_TARGET),
        limit=limit,
        before_id=before_id,
    )
    return json_response(
        {"items": [entry_document(e) for e in entries]}, headers={hdrs.CACHE_CONTROL: "no-store"}
    )
