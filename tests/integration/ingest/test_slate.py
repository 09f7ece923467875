"""The house slate: segments of every length, so the schedule can reach any instant to the frame."""

from __future__ import annotations

from pathlib import Path

from rcmedia.core.models import JobState
from rcmedia.ingest.context import IngestContext
from rcmedia.ingest.intake import submit_slate
from rcmedia.ingest.runner import JobRunner
from tests.integration.ingest.reading import first_frame_is_key, media_playlist


def test_the_house_slate_has_a_segment_of_every_length(ingest_ctx: IngestContext, ffmpeg: str) -> None:
    job_id = submit_slate(ingest_ctx, title="蓉城先锋 · 精彩节目马上回来")
    (job,) = JobRunner(ingest_ctx).run_jobs([job_id])
    assert job.state is JobState.PUBLISHED, job.failure_reason

    asset = ingest_ctx.catalog.get_asset(job.asset_id)
    assert asset.metadata.series == "slate"
    full = 50  # the tiny test profile: 2 s segments at 25 fps
    expected = [full * 0.04] * 30 + [k * 0.04 for k in range(1, full)]  # a 60 s loop, then every length
    root = Path(ingest_ctx.settings.storage) / str(asset.storage_prefix)
    for rendition in asset.renditions:
        assert list(rendition.segment_durations) == [round(d, 6) for d in expected]
        playlist = media_playlist(root / rendition.name / "index.m3u8")
        assert [round(s.duration, 2) for s in playlist.segments] == [round(d, 2) for d in expected]
        for segment in playlist.segments[-5:]:
            assert first_frame_is_key(ffmpeg, root / rendition.name / segment.uri)
