"""``GET /air/{start_us}/{cut}/{key}``: a stored segment as the channel airs it (rcmedia.playout.aired).

Every live and catch-up playlist lists its segments so. The first request for one rewrites it
(once for every viewer asking at that moment, on threads of its own) and keeps it; later ones
are sent from the kept file, with ``sendfile`` before aiohttp sees them (rcmedia.web.fast_lane),
or read from it here (byte ranges, conditional requests, HEAD). Either way with the same
``ETag``, the digest the file is kept under. The URL names the bytes for good, so
caches may keep them for a year.

A stored segment that is missing or unreadable is answered with the house slate in its place,
rewritten to the same air time (rcmedia.playout.missing_segments), kept by caches a minute only.
One that cannot be rewritten (not a segment this origin made) is answered likewise; if the slate
cannot stand in either, with the stored bytes as they are: a listed segment is never an error.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import PurePosixPath

from aiohttp import hdrs, web

from rcmedia.errors import MediaFormatError, NotFoundError, StorageError
from rcmedia.playout.aired import CUT_ENDS
from rcmedia.storage.base import safe_key
from rcmedia.web.byte_ranges import bytes_response
from rcmedia.web.keys import AIRED_KEY, CLOCK_KEY, MISSING_KEY, STORAGE_KEY
from rcmedia.web.media import IMMUTABLE, MEDIA_TYPES, STAND_IN_CACHE

log = logging.getLogger(__name__)

SEGMENT_SUFFIXES = (".ts", ".m4s")


async def aired_segment(request: web.Request) -> web.StreamResponse:
    # UnsafePathError and NotFoundError: 404; BusyError (too many rewrites waiting): 503 (errors middleware)
    key = safe_key(request.match_info["key"])
    suffix = PurePosixPath(key).suffix.lower()
    cut = request.match_info["cut"]
    if suffix not in SEGMENT_SUFFIXES or cut not in CUT_ENDS:
        raise NotFoundError("media segment", key)
    start_us = int(request.match_info["start"])
    try:
        found = await request.app[AIRED_KEY].get(key, start_us, cut)
    except (NotFoundError, StorageError):
        return await _stand_in(request, key, start_us)
    except MediaFormatError as exc:
        log.error("aired segment %r at %d cannot be rewritten: %s", key, start_us, exc)
        return await _stand_in(request, key, start_us, readable=True)
    headers: dict[str, str] = {
        hdrs.CONTENT_TYPE: MEDIA_TYPES[suffix],
        hdrs.CACHE_CONTROL: IMMUTABLE,
        hdrs.ETAG: found.etag,
    }
    return bytes_response(request, found.data, headers)


async def _stand_in(request: web.Request, key: str, start_us: int, *, readable: bool = False) -> web.Response:
    """The slate's piece in place of the stored segment, as aired at its air time (its audio cut to
    its pictures at both ends: it joins nothing; kept like any aired segment, so a missing file
    costs one rewrite per airing, not one per viewer); else (``readable``) the stored bytes as
    they are; else 404, when ``key`` names no segment of a published asset."""
    slate_key = await asyncio.to_thread(
        request.app[MISSING_KEY].stand_in_key, key, request.app[CLOCK_KEY].now()
    )
    try:
        if slate_key is None:
            raise NotFoundError("a stand-in for", key)
        data = (await request.app[AIRED_KEY].get(slate_key, start_us, "inout")).data
    except (MediaFormatError, StorageError, NotFoundError) as exc:
        if not readable:
            raise NotFoundError("media segment", key) from None
        log.error(
            "the slate cannot stand in for %r at %d (%s): its stored bytes go as they are", key, start_us, exc
        )
        data = await asyncio.to_thread(request.app[STORAGE_KEY].read_bytes, key)
    suffix = PurePosixPath(key).suffix.lower()
    headers: dict[str, str] = {hdrs.CONTENT_TYPE: MEDIA_TYPES[suffix], hdrs.CACHE_CONTROL: STAND_IN_CACHE}
    return bytes_response(request, data, headers)
