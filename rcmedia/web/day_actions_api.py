"""Whole-day operator actions: ``POST /api/v1/channels/{id}/schedule/rebuild`` and ``…/copy-locks``.

Both name the output and the broadcast day (``date``, as an edit does) and may name the day's
``version`` (or send its ETag as ``If-Match``): a stale one is a 409 with the current version.
A rebuild answers the rebuilt day (200, with its ETag); a copy answers the source day and each
target day's new version, or 422 listing every refusal — and then nothing was copied.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from aiohttp import web

from rcmedia.core.accounts import Role
from rcmedia.core.changes import json_object, parse_date, parse_version
from rcmedia.core.models import Output
from rcmedia.errors import InvalidFieldError
from rcmedia.service.day_actions import CopyRefused, copy_locks, rebuild_day
from rcmedia.web.access import require_channel
from rcmedia.web.channels_api import day_answer
from rcmedia.web.documents import iso_utc
from rcmedia.web.errors import error_response
from rcmedia.web.json_response import json_response
from rcmedia.web.keys import CLOCK_KEY, SCHEDULES_KEY, SETTINGS_KEY
from rcmedia.web.params import FIRST_DATE, LAST_DATE
from rcmedia.web.schedule_documents import day_document, day_resource
from rcmedia.web.writes import expected_version, read_json

log = logging.getLogger(__name__)

MAX_TARGETS = 62


def _body(data: object, allowed: frozenset[str]) -> Mapping[str, Any]:
    data = json_object(data, allowed)
    for key in ("output", "date"):
        if data.get(key) is None:
            raise InvalidFieldError(key, "missing")
    return data


def _date(value: object, field: str) -> date:
    """A broadcast day (``YYYY-MM-DD``) in the range every schedule read accepts."""
    day = parse_date(value, field)
    if not FIRST_DATE <= day <= LAST_DATE:
        raise InvalidFieldError(field, f"expected a date from {FIRST_DATE} to {LAST_DATE}, got {value!r}")
    return day


def _output(value: object) -> Output:
    try:
        return Output(str(value)) if isinstance(value, str) else Output("")
    except ValueError:
        allowed = ", ".join(o.value for o in Output)
        raise InvalidFieldError("output", f"{value!r} is not one of {allowed}") from None


async def schedule_rebuild(request: web.Request) -> web.StreamResponse:
    """``{output, date, version?}``: the day built again from the grid, its locks kept."""
    app, channel_id = request.app, request.match_info["channel"]
    user = await require_channel(request, Role.OPERATOR, channel_id)
    body = _body(await read_json(request), frozenset({"output", "date", "version"}))
    output, day = _output(body["output"]), _date(body["date"], "date")
    version = parse_version(body["version"]) if body.get("version") is not None else None
    expected = expected_version(request, day_resource(channel_id, output, day), version)
    listing = await asyncio.to_thread(
        rebuild_day,
        app[SCHEDULES_KEY],
        channel_id,
        output,
        day=day,
        now=app[CLOCK_KEY].now(),
        freeze=timedelta(seconds=app[SETTINGS_KEY].freeze_seconds),
        expected_version=expected,
        wait_s=app[SETTINGS_KEY].schedule_lock_wait_seconds,
        actor=user.name,
    )
    log.info(
        "schedule rebuild by %r: %s/%s %s -> version %s",
        user.name,
        channel_id,
        output.value,
        day,
        listing.version,
    )
    return day_answer(listing)


async def schedule_copy_locks(request: web.Request) -> web.StreamResponse:
    """``{output, date, to: [dates], version?}``: the day's locked programmes onto each date."""
    app, channel_id = request.app, request.match_info["channel"]
    user = await require_channel(request, Role.OPERATOR, channel_id)
    body = _body(await read_json(request), frozenset({"output", "date", "to", "version"}))
    output, day = _output(body["output"]), _date(body["date"], "date")
    targets = body.get("to")
    if not isinstance(targets, list) or not targets:
        raise InvalidFieldError("to", f"expected a non-empty list of dates YYYY-MM-DD, got {targets!r}")
    if len(targets) > MAX_TARGETS:
        raise InvalidFieldError("to", f"at most {MAX_TARGETS} dates at a time, got {len(targets)}")
    days = [_date(value, f"to[{i}]") for i, value in enumerate(targets)]
    version = parse_version(body["version"]) if body.get("version") is not None else None
    expected = expected_version(request, day_resource(channel_id, output, day), version)
    try:
        copied = await asyncio.to_thread(
            copy_locks,
            app[SCHEDULES_KEY],
            channel_id,
            output,
            day=day,
            targets=days,
            now=app[CLOCK_KEY].now(),
            freeze=timedelta(seconds=app[SETTINGS_KEY].freeze_seconds),
            expected_version=expected,
            wait_s=app[SETTINGS_KEY].schedule_lock_wait_seconds,
            actor=user.name,
        )
    except CopyRefused as refused:
        refusals = [
            {"date": r.day.isoformat(), "start": iso_utc(r.start) if r.start else None, "reason": r.reason}
            for r in refused.refusals
        ]
        return error_response(request, 422, str(refused), refusals=refusals)
    log.info(
        "schedule locks copied by %r: %s/%s %s -> %s",
        user.name,
        channel_id,
        output.value,
        day,
        ", ".join(d.isoformat() for d in copied.versions),
    )
    return json_response(
        {
            "day": day_document(copied.source),
            "copied": copied.copied,
            "versions": {d.isoformat(): v for d, v in copied.versions.items()},
        }
    )
