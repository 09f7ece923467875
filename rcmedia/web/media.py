"""Media files behind storage keys: segments, init segments, renditions' playlists, pictures.

Local storage is served with ``web.FileResponse`` (sendfile, byte ranges, HEAD, conditional
requests). Each publish writes under a prefix never used before, so a file at a key never changes:
caches may keep it for a year.
"""

from __future__ import annotations

import asyncio
from pathlib import PurePosixPath

from aiohttp import hdrs, web

from rcmedia.errors import NotFoundError
from rcmedia.storage.base import safe_key
from rcmedia.web.keys import STORAGE_KEY

# Set explicitly: the system's mime tables disagree (``.ts`` is Qt Linguist or TypeScript on some).
MEDIA_TYPES = {
    ".ts": "video/mp2t",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".m3u8": "application/vnd.apple.mpegurl",
    ".aac": "audio/aac",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
}
IMMUTABLE = "public, max-age=31536000, immutable"


async def media_file(request: web.Request) -> web.FileResponse:
    key = safe_key(request.match_info["key"])  # UnsafePathError: 404 (errors middleware)
    media_type = MEDIA_TYPES.get(PurePosixPath(key).suffix.lower())
    if media_type is None:  # only media leaves the store, whatever else lands in it
        raise NotFoundError("media file", key)
    path = await asyncio.to_thread(request.app[STORAGE_KEY].local_path, key)
    if path is None:
        raise NotFoundError("media file", key)
    return web.FileResponse(path, headers={hdrs.CONTENT_TYPE: media_type, hdrs.CACHE_CONTROL: IMMUTABLE})
