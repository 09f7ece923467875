"""``GET /channels.m3u?output=``: the IPTV channel list that Kodi's IPTV Simple client and TiviMate load.

Players resolve nothing, so every URL in it is absolute: built on ``public_url`` when it is set,
otherwise on the scheme and host the request came in on, so the list works on whatever address and
port the viewer reached (a LAN address, a forwarded port). Behind a proxy that rewrites the host or
terminates TLS, set ``public_url``.

Served as ``audio/x-mpegurl``, the type of M3U channel lists (``application/vnd.apple.mpegurl`` is
the HLS playlists'); both players read either, and neither looks at the type for a list URL.
"""

from __future__ import annotations

import asyncio
import re

from aiohttp import hdrs, web

from rcmedia.core.m3u import render_channel_list
from rcmedia.core.models import Output
from rcmedia.service.channels import listed_channels
from rcmedia.web.keys import SCHEDULES_KEY, SETTINGS_KEY
from rcmedia.web.params import enum_param
from rcmedia.web.playlist_response import accepts_gzip

M3U_TYPE = "audio/x-mpegurl; charset=utf-8"
MAX_AGE = 300
DEFAULT_OUTPUT = Output.IPTV
# what a Host header may hold to be echoed into URLs: a name or address, an optional port
_HOST = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")


def public_base_url(request: web.Request) -> str:
    """The origin viewers reach: ``public_url``, else the request's own ``scheme://host``."""
    settings = request.app[SETTINGS_KEY]
    host = request.host
    if settings.public_url or not _HOST.fullmatch(host):
        return settings.base_url()
    return f"{request.scheme}://{host}"


async def channels_m3u(request: web.Request) -> web.Response:
    output = enum_param(request.query, "output", Output) or DEFAULT_OUTPUT
    listed = await asyncio.to_thread(listed_channels, request.app[SCHEDULES_KEY])
    base = public_base_url(request)
    text = render_channel_list(
        [c.channel for c in listed],
        output=output,
        base_url=base,
        epg_url=f"{base}/epg.xml?output={output}",
    )
    response = web.Response(
        body=text.encode("utf-8"),
        headers={
            hdrs.CONTENT_TYPE: M3U_TYPE,
            hdrs.CACHE_CONTROL: f"public, max-age={MAX_AGE}",
            hdrs.VARY: "Accept-Encoding",
        },
    )
    if accepts_gzip(request.headers.get(hdrs.ACCEPT_ENCODING, "")):
        response.enable_compression(web.ContentCoding.gzip)
    return response
