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

from aiohttp import web

from rcmedia.core.accounts import Role
from rcmedia.core.changes import parse_schedule_edit
from rcmedia.service.schedules import edit_schedule
from rcmedia.web.access import require_channel
from rcmedia.web.channels_api import day_answer
from rcmedia.web.keys import CLOCK_KEY, SCHEDULES_KEY, SETTINGS_KEY
from rcmedia.web.schedule_documents import day_resource
from rcmedia.web.writes import expected_version, read_json

log = logging.getLogger(__name__)


async def schedule_edit(request: web.Request) -> web.StreamResponse:
    channel_id = request.match_info["channel"]
    user = await require_channel(request, Role.OPERATOR, channel_id)
    wanted = parse_schedule_edit(await read_json(request))
    app = request.app
    expected = expected_version(request, day_resource(channel_id, wanted.output, wanted.day), wanted.version)
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
        actor=user.name,
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
    return day_answer(listing)
