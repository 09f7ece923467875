"""Segments served with their timestamps moved: how the slate stands in for media that cannot air.

``GET /shifted/{shift_us}/{key}`` is the stored segment at ``key`` with every PTS/DTS/PCR (MPEG-TS)
or tfdt (fMP4) moved by ``shift_us``, so that slate loop segments play as one continuous stream
inside an event (rcmedia.core.slate_stand_in explains why no EXT-X-DISCONTINUITY may be added).
An MPEG-TS loop segment shifted by whole passes of the loop also has its continuity counters moved
on, so they run on where the loop wraps (rcmedia.playout.shifted).
The same URL always gives the same bytes: caches keep it like any segment.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import PurePosixPath

from aiohttp import hdrs, web

from rcmedia.errors import MediaFormatError, NotFoundError
from rcmedia.storage.base import safe_key
from rcmedia.web.byte_ranges import bytes_response
from rcmedia.web.keys import SHIFTED_KEY, STORAGE_KEY
from rcmedia.web.media import IMMUTABLE, MEDIA_TYPES

log = logging.getLogger(__name__)


async def shifted_segment(request: web.Request) -> web.Response:
    # UnsafePathError and NotFoundError: 404; a shift that is not whole 90 kHz ticks
    # (InvalidFieldError): 400 (errors middleware)
    key = safe_key(request.match_info["key"])
    suffix = PurePosixPath(key).suffix.lower()
    if suffix not in (".ts", ".m4s"):
        raise NotFoundError("media segment", key)
    shift_us = int(request.match_info["shift"])
    storage = request.app[STORAGE_KEY]
    if not await asyncio.to_thread(storage.exists, key):
        raise NotFoundError("media segment", key)
    try:
        data = await asyncio.to_thread(request.app[SHIFTED_KEY].get, storage, key, shift_us)
    except MediaFormatError as exc:
        # not a segment this origin would list as shifted (a player only follows URLs it was given)
        log.warning("shifted segment %r: %s", key, exc)
        raise web.HTTPNotFound(text=f"segment {key!r} cannot be shifted: {exc}\n") from None
    headers: dict[str, str] = {hdrs.CONTENT_TYPE: MEDIA_TYPES[suffix], hdrs.CACHE_CONTROL: IMMUTABLE}
    return bytes_response(request, data, headers)
