"""Finished ingest jobs reach the metrics: outcome, duration and transcode speed."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from rcmedia import metrics
from rcmedia.core.models import JobState
from rcmedia.ingest.context import IngestContext
from rcmedia.ingest.intake import submit
from rcmedia.ingest.runner import JobRunner
from rcmedia.ingest.sidecar import read_sidecar
from rcmedia.media.samples import make_clip
from tests.integration.web.metrics_text import Scrape


def _scrape() -> Scrape:
    return Scrape(metrics.exposition().decode())


def test_published_and_failed_jobs_are_counted(
    tmp_path: Path, ingest_ctx: IngestContext, ffmpeg: str
) -> None:
    good = make_clip(tmp_path / "good.mp4", ffmpeg=ffmpeg, duration=2.0)
    long = make_clip(tmp_path / "long.mp4", ffmpeg=ffmpeg, duration=3.0)
    limited = dataclasses.replace(ingest_ctx, settings=ingest_ctx.settings.replace(max_duration_seconds=2.5))
    ids = [submit(limited, path, metadata=read_sidecar(path)) for path in (good, long)]
    before = _scrape()

    jobs = JobRunner(limited, on_finished=metrics.job_finished).run_jobs(ids)

    assert [job.state for job in jobs] == [JobState.PUBLISHED, JobState.FAILED]
    after = _scrape()

    def grown(name: str, **labels: str) -> float:
        return after.value(name, **labels) - before.value(name, **labels)

    assert grown("rcmedia_ingest_jobs_finished_total", state="published") == 1
    assert grown("rcmedia_ingest_jobs_finished_total", state="failed") == 1
    assert grown("rcmedia_ingest_job_duration_seconds_count", state="published") == 1
    assert grown("rcmedia_transcode_speed_ratio_count") == 1
    assert grown("rcmedia_transcode_speed_ratio_sum") > 0
