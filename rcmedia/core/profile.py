"""Transcode profiles: the ladder, the encoder settings and the output map, validated on load."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rcmedia.core.models import Output
from rcmedia.errors import ProfileError

SEGMENT_TYPES = ("mpegts", "fmp4")


@dataclass(frozen=True, kw_only=True, slots=True)
class Rung:
    """One rendition of the ladder: a 16:9 frame size and its video bit rate."""

    name: str
    width: int
    height: int
    bitrate: int  # bit/s, the encoder's average target
    maxrate: int  # bit/s, VBV ceiling
    bufsize: int  # bits, VBV buffer


@dataclass(frozen=True, kw_only=True, slots=True)
class VideoCodec:
    codec: str = "libx264"
    preset: str = "veryfast"
    profile: str = "high"
    pix_fmt: str = "yuv420p"


@dataclass(frozen=True, kw_only=True, slots=True)
class AudioCodec:
    codec: str = "aac"
    bitrate: int = 128_000
    sample_rate: int = 48_000
    channels: int = 2


@dataclass(frozen=True, kw_only=True, slots=True)
class Slate:
    """The picture made for audio-only sources."""

    width: int = 1280
    height: int = 720
    color: str = "0x1d3557"


DEFAULT_SLATE = Slate()


@dataclass(frozen=True, kw_only=True, slots=True)
class Profile:
    name: str
    description: str
    frame_rate: int
    gop_seconds: float
    segment_seconds: float
    segment_type: str
    video: VideoCodec
    audio: AudioCodec
    slate: Slate
    rungs: tuple[Rung, ...]  # highest first
    outputs: Mapping[Output, tuple[str, ...]]

    @property
    def gop_frames(self) -> int:
        return round(self.gop_seconds * self.frame_rate)

    @property
    def target_duration(self) -> int:
        """``EXT-X-TARGETDURATION``: the segment target rounded up (RFC 8216bis §4.4.3.1)."""
        whole = int(self.segment_seconds)
        return whole if whole == self.segment_seconds else whole + 1

    def rung(self, name: str) -> Rung:
        for rung in self.rungs:
            if rung.name == name:
                return rung
        raise ProfileError(self.name, "rungs", f"no rung named {name!r}")


def _get(
    data: Mapping[str, Any],
    key: str,
    kind: type | tuple[type, ...],
    source: str,
    default: Any = ...,
    where: str = "",
) -> Any:
    path = f"{where}{key}"
    if key not in data:
        if default is ...:
            raise ProfileError(source, path, "missing")
        return default
    value = data[key]
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise ProfileError(source, path, f"expected a number, got {value!r}")
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ProfileError(source, path, f"expected {names}, got {value!r}")
    return value


def _check_keys(data: Mapping[str, Any], allowed: set[str], source: str, where: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ProfileError(
            source, f"{where}{unknown[0]}", f"unknown key (allowed: {', '.join(sorted(allowed))})"
        )


def _rung(data: Any, index: int, source: str) -> Rung:
    where = f"rungs[{index}]."
    if not isinstance(data, Mapping):
        raise ProfileError(source, f"rungs[{index}]", "expected a table")
    _check_keys(data, {"name", "width", "height", "bitrate", "maxrate", "bufsize"}, source, where)
    name = _get(data, "name", str, source, where=where)
    width = _get(data, "width", int, source, where=where)
    height = _get(data, "height", int, source, where=where)
    bitrate = _get(data, "bitrate", int, source, where=where)
    if not name or "/" in name or name.startswith("."):
        raise ProfileError(source, f"{where}name", f"{name!r} is not a usable rendition name")
    if width <= 0 or height <= 0 or width % 2 or height % 2:
        raise ProfileError(source, f"{where}width", f"{width}x{height}: sizes must be positive and even")
    if abs(width / height - 16 / 9) > 0.01:
        raise ProfileError(source, f"{where}width", f"{width}x{height} is not 16:9")
    if bitrate < 50_000:
        raise ProfileError(source, f"{where}bitrate", f"{bitrate} bit/s is too low (bit/s, not kbit/s)")
    maxrate = _get(data, "maxrate", int, source, default=bitrate * 3 // 2, where=where)
    bufsize = _get(data, "bufsize", int, source, default=bitrate * 2, where=where)
    if maxrate < bitrate:
        raise ProfileError(source, f"{where}maxrate", "must not be below bitrate")
    return Rung(name=name, width=width, height=height, bitrate=bitrate, maxrate=maxrate, bufsize=bufsize)


def _video(data: Mapping[str, Any], source: str) -> VideoCodec:
    video_data = _get(data, "video", dict, source, default={})
    _check_keys(video_data, {"codec", "preset", "profile", "pix_fmt"}, source, "video.")
    video = VideoCodec(**{k: _get(video_data, k, str, source, where="video.") for k in video_data})
    if video.codec != "libx264":
        raise ProfileError(source, "video.codec", f"{video.codec!r}: only libx264 is supported")
    return video


def _audio(data: Mapping[str, Any], source: str) -> AudioCodec:
    audio_data = _get(data, "audio", dict, source, default={})
    _check_keys(audio_data, {"codec", "bitrate", "sample_rate", "channels"}, source, "audio.")
    audio = AudioCodec(
        codec=_get(audio_data, "codec", str, source, default="aac", where="audio."),
        bitrate=_get(audio_data, "bitrate", int, source, default=128_000, where="audio."),
        sample_rate=_get(audio_data, "sample_rate", int, source, default=48_000, where="audio."),
        channels=_get(audio_data, "channels", int, source, default=2, where="audio."),
    )
    if audio.bitrate < 16_000:
        raise ProfileError(source, "audio.bitrate", f"{audio.bitrate} bit/s is too low (bit/s, not kbit/s)")
    if audio.codec != "aac" or audio.channels != 2 or audio.sample_rate != 48_000:
        raise ProfileError(source, "audio", "the house format is AAC, 48 kHz, stereo")
    return audio


def _slate(data: Mapping[str, Any], source: str) -> Slate:
    slate_data = _get(data, "slate", dict, source, default={})
    _check_keys(slate_data, {"width", "height", "color"}, source, "slate.")
    slate = Slate(
        width=_get(slate_data, "width", int, source, default=DEFAULT_SLATE.width, where="slate."),
        height=_get(slate_data, "height", int, source, default=DEFAULT_SLATE.height, where="slate."),
        color=_get(slate_data, "color", str, source, default=DEFAULT_SLATE.color, where="slate."),
    )
    if slate.width <= 0 or slate.height <= 0 or slate.width % 2 or slate.height % 2:
        raise ProfileError(
            source, "slate.width", f"{slate.width}x{slate.height}: sizes must be positive and even"
        )
    return slate


def parse_profile(data: Mapping[str, Any], source: str) -> Profile:
    """Validate a profile read from TOML; every error names the file and the key."""
    _check_keys(
        data,
        {
            "name",
            "description",
            "frame_rate",
            "gop_seconds",
            "segment_seconds",
            "segment_type",
            "video",
            "audio",
            "slate",
            "rungs",
            "outputs",
        },
        source,
        "",
    )
    name = _get(data, "name", str, source)
    frame_rate = _get(data, "frame_rate", int, source, default=25)
    gop = float(_get(data, "gop_seconds", (int, float), source, default=2.0))
    segment = float(_get(data, "segment_seconds", (int, float), source, default=6.0))
    segment_type = _get(data, "segment_type", str, source, default="mpegts")
    if frame_rate not in (24, 25, 30, 50, 60):
        raise ProfileError(source, "frame_rate", f"{frame_rate} is not a broadcast frame rate")
    if gop <= 0 or abs(gop * frame_rate - round(gop * frame_rate)) > 1e-9:
        raise ProfileError(source, "gop_seconds", f"{gop} s is not a whole number of frames")
    ratio = segment / gop
    if segment <= 0 or abs(ratio - round(ratio)) > 1e-9:
        raise ProfileError(source, "segment_seconds", f"{segment} s is not a whole number of GOPs ({gop} s)")
    if segment_type not in SEGMENT_TYPES:
        raise ProfileError(source, "segment_type", f"{segment_type!r} is not one of {SEGMENT_TYPES}")

    video, audio, slate = _video(data, source), _audio(data, source), _slate(data, source)
    raw_rungs = _get(data, "rungs", list, source)
    if not raw_rungs:
        raise ProfileError(source, "rungs", "at least one rung is needed")
    rungs = tuple(
        sorted((_rung(r, i, source) for i, r in enumerate(raw_rungs)), key=lambda r: r.height, reverse=True)
    )
    names = [r.name for r in rungs]
    if len(set(names)) != len(names):
        raise ProfileError(source, "rungs", "rung names must be unique")
    if len({r.height for r in rungs}) != len(rungs):
        raise ProfileError(source, "rungs", "two rungs have the same height")

    outputs_data = _get(data, "outputs", dict, source, default={o.value: names for o in Output})
    outputs: dict[Output, tuple[str, ...]] = {}
    for key, value in outputs_data.items():
        try:
            output = Output(key)
        except ValueError as exc:
            raise ProfileError(source, f"outputs.{key}", f"unknown output (use {', '.join(Output)})") from exc
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise ProfileError(source, f"outputs.{key}", "expected a non-empty list of rung names")
        for rung_name in value:
            if rung_name not in names:
                raise ProfileError(source, f"outputs.{key}", f"names unknown rung {rung_name!r}")
        outputs[output] = tuple(n for n in names if n in value)
    for output in Output:
        outputs.setdefault(output, tuple(names))
    return Profile(
        name=name,
        description=_get(data, "description", str, source, default=""),
        frame_rate=frame_rate,
        gop_seconds=gop,
        segment_seconds=segment,
        segment_type=segment_type,
        video=video,
        audio=audio,
        slate=slate,
        rungs=rungs,
        outputs=outputs,
    )
