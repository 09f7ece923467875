"""The synthetic sources are what they claim, as MediaInfo (what the probe uses) reads them."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import pytest
from pymediainfo import MediaInfo

from rcmedia.errors import ToolError
from rcmedia.media.samples import clip_args, make_broken, make_clip, sample_courseware


@pytest.fixture(scope="module")
def ffmpeg() -> str:
    return str(imageio_ffmpeg.get_ffmpeg_exe())


def tracks(path: Path, kind: str) -> list[Any]:
    return [t for t in MediaInfo.parse(path).tracks if t.track_type == kind]


def facts(path: Path) -> dict[str, object]:
    """The MediaInfo fields the probe relies on, flattened for comparison."""
    general = tracks(path, "General")[0]
    video = tracks(path, "Video")
    audio = tracks(path, "Audio")
    found: dict[str, object] = {"container": general.format, "video": len(video), "audio": len(audio)}
    if video:
        found |= {
            "codec": video[0].format,
            "size": (video[0].width, video[0].height),
            "fps": video[0].frame_rate,
            "scan": video[0].scan_type,
            "dar": video[0].display_aspect_ratio,
        }
    if audio:
        found |= {
            "audio_codec": audio[0].format,
            "channels": audio[0].channel_s,
            "rate": audio[0].sampling_rate,
        }
    return found


CLIPS = [
    pytest.param(
        "plain.mp4",
        {},
        {"container": "MPEG-4", "codec": "AVC", "size": (320, 180), "fps": "25.000", "scan": "Progressive"}
        | {"dar": "1.778", "audio_codec": "AAC", "channels": 2, "rate": 48000},
        id="mp4-defaults",
    ),
    pytest.param(
        "ntsc.mkv",
        {"rate": "30000/1001", "audio": "mono", "audio_rate": 44100},
        {"container": "Matroska", "fps": "29.970", "channels": 1, "rate": 44100},
        id="mkv-29.97-mono-44k",
    ),
    pytest.param(
        "vga.mov",
        {"width": 640, "height": 480},
        {"container": "MPEG-4", "size": (640, 480), "dar": "1.333", "video": 1, "audio": 1},
        id="mov-4:3",
    ),
    pytest.param(
        "portrait.mp4",
        {"width": 180, "height": 320, "audio": None},
        {"size": (180, 320), "video": 1, "audio": 0},
        id="portrait-no-audio",
    ),
    pytest.param(
        "h264.ts",
        {},
        # No frame rate: MediaInfo estimates it from the PES timing of H.264 in TS (25.253 here).
        {"container": "MPEG-TS", "codec": "AVC", "size": (320, 180), "audio_codec": "AAC"},
        id="ts-h264",
    ),
    pytest.param(
        "pal.mpg",
        {"width": 720, "height": 576, "interlaced": True, "sar": "16:15", "duration": 1.0},
        {"container": "MPEG-PS", "codec": "MPEG Video", "scan": "Interlaced", "dar": "1.333"}
        | {"audio_codec": "MPEG Audio"},
        id="mpg-interlaced-pal-4:3",
    ),
    pytest.param(
        "pal-wide.mp4",
        {"width": 720, "height": 576, "interlaced": True, "sar": "64:45", "duration": 1.0},
        {"container": "MPEG-4", "codec": "MPEG Video", "scan": "Interlaced", "dar": "1.778"},
        id="mp4-interlaced-pal-16:9",
    ),
    pytest.param(
        "lecture.m4a",
        {"video": False, "audio": "mono"},
        {"container": "MPEG-4", "video": 0, "audio": 1, "audio_codec": "AAC", "channels": 1},
        id="m4a-audio-only",
    ),
    pytest.param(
        "lecture.mp3",
        {"video": False, "audio_rate": 44100},
        {"container": "MPEG Audio", "video": 0, "channels": 2, "rate": 44100},
        id="mp3-audio-only",
    ),
    pytest.param(
        "lecture.wav",
        {"video": False},
        {"container": "Wave", "video": 0, "audio_codec": "PCM", "channels": 2, "rate": 48000},
        id="wav-audio-only",
    ),
]


@pytest.mark.parametrize(("name", "options", "expected"), CLIPS)
def test_make_clip(
    ffmpeg: str, tmp_path: Path, name: str, options: dict[str, Any], expected: dict[str, object]
) -> None:
    path = make_clip(tmp_path / name, ffmpeg=ffmpeg, duration=options.pop("duration", 2.0), **options)
    found = facts(path)
    assert {key: found.get(key) for key in expected} == expected


def test_make_clip_duration_and_label(ffmpeg: str, tmp_path: Path) -> None:
    path = make_clip(tmp_path / "labelled.mp4", ffmpeg=ffmpeg, duration=1.5, label="党建视讯 第1集")
    general = tracks(path, "General")[0]
    assert general.title == "党建视讯 第1集"
    assert abs(float(general.duration) - 1500) < 50  # milliseconds


@pytest.mark.parametrize(
    ("name", "options", "problem"),
    [
        pytest.param("clip.avi", {}, "suffix", id="unknown-suffix"),
        pytest.param("clip.m4a", {}, "audio only", id="video-in-audio-container"),
        pytest.param("clip.mp4", {"video": False, "audio": None}, "video, audio or both", id="nothing"),
    ],
)
def test_clip_args_refuses(name: str, options: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        clip_args(Path(name), ffmpeg="ffmpeg", **options)


def test_ffmpeg_failure_is_a_tool_error(ffmpeg: str, tmp_path: Path) -> None:
    with pytest.raises(ToolError, match=r"could not make 'odd\.mp4'") as caught:
        make_clip(tmp_path / "odd.mp4", ffmpeg=ffmpeg, rate="fast")
    assert caught.value.stderr_tail


def test_missing_ffmpeg_is_a_tool_error(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match="could not be started"):
        make_clip(tmp_path / "clip.mp4", ffmpeg=str(tmp_path / "no-ffmpeg"))


def decodes(ffmpeg: str, path: Path) -> bool:
    done = subprocess.run(
        [ffmpeg, "-v", "error", "-i", str(path), "-f", "null", "-"], capture_output=True, check=False
    )
    return done.returncode == 0


def test_broken_empty(ffmpeg: str, tmp_path: Path) -> None:
    path = make_broken(tmp_path / "empty.mp4", "empty", ffmpeg=ffmpeg)
    assert path.stat().st_size == 0


def test_broken_truncated(ffmpeg: str, tmp_path: Path) -> None:
    whole = make_clip(tmp_path / "whole.mp4", ffmpeg=ffmpeg, duration=2.0)
    path = make_broken(tmp_path / "truncated.mp4", "truncated", ffmpeg=ffmpeg, source=whole)
    assert path.read_bytes() == whole.read_bytes()[: int(whole.stat().st_size * 0.3)]
    assert facts(path) == {"container": "MPEG-4", "video": 0, "audio": 0}  # recognised, but no tracks
    assert decodes(ffmpeg, whole)
    assert not decodes(ffmpeg, path)


def test_broken_truncated_makes_its_own_source(ffmpeg: str, tmp_path: Path) -> None:
    path = make_broken(tmp_path / "truncated.mp4", "truncated", ffmpeg=ffmpeg)
    assert path.read_bytes()[4:8] == b"ftyp"
    assert facts(path)["video"] == 0
    assert not decodes(ffmpeg, path)
    assert list(tmp_path.iterdir()) == [path]


def test_broken_truncated_refuses_a_faststart_source(ffmpeg: str, tmp_path: Path) -> None:
    whole = make_clip(tmp_path / "whole.mp4", ffmpeg=ffmpeg, duration=1.0)
    fast = tmp_path / "fast.mp4"
    subprocess.run(
        [ffmpeg, "-v", "error", "-i", str(whole), "-c", "copy", "-movflags", "+faststart", str(fast)],
        check=True,
    )
    with pytest.raises(ValueError, match="moov"):
        make_broken(tmp_path / "truncated.mp4", "truncated", ffmpeg=ffmpeg, source=fast)


def test_broken_random(ffmpeg: str, tmp_path: Path) -> None:
    first = make_broken(tmp_path / "random.mp4", "random", ffmpeg=ffmpeg)
    again = make_broken(tmp_path / "again.mov", "random", ffmpeg=ffmpeg)
    assert first.stat().st_size == 64 * 1024
    assert first.read_bytes() == again.read_bytes()  # seeded: the same bytes every run
    assert facts(first)["video"] == 0
    assert facts(first)["audio"] == 0
    assert not decodes(ffmpeg, first)


def test_broken_text(ffmpeg: str, tmp_path: Path) -> None:
    path = make_broken(tmp_path / "notes.mp4", "text", ffmpeg=ffmpeg)
    assert "not a video" in path.read_text(encoding="utf-8")
    assert facts(path) == {"container": None, "video": 0, "audio": 0}
    assert not decodes(ffmpeg, path)


def test_sample_courseware(ffmpeg: str, tmp_path: Path) -> None:
    clips = sample_courseware(tmp_path / "courseware", ffmpeg=ffmpeg, seconds=1.0)

    metadata = [meta for _, meta in clips]
    assert {meta["series"] for meta in metadata} == {
        "党建视讯",
        "峥嵘岁月",
        "新视野",
        "理论1+1",
        "我身边的党员",
    }
    assert {meta["source"] for meta in metadata} == {"central", "provincial", "city", "own"}
    for meta in metadata:
        assert meta["title"] == f"{meta['series']} 第{meta['episode']}集"
        assert isinstance(meta["categories"], tuple)
        assert meta["categories"]

    shapes = [facts(path) for path, _ in clips]
    assert all(path.parent == tmp_path / "courseware" for path, _ in clips)
    assert {"size": (1280, 720), "fps": "25.000"}.items() <= shapes[0].items()
    assert {s.get("size") for s in shapes} >= {(1280, 720), (640, 480), (720, 1280), (720, 576)}
    assert any(s.get("scan") == "Interlaced" for s in shapes)
    assert any(s.get("fps") == "29.970" for s in shapes)
    assert any(s["video"] == 0 and s["channels"] == 1 for s in shapes)
    assert all(s["audio"] == 1 for s in shapes)
