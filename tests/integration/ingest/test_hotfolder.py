"""The hot folder: settled files are queued with their sidecar metadata and moved when done."""

from __future__ import annotations

from pathlib import Path

from rcmedia.core.models import JobState, Output, Source
from rcmedia.ingest.context import IngestContext
from rcmedia.ingest.hotfolder import HotFolder
from rcmedia.ingest.runner import JobRunner
from rcmedia.media.samples import make_broken, make_clip

SIDECAR = """
title = "党建视讯 第12集"
series = "党建视讯"
episode = 12
source = "city"
categories = ["党建", "时政"]

[rights.tv]
[rights.iptv]
start = 2026-12-01
"""


def test_files_are_taken_once_settled_with_sidecar_metadata_and_moved_when_done(
    tmp_path: Path, ingest_ctx: IngestContext, ffmpeg: str
) -> None:
    hot = HotFolder(ingest_ctx, tmp_path / "hot")
    inbox = hot.folders.inbox
    make_clip(inbox / "lesson.mp4", ffmpeg=ffmpeg, duration=2.0)
    (inbox / "lesson.toml").write_text(SIDECAR, encoding="utf-8")
    make_broken(inbox / "noise.mp4", "random", ffmpeg=ffmpeg)

    assert hot.scan() == [], "a file seen for the first time may still be growing"
    job_ids = hot.scan()
    assert len(job_ids) == 2
    assert sorted(p.name for p in inbox.iterdir()) == []

    jobs = {job.original_filename: job for job in JobRunner(ingest_ctx).run_jobs(job_ids)}
    assert jobs["lesson.mp4"].state is JobState.PUBLISHED
    assert jobs["noise.mp4"].state is JobState.FAILED
    asset = ingest_ctx.catalog.get_asset(jobs["lesson.mp4"].asset_id)
    meta = asset.metadata
    assert (meta.title, meta.series, meta.episode, meta.source) == (
        "党建视讯 第12集",
        "党建视讯",
        12,
        Source.CITY,
    )
    assert meta.categories == ("党建", "时政")
    assert sorted(r.output for r in meta.rights) == [Output.IPTV, Output.TV]
    assert asset.original_filename == "lesson.mp4"

    hot.scan()  # settles finished jobs
    assert sorted(p.name for p in hot.folders.done.iterdir()) == ["lesson.mp4", "lesson.toml"]
    assert sorted(p.name for p in hot.folders.failed.iterdir()) == ["noise.mp4", "noise.mp4.error.txt"]
    assert "not a media file" in (hot.folders.failed / "noise.mp4.error.txt").read_text(encoding="utf-8")
    assert list(hot.folders.processing.iterdir()) == []


def test_a_growing_file_waits(tmp_path: Path, ingest_ctx: IngestContext, ffmpeg: str) -> None:
    hot = HotFolder(ingest_ctx, tmp_path / "hot")
    partial = hot.folders.inbox / "big.mp4"
    partial.write_bytes(b"\0" * 1000)
    hot.scan()
    with partial.open("ab") as handle:
        handle.write(b"\0" * 1000)
    assert hot.scan() == []
    assert partial.exists()


def test_an_invalid_sidecar_refuses_the_file_with_the_reason(
    tmp_path: Path, ingest_ctx: IngestContext, ffmpeg: str
) -> None:
    hot = HotFolder(ingest_ctx, tmp_path / "hot")
    make_clip(hot.folders.inbox / "x.mp4", ffmpeg=ffmpeg, duration=1.0)
    (hot.folders.inbox / "x.toml").write_text('source = "moon"\n', encoding="utf-8")
    hot.scan()
    assert hot.scan() == []
    reason = (hot.folders.failed / "x.mp4.error.txt").read_text(encoding="utf-8")
    assert "x.toml" in reason
    assert "'moon'" in reason
    assert (hot.folders.failed / "x.toml").exists()
    assert ingest_ctx.catalog.find_jobs().total == 0


def test_control_characters_in_a_file_name_are_replaced_in_a_sidecar_refused(
    tmp_path: Path, ingest_ctx: IngestContext
) -> None:
    hot = HotFolder(ingest_ctx, tmp_path / "hot")
    (hot.folders.inbox / "课\x1b[31m红.mp4").write_bytes(b"\0" * 1000)  # queued: probing is the job's
    (hot.folders.inbox / "bell.mp4").write_bytes(b"\0" * 1000)
    (hot.folders.inbox / "bell.toml").write_text('title = "ding\\u0007"\n', encoding="utf-8")
    hot.scan()

    (job_id,) = hot.scan()

    job = ingest_ctx.catalog.get_job(job_id)
    assert job.original_filename == "课_[31m红.mp4"
    assert ingest_ctx.catalog.get_asset(job.asset_id).metadata.title == "课_[31m红"
    reason = (hot.folders.failed / "bell.mp4.error.txt").read_text(encoding="utf-8")
    assert reason.startswith("bell.toml: title contains a control character (U+0007 BEL)")
