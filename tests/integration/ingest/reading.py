"""Independent reading of published output: ffmpeg's own decoder and filters, MediaInfo, m3u8.

Nothing here uses rcmedia's verification code, so a bug there cannot hide a bug in the output.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import m3u8
from pymediainfo import MediaInfo


def _ffmpeg(ffmpeg: str, *args: str) -> str:
    done = subprocess.run(
        [ffmpeg, "-hide_banner", "-nostats", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stderr


@dataclass(frozen=True)
class Frame:
    pts_time: float
    key: bool
    width: int
    height: int


def video_frames(ffmpeg: str, media: Path, *, copyts: bool = False) -> list[Frame]:
    """Every decoded picture of ``media`` (a segment or a playlist) via the showinfo filter;
    with ``copyts``, at the times the stream stamps them (else ffmpeg counts from the first)."""
    timing = ("-copyts",) if copyts else ()
    text = _ffmpeg(ffmpeg, *timing, "-i", str(media), "-map", "0:v:0", "-vf", "showinfo", "-f", "null", "-")
    frames = []
    for match in re.finditer(r"pts_time:\s*([-\d.]+).*?s:(\d+)x(\d+).*?iskey:(\d)", text):
        frames.append(Frame(float(match[1]), match[4] == "1", int(match[2]), int(match[3])))
    return frames


@dataclass(frozen=True)
class AudioFrame:
    pts_time: float
    samples: int
    rate: int


def audio_frames(ffmpeg: str, media: Path) -> list[AudioFrame]:
    """Every decoded audio frame of ``media`` via the ashowinfo filter, at the times the stream
    stamps them (as :func:`video_frames` with ``copyts``)."""
    text = _ffmpeg(
        ffmpeg, "-copyts", "-i", str(media), "-map", "0:a:0", "-af", "ashowinfo", "-f", "null", "-"
    )
    return [
        AudioFrame(float(match[1]), int(match[3]), int(match[2]))
        for match in re.finditer(r"pts_time:\s*([-\d.]+).*?rate:(\d+)\s+nb_samples:(\d+)", text)
    ]


def first_frame_is_key(ffmpeg: str, segment: Path) -> bool:
    text = _ffmpeg(
        ffmpeg, "-i", str(segment), "-map", "0:v:0", "-frames:v", "1", "-vf", "showinfo", "-f", "null", "-"
    )
    match = re.search(r"iskey:(\d)\s+type:(\w)", text)
    assert match, text[-1000:]
    return match[1] == "1" and match[2] == "I"


@dataclass(frozen=True)
class Loudness:
    integrated: float
    true_peak: float


def loudness(ffmpeg: str, media: Path) -> Loudness:
    text = _ffmpeg(ffmpeg, "-i", str(media), "-map", "0:a:0", "-af", "ebur128=peak=true", "-f", "null", "-")
    summary = text[text.rindex("Summary:") :]
    integrated = float(re.search(r"I:\s+([-\d.]+) LUFS", summary)[1])  # type: ignore[index]
    peak_match = re.search(r"Peak:\s+([-\d.]+|-inf) dBFS", summary)
    assert peak_match, summary
    peak = float(peak_match[1])
    return Loudness(integrated, peak)


def picture_box(ffmpeg: str, media: Path) -> tuple[int, int]:
    """Width and height of the non-black area (cropdetect), i.e. the picture inside its padding."""
    text = _ffmpeg(
        ffmpeg,
        "-i",
        str(media),
        "-map",
        "0:v:0",
        "-vf",
        "cropdetect=limit=24:round=2:reset=0",
        "-f",
        "null",
        "-",
    )
    crops = re.findall(r"crop=(\d+):(\d+):(\d+):(\d+)", text)
    assert crops, text[-1000:]
    width, height, _x, _y = map(int, crops[-1])
    return width, height


@dataclass(frozen=True)
class StreamFormat:
    width: int
    height: int
    scan_type: str
    audio_rate: int
    audio_channels: int
    audio_format: str


def stream_format(segment: Path) -> StreamFormat:
    info = MediaInfo.parse(segment)
    video, audio = info.video_tracks[0], info.audio_tracks[0]
    return StreamFormat(
        width=int(video.width),
        height=int(video.height),
        scan_type=str(video.scan_type or "Progressive"),
        audio_rate=int(audio.sampling_rate),
        audio_channels=int(audio.channel_s),
        audio_format=str(audio.format),
    )


def media_playlist(path: Path) -> m3u8.M3U8:
    playlist = m3u8.loads(path.read_text(encoding="utf-8"))
    assert not playlist.is_variant
    return playlist
