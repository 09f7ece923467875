"""Probe a source with MediaInfo (pymediainfo's bundled library) into :class:`SourceFacts`."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pymediainfo import MediaInfo

from rcmedia.core.probe import SourceFacts
from rcmedia.errors import RejectedInputError, ToolError

log = logging.getLogger(__name__)


def as_number(value: Any, default: float = 0.0) -> float:
    try:
        return float(str(value).split()[0]) if value not in (None, "") else default
    except (ValueError, IndexError):
        return default


def _seconds(track: Any) -> float:
    return as_number(getattr(track, "duration", None)) / 1000.0  # MediaInfo reports milliseconds


def probe(path: Path, *, display_name: str | None = None) -> SourceFacts:
    """Read the facts of ``path``; refuse files that are not media at all.

    ``display_name`` (the name the editor uploaded) is what error messages show.
    """
    name = display_name or path.name
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise RejectedInputError(name, f"cannot be read: {exc.strerror or exc}") from exc
    if size == 0:
        return SourceFacts(filename=name, size_bytes=0, duration=0.0)
    try:
        info = MediaInfo.parse(path)
    except (OSError, RuntimeError) as exc:
        raise ToolError("MediaInfo", f"could not read {name!r}: {exc}") from exc

    general = info.general_tracks[0] if info.general_tracks else None
    videos = [t for t in info.video_tracks if as_number(t.width) > 0]
    audios = info.audio_tracks
    if general is None or (not videos and not audios):
        container = getattr(general, "format", None) if general is not None else None
        if container:
            reason = (
                f"MediaInfo recognises a {container} container but finds no audio or video "
                "track in it: the file is damaged or truncated"
            )
        else:
            reason = "not a media file: MediaInfo recognises no audio or video format in it"
        raise RejectedInputError(name, reason)

    video = videos[0] if videos else None
    audio = audios[0] if audios else None
    video_duration = _seconds(video) if video else 0.0
    audio_duration = _seconds(audio) if audio else 0.0
    duration = max(video_duration, audio_duration)
    if duration <= 0 and general is not None:
        duration = _seconds(general)
    facts = SourceFacts(
        filename=name,
        size_bytes=size,
        duration=duration,
        video_duration=video_duration or (duration if video else 0.0),
        audio_duration=audio_duration,
        container=str(getattr(general, "format", "") or ""),
        has_video=video is not None,
        width=int(as_number(video.width)) if video else 0,
        height=int(as_number(video.height)) if video else 0,
        pixel_aspect=as_number(video.pixel_aspect_ratio, 1.0) or 1.0 if video else 1.0,
        frame_rate=as_number(video.frame_rate) if video else 0.0,
        interlaced=bool(video and str(video.scan_type or "").lower() in ("interlaced", "mbaff")),
        video_codec=str(video.format or "") if video else "",
        has_audio=audio is not None,
        audio_channels=int(as_number(audio.channel_s)) if audio else 0,
        audio_rate=int(as_number(audio.sampling_rate)) if audio else 0,
        audio_codec=str(audio.format or "") if audio else "",
    )
    log.debug("probed %s: %s", name, facts)
    return facts
