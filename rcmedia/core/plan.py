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
# samples per AAC-LC frame (ISO/IEC 14496-3 §4.5.2.1, frameLengthFlag 0): the audio's time grid
AAC_FRAME_SAMPLES = 1024


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
    def audio_samples(self) -> int:
        """Audio length in samples: exactly the video's length, so splices do not drift."""
        return self.frames * self.profile.audio.sample_rate // self.profile.frame_rate


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

    Around it: "giant steps" of b, 2b, … frames (b = ⌈√full⌉) and "baby steps" of 1 … b-1 frames.
    Any remainder shorter than a segment is at most one giant and one baby step, so the schedule
    builder reaches any fixed-slot start to the frame with at most two extra events, while the
    slate stays short to make (85 s of pictures for 6 s segments instead of the 507 s that one
    segment of every length would take). The giants come first, so that the loop never holds the
    start of the encode (the AAC encoder's priming frame, which a wrap would repeat), and the
    babies last, so that it never holds the end (the encoder's flush). The playout finds the loop
    as the longest run of full-length segments, wherever it starts (:mod:`.slate_pieces`,
    :mod:`.slate_stand_in`).
    """
    full = round(profile.segment_seconds * profile.frame_rate)
    quantum = slate_loop_quantum(profile)
    wanted = Fraction(loop_seconds) / (quantum * Fraction(full, profile.frame_rate))
    loop_segments = quantum * max(1, math.ceil(wanted - Fraction(1, 2)))
    step = math.isqrt(full - 1) + 1
    giants = tuple(range(step, full, step))
    lengths = giants + (full,) * loop_segments + tuple(range(1, step))
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
