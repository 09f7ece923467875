"""Intake: the one way a file becomes a queued job (CLI, hot folder and web upload call this)."""

from __future__ import annotations

from pathlib import Path

from rcmedia.core.models import AssetMetadata
from rcmedia.core.text import without_controls
from rcmedia.errors import RejectedInputError
from rcmedia.ingest.context import IngestContext
from rcmedia.profiles import pick_profile


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
    _asset_id, job_id = ctx.catalog.create_ingest(
        metadata,
        original_filename=name,
        source_path=str(source.resolve()),
        profile=chosen.name,
        max_attempts=ctx.settings.job_attempts,
        now=ctx.clock.now(),
    )
    return job_id


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
    return job_id
