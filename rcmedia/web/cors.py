"""CORS for what browsers fetch cross-origin: playlists and segments (hls.js runs on other sites),
and the channel list and guide that web-based IPTV players load.

Headers are added in ``on_response_prepare`` so that every answer on those paths carries them,
error answers included: a player can only react to a 404 it is allowed to read.
"""

from __future__ import annotations

from aiohttp import hdrs, web

from rcmedia.web.keys import SETTINGS_KEY

CORS_PREFIXES = ("/live/", "/catchup/", "/vod/", "/media/", "/air/", "/shifted/", "/channels.m3u", "/epg.xml")
# hls.js reads Content-Length for its bandwidth estimate and Content-Range for byte-range requests.
EXPOSED = "Content-Length, Content-Range"


def cors_headers(origin: str) -> dict[str, str]:
    """What a response on a CORS path carries, allowing ``origin`` (none when it is empty)."""
    if not origin:
        return {}
    return {hdrs.ACCESS_CONTROL_ALLOW_ORIGIN: origin, hdrs.ACCESS_CONTROL_EXPOSE_HEADERS: EXPOSED}


async def add_cors_headers(request: web.Request, response: web.StreamResponse) -> None:
    if request.path.startswith(CORS_PREFIXES):
        response.headers.update(cors_headers(request.app[SETTINGS_KEY].cors_origin))


async def preflight(request: web.Request) -> web.Response:
    """Answer an OPTIONS preflight: read-only methods, and ``Range`` for segment byte ranges."""
    return web.Response(
        status=204,
        headers={
            hdrs.ACCESS_CONTROL_ALLOW_METHODS: "GET, HEAD, OPTIONS",
            hdrs.ACCESS_CONTROL_ALLOW_HEADERS: "Range",
            hdrs.ACCESS_CONTROL_MAX_AGE: "86400",
        },
    )
