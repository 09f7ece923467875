"""The segment checks on what the real ffmpeg writes: HLS in TS and fMP4, aligned and misaligned."""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

import imageio_ffmpeg
import pytest

from rcmedia.media.bitstream import (
    aac_codec_string,
    fmp4_first_sample_is_idr,
    h264_codec_string,
    h264_frame_rate,
    ts_first_access_unit_is_idr,
)
from rcmedia.media.samples import make_clip

HEAD = 64 * 1024  # what the verifier reads of each TS segment

# x264 signals the lowest profile its tools need: ultrafast has neither CABAC nor 8x8 transforms,
# so it would write Constrained Baseline whatever -profile:v says. superfast keeps both.
Encoding = tuple[str, str, str]  # -profile:v, -level, the codec string they must give
PROFILES = [
    pytest.param(("high", "3.1", "avc1.64001f"), id="high-3.1"),
    pytest.param(("main", "3.0", "avc1.4d401e"), id="main-3.0"),
]


@pytest.fixture(scope="module")
def ffmpeg() -> str:
    return str(imageio_ffmpeg.get_ffmpeg_exe())


@pytest.fixture(scope="module")
def source(ffmpeg: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("source") / "clip.mp4", ffmpeg=ffmpeg, duration=4.0)


@pytest.fixture(scope="module")
def long_gop(ffmpeg: str, source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The clip with a single IDR at the start: any later cut lands on a P or B picture."""
    path = tmp_path_factory.mktemp("long-gop") / "long-gop.mp4"
    run(ffmpeg, "-i", str(source), "-c:v", "libx264", "-preset", "superfast", "-bf", "2", "-g", "250",
        "-sc_threshold", "0", "-c:a", "copy", str(path))  # fmt: skip
    return path


def run(ffmpeg: str, *args: str) -> None:
    subprocess.run([ffmpeg, "-y", "-hide_banner", "-loglevel", "error", *args], check=True)


def hls(ffmpeg: str, source: Path, out: Path, *, fmp4: bool, encoding: Encoding, extra: list[str]) -> Path:
    """Segment ``source`` as the ladder does: a forced one-second GOP, one-second segments."""
    profile, level, _ = encoding
    out.mkdir()
    segment_name = "s%03d.m4s" if fmp4 else "s%03d.ts"
    fmp4_args = ["-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", "init.mp4"] if fmp4 else []
    run(ffmpeg, "-i", str(source), *extra,
        "-c:v", "libx264", "-preset", "superfast", "-profile:v", profile, "-level", level,
        "-g", "25", "-keyint_min", "25", "-sc_threshold", "0", "-c:a", "aac",
        "-f", "hls", "-hls_time", "1", "-hls_playlist_type", "vod", *fmp4_args,
        "-hls_segment_filename", str(out / segment_name), str(out / "index.m3u8"))  # fmt: skip
    return out


def segments(folder: Path, suffix: str) -> list[bytes]:
    found = [path.read_bytes() for path in sorted(folder.glob(f"*{suffix}"))]
    assert len(found) >= 3, f"expected several segments in {folder}"
    return found


@pytest.mark.parametrize("encoding", PROFILES)
def test_ts_ladder_segments_start_with_idr(
    ffmpeg: str, source: Path, tmp_path: Path, encoding: Encoding
) -> None:
    out = hls(ffmpeg, source, tmp_path / "ts", fmp4=False, encoding=encoding, extra=[])
    parts = segments(out, ".ts")
    assert [ts_first_access_unit_is_idr(part[:HEAD]) for part in parts] == [True] * len(parts)
    assert {h264_codec_string(part[:HEAD]) for part in parts} == {encoding[2]}
    assert {h264_frame_rate(part[:HEAD]) for part in parts} == {25}
    assert {aac_codec_string(part[:HEAD]) for part in parts} == {"mp4a.40.2"}


@pytest.mark.parametrize("encoding", PROFILES)
@pytest.mark.parametrize(
    "extra",
    [
        pytest.param([], id="video-track-first"),
        pytest.param(["-map", "0:a", "-map", "0:v"], id="audio-track-first"),
    ],
)
def test_fmp4_ladder_segments_start_with_idr(
    ffmpeg: str, source: Path, tmp_path: Path, encoding: Encoding, extra: list[str]
) -> None:
    out = hls(ffmpeg, source, tmp_path / "fmp4", fmp4=True, encoding=encoding, extra=extra)
    init = (out / "init.mp4").read_bytes()
    parts = segments(out, ".m4s")
    assert [fmp4_first_sample_is_idr(init, part) for part in parts] == [True] * len(parts)
    assert h264_codec_string(parts[0], init=init) == encoding[2]
    assert h264_frame_rate(parts[0], init=init) == 25
    assert aac_codec_string(parts[0], init=init) == "mp4a.40.2"


def test_ts_cut_between_keyframes_is_caught(ffmpeg: str, long_gop: Path, tmp_path: Path) -> None:
    run(ffmpeg, "-i", str(long_gop), "-c", "copy", "-f", "segment", "-segment_time", "0.3",
        "-break_non_keyframes", "1", "-reset_timestamps", "1", str(tmp_path / "s%03d.ts"))  # fmt: skip
    parts = segments(tmp_path, ".ts")
    assert [ts_first_access_unit_is_idr(part[:HEAD]) for part in parts] == [True] + [False] * (len(parts) - 1)


def test_fmp4_cut_between_keyframes_is_caught(ffmpeg: str, long_gop: Path, tmp_path: Path) -> None:
    run(ffmpeg, "-i", str(long_gop), "-c", "copy", "-f", "hls", "-hls_time", "0.5",
        "-hls_flags", "split_by_time", "-hls_playlist_type", "vod", "-hls_segment_type", "fmp4",
        "-hls_fmp4_init_filename", "init.mp4", "-hls_segment_filename", str(tmp_path / "s%03d.m4s"),
        str(tmp_path / "index.m3u8"))  # fmt: skip
    init = (tmp_path / "init.mp4").read_bytes()
    parts = segments(tmp_path, ".m4s")
    assert [fmp4_first_sample_is_idr(init, part) for part in parts] == [True] + [False] * (len(parts) - 1)


@pytest.mark.parametrize("fmp4", [False, True], ids=["ts", "fmp4"])
def test_ntsc_frame_rate_is_exact(ffmpeg: str, tmp_path: Path, fmp4: bool) -> None:
    # MediaInfo gives a TS segment no frame rate at its default parse speed, and a timestamp
    # estimate (25.510 for 25 fps) at full speed; the SPS says exactly 30000/1001.
    clip = make_clip(tmp_path / "ntsc.mp4", ffmpeg=ffmpeg, duration=2.0, rate="30000/1001")
    out = hls(ffmpeg, clip, tmp_path / "hls", fmp4=fmp4, encoding=("main", "3.0", ""), extra=[])
    if fmp4:
        found = h264_frame_rate(b"", init=(out / "init.mp4").read_bytes())
    else:
        found = h264_frame_rate((out / "s000.ts").read_bytes()[:HEAD])
    assert found == Fraction(30000, 1001)
