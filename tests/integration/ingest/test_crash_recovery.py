"""A crash at any point leaves no half-visible asset, and the job recovers."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from rcmedia.catalog.repository import AssetQuery
from rcmedia.clock import SystemClock
from rcmedia.core.models import AssetStatus, JobState
from rcmedia.ingest.context import IngestContext
from rcmedia.ingest.intake import submit
from rcmedia.ingest.runner import JobRunner, release_dead_workers
from rcmedia.ingest.sidecar import read_sidecar
from rcmedia.media.samples import make_clip
from tests.conftest import PROJECT


class LaterClock:
    """The real clock, moved forward: as if the process came back after the lease ran out."""

    def __init__(self, ahead: timedelta) -> None:
        self.ahead = ahead

    def now(self) -> datetime:
        return SystemClock().now() + self.ahead


def _visible(ctx: IngestContext) -> list[str]:
    return [
        a.original_filename for a in ctx.catalog.find_assets(AssetQuery(status=AssetStatus.PUBLISHED)).items
    ]


@pytest.mark.slow
def test_kill_mid_transcode_leaves_nothing_visible_and_the_job_recovers(
    tmp_path: Path, ingest_ctx: IngestContext, ffmpeg: str
) -> None:
    source = make_clip(tmp_path / "lecture.mp4", ffmpeg=ffmpeg, duration=40.0, width=640, height=360)
    settings = ingest_ctx.settings
    env = {
        **os.environ,
        "RCMEDIA_HOME": str(settings.home),
        "RCMEDIA_PROFILES_DIR": str(settings.profiles_dir),
        "RCMEDIA_PROFILE": "tiny",
        "RCMEDIA_JOB_LEASE_SECONDS": "3",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "rcmedia", "ingest", str(source)],
        cwd=PROJECT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        job = None
        while time.monotonic() < deadline:
            jobs = ingest_ctx.catalog.find_jobs().items
            if jobs and jobs[0].state is JobState.TRANSCODING and jobs[0].progress > 0.05:
                job = jobs[0]
                break
            assert process.poll() is None, "the ingest ended before it could be killed"
            time.sleep(0.05)
        assert job is not None, "the transcode never got going"
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the CLI and its ffmpeg, like a power cut
        process.wait()

    # nothing half-visible: the asset is not published, no package is under its prefix
    assert _visible(ingest_ctx) == []
    assert ingest_ctx.catalog.get_asset(job.asset_id).status is AssetStatus.PENDING
    assert ingest_ctx.storage.list_prefixes(f"assets/{job.asset_id}") == []
    assert ingest_ctx.catalog.get_job(job.id).state is JobState.TRANSCODING  # its worker is gone

    # while the dead worker's lease holds, nobody takes the job ...
    assert JobRunner(ingest_ctx).run_one(job.id) is None
    # ... until a restarted process on this machine sees that the worker's process is gone
    assert release_dead_workers(ingest_ctx) == [job.id]
    (recovered,) = JobRunner(ingest_ctx).run_jobs([job.id])
    assert recovered.state is JobState.PUBLISHED, recovered.failure_reason
    assert recovered.attempts == 2
    assert _visible(ingest_ctx) == ["lecture.mp4"]
    assert list((Path(settings.storage) / ".staging").iterdir()) == [], "the killed attempt's staging is gone"


def test_crash_between_publish_and_commit_leaves_an_unreferenced_package_that_is_removed(
    tmp_path: Path, ingest_ctx: IngestContext, ffmpeg: str
) -> None:
    source = make_clip(tmp_path / "talk.mp4", ffmpeg=ffmpeg, duration=2.0)
    job_id = submit(ingest_ctx, source, metadata=read_sidecar(source))
    claimed = ingest_ctx.catalog.claim_job(worker="crashed", lease_seconds=1, now=ingest_ctx.clock.now())
    assert claimed is not None
    assert claimed.id == job_id
    # the crashed attempt had renamed its package into place but never committed the row
    staging = ingest_ctx.storage.staging_dir("job-crashed")
    (staging / "720p").mkdir()
    (staging / "720p" / "seg_00000.ts").write_bytes(b"\x47" * 188)
    orphan = f"assets/{claimed.asset_id}/{job_id}-1-deadbeef"
    ingest_ctx.storage.publish(staging, orphan)
    assert _visible(ingest_ctx) == []

    later = dataclasses.replace(ingest_ctx, clock=LaterClock(timedelta(seconds=5)))
    (job,) = JobRunner(later).run_jobs([job_id])
    assert job.state is JobState.PUBLISHED
    asset = ingest_ctx.catalog.get_asset(job.asset_id)
    assert ingest_ctx.storage.list_prefixes(f"assets/{asset.id}") == [asset.storage_prefix]
    assert asset.storage_prefix != orphan
