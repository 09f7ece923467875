"""Live, catch-up and start-over media playlists from timeline segments: plain string building (pure).

Rendered per request for thousands of channels, so no playlist object model (the m3u8 library
takes milliseconds per dump): a few f-strings per segment, the same bytes for the same input.

::

    #EXTM3U
    #EXT-X-VERSION:3
    #EXT-X-TARGETDURATION:6
    #EXT-X-MEDIA-SEQUENCE:1234
    #EXT-X-DISCONTINUITY-SEQUENCE:56
    #EXT-X-INDEPENDENT-SEGMENTS
    #EXT-X-PROGRAM-DATE-TIME:2026-11-27T00:59:54.000Z
    #EXTINF:6.000,
    URI
    #EXT-X-DISCONTINUITY
    #EXT-X-PROGRAM-DATE-TIME:2026-11-27T01:00:00.000Z
    #EXTINF:6.000,
    URI

No EXT-X-DISCONTINUITY before the first listed segment, even when it opens an event: the
EXT-X-DISCONTINUITY-SEQUENCE (always present) is that segment's own discontinuity sequence number,
which already counts the splice before it (RFC 8216bis §4.4.3.3: a segment's number is the tag's
value plus the EXT-X-DISCONTINUITY tags before it in the playlist). The tag then leaves the live
playlist together with the segment before it, and the sequence rises by one at that moment, so
every segment keeps its number across reloads (§6.2.2). Without the sequence tag, hls.js stopped
when a discontinuity tag slid out of the window (hls.js #3426, ExoPlayer #1496).

``continuous=True`` renders the same segments without EXT-X-DISCONTINUITY (nor its sequence):
the origin serves every listed segment on one clock with continuity counters that run on
(rcmedia.media.continuous), so restreamers and boxes that mishandle the tag can take the channel as
the one stream it is. EXT-X-MAP still changes where the initialisation segment does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta

from rcmedia.core.timeline import EPOCH, LiveWindow, SegmentRef

_MS = 1000  # µs


def no_init(segment: SegmentRef) -> str | None:
    """MPEG-TS segments carry their own codec set-up: no EXT-X-MAP."""
    return None


def render_live(
    window: LiveWindow,
    *,
    target_duration: int,
    uri: Callable[[SegmentRef], str],
    init_uri: Callable[[SegmentRef], str | None] = no_init,
    version: int | None = None,
    continuous: bool = False,
) -> str:
    """The live media playlist of one rung: ``window`` (from :func:`~rcmedia.core.timeline.live_window`).

    ``uri`` names a segment in this rung (it must encode ``shift_us`` when not zero);
    ``init_uri`` its fMP4 initialisation segment (EXT-X-MAP), None for MPEG-TS. ``target_duration``
    is the output's constant (EXT-X-TARGETDURATION never changes in a live playlist, RFC 8216bis
    §6.2.1). ``version`` defaults to 3 (MPEG-TS, decimal EXTINF), 7 with EXT-X-MAP.
    No EXT-X-PLAYLIST-TYPE: the playlist slides.
    """
    return _render(
        window.segments,
        media_sequence=window.media_sequence,
        discontinuity_sequence=window.discontinuity_sequence,
        target_duration=target_duration,
        uri=uri,
        init_uri=init_uri,
        version=version,
        playlist_type=None,
        ended=False,
        continuous=continuous,
    )


def render_replay(
    segments: Sequence[SegmentRef],
    *,
    target_duration: int,
    uri: Callable[[SegmentRef], str],
    init_uri: Callable[[SegmentRef], str | None] = no_init,
    ended: bool,
    version: int | None = None,
    continuous: bool = False,
) -> str:
    """Catch-up or start-over of ``segments`` (from :func:`~rcmedia.core.timeline.range_segments`).

    ``ended``: the range has aired: a VOD playlist with EXT-X-ENDLIST. Otherwise an EVENT playlist
    (start-over of the programme on air) that the player reloads as segments are appended.
    The numbers are the live stream's, so a player can switch between them. Raises ValueError
    without segments (nothing has completed yet: serve the live playlist instead).
    """
    if not segments:
        raise ValueError("a replay playlist needs at least one completed segment")
    return _render(
        segments,
        media_sequence=segments[0].seq,
        discontinuity_sequence=segments[0].disc,
        target_duration=target_duration,
        uri=uri,
        init_uri=init_uri,
        version=version,
        playlist_type="VOD" if ended else "EVENT",
        ended=ended,
        continuous=continuous,
    )


def _render(
    segments: Sequence[SegmentRef],
    *,
    media_sequence: int,
    discontinuity_sequence: int,
    target_duration: int,
    uri: Callable[[SegmentRef], str],
    init_uri: Callable[[SegmentRef], str | None],
    version: int | None,
    playlist_type: str | None,
    ended: bool,
    continuous: bool,
) -> str:
    body: list[str] = []
    mapped: str | None = None
    for number, segment in enumerate(segments):
        splice = number == 0 or segment.discontinuity
        if number and segment.discontinuity and not continuous:
            body.append("#EXT-X-DISCONTINUITY")
        if splice:
            # the scheduled air time, so that EPG, as-run and players agree (RFC 8216bis §4.4.4.6)
            body.append(f"#EXT-X-PROGRAM-DATE-TIME:{program_date_time(segment.start_us)}")
        init = init_uri(segment)
        # a new MAP at every splice, and within an event where a slate stand-in begins or ends
        # (its own initialisation segment): a MAP applies until the next one (§4.4.4.5)
        if init is not None and (splice or init != mapped):
            body.append(f'#EXT-X-MAP:URI="{init}"')
        mapped = init
        body.append(f"#EXTINF:{extinf(segment.duration_us)},")
        body.append(uri(segment))
    if version is None:
        # EXT-X-MAP without I-frames-only needs version 6 (RFC 8216bis §7); 7 as the VOD and
        # master playlists of fMP4 outputs say. 3 (decimal EXTINF) is what old set-top boxes take.
        version = 7 if mapped is not None else 3
    head = [
        "#EXTM3U",
        f"#EXT-X-VERSION:{version}",
        f"#EXT-X-TARGETDURATION:{target_duration}",
        f"#EXT-X-MEDIA-SEQUENCE:{media_sequence}",
    ]
    if not continuous:
        head.append(f"#EXT-X-DISCONTINUITY-SEQUENCE:{discontinuity_sequence}")
    if playlist_type is not None:
        head.append(f"#EXT-X-PLAYLIST-TYPE:{playlist_type}")
    # every segment starts with an IDR frame (fixed closed GOP, scene cut off)
    head.append("#EXT-X-INDEPENDENT-SEGMENTS")
    if ended:
        body.append("#EXT-X-ENDLIST")
    return "\n".join(head + body) + "\n"


def extinf(duration_us: int) -> str:
    """Seconds with three decimals, rounded half up to the millisecond.

    Durations are whole 25 fps frames (40 ms), so three decimals are exact; integer arithmetic
    makes the same duration always print the same, whatever float formatting would do.
    """
    ms = (duration_us + _MS // 2) // _MS
    return f"{ms // 1000}.{ms % 1000:03d}"


def program_date_time(start_us: int) -> str:
    """ISO 8601 in UTC with milliseconds and ``Z``, e.g. ``2026-11-27T01:00:00.000Z``."""
    moment = EPOCH + timedelta(microseconds=start_us)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // _MS:03d}Z"
