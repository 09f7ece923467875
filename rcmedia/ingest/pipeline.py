"""One ingest attempt: probe → measure loudness → transcode once → verify → publish atomically.

Nothing is visible until the last step: ffmpeg writes into a staging folder; the package is
renamed to a never-used prefix and then the catalog row flips to published in one transaction.
A crash before the flip leaves at most an unreferenced prefix, which the next attempt removes.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from rcmedia.core.assets import Job
from rcmedia.core.models import JobState
from rcmedia.core.plan import TranscodePlan, plan_slate, plan_transcode
from rcmedia.core.probe import check_acceptable
from rcmedia.core.verify import verify_ladder
from rcmedia.errors import JobError, RejectedInputError
from rcmedia.hls.playlists import render_master
from rcmedia.ingest.context import IngestContext
from rcmedia.ingest.intake import GENERATED_SLATE
from rcmedia.ingest.sources import local_source
from rcmedia.media.command import transcode_args
from rcmedia.media.ffmpeg import FfmpegFailed, Progress, run_ffmpeg
from rcmedia.media.inspect import inspect_rung
from rcmedia.media.loudness import measure_loudness
from rcmedia.media.probe import probe
from rcmedia.profiles import pick_profile

log = logging.getLogger(__name__)

ProgressCallback = Callable[[Job, JobState, float, float | None], None]
PROGRESS_INTERVAL = 1.0  # seconds between progress writes to the catalog


def asset_folder(asset_id: int) -> str:
    return f"assets/{asset_id}"


def remove_unreferenced(ctx: IngestContext, asset_id: int) -> None:
    """Delete packages of this asset that no catalog row points at (left by a crash)."""
    keep = set(ctx.catalog.storage_prefixes(asset_id))
    for prefix in ctx.storage.list_prefixes(asset_folder(asset_id)):
        if prefix not in keep:
            log.info("removing unreferenced package %s", prefix)
            ctx.storage.remove(prefix)


def run_attempt(
    ctx: IngestContext,
    job: Job,
    *,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> None:
    """Run one attempt of ``job``; raises on failure (the runner decides about retries)."""
    catalog, clock = ctx.catalog, ctx.clock
    worker = job.worker or ""
    stage = f"job-{job.id}-{job.attempts}"

    def report(state: JobState, fraction: float, speed: float | None = None) -> None:
        if not catalog.set_job_progress(
            job.id, worker=worker, state=state, progress=fraction, speed=speed, now=clock.now()
        ):
            raise JobError(f"job {job.id!r} was taken over by another worker; stopping this attempt")
        if on_progress is not None:
            on_progress(job, state, fraction, speed)

    try:
        for earlier in range(1, job.attempts):  # a killed attempt leaves its staging folder behind
            ctx.storage.discard_staging(f"job-{job.id}-{earlier}")
        remove_unreferenced(ctx, job.asset_id)
        report(JobState.PROBING, 0.0)
        asset = catalog.get_asset(job.asset_id)
        profile = pick_profile(ctx.profiles, job.profile)
        with ExitStack() as sources:
            source: Path | None = None
            if job.source_path == GENERATED_SLATE:
                plan = plan_slate(profile, title=asset.metadata.title)
            else:
                source = sources.enter_context(local_source(ctx, job))
                facts = probe(source, display_name=job.original_filename)
                check_acceptable(facts, ctx.limits)
                loudness = measure_loudness(source, ffmpeg_bin=ctx.ffmpeg) if facts.has_audio else None
                plan = plan_transcode(
                    facts, profile, title=asset.metadata.title, loudness=loudness, target=ctx.loudness_target
                )
            log.info(
                "job %s: %r → %s, %d frames, rungs %s%s",
                job.id,
                job.original_filename,
                profile.name,
                plan.frames,
                [g.name for g in plan.ladder],
                " (deinterlace)" if plan.deinterlace else "",
            )
            out = ctx.storage.staging_dir(stage)
            _transcode(ctx, job, plan, source, out, report, cancel, stage)

        report(JobState.VERIFYING, 1.0)
        measured = [inspect_rung(out / g.name, segment_type=profile.segment_type) for g in plan.ladder]
        renditions = verify_ladder(measured, plan=plan, source_name=job.original_filename)
        (out / "master.m3u8").write_text(
            render_master(
                renditions, {r.name: f"{r.name}/index.m3u8" for r in renditions}, profile.segment_type
            ),
            encoding="utf-8",
        )

        prefix = f"{asset_folder(job.asset_id)}/{job.id}-{job.attempts}-{secrets.token_hex(4)}"
        ctx.storage.publish(out, prefix)
        try:
            catalog.publish(
                job_id=job.id,
                worker=worker,
                storage_prefix=prefix,
                duration=plan.duration,
                segment_type=profile.segment_type,
                target_duration=profile.target_duration,
                renditions=renditions,
                now=clock.now(),
            )
        except BaseException:
            ctx.storage.remove(prefix)
            raise
        log.info("job %s: published asset %s as %s", job.id, job.asset_id, prefix)
    finally:
        ctx.storage.discard_staging(stage)


def _transcode(
    ctx: IngestContext,
    job: Job,
    plan: TranscodePlan,
    source: Path | None,
    out: Path,
    report: Callable[[JobState, float, float | None], None],
    cancel: threading.Event | None,
    stage: str,
) -> None:
    for geometry in plan.ladder:
        (out / geometry.name).mkdir()
    # drawtext reads the title from a file: no escaping of quotes, colons or % in titles
    ctx.settings.work_dir.mkdir(parents=True, exist_ok=True)
    title_file = ctx.settings.work_dir / f"{stage}.title.txt"
    title_file.write_text(plan.title, encoding="utf-8")
    argv = transcode_args(
        plan,
        source=source,
        out_dir=out,
        ffmpeg_bin=ctx.ffmpeg,
        title_file=title_file,
        font_file=ctx.settings.slate_font,
    )
    report(JobState.TRANSCODING, 0.0, None)
    last = [0.0]

    def progress(update: Progress) -> None:
        now = ctx.clock.now().timestamp()
        if update.done or now - last[0] >= PROGRESS_INTERVAL:
            last[0] = now
            report(JobState.TRANSCODING, min(1.0, update.out_seconds / plan.duration), update.speed)

    try:
        run_ffmpeg(argv, on_progress=progress, cancel=cancel)
    except FfmpegFailed as exc:
        if exc.input_fault:
            raise RejectedInputError(
                job.original_filename, f"ffmpeg cannot decode it: {exc.stderr_tail.strip()[-300:]}"
            ) from exc
        raise
    finally:
        title_file.unlink(missing_ok=True)
