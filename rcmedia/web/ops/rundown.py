"""``GET /ops/channels/{id}/schedule?output=&date=``: the rundown editor of one broadcast day.

The page is a shell: the channel, the output switch and the day navigation are rendered here; the
rows come from ``GET /api/v1/channels/{id}/schedule`` (``static/ops/rundown.js``), so that the
same code draws them at load, after a save and when the schedule events say another operator
saved the day. Every write goes through the JSON API with the day's version.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from aiohttp import web

from rcmedia.core.accounts import Role
from rcmedia.core.broadcast_days import at_or_after_day_start, day_on_air
from rcmedia.core.models import Output
from rcmedia.core.schedule import Channel
from rcmedia.service.channels import channel_and_output
from rcmedia.web.documents import iso_utc
from rcmedia.web.keys import CLOCK_KEY, SCHEDULES_KEY, SETTINGS_KEY
from rcmedia.web.ops.pages import ops_html, page_user
from rcmedia.web.params import date_param, enum_param

FPS = 25  # the house frame rate: starts and durations are shown to the frame (HH:MM:SS:FF)


@dataclass(frozen=True, kw_only=True, slots=True)
class RundownDay:
    channel: Channel
    output: Output
    day: date

    @property
    def previous(self) -> date:
        return self.day - timedelta(days=1)

    @property
    def next(self) -> date:
        return self.day + timedelta(days=1)


def slot_starts(channel: Channel, day: date) -> dict[str, str | None]:
    """Each fixed slot's start within ``day`` (UTC, ISO): where the page flags a late start or an overrun."""
    return {slot.id: iso_utc(at_or_after_day_start(channel, day, slot.start)) for slot in channel.grid.slots}


async def rundown_page(request: web.Request) -> web.Response:
    user = await page_user(request, Role.OPERATOR, channel=request.match_info["channel"])
    output = enum_param(request.query, "output", Output)
    wanted = date_param(request.query, "date")
    now: datetime = request.app[CLOCK_KEY].now()
    channel, chosen = await asyncio.to_thread(
        channel_and_output, request.app[SCHEDULES_KEY], request.match_info["channel"], output
    )
    shown = RundownDay(channel=channel, output=chosen, day=wanted or day_on_air(channel, now))
    base = f"/api/v1/channels/{channel.id}"
    config = {
        "channel": channel.id,
        "output": chosen.value,
        "day": shown.day.isoformat(),
        "timezone": channel.timezone,
        "dayStart": channel.day_start.strftime("%H:%M:%S"),
        "fps": FPS,
        "now": iso_utc(now),
        "freezeSeconds": request.app[SETTINGS_KEY].freeze_seconds,
        "slots": slot_starts(channel, shown.day),
        "urls": {
            "day": f"{base}/schedule?output={chosen.value}&date={shown.day.isoformat()}",
            "edits": f"{base}/schedule/edits",
            "rebuild": f"{base}/schedule/rebuild",
            "copyLocks": f"{base}/schedule/copy-locks",
            "events": f"{base}/schedule/events?output={chosen.value}",
            "assets": "/api/v1/assets",
        },
    }
    return await ops_html(request, "ops/rundown.html", user=user, config=config, shown=shown)
