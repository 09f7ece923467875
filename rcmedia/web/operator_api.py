"""Operator actions on schedules: ``POST /api/v1/channels/{id}/schedule/edits``.

The body names the output, the broadcast day and the action (replace, move, insert, delete, lock,
unlock) with its arguments (see :func:`rcmedia.core.changes.parse_schedule_edit`). The edit goes
through :func:`rcmedia.scheduling.epg.edit_schedule`, which validates it and re-chains the counters;
a refused edit is a 409 with the reason, an applied one answers with the edited day.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from aiohttp import web

from rcmedia.catalog.schedules import ScheduleStore
from rcmedia.core.accounts import Role
from rcmedia.core.changes import ScheduleEditRequest, parse_schedule_edit
from rcmedia.errors import NotFoundError, ScheduleError
from rcmedia.scheduling.epg import edit_schedule
from rcmedia.web.access import require_role
from rcmedia.web.json_response import json_response
from rcmedia.web.keys import CLOCK_KEY, SCHEDULES_KEY, SETTINGS_KEY
from rcmedia.web.schedule_documents import day_document
from rcmedia.web.schedule_reads import DayListing, day_listing, find_channel
from rcmedia.web.writes import answers_refusals, read_json

log = logging.getLogger(__name__)

# One edit at a time per process: two edits of one day read the same events, and the second
# saved would silently undo the first.
SCHEDULE_WRITES_KEY = web.AppKey("schedule_writes", asyncio.Lock)


def edit_day(
    store: ScheduleStore,
    channel_id: str,
    wanted: ScheduleEditRequest,
    *,
    now: datetime,
    freeze: timedelta,
) -> DayListing:
    """Apply ``wanted`` to a built day of a channel output; the day as stored afterwards.

    NotFoundError for an unknown channel or an output the channel is not on; ScheduleError (the
    reason) when the day is not built or the edit is refused.
    """
    channel = find_channel(store, channel_id).channel
    if wanted.output not in channel.outputs:
        raise NotFoundError("output", f"{channel_id}/{wanted.output.value}")
    if wanted.day not in store.built_days(channel.id, wanted.output):
        raise ScheduleError(
            f"{channel.id}/{wanted.output.value} has no schedule for {wanted.day}; build it first"
        )
    edit_schedule(store, channel, wanted.output, wanted.edit, day=wanted.day, now=now, freeze=freeze)
    return day_listing(store, channel, wanted.output, wanted.day)


@answers_refusals
async def schedule_edit(request: web.Request) -> web.StreamResponse:
    user = await require_role(request, Role.OPERATOR)
    wanted = parse_schedule_edit(await read_json(request))
    app = request.app
    channel_id = request.match_info["channel"]
    async with app[SCHEDULE_WRITES_KEY]:
        listing = await asyncio.to_thread(
            edit_day,
            app[SCHEDULES_KEY],
            channel_id,
            wanted,
            now=app[CLOCK_KEY].now(),
            freeze=timedelta(seconds=app[SETTINGS_KEY].freeze_seconds),
        )
    log.info(
        "schedule edit by %r: %s/%s %s %s",
        user.name,
        channel_id,
        wanted.output.value,
        wanted.day,
        wanted.edit,
    )
    return json_response(day_document(listing))
