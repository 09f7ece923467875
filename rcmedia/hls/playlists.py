"""Read the rendition playlists ffmpeg writes; render master and VOD media playlists."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import m3u8

from rcmedia.core.assets import Rendition
from rcmedia.errors import VerificationError


@dataclass(frozen=True, kw_only=True, slots=True)
class MediaPlaylistFacts:
    """What a media playlist lists: segment URIs (relative), their EXTINF durations, the EXT-X-MAP."""

    segments: tuple[str, ...]
    durations: tuple[float, ...]
    init_segment: str | None
    target_duration: int | None


def read_media_playlist(path: Path) -> MediaPlaylistFacts:
    """Parse a media playlist written by ffmpeg's hls muxer."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, ValueError) as exc:
        raise VerificationError(str(path), f"cannot read the playlist: {exc}") from exc
    return parse_media_playlist(text, where=str(path))


def parse_media_playlist(text: str, *, where: str) -> MediaPlaylistFacts:
    """Parse the text of a media playlist (``where`` names it in errors)."""
    try:
        playlist = m3u8.loads(text)
    except ValueError as exc:
        raise VerificationError(where, f"cannot read the playlist: {exc}") from exc
    if playlist.is_variant:
        raise VerificationError(where, "expected a media playlist, found a master playlist")
    init = playlist.segment_map[0].uri if playlist.segment_map else None
    return MediaPlaylistFacts(
        segments=tuple(str(s.uri) for s in playlist.segments),
        durations=tuple(float(s.duration) for s in playlist.segments),
        init_segment=init,
        target_duration=playlist.target_duration,
    )


def _version(segment_type: str | None) -> int:
    # EXT-X-MAP in a playlist without I-frames needs version 6 (RFC 8216bis §4.4.4.5); 3 suits TS
    # set-top boxes best (decimal EXTINF).
    return 7 if segment_type == "fmp4" else 3


def render_master(renditions: Sequence[Rendition], uri_of: dict[str, str], segment_type: str | None) -> str:
    """A master playlist listing ``renditions`` highest first, with measured attributes."""
    master = m3u8.M3U8()
    master.version = _version(segment_type)
    master.is_independent_segments = True  # every segment starts with an IDR (fixed, closed GOP)
    for rendition in sorted(renditions, key=lambda r: r.bandwidth, reverse=True):
        master.add_playlist(
            m3u8.Playlist(
                uri=uri_of[rendition.name],
                stream_info={
                    "bandwidth": rendition.bandwidth,
                    "average_bandwidth": rendition.average_bandwidth,
                    "codecs": rendition.codecs,
                    "resolution": f"{rendition.width}x{rendition.height}",
                    "frame_rate": rendition.frame_rate,
                },
                media=[],
                base_uri=None,
            )
        )
    text: str = master.dumps()
    return text


def render_vod(rendition: Rendition, *, base_uri: str, target_duration: int, segment_type: str | None) -> str:
    """A VOD media playlist for one rendition; segment URIs are ``base_uri`` + the file name."""
    playlist = m3u8.M3U8()
    playlist.version = _version(segment_type)
    playlist.target_duration = target_duration
    playlist.media_sequence = 0
    playlist.playlist_type = "vod"
    playlist.is_independent_segments = True
    playlist.is_endlist = True
    init = {"uri": base_uri + rendition.init_segment} if rendition.init_segment else None
    for name, duration in zip(rendition.segments, rendition.segment_durations, strict=True):
        playlist.add_segment(m3u8.Segment(uri=base_uri + name, duration=duration, init_section=init))
    text: str = playlist.dumps()
    return text
