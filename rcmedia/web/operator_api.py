"""Operator actions on schedules: ``POST /api/v1/channels/{id}/schedule/edits``.

The body names the output, the broadcast day and the action (replace, move, insert, delete, lock,
unlock) with its arguments (see :func:`rcmedia.core.changes.parse_schedule_edit`), and may name
the day's ``version`` the edit was made on (or send it as ``If-Match``, the ETag of
``GET …/schedule``). The edit goes through :func:`rcmedia.service.schedules.edit_schedule`, which
holds the channel output's write lock, validates it and re-chains the counters. Answers: 200 with
the edited day (and its new ETag); 409 with the current version when the day changed since the
version given; 422 with the reason when the schedule refuses the edit; 503 with ``Retry-After``
when another write of that channel output held the lock too long.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from aiohttp import hdrs, web

from rcmedia.core.accounts import Role
from rcmedia.core.changes import parse_schedule_edit
from rcmedia.errors import InvalidFieldError
from rcmedia.service.schedules import edit_schedule
from rcmedia.web.access import require_role
from rcmedia.web.json_response import json_response
from rcmedia.web.keys import CLOCK_KEY, SCHEDULES_KEY, SETTINGS_KEY
from rcmedia.web.schedule_documents import day_document, day_etag, version_of_etag
from rcmedia.web.writes import answers_refusals, read_json

log = logging.getLogger(__name__)


@answers_refusals
async def schedule_edit(request: web.Request) -> web.StreamResponse:
    user = await require_role(request, Role.OPERATOR)
    wanted = parse_schedule_edit(await read_json(request))
    if_match = request.headers.get(hdrs.IF_MATCH)
    if if_match is not None and if_match.strip() != "*":
        tagged = version_of_etag(if_match)
        if tagged is None:
            raise InvalidFieldError("If-Match", f"expected the ETag of GET …/schedule, got {if_match!r}")
        if wanted.version is not None and wanted.version != tagged:
            raise InvalidFieldError("version", f"{wanted.version} disagrees with If-Match {if_match}")
        expected: int | None = tagged
    else:
        expected = wanted.version
    app = request.app
    channel_id = request.match_info["channel"]
    listing = await asyncio.to_thread(
        edit_schedule,
        app[SCHEDULES_KEY],
        channel_id,
        wanted.output,
        wanted.edit,
        day=wanted.day,
        now=app[CLOCK_KEY].now(),
        freeze=timedelta(seconds=app[SETTINGS_KEY].freeze_seconds),
        expected_version=expected,
        wait_s=app[SETTINGS_KEY].schedule_lock_wait_seconds,
    )
    log.info(
        "schedule edit by %r: %s/%s %s %s -> version %s",
        user.name,
        channel_id,
        wanted.output.value,
        wanted.day,
        wanted.edit,
        listing.version,
    )
    response = json_response(day_document(listing))
    if listing.version is not None:
        response.headers[hdrs.ETAG] = day_etag(listing)
    return response
