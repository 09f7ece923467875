"""Verification of a transcoded ladder before it is published (pure: facts in, renditions out).

The live playout splices any asset's segments after any other's, and players switch rungs at
segment boundaries, so every rung must have the same segment boundaries (to the frame), every
segment must start with an IDR picture, and the master playlist must advertise true figures
(RFC 8216bis §4.4.6.2: BANDWIDTH is the peak segment bit rate, AVERAGE-BANDWIDTH the mean).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from rcmedia.core.assets import Rendition
from rcmedia.core.bitrate import playlist_rates
from rcmedia.core.plan import AAC_FRAME_SAMPLES, MIN_SEGMENT_SECONDS, TranscodePlan
from rcmedia.errors import RejectedInputError, VerificationError


@dataclass(frozen=True, kw_only=True, slots=True)
class SegmentFacts:
    name: str
    duration: float  # EXTINF
    size: int  # bytes on disk
    starts_with_idr: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class TrackSpan:
    """When a rendition's pictures and sound start and end (seconds on its own clock).

    The video's end is its last picture's time plus one frame; the audio's, its last AAC frame's
    end. Read from the first and the last segment's timestamps.
    """

    video_start: float
    video_end: float
    audio_start: float
    audio_end: float


@dataclass(frozen=True, kw_only=True, slots=True)
class RungOutput:
    """What was measured of one rung's output."""

    name: str
    width: int
    height: int
    frame_rate: float
    audio_rate: int
    audio_channels: int
    codecs: str
    segments: tuple[SegmentFacts, ...]
    init_segment: str | None = None
    span: TrackSpan | None = None  # None: not measured (fMP4)


def verify_ladder(
    outputs: Sequence[RungOutput], *, plan: TranscodePlan, source_name: str
) -> tuple[Rendition, ...]:
    """Check the outputs against the plan and the house format; return the renditions to publish."""
    profile = plan.profile
    frame = 1 / profile.frame_rate
    tolerance = frame + 1e-6
    expected = {g.name: g.rung for g in plan.ladder}
    if sorted(o.name for o in outputs) != sorted(expected):
        raise VerificationError(
            source_name, f"rungs {sorted(o.name for o in outputs)} differ from the plan's {sorted(expected)}"
        )
    reference = outputs[0]
    if not reference.segments:
        raise VerificationError(f"{source_name} {reference.name}", "no segments were written")
    renditions = []
    for output in outputs:
        what = f"{source_name} rendition {output.name}"
        rung = expected[output.name]
        if (output.width, output.height) != (rung.width, rung.height):
            raise VerificationError(
                what, f"picture is {output.width}x{output.height}, expected {rung.width}x{rung.height}"
            )
        if abs(output.frame_rate - profile.frame_rate) > 0.01:
            raise VerificationError(what, f"frame rate is {output.frame_rate}, expected {profile.frame_rate}")
        if (output.audio_rate, output.audio_channels) != (profile.audio.sample_rate, profile.audio.channels):
            raise VerificationError(
                what,
                f"audio is {output.audio_rate} Hz x{output.audio_channels}, expected "
                f"{profile.audio.sample_rate} Hz x{profile.audio.channels}",
            )
        if output.span is not None:
            check_audio_span(output.span, sample_rate=profile.audio.sample_rate, what=what)
        if len(output.segments) != len(reference.segments):
            raise VerificationError(
                what, f"{len(output.segments)} segments, but {reference.name} has {len(reference.segments)}"
            )
        for index, (segment, ref) in enumerate(zip(output.segments, reference.segments, strict=True)):
            if abs(segment.duration - ref.duration) > tolerance:
                raise VerificationError(
                    what,
                    f"segment {index} lasts {segment.duration:.3f} s, "
                    f"{reference.name}'s {ref.duration:.3f} s",
                )
            wanted = _wanted_duration(plan, index, len(output.segments))
            if wanted is not None and abs(segment.duration - wanted) > tolerance:
                raise VerificationError(
                    what, f"segment {index} lasts {segment.duration:.3f} s, not the planned {wanted:g} s"
                )
            if math.floor(segment.duration + 0.5) > profile.target_duration:
                # RFC 8216 §4.3.3.1: each EXTINF, rounded to the nearest integer, ≤ TARGETDURATION
                raise VerificationError(
                    what,
                    f"segment {index} lasts {segment.duration:.3f} s, which rounds to more than the "
                    f"target duration ({profile.target_duration} s)",
                )
            if not segment.starts_with_idr:
                raise VerificationError(
                    what, f"segment {index} ({segment.name}) does not start with a keyframe"
                )
            if segment.size <= 0:
                raise VerificationError(what, f"segment {index} ({segment.name}) is empty")
        renditions.append(
            Rendition(
                name=output.name,
                width=output.width,
                height=output.height,
                bandwidth=peak_bandwidth(output.segments, target_duration=profile.target_duration),
                average_bandwidth=average_bandwidth(output.segments),
                codecs=output.codecs,
                frame_rate=float(profile.frame_rate),
                segments=tuple(s.name for s in output.segments),
                # one list for all rungs: the reference's, so the timeline is identical everywhere
                segment_durations=tuple(round(s.duration, 6) for s in reference.segments),
                init_segment=output.init_segment,
            )
        )
    # every rung agrees (checked above), so a short total means the source itself came up short
    total = sum(s.duration for s in reference.segments)
    if total < plan.duration - tolerance:
        raise RejectedInputError(
            source_name,
            f"only {total:.2f} s of its {plan.duration:.2f} s could be decoded: "
            "the file is truncated or damaged",
        )
    _check_no_tiny_segment(reference, plan=plan, source_name=source_name)
    return tuple(sorted(renditions, key=lambda r: r.height, reverse=True))


def check_audio_span(span: TrackSpan, *, sample_rate: int, what: str) -> None:
    """The sound starts with the first picture and ends with the last, to within one AAC frame.

    A live channel splices assets end to end on one clock: sound that starts before its
    picture, or runs on after it, overlaps the next asset's (issue 10: 100 ms in 7 of 31 assets).
    The transcode cuts the sound to whole AAC frames and shifts out the encoder's priming frame.
    """
    frame = AAC_FRAME_SAMPLES / sample_rate
    limit = frame + 2 / 90_000  # MPEG-TS timestamps are 90 kHz ticks
    lead = span.video_start - span.audio_start
    if abs(lead) > limit:
        when = "before" if lead > 0 else "after"
        raise VerificationError(
            what,
            f"the audio starts {abs(lead) * 1000:.1f} ms {when} the first picture (at most {frame * 1000:.1f})",
        )
    over = span.audio_end - span.video_end
    if abs(over) > limit:
        when = "after" if over > 0 else "before"
        raise VerificationError(
            what,
            f"the audio ends {abs(over) * 1000:.1f} ms {when} the last picture (at most {frame * 1000:.1f})",
        )


def _check_no_tiny_segment(reference: RungOutput, *, plan: TranscodePlan, source_name: str) -> None:
    """No segment under a second unless the plan has one (an asset that short, or the slate).

    A player that joins a live stream a few segments back from the edge has only those segments
    as buffer; a 0.04 s programme tail among them leaves it almost none (issue 10).
    """
    tolerance = 1 / plan.profile.frame_rate + 1e-6
    shortest = min(plan.segment_lengths) / plan.profile.frame_rate
    floor = min(MIN_SEGMENT_SECONDS, shortest)
    for index, segment in enumerate(reference.segments):
        if segment.duration < floor - tolerance:
            raise VerificationError(
                f"{source_name} rendition {reference.name}",
                f"segment {index} lasts {segment.duration:.3f} s: a segment under "
                f"{MIN_SEGMENT_SECONDS:g} s starves a player joining near the live edge",
            )


def _wanted_duration(plan: TranscodePlan, index: int, count: int) -> float | None:
    """The duration segment ``index`` must have: the plan's own (all but the last, unless the plan
    cuts the asset itself: the slate), as :func:`rcmedia.core.plan.segment_layout` lays it out."""
    fps = plan.profile.frame_rate
    if plan.segment_frames is not None:
        if count != len(plan.segment_frames):
            raise VerificationError(
                plan.title, f"{count} segments written, {len(plan.segment_frames)} planned"
            )
        return plan.segment_frames[index] / fps
    planned = plan.segment_lengths
    # the last segment's length is checked through the total (short: a truncated source)
    return None if index == count - 1 or index >= len(planned) else planned[index] / fps


def peak_bandwidth(segments: Sequence[SegmentFacts], *, target_duration: int) -> int:
    """BANDWIDTH: the highest bit rate of any run of segments lasting 0.5 to 1.5 times
    ``target_duration`` (seconds), in bit/s, rounded up (see :func:`~rcmedia.core.bitrate.peak_bit_rate`)."""
    return playlist_rates([s.size for s in segments], [s.duration for s in segments], target_duration)[0]


def average_bandwidth(segments: Sequence[SegmentFacts]) -> int:
    """AVERAGE-BANDWIDTH: all bits over all seconds, in bit/s, rounded up."""
    return playlist_rates([s.size for s in segments], [s.duration for s in segments], 1)[1]
