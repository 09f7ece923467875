"""Resumable uploads at ``/api/v1/uploads``: the tus 1.0.0 protocol, for editors and admins.

https://tus.io/protocols/resumable-upload: the core protocol (HEAD, PATCH, OPTIONS) and the
creation, creation-with-upload, termination and expiration extensions. Any tus client works
unmodified (tus-js-client, Uppy, tuspy). Limits are checked on the headers, before a byte is
stored: ``Upload-Length`` over ``max_upload_bytes`` is 413, a file name that is not a media
container 415, bad metadata 400. Bodies are streamed to the staging folder
(:mod:`rcmedia.ingest.uploads`) a chunk at a time; the PATCH that brings the last byte queues the
ingest job and names it in ``Rcmedia-Job``, as ``GET /api/v1/uploads/{id}`` does afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import ClientPayloadError, hdrs, web

from rcmedia.core import tus
from rcmedia.core.accounts import Role, User
from rcmedia.core.audit import AuditAction
from rcmedia.errors import CatalogError, InvalidFieldError, NotFoundError, RejectedInputError, StorageError
from rcmedia.ingest.context import IngestContext
from rcmedia.ingest.uploads import Upload, UploadStaging
from rcmedia.web.access import TUS_PATH, require_role
from rcmedia.web.json_response import json_response
from rcmedia.web.keys import CATALOG_KEY, CLOCK_KEY, SETTINGS_KEY

log = logging.getLogger(__name__)

UPLOADS_PATH = TUS_PATH
STAGING_KEY = web.AppKey("upload_staging", UploadStaging)
INGEST_KEY = web.AppKey("upload_ingest", IngestContext)
JOB_HEADER = "Rcmedia-Job"
CHUNK = 256 * 1024  # bytes read from the socket and written to disk at a time
SWEEP_SECONDS = 600.0  # how often expired uploads are deleted (and once at start)

UPLOAD_SCHEMA = {
    "type": "object",
    "required": ["id", "offset", "length", "metadata", "expires", "job_id"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string"},
        "offset": {"type": "integer", "minimum": 0},
        "length": {"type": "integer", "minimum": 0},
        "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
        "expires": {"type": "string", "format": "date-time"},
        "job_id": {"type": ["integer", "null"], "description": "the ingest job, once the last byte arrived"},
    },
}


def _check_version(request: web.Request) -> None:
    """§Tus-Resumable: every request but OPTIONS names the protocol version; else 412."""
    given = request.headers.get("Tus-Resumable")
    if given != tus.VERSION:
        raise web.HTTPPreconditionFailed(
            text=f"send Tus-Resumable: {tus.VERSION} (got {given!r}); this server speaks tus {tus.VERSION}",
            headers={"Tus-Version": tus.VERSION},
        )


async def _editor(request: web.Request) -> User:
    _check_version(request)
    return await require_role(request, Role.EDITOR)


async def _upload(request: web.Request, user: User) -> Upload:
    """The upload of the URL, if ``user`` may touch it (its owner, or an admin); else 404."""
    now = request.app[CLOCK_KEY].now()
    upload = await asyncio.to_thread(request.app[STAGING_KEY].get, request.match_info["id"], now=now)
    if upload.owner != user.name and not user.role.allows(Role.ADMIN):
        raise NotFoundError("upload", upload.id)  # another editor's upload is none of this one's business
    return upload


def _state_headers(upload: Upload) -> dict[str, str]:
    headers = {
        "Upload-Offset": str(upload.offset),
        "Upload-Expires": tus.http_date(upload.expires),
        hdrs.CACHE_CONTROL: "no-store",
    }
    if upload.job_id is not None:
        headers[JOB_HEADER] = str(upload.job_id)
    return headers


async def options(request: web.Request) -> web.Response:
    """§OPTIONS: what this server speaks; no login needed (it says nothing about any upload)."""
    settings = request.app[SETTINGS_KEY]
    return web.Response(
        status=204,
        headers={
            "Tus-Version": tus.VERSION,
            "Tus-Extension": tus.EXTENSIONS,
            "Tus-Max-Size": str(settings.max_upload_bytes),
        },
    )


async def create(request: web.Request) -> web.Response:
    """§Creation (and creation-with-upload): a new upload, refused on its headers if it cannot be taken."""
    user = await _editor(request)
    if "Upload-Defer-Length" in request.headers:
        raise InvalidFieldError("Upload-Defer-Length", "is not supported: send Upload-Length")
    length = tus.parse_size("Upload-Length", request.headers.get("Upload-Length"))
    limit = request.app[SETTINGS_KEY].max_upload_bytes
    if length > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=length)
    pairs = tus.parse_metadata(request.headers.get("Upload-Metadata"))
    filename = tus.upload_filename(pairs)
    if not tus.is_media_name(filename):
        raise web.HTTPUnsupportedMediaType(
            text=f"{filename!r} is not a media file rcmedia takes (by its extension: video or audio containers)"
        )
    tus.asset_metadata(pairs)  # refused now (400), not when the last byte arrives
    with_body = request.body_exists and request.content_type == tus.OFFSET_TYPE
    if with_body and (request.content_length or 0) > length:
        raise web.HTTPRequestEntityTooLarge(max_size=length, actual_size=request.content_length or 0)
    staging, now = request.app[STAGING_KEY], request.app[CLOCK_KEY].now()
    upload = await asyncio.to_thread(staging.create, length=length, metadata=pairs, owner=user.name, now=now)
    log.info("upload %s of %r (%d bytes) started by %r", upload.id, filename, length, user.name)
    headers = {hdrs.LOCATION: f"{UPLOADS_PATH}/{upload.id}", "Upload-Expires": tus.http_date(upload.expires)}
    if with_body:
        upload = await _append(request, upload, offset=0)
        headers.update(_state_headers(upload))
    return web.Response(status=201, headers=headers)


async def head(request: web.Request) -> web.Response:
    """§HEAD: how far the upload got (what a client resumes from)."""
    upload = await _upload(request, await _editor(request))
    headers = {"Upload-Length": str(upload.length), **_state_headers(upload)}
    if upload.metadata:
        headers["Upload-Metadata"] = tus.render_metadata(upload.metadata)
    return web.Response(status=200, headers=headers)


async def get(request: web.Request) -> web.Response:
    """The upload as JSON (not part of tus): offset, length, metadata, expiry and its job."""
    upload = await _upload(request, await require_role(request, Role.EDITOR))
    document = {
        "id": upload.id,
        "offset": upload.offset,
        "length": upload.length,
        "metadata": upload.metadata,
        "expires": upload.expires.isoformat(),
        "job_id": upload.job_id,
    }
    return json_response(document, headers={hdrs.CACHE_CONTROL: "no-store"})


async def patch(request: web.Request) -> web.Response:
    """§PATCH: append the body at ``Upload-Offset``, which must be where the upload stands (else 409)."""
    user = await _editor(request)
    if request.content_type != tus.OFFSET_TYPE:
        raise web.HTTPUnsupportedMediaType(text=f"send the bytes as Content-Type: {tus.OFFSET_TYPE}")
    offset = tus.parse_size("Upload-Offset", request.headers.get("Upload-Offset"))
    upload = await _upload(request, user)
    upload = await _append(request, upload, offset=offset)
    return web.Response(status=204, headers=_state_headers(upload))


async def delete(request: web.Request) -> web.Response:
    """§Termination: the partial data goes; the address answers 404 from now on."""
    user = await _editor(request)
    upload = await _upload(request, user)
    await asyncio.to_thread(request.app[STAGING_KEY].delete, upload.id, now=request.app[CLOCK_KEY].now())
    log.info("upload %s terminated by %r", upload.id, user.name)
    return web.Response(status=204)


async def _append(request: web.Request, upload: Upload, *, offset: int) -> Upload:
    """Stream the body onto the upload under its lock; queue the job when the last byte is in."""
    staging, now = request.app[STAGING_KEY], request.app[CLOCK_KEY].now()
    with staging.locked(upload.id, now=now) as current:
        if current.job_id is not None or offset != current.offset:
            raise web.HTTPConflict(
                text=f"Upload-Offset is {offset} but the upload stands at {current.offset}; "
                "HEAD it and resume from there"
            )
        remaining = current.length - current.offset
        if (request.content_length or 0) > remaining:
            raise web.HTTPRequestEntityTooLarge(max_size=remaining, actual_size=request.content_length or 0)
        part = await asyncio.to_thread(staging.open_part, current)
        written = 0
        try:
            while chunk := await request.content.read(CHUNK):
                if written + len(chunk) > remaining:
                    written = -1
                    break
                await asyncio.to_thread(part.write, chunk)
                written += len(chunk)
        except ClientPayloadError as exc:
            # the client went away mid-body: what reached the disk stays, and HEAD says how much
            raise ConnectionAbortedError(f"upload {current.id}: body cut short ({exc})") from exc
        finally:
            # shielded: even a cancelled request flushes what it wrote (fsync stays off the loop)
            await asyncio.shield(asyncio.to_thread(staging.close_part, part))
        if written < 0:  # a chunked body longer than Upload-Length: none of it is kept
            await asyncio.to_thread(staging.truncate, current, current.offset)
            raise web.HTTPRequestEntityTooLarge(max_size=remaining, actual_size=remaining + 1)
        stored = await asyncio.to_thread(staging.get, current.id, now=now)
        return await _finish(request, stored) if stored.complete else stored


async def _finish(request: web.Request, upload: Upload) -> Upload:
    ctx, spool = request.app[INGEST_KEY], request.app[SETTINGS_KEY].hot_folder
    try:
        done = await asyncio.to_thread(request.app[STAGING_KEY].finish, upload, ctx, spool)
    except RejectedInputError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from exc
    except StorageError as exc:
        # with remote workers the source goes to the bucket first (rcmedia.ingest.sources); the
        # bytes stay staged, so the client's retry of its last PATCH queues it later
        log.warning("upload %s: cannot hand the source to the workers: %s", upload.id, exc)
        raise web.HTTPServiceUnavailable(
            text=f"the storage is not reachable, try again: {exc}", headers={"Retry-After": "30"}
        ) from exc
    log.info("upload %s complete: ingest job %d", upload.id, done.job_id)
    # recorded after the job was queued, in a transaction of its own (the job is in the hot
    # folder's and the catalog's hands by now): a failure to record is logged, and the upload
    # still answers as finished, since retrying its last PATCH could not queue it again
    after = {"job_id": done.job_id, "length": done.length, "metadata": dict(done.metadata)}
    try:
        await asyncio.to_thread(
            request.app[CATALOG_KEY].audit.record,
            done.owner,
            AuditAction.UPLOAD_FINISH,
            f"upload/{done.id}",
            after=after,
            now=request.app[CLOCK_KEY].now(),
        )
    except CatalogError:
        log.exception("upload %s (job %d) finished but its audit entry was not written", done.id, done.job_id)
    return done


async def add_tus_resumable(request: web.Request, response: web.StreamResponse) -> None:
    """§Tus-Resumable: every answer under /api/v1/uploads names the version, errors included."""
    if request.path == UPLOADS_PATH or request.path.startswith(UPLOADS_PATH + "/"):
        response.headers["Tus-Resumable"] = tus.VERSION


async def sweep_expired(app: web.Application) -> AsyncIterator[None]:
    """Delete expired uploads at start and every ``SWEEP_SECONDS`` while the app runs."""

    async def sweep_forever() -> None:
        while True:
            now = app[CLOCK_KEY].now()
            try:
                deleted = await asyncio.to_thread(app[STAGING_KEY].sweep, now=now)
            except OSError as exc:
                log.warning("the upload sweep failed: %s", exc)
            else:
                if deleted:
                    log.info("deleted %d expired upload(s)", len(deleted))
            await asyncio.sleep(SWEEP_SECONDS)

    task = asyncio.create_task(sweep_forever())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
