"""Live channels over HTTP: the master playlist of an output, and each rung's sliding window.

The playlists are computed from the schedule and the clock (rcmedia.core.timeline); nothing is
transcoded. A media playlist is the same bytes for every viewer until the next segment boundary,
so it says so to caches in front (``Cache-Control: max-age`` up to that instant, ``Expires`` at it).

Shared caches (the nginx edge, deploy/nginx/) get three more directives, which nginx honours:
``s-maxage`` counts in nginx's whole seconds (see :func:`live_cache_control`),
``stale-while-revalidate=1`` lets the edge answer from its copy while one request fetches the next
(so a crowd at the boundary reaches the origin once), and ``stale-if-error`` bounds how long the edge
may keep answering with the last playlist when no origin answers: three target durations, what a
player holding the recommended three segments behind the live edge still has to play from it
(RFC 8216bis §6.3.3); after that a frozen list only stalls players, so they get the error instead.
"""

from __future__ import annotations

import functools
from email.utils import format_datetime

from aiohttp import hdrs, web
from multidict import CIMultiDict, CIMultiDictProxy

from rcmedia.core.models import Output
from rcmedia.core.schedule import US
from rcmedia.core.timeline import at_us, us_of
from rcmedia.errors import NotFoundError
from rcmedia.playout.live import RenderedPlaylist
from rcmedia.web.keys import CLOCK_KEY, LIVE_KEY
from rcmedia.web.playlist_response import PLAYLIST_TYPE, accepts_gzip, playlist_response

MASTER_MAX_AGE = 60  # the rungs change only with the profile or the catalog's peaks
_OUTPUTS = {output.value: output for output in Output}  # a dict lookup, not Enum's __call__

# Every viewer reloads the media playlist each segment, so its cache hit is the origin's hottest
# path: rcmedia.web.fast_lane answers it before aiohttp's request cycle, and this handler renders
# it (and answers where the lane does not). What every request would recompute (an RFC 5322 date,
# the Accept-Encoding parse, the header set) is kept, bounded, and looked up.
takes_gzip = functools.lru_cache(maxsize=256)(accepts_gzip)  # a client sends one value


STALE_IF_ERROR_TARGETS = 3  # target durations an edge may answer with the last playlist when origins fail


def live_cache_control(valid_until_us: int, now_us: int, target_duration: int) -> str:
    """``Cache-Control`` of a live media playlist at ``now_us`` that changes at ``valid_until_us``.

    ``max-age`` is the whole seconds left (0 in the last second: a browser asks again).
    ``s-maxage`` is for nginx, which keeps a response with max-age ``n`` until its clock's whole
    second reaches ``floor(now) + n + 1`` and takes ``n = 0`` as "do not store": this ``n`` makes
    that the first whole second at or after the boundary (never before it, less than a second
    after), and at least 1, so a request in the boundary's own second is still stored.
    """
    max_age = max(0, (valid_until_us - now_us) // US)
    shared = max(1, -(-valid_until_us // US) - now_us // US - 1)
    return _cache_control(max_age, shared, STALE_IF_ERROR_TARGETS * target_duration)


@functools.lru_cache(maxsize=4096)
def _cache_control(max_age: int, shared: int, stale_if_error: int) -> str:
    return (
        f"public, max-age={max_age}, s-maxage={shared}, stale-while-revalidate=1, "
        f"stale-if-error={stale_if_error}"
    )


@functools.lru_cache(maxsize=16384)  # per expiry and max-age in flight; a miss costs 5 µs
def media_playlist_headers(valid_until_us: int, cache_control: str, gzipped: bool) -> CIMultiDictProxy[str]:
    headers = CIMultiDict(
        {
            hdrs.CONTENT_TYPE: PLAYLIST_TYPE,
            hdrs.CACHE_CONTROL: cache_control,
            hdrs.EXPIRES: format_datetime(at_us(valid_until_us), usegmt=True),
            hdrs.VARY: "Accept-Encoding",
        }
    )
    if gzipped:
        headers[hdrs.CONTENT_ENCODING] = "gzip"
    return CIMultiDictProxy(headers)  # read-only: shared by every response that copies it


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
    return await _live_media_playlist(request, continuous=False)


async def live_continuous_media_playlist(request: web.Request) -> web.Response:
    """The same window without EXT-X-DISCONTINUITY (rcmedia.core.live_playlist); its master is
    :func:`live_master` (relative rung URIs resolve under ``continuous/``)."""
    return await _live_media_playlist(request, continuous=True)


async def _live_media_playlist(request: web.Request, *, continuous: bool) -> web.Response:
    app = request.app
    live = app[LIVE_KEY]
    now = app[CLOCK_KEY].now()
    now_us = us_of(now)
    match = request.match_info
    channel_id, rung = match["channel"], match["rendition"]
    gzipped = takes_gzip(request.headers.get(hdrs.ACCEPT_ENCODING, ""))
    rendered = live.cached_playlist(
        channel_id, match["output"], rung, now, now_us, gzipped=gzipped, continuous=continuous
    )
    if rendered is None:  # not rendered yet, stale, or the channel output needs a (re)load
        loaded = await live.channel_output(channel_id, output_of(request), now)
        if rung not in loaded.rungs:
            raise NotFoundError("rendition", f"{loaded.channel.id}/{loaded.output.value}/{rung}")
        rendered = live.media_playlist(loaded, rung, now_us, gzipped=gzipped, continuous=continuous)
    return _media_response(rendered, now_us, gzipped=gzipped)


def playlist_answer(rendered: RenderedPlaylist, now_us: int, *, gzipped: bool) -> tuple[bytes, str, bool]:
    """What a client gets of ``rendered`` at ``now_us``: the body (gzipped when it takes gzip),
    its ``Cache-Control`` (caches keep it to the next segment boundary), and whether it is gzipped."""
    cache_control = live_cache_control(rendered.valid_until_us, now_us, rendered.source.target_duration)
    if gzipped and rendered.gzipped is not None:
        return rendered.gzipped, cache_control, True
    return rendered.body, cache_control, False


def _media_response(rendered: RenderedPlaylist, now_us: int, *, gzipped: bool) -> web.Response:
    body, cache_control, gzipped = playlist_answer(rendered, now_us, gzipped=gzipped)
    return web.Response(
        body=body, headers=media_playlist_headers(rendered.valid_until_us, cache_control, gzipped)
    )
