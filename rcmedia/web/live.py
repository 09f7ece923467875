"""Live channels over HTTP: the master playlist of an output, and each rung's sliding window.

The playlists are computed from the schedule and the clock (rcmedia.core.timeline); nothing is
transcoded. A media playlist is the same bytes for every viewer until the next segment boundary,
so it says so to caches in front (``Cache-Control: max-age`` up to that instant, ``Expires`` at it).
"""

from __future__ import annotations

import functools
from email.utils import format_datetime

from aiohttp import hdrs, web

from rcmedia.core.models import Output
from rcmedia.core.schedule import US
from rcmedia.core.timeline import at_us, us_of
from rcmedia.errors import NotFoundError
from rcmedia.web.keys import CLOCK_KEY, LIVE_KEY
from rcmedia.web.playlist_response import PLAYLIST_TYPE, accepts_gzip, playlist_response

MASTER_MAX_AGE = 60  # the rungs change only with the profile or the catalog's peaks
_OUTPUTS = {output.value: output for output in Output}  # a dict lookup, not Enum's __call__

# A cached media playlist is answered in a few µs of our own code, next to aiohttp's ~80 µs per
# request (bench/origin.py): what every request recomputed (an RFC 5322 date, the
# Accept-Encoding parse, the Cache-Control text) is kept, bounded, and looked up instead.
_accepts_gzip = functools.lru_cache(maxsize=256)(accepts_gzip)  # a client sends one value


@functools.lru_cache(maxsize=8192)  # one boundary per channel output and segment in flight
def _http_date(us: int) -> str:
    return format_datetime(at_us(us), usegmt=True)


@functools.lru_cache(maxsize=1024)
def _cache_control(max_age: int) -> str:
    return f"public, max-age={max_age}"


def output_of(request: web.Request) -> Output:
    output = _OUTPUTS.get(request.match_info["output"])
    if output is None:
        raise NotFoundError("output", request.match_info["output"])
    return output


async def live_master(request: web.Request) -> web.Response:
    live = request.app[LIVE_KEY]
    loaded = await live.channel_output(
        request.match_info["channel"], output_of(request), request.app[CLOCK_KEY].now()
    )
    return playlist_response(request, loaded.master, max_age=MASTER_MAX_AGE)


async def live_media_playlist(request: web.Request) -> web.Response:
    app = request.app
    live = app[LIVE_KEY]
    now = app[CLOCK_KEY].now()
    match = request.match_info
    loaded = await live.channel_output(match["channel"], output_of(request), now)
    rung = match["rendition"]
    if rung not in loaded.rungs:
        raise NotFoundError("rendition", f"{loaded.channel.id}/{loaded.output.value}/{rung}")
    now_us = us_of(now)
    gzipped = _accepts_gzip(request.headers.get(hdrs.ACCEPT_ENCODING, ""))
    rendered = live.media_playlist(loaded, rung, now_us, gzipped=gzipped)
    until = rendered.valid_until_us
    headers = {
        hdrs.CONTENT_TYPE: PLAYLIST_TYPE,
        hdrs.CACHE_CONTROL: _cache_control(max(0, (until - now_us) // US)),
        hdrs.EXPIRES: _http_date(until),
        hdrs.VARY: "Accept-Encoding",
    }
    if gzipped and rendered.gzipped is not None:
        headers[hdrs.CONTENT_ENCODING] = "gzip"
        return web.Response(body=rendered.gzipped, headers=headers)
    return web.Response(body=rendered.body, headers=headers)
