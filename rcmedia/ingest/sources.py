"""Sources for remote workers: with ``executor = "celery"`` and S3 storage, a submitted file travels
through the bucket, since the worker that transcodes it may run on another machine.

The job's ``source_path`` then names the object (``bucket:sources/<digest>/source.<ext>``) instead
of a local file. Intake uploads the file before the job row exists (so no worker can take the job
before its source is there); the worker downloads it into its work folder for the attempt and
deletes the local copy after; the object goes when the job is finished (published or failed for
good). The submitter's own file follows its usual course: the hot folder still moves it to
``done/`` or ``failed/``, a file given to ``rcmedia ingest`` stays where it is.
"""

from __future__ import annotations

import hashlib
import logging
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from rcmedia.catalog.repository import Catalog
from rcmedia.core.assets import Job
from rcmedia.errors import NotFoundError, RejectedInputError, StorageError
from rcmedia.ingest.context import IngestContext
from rcmedia.storage.base import ObjectFiles, Storage

log = logging.getLogger(__name__)

IN_BUCKET = "bucket:"  # source_path of a source uploaded to the storage bucket
SOURCES = "sources"  # the bucket folder they go in (beside assets/)


def source_reference(ctx: IngestContext, path: Path) -> str:
    """What a job's ``source_path`` holds for the local file ``path``.

    A bucket key is derived from this machine, the path and the file's size and time, so the hot
    folder can find the job of a file in ``processing/`` again (rcmedia.ingest.hotfolder.settle).
    """
    local = str(path.resolve())
    if not ctx.remote_workers:
        return local
    stat = path.stat()
    digest = hashlib.sha256(
        f"{socket.gethostname()}\0{local}\0{stat.st_size}\0{stat.st_mtime_ns}".encode(
            "utf-8", "surrogatepass"
        )
    ).hexdigest()[:32]
    suffix = path.suffix.lower() if re.fullmatch(r"\.[a-z0-9]{1,8}", path.suffix.lower()) else ""
    return f"{IN_BUCKET}{SOURCES}/{digest}/source{suffix}"


def _files(ctx: IngestContext) -> ObjectFiles:
    if not isinstance(ctx.storage, ObjectFiles):
        raise StorageError(f"{ctx.storage!r} cannot hold sources for remote workers (storage must be s3://)")
    return ctx.storage


def upload_source(ctx: IngestContext, path: Path, reference: str) -> None:
    """Put ``path`` in the bucket when ``reference`` names an object there; nothing otherwise."""
    if reference.startswith(IN_BUCKET):
        _files(ctx).put_file(path, reference.removeprefix(IN_BUCKET))
        log.info("source %r uploaded as %s", path.name, reference)


@contextmanager
def local_source(ctx: IngestContext, job: Job) -> Iterator[Path]:
    """The job's source as a local file for the length of an attempt (downloaded when in the bucket).

    A source that is gone fails its job for good, with a reason an operator understands.
    """
    if not job.source_path.startswith(IN_BUCKET):
        source = Path(job.source_path)
        if not source.is_file():
            log.warning("job %s: source %s is missing", job.id, job.source_path)
            raise RejectedInputError(job.original_filename, "the uploaded file is no longer on the server")
        yield source
        return
    key = job.source_path.removeprefix(IN_BUCKET)
    folder = ctx.settings.work_dir / "sources"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"job-{job.id}-{job.attempts}{Path(key).suffix}"
    try:
        try:
            _files(ctx).fetch_file(key, target)
        except NotFoundError as exc:
            log.warning("job %s: source %s is not in the bucket", job.id, key)
            raise RejectedInputError(
                job.original_filename, "the source file is no longer in the storage bucket"
            ) from exc
        log.info("job %s: source downloaded from %s (%d bytes)", job.id, key, target.stat().st_size)
        yield target
    finally:
        target.unlink(missing_ok=True)


def drop_source(ctx: IngestContext, job: Job) -> None:
    """Delete a finished job's source object, unless a newer unfinished job uses the same one."""
    if not job.state.finished or not job.source_path.startswith(IN_BUCKET):
        return
    newest = ctx.catalog.jobs_by_source_path([job.source_path]).get(job.source_path)
    if newest is not None and newest.id != job.id and not newest.state.finished:
        return
    key = job.source_path.removeprefix(IN_BUCKET)
    try:
        ctx.storage.remove(key)
    except StorageError:
        log.warning("job %s: cannot delete its source %s from the bucket", job.id, key, exc_info=True)
    else:
        log.info("job %s: source %s deleted from the bucket", job.id, key)


def sweep_sources(catalog: Catalog, storage: Storage, *, now: datetime, grace: timedelta) -> list[str]:
    """Delete the source objects no queued or running job needs, unchanged for ``grace``.

    A finished job deletes its own source (:func:`drop_source`); this catches the rest: a job
    cancelled or given up on while no worker held it, a worker killed between publishing and
    deleting, an intake whose job row was never written after the upload. The grace covers that
    last window (upload, then the row) and a clock a little off. Returns the folders deleted.
    """
    if not isinstance(storage, ObjectFiles):
        return []  # sources travel through object storage only
    needed = {
        path.removeprefix(IN_BUCKET).rpartition("/")[0]
        for path in catalog.unfinished_source_paths(f"{IN_BUCKET}{SOURCES}/")
    }
    removed = []
    for folder in storage.list_prefixes(SOURCES):
        if folder in needed:
            continue
        changed = storage.modified(folder)
        if changed is not None and now - changed < grace:
            continue
        storage.remove(folder)
        log.info("deleted the unneeded source %s", folder)
        removed.append(folder)
    return removed
