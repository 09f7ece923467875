"""The house slate: segments in steps that reach any length, so the schedule hits any instant to the frame."""

from __future__ import annotations

from pathlib import Path

from rcmedia.core.models import JobState
from rcmedia.ingest.context import IngestContext
from rcmedia.ingest.intake import submit_slate
from rcmedia.ingest.runner import JobRunner
from tests.integration.ingest.reading import first_frame_is_key, media_playlist


def test_the_house_slate_reaches_any_length_in_two_pieces(ingest_ctx: IngestContext, ffmpeg: str) -> None:
    job_id = submit_slate(ingest_ctx, title="蓉城先锋 · 精彩节目马上回来")
    (job,) = JobRunner(ingest_ctx).run_jobs([job_id])
    assert job.state is JobState.PUBLISHED, job.failure_reason

    asset = ingest_ctx.catalog.get_asset(job.asset_id)
    assert asset.metadata.series == "slate"
    full = 50  # the tiny test profile: 2 s segments at 25 fps
    # a 60 s loop, giant steps of 8 frames, baby steps of 1-7: any remainder in at most two pieces
    expected = [full * 0.04] * 30 + [k * 0.04 for k in range(8, full, 8)] + [k * 0.04 for k in range(1, 8)]
    root = Path(ingest_ctx.settings.storage) / str(asset.storage_prefix)
    for rendition in asset.renditions:
        assert list(rendition.segment_durations) == [round(d, 6) for d in expected]
        playlist = media_playlist(root / rendition.name / "index.m3u8")
        assert [round(s.duration, 2) for s in playlist.segments] == [round(d, 2) for d in expected]
        frames = {round(d / 0.04) for d in rendition.segment_durations}
        assert all(any(r - big in frames | {0} for big in frames | {0}) for r in range(1, full))
        for segment in playlist.segments[-5:]:
            assert first_frame_is_key(ffmpeg, root / rendition.name / segment.uri)
