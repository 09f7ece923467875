"""``POST /api/v1/channels/{id}/grid``: apply a new grid file to one channel (operator or admin).

The body is ``{"text": "…TOML…", "version": N}``, ``version`` being the channel's version the
file was written on (``GET /api/v1/channels/{id}``). Answers 200 with the change (a unified diff)
and the days rebuilt; 422 with every validation error by file, line and key (``errors``), nothing
stored; 409 with the current version when another apply came first; 404 for an unknown channel.
See :mod:`rcmedia.service.grid_apply`.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from aiohttp import web

from rcmedia.core.accounts import Role
from rcmedia.core.changes import json_object
from rcmedia.core.grid_file import GridError
from rcmedia.errors import ConfigError, InvalidFieldError
from rcmedia.service.channels import InvalidChannelFiles
from rcmedia.service.grid_apply import GridApplied, apply_grid
from rcmedia.web.access import require_channel
from rcmedia.web.json_response import json_response
from rcmedia.web.keys import CLOCK_KEY, SCHEDULES_KEY, SETTINGS_KEY
from rcmedia.web.writes import read_json

log = logging.getLogger(__name__)

MAX_VERSION = 2**31 - 1


def parse_grid_body(body: object) -> tuple[str, int]:
    """``(text, version)`` of the body; InvalidFieldError (400) naming the field otherwise."""
    fields = json_object(body, frozenset({"text", "version"}))
    text, version = fields.get("text"), fields.get("version")
    if not isinstance(text, str):
        raise InvalidFieldError("text", "expected the channel file's TOML text")
    if isinstance(version, bool) or not isinstance(version, int) or not 0 <= version <= MAX_VERSION:
        raise InvalidFieldError("version", "expected the channel's version the file was written on")
    return text, version


def error_document(error: ConfigError) -> dict[str, object]:
    """One validation error with its place: ``file``, ``line`` (None when unknown), ``key``."""
    if isinstance(error, GridError):
        return {"file": error.filename, "line": error.line, "key": error.where, "problem": error.problem}
    return {"file": None, "line": None, "key": None, "problem": str(error)}


def applied_document(applied: GridApplied) -> dict[str, object]:
    return {
        "channel": applied.channel_id,
        "version": applied.version,
        "changed": applied.changed,
        "diff": applied.diff,
        "rebuild_error": applied.rebuild_error,
        "rebuilt": [
            {"output": r.output.value, "days": [d.isoformat() for d in r.days], "events": r.events}
            for r in applied.rebuilt
        ],
    }


async def apply_channel_grid(request: web.Request) -> web.StreamResponse:
    app, channel_id = request.app, request.match_info["channel"]
    user = await require_channel(request, Role.OPERATOR, channel_id)
    text, version = parse_grid_body(await read_json(request))
    settings = app[SETTINGS_KEY]
    try:
        applied = await asyncio.to_thread(
            apply_grid,
            app[SCHEDULES_KEY],
            channel_id,
            text,
            expected_version=version,
            now=app[CLOCK_KEY].now(),
            days=settings.schedule_days,
            freeze=timedelta(seconds=settings.freeze_seconds),
            clock=app[CLOCK_KEY],
            actor=user.name,
        )
    except InvalidChannelFiles as exc:
        errors = [error_document(e) for e in exc.errors]
        return json_response({"error": str(exc), "errors": errors}, status=422)
    log.info(
        "grid of %s applied by %r: version %d (changed: %s)",
        channel_id,
        user.name,
        applied.version,
        applied.changed,
    )
    return json_response(applied_document(applied))
