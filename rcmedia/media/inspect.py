"""Measure what ffmpeg wrote, independently of what we asked it for, for verification."""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path

from pymediainfo import MediaInfo

from rcmedia.core.verify import RungOutput, SegmentFacts, TrackSpan
from rcmedia.errors import VerificationError
from rcmedia.hls.playlists import read_media_playlist
from rcmedia.media import bitstream, mpegts
from rcmedia.media.probe import as_number

HEAD_BYTES = 256 * 1024  # enough to reach the first video access unit of any segment


def _head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(HEAD_BYTES)


def inspect_rung(folder: Path, *, segment_type: str) -> RungOutput:
    """Read one rung's playlist, segment sizes and keyframes, and its first segment's format."""
    listed = read_media_playlist(folder / "index.m3u8")
    init_bytes = (folder / listed.init_segment).read_bytes() if listed.init_segment else None
    segments = []
    for name, duration in zip(listed.segments, listed.durations, strict=True):
        path = folder / name
        if not path.is_file() or path.parent != folder:
            raise VerificationError(f"{folder.name}/{name}", "listed in the playlist but not written")
        head = _head(path)
        if segment_type == "fmp4":
            assert init_bytes is not None
            idr = bitstream.fmp4_first_sample_is_idr(init_bytes, path.read_bytes())
        else:
            idr = bitstream.ts_first_access_unit_is_idr(head)
        segments.append(
            SegmentFacts(name=name, duration=duration, size=path.stat().st_size, starts_with_idr=idr)
        )
    if not segments:
        raise VerificationError(folder.name, "the playlist lists no segments")

    # the longest segment: MediaInfo may find no audio in a slate piece of a few frames
    first = folder / max(segments, key=lambda s: s.duration).name
    if segment_type == "fmp4":
        assert init_bytes is not None
        video_codec = bitstream.h264_codec_string(b"", init=init_bytes)
        audio_codec = bitstream.aac_codec_string(b"", init=init_bytes)
        frame_rate = bitstream.h264_frame_rate(b"", init=init_bytes)
        info = MediaInfo.parse(io.BytesIO(init_bytes + first.read_bytes()))
    else:
        head = _head(first)
        video_codec = bitstream.h264_codec_string(head)
        audio_codec = bitstream.aac_codec_string(head)
        frame_rate = bitstream.h264_frame_rate(head)
        info = MediaInfo.parse(first)
    video = info.video_tracks[0] if info.video_tracks else None
    audio = info.audio_tracks[0] if info.audio_tracks else None
    if video is None or audio is None:
        raise VerificationError(folder.name, "the first segment lacks a video or an audio track")
    span = None
    if segment_type != "fmp4":
        span = ts_track_span(folder / segments[0].name, folder / segments[-1].name, frame_rate)
    return RungOutput(
        name=folder.name,
        width=int(as_number(video.width)),
        height=int(as_number(video.height)),
        # from the SPS timing info: MediaInfo only estimates a TS segment's rate from timestamps
        frame_rate=float(frame_rate) if frame_rate is not None else 0.0,
        audio_rate=int(as_number(audio.sampling_rate)),
        audio_channels=int(as_number(audio.channel_s)),
        codecs=f"{video_codec},{audio_codec}",
        segments=tuple(segments),
        init_segment=listed.init_segment,
        span=span,
    )


def ts_track_span(first: Path, last: Path, frame_rate: Fraction | float | None) -> TrackSpan:
    """When the pictures and the sound start (first segment) and end (last segment)."""
    try:
        head, tail = first.read_bytes(), last.read_bytes()
        video_start, _ = mpegts.video_pts_range(head)
        _, last_picture = mpegts.video_pts_range(tail)
        audio_start, _ = mpegts.audio_span(head)
        _, audio_end = mpegts.audio_span(tail)
    except IndexError as exc:
        raise VerificationError(first.parent.name, "a segment is truncated or malformed") from exc
    frame = 1 / float(frame_rate) if frame_rate else 0.0
    return TrackSpan(
        video_start=video_start, video_end=last_picture + frame, audio_start=audio_start, audio_end=audio_end
    )
