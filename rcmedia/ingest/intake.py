"""Intake: the one way a file becomes a queued job (CLI, hot folder and web upload call this)."""

from __future__ import annotations

import logging
from pathlib import Path

from rcmedia.core.models import AssetMetadata
from rcmedia.core.text import without_controls
from rcmedia.errors import BrokerError, RejectedInputError, StorageError
from rcmedia.ingest.context import IngestContext
from rcmedia.ingest.sources import IN_BUCKET, source_reference, upload_source
from rcmedia.profiles import pick_profile

log = logging.getLogger(__name__)


def submit(
    ctx: IngestContext,
    source: Path,
    *,
    metadata: AssetMetadata,
    original_filename: str | None = None,
    profile: str | None = None,
) -> int:
    """Queue ``source`` for ingest with ``metadata``; returns the job id.

    The file is referenced in place (the hot folder and uploads move theirs into a spool first).
    Only cheap checks happen here; the probe runs in the job so that a bad file fails its own job.
    A file's name is whatever the file system allows: its control characters are replaced in the
    ``original_filename`` stored (and shown to operators), never refused.

    With remote workers (``executor = "celery"`` and S3 storage) the file is uploaded to the bucket
    first (rcmedia.ingest.sources). The job is handed to the executor only once its row is
    committed; a broker that does not take it leaves the job queued in the catalog, where a
    starting ``rcmedia worker`` finds it.
    """
    name = without_controls(original_filename or source.name)
    chosen = pick_profile(ctx.profiles, profile or ctx.settings.profile)
    if not source.is_file():
        raise RejectedInputError(name, f"no such file: {str(source)!r}")
    size = source.stat().st_size
    if size > ctx.settings.max_upload_bytes:
        raise RejectedInputError(
            name, f"the file is {size} bytes, over the limit of {ctx.settings.max_upload_bytes}"
        )
    reference = source_reference(ctx, source)
    upload_source(ctx, source, reference)
    try:
        _asset_id, job_id = ctx.catalog.create_ingest(
            metadata,
            original_filename=name,
            source_path=reference,
            profile=chosen.name,
            max_attempts=ctx.settings.job_attempts,
            now=ctx.clock.now(),
        )
    except BaseException:
        if reference.startswith(IN_BUCKET):  # no job refers to the uploaded copy
            try:
                ctx.storage.remove(reference.removeprefix(IN_BUCKET))
            except StorageError:
                log.warning("cannot delete the unused source %s", reference, exc_info=True)
        raise
    _enqueue(ctx, job_id)
    return job_id


def _enqueue(ctx: IngestContext, job_id: int) -> None:
    try:
        ctx.enqueue(job_id)
    except BrokerError as exc:
        log.error("job %s is queued in the catalog, but the broker did not take it: %s", job_id, exc)


GENERATED_SLATE = "generated:house-slate"  # a job source that is made, not read


def submit_slate(ctx: IngestContext, *, title: str, series: str = "slate", profile: str | None = None) -> int:
    """Queue the making of the house slate: a title card cut so that any gap can be filled exactly.

    The schedule builder fills any remainder before a fixed slot with it, to the frame.
    """
    chosen = pick_profile(ctx.profiles, profile or ctx.settings.profile)
    metadata = AssetMetadata(title=title, series=series, categories=("slate",))
    _asset_id, job_id = ctx.catalog.create_ingest(
        metadata,
        original_filename="(house slate)",
        source_path=GENERATED_SLATE,
        profile=chosen.name,
        max_attempts=ctx.settings.job_attempts,
        now=ctx.clock.now(),
    )
    _enqueue(ctx, job_id)
    return job_id
