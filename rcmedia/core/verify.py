"""Verification of a transcoded ladder before it is published (pure: facts in, renditions out).

The live playout splices any asset's segments after any other's, and players switch rungs at
segment boundaries, so every rung must have the same segment boundaries (to the frame), every
segment must start with an IDR picture, and the master playlist must advertise true figures
(RFC 8216bis §4.4.6.2: BANDWIDTH is the peak segment bit rate, AVERAGE-BANDWIDTH the mean).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rcmedia.core.assets import Rendition
from rcmedia.core.bitrate import average_bit_rate, peak_bit_rate
from rcmedia.core.plan import TranscodePlan
from rcmedia.errors import RejectedInputError, VerificationError


@dataclass(frozen=True, kw_only=True, slots=True)
class SegmentFacts:
    name: str
    duration: float  # EXTINF
    size: int  # bytes on disk
    starts_with_idr: bool


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
            if segment.duration > profile.target_duration + tolerance:
                raise VerificationError(what, f"segment {index} exceeds the target duration")
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
    return tuple(sorted(renditions, key=lambda r: r.height, reverse=True))


def _wanted_duration(plan: TranscodePlan, index: int, count: int) -> float | None:
    """The duration segment ``index`` must have: the plan's own, or the target (all but the last)."""
    fps = plan.profile.frame_rate
    if plan.segment_frames is not None:
        if count != len(plan.segment_frames):
            raise VerificationError(
                plan.title, f"{count} segments written, {len(plan.segment_frames)} planned"
            )
        return plan.segment_frames[index] / fps
    return None if index == count - 1 else plan.profile.segment_seconds


def peak_bandwidth(segments: Sequence[SegmentFacts], *, target_duration: int) -> int:
    """BANDWIDTH: the highest bit rate of any run of segments lasting 0.5 to 1.5 times
    ``target_duration`` (seconds), in bit/s, rounded up (see :func:`~rcmedia.core.bitrate.peak_bit_rate`)."""
    return peak_bit_rate([s.size for s in segments], _durations_us(segments), target_duration * 1_000_000)


def average_bandwidth(segments: Sequence[SegmentFacts]) -> int:
    """AVERAGE-BANDWIDTH: all bits over all seconds, in bit/s, rounded up."""
    return average_bit_rate([s.size for s in segments], _durations_us(segments))


def _durations_us(segments: Sequence[SegmentFacts]) -> list[int]:
    # EXTINF has millisecond precision at best; at least 1 µs so a segment always lasts
    return [max(round(s.duration * 1_000_000), 1) for s in segments]
