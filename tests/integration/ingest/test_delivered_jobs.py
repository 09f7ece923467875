"""What a worker does with a broker message ("run job N"): the catalog row decides, never the message."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from rcmedia.core.models import JobState
from rcmedia.ingest.context import IngestContext
from rcmedia.ingest.intake import submit
from rcmedia.ingest.runner import JobRunner, retry_delay, run_delivered
from rcmedia.ingest.sidecar import read_sidecar
from rcmedia.media.samples import make_clip


def _submit(ctx: IngestContext, path: Path) -> int:
    return submit(ctx, path, metadata=read_sidecar(path, overrides={}))


def test_a_job_held_by_a_live_worker_elsewhere_is_looked_at_again_after_its_lease(
    tmp_path: Path, ingest_ctx: IngestContext, ffmpeg: str
) -> None:
    job_id = _submit(ingest_ctx, make_clip(tmp_path / "a.mp4", ffmpeg=ffmpeg, duration=1.0))
    held = ingest_ctx.catalog.claim_job(
        worker="another-machine:4242:1", lease_seconds=60, now=ingest_ctx.clock.now(), job_id=job_id
    )
    assert held is not None
    assert run_delivered(JobRunner(ingest_ctx), job_id) == ingest_ctx.settings.job_lease_seconds
    job = ingest_ctx.catalog.get_job(job_id)
    assert (job.worker, job.attempts) == ("another-machine:4242:1", 1), "left alone"


def test_a_finished_job_returns_at_once_and_an_input_fault_is_not_sent_again(
    tmp_path: Path, ingest_ctx: IngestContext
) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_text("not media", encoding="utf-8")
    job_id = _submit(ingest_ctx, junk)
    assert run_delivered(JobRunner(ingest_ctx), job_id) is None
    failed = ingest_ctx.catalog.get_job(job_id)
    assert (failed.state, failed.attempts) == (JobState.FAILED, 1)
    assert run_delivered(JobRunner(ingest_ctx), job_id) is None  # a duplicate: nothing runs
    assert ingest_ctx.catalog.get_job(job_id).attempts == 1
    assert run_delivered(JobRunner(ingest_ctx), 999_999) is None  # no such job: dropped


def test_a_tool_crash_is_sent_again_with_a_growing_delay(
    tmp_path: Path, ingest_ctx: IngestContext, ffmpeg: str
) -> None:
    job_id = _submit(ingest_ctx, make_clip(tmp_path / "a.mp4", ffmpeg=ffmpeg, duration=1.0))
    crashing = dataclasses.replace(ingest_ctx, ffmpeg="/bin/false")  # exits 1, says nothing
    runner = JobRunner(crashing)
    first = run_delivered(runner, job_id)
    job = ingest_ctx.catalog.get_job(job_id)
    assert (job.state, job.attempts) == (JobState.QUEUED, 1), job.failure_reason
    assert first == retry_delay(ingest_ctx.settings.job_retry_seconds, 1)
    assert run_delivered(runner, job_id) == retry_delay(ingest_ctx.settings.job_retry_seconds, 2) > first
    assert run_delivered(runner, job_id) is None, "the last attempt failed: the job failed for good"
    assert ingest_ctx.catalog.get_job(job_id).state is JobState.FAILED
