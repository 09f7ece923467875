"""Odd-shaped sources all publish to the house format; checked by reading the output independently."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from rcmedia.core.models import AssetStatus, JobState
from rcmedia.ingest.context import IngestContext
from rcmedia.media.samples import make_clip
from tests.integration.ingest.conftest import IngestMany
from tests.integration.ingest.reading import (
    first_frame_is_key,
    loudness,
    media_playlist,
    picture_box,
    stream_format,
    video_frames,
)
from tests.integration.ingest.test_master_truth import peak_by_definition

FRAME = 0.04
NEAR = FRAME + 1e-6  # a source's audio may outlast its video by up to a frame


@dataclass(frozen=True)
class Shape:
    file: str
    clip: dict[str, Any]
    rungs: tuple[str, ...]
    box_aspect: float | None = 16 / 9  # picture inside the padding, width / height
    silent: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


SHAPES = [
    pytest.param(
        Shape("wide.mp4", {"width": 640, "height": 360}, ("360p", "180p", "144p")), id="progressive-16x9"
    ),
    pytest.param(
        Shape(
            "sd.mpg",
            {"width": 720, "height": 576, "interlaced": True, "sar": "64:45"},
            ("360p", "180p", "144p"),
        ),
        id="interlaced-anamorphic-sd",
    ),
    pytest.param(Shape("old.mov", {"width": 640, "height": 480}, ("360p", "180p", "144p"), 4 / 3), id="4x3"),
    pytest.param(
        Shape("phone.mp4", {"width": 360, "height": 640}, ("360p", "180p", "144p"), 9 / 16), id="portrait"
    ),
    pytest.param(Shape("ntsc.ts", {"rate": "30000/1001"}, ("180p", "144p")), id="29.97fps"),
    pytest.param(
        Shape("mono.mkv", {"audio": "mono", "audio_rate": 44100}, ("180p", "144p")), id="mono-44.1kHz"
    ),
    pytest.param(Shape("mute.mp4", {"audio": None}, ("180p", "144p"), silent=True), id="no-audio"),
    pytest.param(Shape("lecture.m4a", {"video": False}, ("180p", "144p"), None), id="audio-only"),
    pytest.param(
        Shape("small.mp4", {"width": 160, "height": 90}, ("144p",)), id="tiny-source-keeps-lowest-rung"
    ),
]


@pytest.mark.parametrize("shape", SHAPES)
def test_source_publishes_in_house_format(
    shape: Shape, tmp_path: Path, ingest_ctx: IngestContext, ingest_many: IngestMany, ffmpeg: str
) -> None:
    source = make_clip(tmp_path / shape.file, ffmpeg=ffmpeg, duration=4.0, **shape.clip)
    (job,) = ingest_many([source], series="测试", title=f"样片 {shape.file}")

    assert job.state is JobState.PUBLISHED, job.failure_reason
    asset = ingest_ctx.catalog.get_asset(job.asset_id)
    assert asset.status is AssetStatus.PUBLISHED
    assert asset.original_filename == shape.file
    assert tuple(r.name for r in asset.renditions) == shape.rungs
    assert asset.duration == pytest.approx(4.0, abs=NEAR)
    root = Path(ingest_ctx.settings.storage) / str(asset.storage_prefix)

    boundaries = None
    for rendition in asset.renditions:
        folder = root / rendition.name
        playlist = media_playlist(folder / "index.m3u8")
        durations = [s.duration for s in playlist.segments]
        assert sum(durations) == pytest.approx(asset.duration, abs=1e-3)
        assert all(d <= 2 + FRAME for d in durations)
        if boundaries is None:
            boundaries = durations
        assert durations == pytest.approx(boundaries, abs=FRAME), f"{rendition.name} boundaries differ"
        assert list(rendition.segment_durations) == pytest.approx(durations, abs=1e-6)
        assert rendition.width * 9 == pytest.approx(rendition.height * 16, rel=0.01)
        for segment in playlist.segments:
            assert first_frame_is_key(ffmpeg, folder / segment.uri), f"{rendition.name}/{segment.uri}"
        frames = video_frames(ffmpeg, folder / "index.m3u8")
        assert len(frames) == round(asset.duration * 25)  # exactly 25 fps, whatever the source rate
        steps = {round(b.pts_time - a.pts_time, 3) for a, b in itertools.pairwise(frames)}
        assert steps == {FRAME}
        assert {(f.width, f.height) for f in frames} == {(rendition.width, rendition.height)}
        fmt = stream_format(folder / playlist.segments[0].uri)
        assert fmt.scan_type == "Progressive"
        assert (fmt.audio_rate, fmt.audio_channels, fmt.audio_format) == (48000, 2, "AAC")

    top = asset.renditions[0]
    top_playlist = root / top.name / "index.m3u8"
    if shape.box_aspect is not None:
        width, height = picture_box(ffmpeg, top_playlist)
        assert width / height == pytest.approx(shape.box_aspect, rel=0.04)
    level = loudness(ffmpeg, top_playlist)
    if shape.silent:
        assert level.integrated <= -69.0
    else:
        assert level.integrated == pytest.approx(-24.0, abs=1.0)
        assert level.true_peak <= -1.0 + 0.5  # ebur128's true-peak estimate differs a little from loudnorm's


def test_fmp4_profile_publishes_aligned_fragments(
    tmp_path: Path, ingest_ctx: IngestContext, ingest_many: IngestMany, ffmpeg: str
) -> None:
    source = make_clip(tmp_path / "wide.mp4", ffmpeg=ffmpeg, duration=4.0, width=640, height=360)
    (job,) = ingest_many([source], profile="tiny_fmp4")
    assert job.state is JobState.PUBLISHED, job.failure_reason
    asset = ingest_ctx.catalog.get_asset(job.asset_id)
    root = Path(ingest_ctx.settings.storage) / str(asset.storage_prefix)
    assert asset.segment_type == "fmp4"
    for rendition in asset.renditions:
        folder = root / rendition.name
        assert rendition.init_segment == "init.mp4"
        playlist = media_playlist(folder / "index.m3u8")
        assert playlist.segment_map
        assert playlist.segment_map[0].uri == "init.mp4"
        init = (folder / "init.mp4").read_bytes()
        for index, segment in enumerate(playlist.segments):
            assert segment.uri.endswith(".m4s")
            joined = tmp_path / f"{rendition.name}-{index}.mp4"
            joined.write_bytes(init + (folder / segment.uri).read_bytes())
            assert first_frame_is_key(ffmpeg, joined)
        assert len(video_frames(ffmpeg, folder / "index.m3u8")) == 100


def test_master_playlist_attributes_are_true(
    tmp_path: Path, ingest_ctx: IngestContext, ingest_many: IngestMany, ffmpeg: str
) -> None:
    from tests.integration.ingest.reading import m3u8

    source = make_clip(tmp_path / "wide.mp4", ffmpeg=ffmpeg, duration=4.0, width=640, height=360)
    (job,) = ingest_many([source])
    asset = ingest_ctx.catalog.get_asset(job.asset_id)
    root = Path(ingest_ctx.settings.storage) / str(asset.storage_prefix)
    master = m3u8.loads((root / "master.m3u8").read_text(encoding="utf-8"))
    assert master.is_variant
    assert master.is_independent_segments
    listed = {p.uri: p.stream_info for p in master.playlists}
    assert set(listed) == {f"{r}/index.m3u8" for r in ("360p", "180p", "144p")}
    for uri, info in listed.items():
        folder = root / uri.split("/")[0]
        playlist = media_playlist(folder / "index.m3u8")
        sizes = [(folder / s.uri).stat().st_size for s in playlist.segments]
        total_bits = sum(sizes) * 8
        # RFC 8216bis §4.4.6.2: the densest run of 0.5-1.5 target durations, not one segment
        durations = [float(s.duration) for s in playlist.segments]
        assert info.bandwidth == peak_by_definition(sizes, durations, int(playlist.target_duration))
        assert info.average_bandwidth == pytest.approx(
            total_bits / sum(s.duration for s in playlist.segments), abs=1
        )
        width, height = info.resolution
        first = video_frames(ffmpeg, folder / playlist.segments[0].uri)[0]
        assert (width, height) == (first.width, first.height)
        assert info.frame_rate == 25
        assert info.codecs.startswith("avc1.64")  # High profile, from the SPS
        assert info.codecs.endswith(",mp4a.40.2")  # AAC-LC
