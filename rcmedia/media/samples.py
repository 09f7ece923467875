"""Synthetic source files made with ffmpeg's lavfi sources, for the tests and for ``rcmedia demo``.

Real courseware arrives in every shape (720p and SD, 4:3 and portrait, 29.97 fps, interlaced
MPEG-2 from broadcast archives, audio-only lectures) and sometimes broken. These functions make
small stand-ins for each shape so the ingest path is exercised end to end without shipping
media in the repository. Video is ``testsrc2`` (a moving pattern, so encoders and players have
real motion to deal with) and audio a ``sine`` tone near -20 dBFS. No text is burnt in: drawtext
needs a font, which a bare machine may lack; the label goes into the container's title tag.
"""

from __future__ import annotations

import logging
import random
import tempfile
from pathlib import Path
from typing import Literal, TypedDict

from rcmedia.errors import ToolError
from rcmedia.media.ffmpeg import run_ffmpeg_simple

log = logging.getLogger(__name__)

AudioLayout = Literal["stereo", "mono"]
BrokenKind = Literal["empty", "truncated", "random", "text"]

VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".mkv", ".ts", ".mpg"})
AUDIO_ONLY_CODECS = {".m4a": "aac", ".mp3": "libmp3lame", ".wav": "pcm_s16le"}
_TIMEOUT_SECONDS = 300.0
_RANDOM_SEED = 20240701
_TRUNCATE_FRACTION = 0.3


def clip_args(
    path: Path,
    *,
    ffmpeg: str,
    duration: float = 4.0,
    width: int = 320,
    height: int = 180,
    rate: str = "25",
    interlaced: bool = False,
    audio: AudioLayout | None = "stereo",
    audio_rate: int = 48000,
    video: bool = True,
    label: str = "",
    tone_hz: int = 440,
    sar: str | None = None,
    audio_codec: str | None = None,
) -> list[str]:
    """The ffmpeg argv that :func:`make_clip` runs (see there for the parameters)."""
    suffix = path.suffix.lower()
    if suffix not in VIDEO_SUFFIXES and suffix not in AUDIO_ONLY_CODECS:
        raise ValueError(f"{path.name!r}: cannot make a clip with suffix {suffix!r}")
    if video and suffix in AUDIO_ONLY_CODECS:
        raise ValueError(f"{path.name!r}: {suffix} holds audio only; pass video=False")
    if not video and audio is None:
        raise ValueError(f"{path.name!r}: a clip needs video, audio or both")

    argv = [ffmpeg, "-y", "-hide_banner", "-loglevel", "error"]
    if video:
        argv += ["-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate={rate}:duration={duration}"]
    if audio is not None:
        argv += [
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency={tone_hz}:sample_rate={audio_rate}:duration={duration}",
        ]
    if video:
        argv += _video_args(suffix, interlaced=interlaced, sar=sar)
    if audio is not None:
        # sine's amplitude is 1/8 (-18 dBFS); 2 dB less is a typical speech programme level.
        argv += ["-af", "volume=-2dB", "-ac", "2" if audio == "stereo" else "1"]
        argv += ["-c:a", audio_codec or _audio_codec(suffix)]
    if label:
        argv += ["-metadata", f"title={label}"]
    return [*argv, "-t", str(duration), str(path)]


def _video_args(suffix: str, *, interlaced: bool, sar: str | None) -> list[str]:
    filters = ["format=yuv420p"]
    if sar:
        filters.append(f"setsar={sar.replace(':', '/')}")  # ':' would split the filter options
    if interlaced:
        filters.append("setfield=tff")
    args = ["-vf", ",".join(filters)]
    if interlaced or suffix == ".mpg":
        # MPEG-2 for interlace, as broadcast archives deliver it: x264's interlaced mode is MBAFF,
        # which MediaInfo reports as ScanType "MBAFF" rather than "Interlaced".
        args += ["-c:v", "mpeg2video", "-q:v", "4"]
        return [*args, "-flags", "+ildct+ilme"] if interlaced else args
    return [*args, "-c:v", "libx264", "-preset", "ultrafast"]


def _audio_codec(suffix: str) -> str:
    if suffix in AUDIO_ONLY_CODECS:
        return AUDIO_ONLY_CODECS[suffix]
    return "mp2" if suffix == ".mpg" else "aac"  # the MPEG programme stream muxer takes no AAC


def make_clip(
    path: Path,
    *,
    ffmpeg: str,
    duration: float = 4.0,
    width: int = 320,
    height: int = 180,
    rate: str = "25",
    interlaced: bool = False,
    audio: AudioLayout | None = "stereo",
    audio_rate: int = 48000,
    video: bool = True,
    label: str = "",
    tone_hz: int = 440,
    sar: str | None = None,
    audio_codec: str | None = None,
) -> Path:
    """Write a synthetic clip to ``path``; the suffix picks the container and codecs.

    ``.mp4``, ``.mov``, ``.mkv`` and ``.ts`` get H.264 and AAC; ``.mpg`` gets MPEG-2 and MP2.
    ``interlaced`` gives top-field-first MPEG-2 in any of them. With ``video=False`` the clip is
    audio only: ``.m4a`` (AAC), ``.mp3`` or ``.wav``. ``rate`` is an ffmpeg rate (``"30000/1001"``),
    ``sar`` a sample aspect ratio (``"64:45"``), ``label`` the container's title tag, ``audio_codec``
    an ffmpeg encoder instead of the suffix's (``"pcm_s16le"`` in a ``.mov`` edit master, ``"mp2"``
    in a broadcast ``.ts``; both also cost far less to make than AAC). MP4 files keep ffmpeg's
    default layout, with the moov box at the end.
    """
    argv = clip_args(
        path,
        ffmpeg=ffmpeg,
        duration=duration,
        width=width,
        height=height,
        rate=rate,
        interlaced=interlaced,
        audio=audio,
        audio_rate=audio_rate,
        video=video,
        label=label,
        tone_hz=tone_hz,
        sar=sar,
        audio_codec=audio_codec,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    _run(argv, path)
    return path


def _run(argv: list[str], path: Path) -> None:
    try:
        run_ffmpeg_simple(argv, timeout=_TIMEOUT_SECONDS)
    except ToolError as exc:
        raise ToolError(
            "ffmpeg", f"could not make {path.name!r}: {exc.problem}", stderr_tail=exc.stderr_tail
        ) from exc


def make_broken(
    path: Path, kind: BrokenKind, *, ffmpeg: str, source: Path | None = None, seed: int = _RANDOM_SEED
) -> Path:
    """Write a file that must be refused at ingest, of the ``kind`` its name gives.

    ``empty``: 0 bytes. ``truncated``: the first 30% of an MP4 whose moov box is at the end, so
    no decoder can find the sample tables; ``source`` is that MP4, made here when not given.
    ``random``: 64 KiB of seeded random bytes. ``text``: a line of prose.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "random":
        path.write_bytes(random.Random(seed).randbytes(64 * 1024))  # noqa: S311 - reproducible, not secret
    elif kind == "text":
        path.write_text(
            "This is a lecture transcript, not a video.\n这是讲稿，不是视频。\n", encoding="utf-8"
        )
    elif source is not None:
        path.write_bytes(_truncated(source.read_bytes(), source))
    else:
        with tempfile.TemporaryDirectory(prefix="rcmedia-sample-") as folder:
            whole = make_clip(Path(folder) / "whole.mp4", ffmpeg=ffmpeg, duration=2.0)
            path.write_bytes(_truncated(whole.read_bytes(), whole))
    return path


def _truncated(data: bytes, source: Path) -> bytes:
    cut = int(len(data) * _TRUNCATE_FRACTION)
    moov = _top_level_box_offset(data, b"moov")
    if moov is None or moov < cut:
        raise ValueError(
            f"{source.name!r} has no moov box after its first {_TRUNCATE_FRACTION:.0%}, so a truncated "
            "copy could still play; give an MP4 written without -movflags +faststart"
        )
    return data[:cut]


def _top_level_box_offset(data: bytes, kind: bytes) -> int | None:
    pos = 0
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos : pos + 4], "big")
        if data[pos + 4 : pos + 8] == kind:
            return pos
        if size == 1:
            size = int.from_bytes(data[pos + 8 : pos + 16], "big")
        if size < 8:
            return None
        pos += size
    return None


def sample_courseware(
    folder: Path, *, ffmpeg: str, seconds: float = 20.0
) -> list[tuple[Path, dict[str, object]]]:
    """Make the demo's courseware in ``folder``: one clip per shape that arrives in practice.

    Each clip comes with the metadata an editor would give it (the fields of
    :class:`rcmedia.core.models.AssetMetadata`; ``source`` as its string value).
    """
    clips: list[tuple[Path, dict[str, object]]] = []
    for name, shape, meta in _COURSEWARE:
        path = make_clip(folder / name, ffmpeg=ffmpeg, duration=seconds, label=str(meta["title"]), **shape)
        clips.append((path, dict(meta)))
    return clips


class _Shape(TypedDict, total=False):
    width: int
    height: int
    rate: str
    interlaced: bool
    sar: str
    tone_hz: int
    video: bool
    audio: AudioLayout | None


_COURSEWARE: list[tuple[str, _Shape, dict[str, object]]] = [
    (
        "dangjian-shixun-01.mp4",  # 16:9 720p, the house format
        {"width": 1280, "height": 720, "tone_hz": 440},
        {
            "title": "党建视讯 第1集",
            "series": "党建视讯",
            "episode": 1,
            "source": "central",
            "categories": ("党建", "时政"),
        },
    ),
    (
        "dangjian-shixun-02.ts",  # broadcast archive: interlaced PAL SD MPEG-2, anamorphic 16:9
        {"width": 720, "height": 576, "interlaced": True, "sar": "64:45", "tone_hz": 494},
        {
            "title": "党建视讯 第2集",
            "series": "党建视讯",
            "episode": 2,
            "source": "central",
            "categories": ("党建",),
        },
    ),
    (
        "zhengrong-suiyue-01.mov",  # 4:3 VGA from an old provincial library
        {"width": 640, "height": 480, "tone_hz": 523},
        {
            "title": "峥嵘岁月 第1集",
            "series": "峥嵘岁月",
            "episode": 1,
            "source": "provincial",
            "categories": ("党史",),
        },
    ),
    (
        "xin-shiye-01.mp4",  # portrait, shot on a phone for the mobile app
        {"width": 720, "height": 1280, "tone_hz": 587},
        {
            "title": "新视野 第1集",
            "series": "新视野",
            "episode": 1,
            "source": "city",
            "categories": ("科技", "新媒体"),
        },
    ),
    (
        "wo-shenbian-de-dangyuan-01.mkv",  # 29.97 fps, as NTSC-rate cameras and screen captures give
        {"width": 1280, "height": 720, "rate": "30000/1001", "tone_hz": 659},
        {
            "title": "我身边的党员 第1集",
            "series": "我身边的党员",
            "episode": 1,
            "source": "own",
            "categories": ("先进典型",),
        },
    ),
    (
        "lilun-1plus1-01.m4a",  # a recorded lecture: mono audio, no picture
        {"video": False, "audio": "mono", "tone_hz": 330},
        {
            "title": "理论1+1 第1集",
            "series": "理论1+1",
            "episode": 1,
            "source": "provincial",
            "categories": ("理论", "讲座"),
        },
    ),
]
