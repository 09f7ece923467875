"""Broken files fail their own job with a readable reason; the others in the batch still publish."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from rcmedia.catalog.repository import AssetQuery
from rcmedia.core.models import AssetStatus, JobState
from rcmedia.errors import RejectedInputError
from rcmedia.ingest.context import IngestContext
from rcmedia.ingest.intake import submit
from rcmedia.ingest.sidecar import read_sidecar
from rcmedia.media.samples import make_broken, make_clip
from tests.integration.ingest.conftest import IngestMany

BROKEN = [
    pytest.param("empty.mp4", "empty", "empty (0 bytes)", id="empty"),
    pytest.param("cut.mp4", "truncated", "damaged or truncated", id="truncated"),
    pytest.param("noise.mp4", "random", "not a media file", id="random-bytes"),
    pytest.param("notes.mp4", "text", "not a media file", id="text-with-video-extension"),
]


def test_broken_files_fail_with_reasons_while_good_ones_publish(
    tmp_path: Path, ingest_ctx: IngestContext, ingest_many: IngestMany, ffmpeg: str
) -> None:
    good_before = make_clip(tmp_path / "good-1.mp4", ffmpeg=ffmpeg, duration=2.0)
    broken = [
        make_broken(tmp_path / name, kind, ffmpeg=ffmpeg) for name, kind, _ in (p.values for p in BROKEN)
    ]
    good_after = make_clip(tmp_path / "good-2.mp4", ffmpeg=ffmpeg, duration=2.0, audio=None)

    jobs = ingest_many([good_before, *broken, good_after])

    by_name = {job.original_filename: job for job in jobs}
    for good in (good_before, good_after):
        assert by_name[good.name].state is JobState.PUBLISHED, by_name[good.name].failure_reason
    for name, _kind, phrase in (p.values for p in BROKEN):
        job = by_name[name]
        assert job.state is JobState.FAILED
        assert job.attempts == 1, "an input fault must not be retried"
        assert name in (job.failure_reason or "")
        assert phrase in (job.failure_reason or ""), job.failure_reason
        assert ingest_ctx.catalog.get_asset(job.asset_id).status is AssetStatus.FAILED

    published = ingest_ctx.catalog.find_assets(AssetQuery(status=AssetStatus.PUBLISHED)).items
    assert sorted(a.original_filename for a in published) == ["good-1.mp4", "good-2.mp4"]
    # storage holds the two good packages and nothing else
    stored = sorted(ingest_ctx.storage.list_prefixes("assets"))
    assert stored == sorted(f"assets/{a.id}" for a in published)
    assert list((Path(ingest_ctx.settings.storage) / ".staging").iterdir()) == []


def test_over_the_size_limit_is_refused_before_queueing(
    tmp_path: Path, ingest_ctx: IngestContext, ffmpeg: str
) -> None:
    source = make_clip(tmp_path / "big.mp4", ffmpeg=ffmpeg, duration=1.0)
    small = dataclasses.replace(ingest_ctx, settings=ingest_ctx.settings.replace(max_upload_bytes=100))
    with pytest.raises(RejectedInputError, match="over the limit of 100"):
        submit(small, source, metadata=read_sidecar(source))
    assert ingest_ctx.catalog.find_jobs().total == 0


def test_over_the_duration_limit_fails_its_job(
    tmp_path: Path, ingest_ctx: IngestContext, ffmpeg: str
) -> None:
    from rcmedia.ingest.runner import JobRunner

    source = make_clip(tmp_path / "long.mp4", ffmpeg=ffmpeg, duration=3.0)
    limited = dataclasses.replace(ingest_ctx, settings=ingest_ctx.settings.replace(max_duration_seconds=2.0))
    job_id = submit(limited, source, metadata=read_sidecar(source))
    (job,) = JobRunner(limited).run_jobs([job_id])
    assert job.state is JobState.FAILED
    assert "over the limit of 2 s" in (job.failure_reason or "")
