"""The viewer pages: ``/watch`` (every channel, now and next), ``/watch/{channel}`` (the live
player, a broadcast day's guide, replays of what aired), ``/watch/vod/{asset}`` (on demand).

HTML comes from the jinja2 templates in ``templates/`` with autoescaping on: titles come from
editors and must never become markup. The player is ``static/player.js`` over hls.js (see
:mod:`rcmedia.web.static_files`); the URLs it plays are the origin's own (DESIGN "HTTP").
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import hdrs, web

from rcmedia.errors import NotFoundError
from rcmedia.web.keys import CATALOG_KEY, CLOCK_KEY, SCHEDULES_KEY
from rcmedia.web.params import date_param, int_param
from rcmedia.web.static_files import page_assets
from rcmedia.web.watch_guide import (
    Replay,
    channel_page,
    channel_summaries,
    day_label,
    vod_page,
    watch_url,
)

TEMPLATES = Path(__file__).resolve().parent / "templates"
HTML_TYPE = "text/html; charset=utf-8"
ASSET_ID = re.compile(r"[0-9]{1,18}")  # as the API's routes: more would overflow the database's integer
# a replay is at most a broadcast day (25 hours across a daylight-saving change) plus rounding
MAX_REPLAY_SECONDS = 25 * 3600 + 2
LAST_UTC = 253_402_214_400 - MAX_REPLAY_SECONDS  # 9999-12-31: beyond it Python has no datetimes

# Scripts only from this origin (so an injected <script> cannot run even if escaping failed);
# media and playlists may come from a storage redirect (S3) and hls.js feeds the video from a
# blob: URL and runs its transmuxer in a blob: worker.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: http: https:",
        "media-src 'self' blob: http: https:",
        "connect-src 'self' http: https:",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'none'",
    )
)
HEADERS = {
    hdrs.CONTENT_TYPE: HTML_TYPE,
    hdrs.CACHE_CONTROL: "no-cache",  # what is on now changes by the minute
    hdrs.CONTENT_SECURITY_POLICY: CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def clock_duration(seconds: float | None) -> str:
    """``1:02:03`` or ``2:03``; empty when unknown."""
    if seconds is None:
        return ""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def is_picture_url(url: str) -> bool:
    """Logos are shown only from web addresses or this origin's paths, never ``javascript:`` and the like."""
    return url.startswith(("https://", "http://", "/"))


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["clock_duration"] = clock_duration
    env.filters["day_label"] = day_label
    env.tests["picture_url"] = is_picture_url
    env.globals["watch_url"] = watch_url
    return env


def render(template: str, context: Mapping[str, Any]) -> str:
    """A page; blocking (the first render of a template reads and compiles it)."""
    return environment().get_template(template).render(assets=page_assets(), **context)


async def html(template: str, *, status: int = 200, **context: Any) -> web.Response:
    text = await asyncio.to_thread(render, template, context)
    return web.Response(status=status, body=text.encode("utf-8"), headers=HEADERS)


async def not_found(error: NotFoundError | None) -> web.Response:
    return await html("not_found.html", status=404, error=error)


def replay_param(query: Mapping[str, str]) -> Replay | None:
    """``?utc=START&duration=SECONDS`` (both or neither), as the catch-up URLs take them."""
    utc = int_param(query, "utc", default=-1, minimum=0, maximum=LAST_UTC)
    duration = int_param(query, "duration", default=-1, minimum=1, maximum=MAX_REPLAY_SECONDS)
    if (utc < 0) != (duration < 0):
        raise web.HTTPBadRequest(
            text="query parameters 'utc' and 'duration' go together: give both or neither"
        )
    return None if utc < 0 else Replay(utc=utc, duration=duration)


async def watch_index(request: web.Request) -> web.Response:
    """Every channel with what is on now and next."""
    app = request.app
    channels = await asyncio.to_thread(channel_summaries, app[SCHEDULES_KEY], app[CLOCK_KEY].now())
    return await html("watch_index.html", channels=channels)


async def watch_channel(request: web.Request) -> web.Response:
    """The live channel, ``?date=`` a broadcast day's guide, ``?utc=&duration=`` a replay instead of live."""
    app = request.app
    day = date_param(request.query, "date")
    replay = replay_param(request.query)
    try:
        page = await asyncio.to_thread(
            channel_page,
            app[SCHEDULES_KEY],
            request.match_info["channel"],
            day=day,
            replay=replay,
            now=app[CLOCK_KEY].now(),
        )
    except NotFoundError as exc:
        return await not_found(exc)
    player = {
        "source": page.source_url,
        "live": page.live_url,
        "serverNow": page.server_now.timestamp(),
        "guideIsToday": page.day == page.today,
    }
    return await html("watch_channel.html", page=page, player=player)


async def watch_vod(request: web.Request) -> web.Response:
    """An on-demand asset: the player, its title and description."""
    raw = request.match_info["asset"]
    try:
        if not ASSET_ID.fullmatch(raw):
            raise NotFoundError("asset", raw)
        page = await asyncio.to_thread(vod_page, request.app[CATALOG_KEY], int(raw))
    except NotFoundError as exc:
        return await not_found(exc)
    return await html("watch_vod.html", page=page, player={"source": page.master_url})


async def watch_missing(request: web.Request) -> web.Response:
    """Any other ``/watch/…`` address: the friendly 404, with the way back to the channels."""
    return await not_found(None)
