"""``GET /channels.m3u?output=``: the IPTV channel list that Kodi's IPTV Simple client and TiviMate load.

Players resolve nothing, so every URL in it is absolute: built on ``public_url`` when it is set,
otherwise on the scheme and host the request came in on, so the list works on whatever address and
port the viewer reached (a LAN address, a forwarded port); a list built from the request is then
``private`` (see :mod:`rcmedia.web.base_url`). Behind a proxy or a cache, set ``public_url``.

Served as ``audio/x-mpegurl``, the type of M3U channel lists (``application/vnd.apple.mpegurl`` is
the HLS playlists'); both players read either, and neither looks at the type for a list URL.
"""

from __future__ import annotations

import asyncio

from aiohttp import hdrs, web

from rcmedia.core.m3u import render_channel_list
from rcmedia.core.models import Output
from rcmedia.service.channels import listed_channels
from rcmedia.web.base_url import viewer_base
from rcmedia.web.keys import SCHEDULES_KEY
from rcmedia.web.params import enum_param
from rcmedia.web.playlist_response import accepts_gzip

M3U_TYPE = "audio/x-mpegurl; charset=utf-8"
MAX_AGE = 300
DEFAULT_OUTPUT = Output.IPTV


async def channels_m3u(request: web.Request) -> web.Response:
    output = enum_param(request.query, "output", Output) or DEFAULT_OUTPUT
    listed = await asyncio.to_thread(listed_channels, request.app[SCHEDULES_KEY])
    base = viewer_base(request)
    text = render_channel_list(
        [c.channel for c in listed],
        output=output,
        base_url=base.url,
        epg_url=f"{base.url}/epg.xml?output={output}",
    )
    response = web.Response(
        body=text.encode("utf-8"),
        headers={hdrs.CONTENT_TYPE: M3U_TYPE, **base.cache_headers(MAX_AGE)},
    )
    if accepts_gzip(request.headers.get(hdrs.ACCEPT_ENCODING, "")):
        response.enable_compression(web.ContentCoding.gzip)
    return response
