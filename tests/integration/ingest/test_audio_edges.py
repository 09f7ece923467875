"""Exact audio at ingest: each rendition's sound starts with its first picture and ends with its
last, to within one AAC frame (1024 samples, 21.3 ms), so spliced assets neither overlap nor drift
(issue 10). Read back independently with ffmpeg's own decoders."""

from __future__ import annotations

import itertools
import subprocess
from pathlib import Path
from typing import Any

import pytest

from rcmedia.core.models import JobState
from rcmedia.ingest.context import IngestContext
from rcmedia.media.samples import make_clip
from tests.integration.ingest.conftest import IngestMany
from tests.integration.ingest.reading import audio_frames, media_playlist, video_frames

AAC_FRAME = 1024 / 48_000
TICK = 1 / 90_000 + 1e-6  # MPEG-TS timestamps


def audio_shorter_than_video(path: Path, ffmpeg: str, seconds: float) -> Path:
    clip = make_clip(path.with_name("long.mp4"), ffmpeg=ffmpeg, duration=seconds, width=160, height=90)
    cut = f"atrim=end={seconds - 1.2}"
    subprocess.run(
        [ffmpeg, "-v", "error", "-i", str(clip), "-map", "0", "-c:v", "copy", "-af", cut, "-y", str(path)],
        check=True,
        timeout=60,
    )
    return path


@pytest.mark.parametrize(
    ("file", "seconds", "clip"),
    [
        pytest.param("odd.mp4", 4.37, {}, id="4.37s"),
        pytest.param("ntsc.ts", 4.37, {"rate": "30000/1001", "audio_codec": "mp2"}, id="29.97fps"),
        pytest.param("talk.m4a", 3.3, {"video": False}, id="audio-only"),
        pytest.param("mute.mp4", 2.5, {"audio": None}, id="no-audio"),
        pytest.param("short.mp4", 4.0, None, id="audio-shorter-than-video"),
        pytest.param("tail.mp4", 4.04, {}, id="one-frame-tail"),
        pytest.param("frag.mp4", 4.37, {"profile": "tiny_fmp4"}, id="fmp4"),
    ],
)
def test_audio_spans_exactly_the_pictures(
    file: str,
    seconds: float,
    clip: dict[str, Any] | None,
    tmp_path: Path,
    ingest_ctx: IngestContext,
    ingest_many: IngestMany,
    ffmpeg: str,
) -> None:
    options = dict(clip or {})
    profile = options.pop("profile", None)
    if clip is None:
        source = audio_shorter_than_video(tmp_path / file, ffmpeg, seconds)
    else:
        source = make_clip(tmp_path / file, ffmpeg=ffmpeg, duration=seconds, width=160, height=90, **options)
    (job,) = ingest_many([source], profile=profile)
    assert job.state is JobState.PUBLISHED, job.failure_reason
    asset = ingest_ctx.catalog.get_asset(job.asset_id)
    root = Path(ingest_ctx.settings.storage) / str(asset.storage_prefix)
    for rendition in asset.renditions:
        playlist = root / rendition.name / "index.m3u8"
        assert media_playlist(playlist).segments
        pictures = video_frames(ffmpeg, playlist, copyts=True)
        sound = audio_frames(ffmpeg, playlist)
        assert {frame.rate for frame in sound} == {48_000}
        video_start, video_end = pictures[0].pts_time, pictures[-1].pts_time + 0.04
        audio_start = sound[0].pts_time
        audio_end = sound[-1].pts_time + sound[-1].samples / 48_000
        # the encoder's priming is shifted out: the first audio frame is stamped with the first picture
        assert audio_start == pytest.approx(video_start, abs=TICK), rendition.name
        # whole AAC frames, never more than one past the last picture (into the next asset)
        assert 0 <= audio_end - video_end <= AAC_FRAME + TICK, (rendition.name, audio_end, video_end)
        # and no gap in between: one continuous run of 1024-sample frames
        assert all(frame.samples == 1024 for frame in sound)
        steps = {round(b.pts_time - a.pts_time, 5) for a, b in itertools.pairwise(sound)}
        assert steps == {round(AAC_FRAME, 5)}, rendition.name
