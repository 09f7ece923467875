"""Media files behind storage keys: segments, init segments, renditions' playlists, pictures.

Local storage is served with ``web.FileResponse`` (sendfile, byte ranges, HEAD, conditional
requests). Each publish writes under a prefix never used before, so a file at a key never changes:
caches may keep it for a year.

A segment of a published asset that is missing from storage, or unreadable, is answered with the
house slate in its place (rcmedia.playout.missing_segments), never with a 404 a viewer would see;
caches keep that answer a minute only, as the file may come back.

Storage in S3 (:class:`PresignedMedia`) is served, as the ``s3_media`` setting says, by a 307 to a
presigned URL (the store sends the bytes; the default) or by the origin reading and sending them
(``proxy``). A redirect names a URL that stops working when its signature expires: a shared cache
may keep it a tenth of that lifetime only, never the year a segment's bytes are kept.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path, PurePosixPath

from aiohttp import hdrs, web
from aiohttp.abc import AbstractStreamWriter
from aiohttp.web_exceptions import HTTPForbidden, HTTPNotFound
from aiohttp.web_fileresponse import _FileResponseResult
from aiohttp.web_request import BaseRequest

from rcmedia.errors import NotFoundError, StorageError
from rcmedia.storage.base import PresignedMedia, Storage, safe_key
from rcmedia.web.byte_ranges import bytes_response
from rcmedia.web.keys import CLOCK_KEY, MISSING_KEY, SETTINGS_KEY, STORAGE_KEY

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
STAND_IN_CACHE = "public, max-age=60"  # the missing file may be restored


class SegmentFile(web.FileResponse):
    """``web.FileResponse`` that opens, checks and closes its file on the event loop.

    aiohttp's stats and opens the file in a thread, and closes it in another: two hand-offs that
    cost a 700 KB segment more CPU than the sendfile itself (bench/origin.py: 528 µs a request,
    against nginx's 211). Published segments are small, read over and over, and in the page cache
    (as nginx assumes: it opens files in its event loop too), so a stat and an open do not block.
    Everything else (byte ranges, HEAD, conditional requests, sendfile) is aiohttp's own; media is
    never stored pre-compressed, so no ``.gz``/``.br`` variant is looked for.
    """

    async def prepare(self, request: BaseRequest) -> AbstractStreamWriter | None:
        try:
            result, fobj, st, _ = self._make_response(request, "")
        except PermissionError:
            self.set_status(HTTPForbidden.status_code)
            return await web.StreamResponse.prepare(self, request)
        except OSError:
            self.set_status(HTTPNotFound.status_code)
            return await web.StreamResponse.prepare(self, request)
        if result is _FileResponseResult.NOT_ACCEPTABLE:
            self.set_status(HTTPForbidden.status_code)
            return await web.StreamResponse.prepare(self, request)
        if result is _FileResponseResult.PRE_CONDITION_FAILED:
            return await self._precondition_failed(request)
        if result is _FileResponseResult.NOT_MODIFIED:
            return await self._not_modified(request, f"{st.st_mtime_ns:x}-{st.st_size:x}", st.st_mtime)
        assert fobj is not None
        with fobj:
            return await self._prepare_open_file(request, fobj, st, None)


def media_path(storage: Storage, key: str) -> tuple[Path, str]:
    """The local file at storage key ``key`` (from a URL) and its media type.

    :class:`NotFoundError` unless it is a media file in local storage; :class:`UnsafePathError`
    for a key that could leave the store. A stat, run on the event loop (see :class:`SegmentFile`).
    """
    key = safe_key(key)
    media_type = MEDIA_TYPES.get(PurePosixPath(key).suffix.lower())
    if media_type is None:  # only media leaves the store, whatever else lands in it
        raise NotFoundError("media file", key)
    path = storage.local_path(key)
    if path is None:
        raise NotFoundError("media file", key)
    return path, media_type


async def media_file(request: web.Request) -> web.StreamResponse:
    # UnsafePathError and NotFoundError: 404 (errors middleware)
    key = request.match_info["key"]
    storage = request.app[STORAGE_KEY]
    if isinstance(storage, PresignedMedia):
        return await _remote_media(request, storage, key)
    try:
        path, media_type = media_path(storage, key)
    except NotFoundError:
        return await _stand_in(request, key)
    if not os.access(path, os.R_OK):
        return await _stand_in(request, key)
    return SegmentFile(path, headers={hdrs.CONTENT_TYPE: media_type, hdrs.CACHE_CONTROL: IMMUTABLE})


def redirect_cache_control(presign_seconds: int) -> str:
    """How long a shared cache may keep a redirect to a URL signed for ``presign_seconds``."""
    return f"public, max-age={max(1, presign_seconds // 10)}"


async def _remote_media(request: web.Request, storage: PresignedMedia, key: str) -> web.StreamResponse:
    """A media file in S3: redirected to, or read and sent; the slate when it is missing or unreadable."""
    key = safe_key(key)
    media_type = MEDIA_TYPES.get(PurePosixPath(key).suffix.lower())
    if media_type is None:
        raise NotFoundError("media file", key)
    settings = request.app[SETTINGS_KEY]
    store: Storage = request.app[STORAGE_KEY]
    if settings.s3_media == "proxy":
        try:
            data = await asyncio.to_thread(store.read_bytes, key)
        except StorageError:
            return await _stand_in(request, key)
        headers: dict[str, str] = {hdrs.CONTENT_TYPE: media_type, hdrs.CACHE_CONTROL: IMMUTABLE}
        return bytes_response(request, data, headers)

    def signed() -> str | None:
        # looked up first: a missing segment gets the slate here, not a 404 from the store
        return storage.presigned_url(key, settings.s3_presign_seconds) if store.exists(key) else None

    try:
        url = await asyncio.to_thread(signed)
    except StorageError:
        url = None
    if url is None:
        return await _stand_in(request, key)
    return web.Response(
        status=web.HTTPTemporaryRedirect.status_code,
        headers={
            hdrs.LOCATION: url,
            hdrs.CACHE_CONTROL: redirect_cache_control(settings.s3_presign_seconds),
        },
    )


async def _stand_in(request: web.Request, key: str) -> web.Response:
    """The slate in place of the segment at ``key``; :class:`NotFoundError` when ``key`` names no
    segment of a published asset."""
    key = safe_key(key)
    now = request.app[CLOCK_KEY].now()
    found = await asyncio.to_thread(request.app[MISSING_KEY].stand_in, key, now)
    if found is None:
        raise NotFoundError("media file", key)
    headers: dict[str, str] = {
        hdrs.CONTENT_TYPE: MEDIA_TYPES[PurePosixPath(key).suffix.lower()],
        hdrs.CACHE_CONTROL: STAND_IN_CACHE,
    }
    return bytes_response(request, found.data, headers)
