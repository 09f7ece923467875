"""`rcmedia assets repackage`'s logic: an old package's audio made exact without re-encoding."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from rcmedia.core.models import JobState
from rcmedia.core.plan import TranscodePlan
from rcmedia.errors import AssetStateError
from rcmedia.ingest.context import IngestContext
from rcmedia.ingest.repackage import repackage_asset
from rcmedia.media import command
from rcmedia.media.samples import make_clip
from tests.integration.ingest.conftest import IngestMany
from tests.integration.ingest.reading import audio_frames, media_playlist, video_frames

AAC_FRAME_MS = 1024 / 48


def old_audio_chain(stream: Any, plan: TranscodePlan) -> Any:
    """The audio chain before issue 10: cut to the video's samples, the encoder's stamps kept."""
    rate = plan.profile.audio.sample_rate
    stream = stream.filter("asetpts", "PTS-STARTPTS").filter("aresample", rate)
    stream = stream.filter("aformat", sample_rates=rate, channel_layouts="stereo")
    if plan.loudness is not None:
        stream = stream.filter("loudnorm", **command._loudnorm_args(plan)).filter("aresample", rate)
    return stream.filter("apad", whole_len=plan.audio_samples).filter("atrim", end_sample=plan.audio_samples)


@pytest.mark.parametrize(
    ("seconds", "ran_on"),
    [
        # loudnorm's 30 ms gap in the timestamps pushed the end 43 ms past the last picture
        pytest.param(4.37, True, id="two-segments"),
        pytest.param(1.5, False, id="one-segment"),
    ],
)
def test_an_old_package_gets_exact_audio_and_keeps_its_segments(
    seconds: float,
    ran_on: bool,
    tmp_path: Path,
    ingest_ctx: IngestContext,
    ingest_many: IngestMany,
    ffmpeg: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = make_clip(tmp_path / "odd.mp4", ffmpeg=ffmpeg, duration=seconds, width=320, height=180)
    with monkeypatch.context() as patch:
        patch.setattr(command, "_audio_chain", old_audio_chain)
        # verification as it was then: no audio check
        patch.setattr("rcmedia.core.verify.check_audio_span", lambda *a, **k: None)
        (job,) = ingest_many([source])
    assert job.state is JobState.PUBLISHED, job.failure_reason
    old = ingest_ctx.catalog.get_asset(job.asset_id)

    done = repackage_asset(ingest_ctx, old.id)

    for name, (start, end) in done.before.items():
        assert start == pytest.approx(-AAC_FRAME_MS, abs=0.1), name  # the priming frame
        assert (end > AAC_FRAME_MS) is ran_on, name
    for name, (start, end) in done.after.items():
        assert start == 0.0, name
        assert 0 <= end <= AAC_FRAME_MS, name
    new = ingest_ctx.catalog.get_asset(old.id)
    assert new.storage_prefix == done.new_prefix != old.storage_prefix
    storage = Path(ingest_ctx.settings.storage)
    for before, after in zip(old.renditions, new.renditions, strict=True):
        assert (after.name, after.segments, after.segment_durations) == (
            before.name,
            before.segments,
            before.segment_durations,
        )
        old_playlist = storage / str(old.storage_prefix) / before.name / "index.m3u8"
        new_playlist = storage / str(new.storage_prefix) / after.name / "index.m3u8"
        assert [s.duration for s in media_playlist(new_playlist).segments] == list(before.segment_durations)
        # the same pictures at the same times (no re-encode: the same keyframes too)
        assert video_frames(ffmpeg, new_playlist, copyts=True) == video_frames(
            ffmpeg, old_playlist, copyts=True
        )
        sound = audio_frames(ffmpeg, new_playlist)
        steps = {round(b.pts_time - a.pts_time, 5) for a, b in itertools.pairwise(sound)}
        assert steps == {round(AAC_FRAME_MS / 1000, 5)}
    assert (storage / str(new.storage_prefix) / "master.m3u8").is_file()


def test_an_fmp4_package_is_refused(
    tmp_path: Path, ingest_ctx: IngestContext, ingest_many: IngestMany, ffmpeg: str
) -> None:
    source = make_clip(tmp_path / "wide.mp4", ffmpeg=ffmpeg, duration=2.0, width=160, height=90)
    (job,) = ingest_many([source], profile="tiny_fmp4")
    with pytest.raises(AssetStateError, match="only MPEG-TS"):
        repackage_asset(ingest_ctx, job.asset_id)
