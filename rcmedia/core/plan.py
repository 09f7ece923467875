"""The conditioning and transcode plan for one source: every decision, no I/O.

The media adapter turns a plan into one ffmpeg invocation; tests check plans without ffmpeg.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from rcmedia.core.ladder import RungGeometry, select_ladder
from rcmedia.core.probe import SourceFacts
from rcmedia.core.profile import Profile

# Video streams often end a frame or two before their audio; hold the last picture that long.
PAD_SLACK = 0.5
# No segment shorter than this where the layout can avoid it: a player that starts a few segments
# back from the live edge needs some buffer, and a 0.04 s tail gives it none (issue 10).
MIN_SEGMENT_SECONDS = 1.0
# samples per AAC-LC frame (ISO/IEC 14496-3 §4.5.2.1, frameLengthFlag 0): the audio's time grid
AAC_FRAME_SAMPLES = 1024
# the delay ffmpeg's AAC encoder puts ahead of the audio (its initial_padding): one frame
AAC_PRIMING_SAMPLES = 1024


class VideoInput(StrEnum):
    SOURCE = "source"
    SLATE = "slate"  # audio-only source: a title card is made


class AudioInput(StrEnum):
    SOURCE = "source"
    SILENCE = "silence"  # no audio track: a silent stereo track is added


@dataclass(frozen=True, kw_only=True, slots=True)
class LoudnessMeasurement:
    """First-pass EBU R128 figures (ffmpeg ``loudnorm`` print_format=json)."""

    input_i: float
    input_tp: float
    input_lra: float
    input_thresh: float
    target_offset: float


@dataclass(frozen=True, kw_only=True, slots=True)
class LoudnessTarget:
    integrated: float = -24.0  # LUFS
    true_peak: float = -1.0  # dBTP
    lra: float = 11.0  # LU; wide enough that speech and music are not squashed


@dataclass(frozen=True, kw_only=True, slots=True)
class TranscodePlan:
    profile: Profile
    frames: int  # output length in frames at the profile's frame rate
    video: VideoInput
    audio: AudioInput
    deinterlace: bool
    loudness: LoudnessMeasurement | None
    target: LoudnessTarget
    ladder: tuple[RungGeometry, ...]
    title: str  # drawn on the slate
    pad_seconds: float  # the most the last picture may be held to reach the audio's length
    # explicit segment lengths in frames (the house slate); None: the profile's segment target
    segment_frames: tuple[int, ...] | None = None

    @property
    def duration(self) -> float:
        return self.frames / self.profile.frame_rate

    @property
    def segment_lengths(self) -> tuple[int, ...]:
        """Every segment's length in frames: the plan's own, or :func:`segment_layout`'s."""
        if self.segment_frames is not None:
            return self.segment_frames
        profile = self.profile
        return segment_layout(
            self.frames, full=round(profile.segment_seconds * profile.frame_rate), second=profile.frame_rate
        )

    @property
    def audio_samples(self) -> int:
        """The video's length in audio samples."""
        return self.frames * self.profile.audio.sample_rate // self.profile.frame_rate

    @property
    def encoded_audio_samples(self) -> int:
        """The audio given to the encoder: the video's length cut to whole AAC frames (at least one).

        The AAC encoder adds one frame of priming (its delay) ahead of what it is given, and the
        transcode shifts the audio's timestamps by that frame (:data:`AAC_PRIMING_SAMPLES`), so
        the audio packets run from the first picture to at most one AAC frame after the last
        (whole AAC frames, and the last few milliseconds of a programme's sound dropped rather
        than overlap the next asset's by more): a splice neither overlaps nor drifts by more than
        one AAC frame, whatever the asset's length.
        """
        return max(AAC_FRAME_SAMPLES, self.audio_samples // AAC_FRAME_SAMPLES * AAC_FRAME_SAMPLES)


def segment_layout(frames: int, *, full: int, second: int) -> tuple[int, ...]:
    """Segment lengths in frames for ``frames`` of video cut every ``full`` frames, without a tiny tail.

    A remainder under a second (``second`` frames) is not left as a segment of its own. RFC 8216
    §4.3.3.1 lets an EXTINF exceed the target duration by less than half a second (rounded to the
    nearest integer it must not exceed EXT-X-TARGETDURATION), so the remainder is shared out over
    the fewest last segments that each grow by less than half a second: one for a remainder under
    half a second, two (at 25 fps) up to a second. With a single full segment to share it with,
    the two are made about equal instead. Only an asset shorter than a second has a segment that
    short; the one case left is a remainder that cannot be shared out so (at 25 fps, none).
    """
    whole, tail = divmod(frames, full)
    if whole == 0 or tail == 0:
        return (frames,) if whole == 0 else (full,) * whole
    if tail >= second:
        return (*(full,) * whole, tail)
    over = 1
    while 2 * -(-tail // over) >= second:  # the largest share must stay under half a second
        over += 1
    if over <= whole:
        shares = [tail // over + (1 if k >= over - tail % over else 0) for k in range(over)]
        return (*(full,) * (whole - over), *(full + share for share in shares))
    if whole == 1:
        first = (full + tail) // 2
        return (first, full + tail - first)
    return (*(full,) * whole, tail)


def hls_time_frames(lengths: tuple[int, ...], full: int) -> int:
    """The ``hls_time`` (in frames) for ffmpeg's HLS muxer to cut at ``lengths``' boundaries.

    The muxer cuts the k-th time at the first keyframe at or after k × hls_time. Every layout of
    :func:`segment_layout` cuts at or a little after those instants when hls_time is the target
    ``full``, or the first segment's length when that is shorter (:func:`keyframes` places no
    keyframe in between). A single segment is never cut: the target then.
    """
    return full if len(lengths) == 1 else min(full, lengths[0])


def keyframes(lengths: tuple[int, ...], *, full: int, gop: int) -> tuple[int, ...]:
    """The frames to force keyframes on so that ffmpeg's HLS muxer cuts exactly at ``lengths``.

    Every segment starts on a keyframe and has one every ``gop`` frames after it, but none at or
    after the instant where the muxer would cut next (k × :func:`hls_time_frames`): a segment
    that is a little longer than the others (a shared-out tail) has a longer last GOP instead.
    """
    period = hls_time_frames(lengths, full)
    frames: list[int] = []
    start = 0
    for index, length in enumerate(lengths):
        if start < index * period:
            raise ValueError(f"segment {index} starts at frame {start}, before the muxer cuts ({period})")
        stop = max(start + 1, min(start + length, (index + 1) * period))
        frames.extend(range(start, stop, gop))
        start += length
    return tuple(frames)


def keyframe_runs(frames: tuple[int, ...], gop: int) -> tuple[tuple[int, int], ...]:
    """(first, last) of each run of ``frames`` that are ``gop`` apart: an ordinary asset is one run."""
    runs: list[tuple[int, int]] = []
    for frame in frames:
        if runs and runs[-1][1] + gop == frame:
            runs[-1] = (runs[-1][0], frame)
        else:
            runs.append((frame, frame))
    return tuple(runs)


def plan_transcode(
    facts: SourceFacts,
    profile: Profile,
    *,
    title: str,
    loudness: LoudnessMeasurement | None,
    target: LoudnessTarget,
) -> TranscodePlan:
    """Decide how ``facts`` becomes the house format under ``profile``."""
    if facts.has_video:
        height, aspect = facts.height, facts.display_aspect
        video = VideoInput.SOURCE
    else:
        height, aspect = profile.slate.height, profile.slate.width / profile.slate.height
        video = VideoInput.SLATE
    frames = max(1, round(facts.duration * profile.frame_rate))
    return TranscodePlan(
        profile=profile,
        frames=frames,
        video=video,
        audio=AudioInput.SOURCE if facts.has_audio else AudioInput.SILENCE,
        deinterlace=facts.has_video and facts.interlaced,
        loudness=loudness if facts.has_audio else None,
        target=target,
        ladder=select_ladder(profile, height=height, display_aspect=aspect),
        title=title,
        pad_seconds=round(max(0.0, facts.duration - facts.video_duration) + PAD_SLACK, 3),
    )


def slate_loop_quantum(profile: Profile) -> int:
    """The fewest full-length segments that last a whole number of video and of AAC frames.

    The slate loop repeats with its timestamps shifted by its own length; unless that length is
    whole AAC frames (1024 samples each), every wrap overlaps or gaps the audio by part of a frame.
    Segments are whole video frames already. 6 s or 2 s segments at 25 fps and 48 kHz: 4.
    """
    segment = Fraction(round(profile.segment_seconds * profile.frame_rate), profile.frame_rate)
    aac_frame = Fraction(AAC_FRAME_SAMPLES, profile.audio.sample_rate)
    # n segments last whole AAC frames when n × segment / aac_frame is whole: n is a multiple of
    # the numerator of aac_frame / segment (in lowest terms)
    return (aac_frame / segment).numerator


def plan_slate(profile: Profile, *, title: str, loop_seconds: float = 60.0) -> TranscodePlan:
    """The house slate: a title card with silence, cut so that any length can be composed.

    A run of L full-length segments, the loop, fills long gaps and stands in for unavailable
    media, played over and over. L is the multiple of :func:`slate_loop_quantum` nearest to
    ``loop_seconds`` (a tie goes to the shorter loop), and at least one quantum, so the loop wraps
    on a whole video frame and a whole AAC frame: 48 s (8 × 6 s) for the shipped profile, 56 s
    (28 × 2 s) for 2 s segments at 25 fps and 48 kHz.

    Around it, pieces so that any remainder shorter than a segment is at most two of them, and
    none of them under a second where that can be avoided (a player joining near the live edge
    has little buffer in a 0.04 s piece: issue 10). With s frames a second (segments of two
    seconds or more):

    - "seconds": s, s+1, … 2s−1 frames (1.00–1.96 s at 25 fps), one for every remainder from one
      second up to two; a remainder of 2 s or more is one of them and one of
    - "strides": 2s, 3s, … up to a segment less a second (2, 3, 4, 5 s for 6 s segments);
    - a remainder under a second, after at least one loop segment, takes one loop segment back
      and is a stride (or a second) and a second: a segment less a second, plus a second and the
      remainder (:class:`.slate_pieces.SlatePieces`);
    - only a gap shorter than a second in all is filled with pieces that short: "giant steps" of
      b, 2b, … frames and "baby steps" of 1 … b−1 frames, b = ⌈√s⌉ (5, 10, 15, 20 and 1–4 frames).

    For segments under two seconds the older layout stays: giant steps of b, 2b, … (b = ⌈√full⌉)
    and baby steps of 1 … b−1 frames, any remainder one of each.

    The steps up come first, so that the loop never holds the start of the encode (the AAC
    encoder's priming frame, which a wrap would repeat), and the others last, so that it never
    holds the end (the encoder's flush). The playout finds the loop as the longest run of
    full-length segments, wherever it starts (:mod:`.slate_pieces`, :mod:`.slate_stand_in`).
    Shipped profile: 101.4 s in 45 segments (85 s in 31 before there were no sub-second pieces).
    """
    full = round(profile.segment_seconds * profile.frame_rate)
    quantum = slate_loop_quantum(profile)
    wanted = Fraction(loop_seconds) / (quantum * Fraction(full, profile.frame_rate))
    loop_segments = quantum * max(1, math.ceil(wanted - Fraction(1, 2)))
    loop = (full,) * loop_segments
    second = profile.frame_rate
    if full >= 2 * second:
        step = math.isqrt(second - 1) + 1
        before = (*range(step, second, step), *range(2 * second, full - second + 1, second))
        after = (*range(second, 2 * second), *range(1, step))
    else:
        step = math.isqrt(full - 1) + 1
        before, after = tuple(range(step, full, step)), tuple(range(1, step))
    lengths = before + loop + after
    return TranscodePlan(
        profile=profile,
        frames=sum(lengths),
        video=VideoInput.SLATE,
        audio=AudioInput.SILENCE,
        deinterlace=False,
        loudness=None,
        target=LoudnessTarget(),
        ladder=select_ladder(
            profile, height=profile.slate.height, display_aspect=profile.slate.width / profile.slate.height
        ),
        title=title,
        pad_seconds=0.0,
        segment_frames=lengths,
    )
