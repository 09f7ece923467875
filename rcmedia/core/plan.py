"""The conditioning and transcode plan for one source: every decision, no I/O.

The media adapter turns a plan into one ffmpeg invocation; tests check plans without ffmpeg.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from rcmedia.core.ladder import RungGeometry, select_ladder
from rcmedia.core.probe import SourceFacts
from rcmedia.core.profile import Profile

# Video streams often end a frame or two before their audio; hold the last picture that long.
PAD_SLACK = 0.5


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


def plan_slate(profile: Profile, *, title: str, loop_seconds: float = 60.0) -> TranscodePlan:
    """The house slate: a title card with silence, cut so that any length can be composed.

    ``loop_seconds`` of full-length segments fill long gaps. Then "baby steps" of 1 … b-1 frames
    and "giant steps" of b, 2b, … frames (b = ⌈√full⌉): any remainder shorter than a segment is at
    most one giant and one baby step, so the schedule builder reaches any fixed-slot start to the
    frame with at most two extra events, while the slate stays short to make (97 s of pictures
    for 6 s segments instead of the 507 s that one segment of every length would take).
    """
    full = round(profile.segment_seconds * profile.frame_rate)
    loop_segments = max(1, math.ceil(loop_seconds / profile.segment_seconds))
    step = math.isqrt(full - 1) + 1
    giants = tuple(range(step, full, step))
    lengths = (full,) * loop_segments + giants + tuple(range(1, step))
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
