"""What the probe learnt about a source file, and the early refusals that follow from it."""

from __future__ import annotations

from dataclasses import dataclass

from rcmedia.errors import RejectedInputError


@dataclass(frozen=True, kw_only=True, slots=True)
class SourceFacts:
    """The facts of one source file, as read by the media probe."""

    filename: str
    size_bytes: int
    duration: float  # seconds; the longer of the video and audio tracks
    video_duration: float = 0.0
    audio_duration: float = 0.0
    container: str = ""
    has_video: bool = False
    width: int = 0
    height: int = 0
    pixel_aspect: float = 1.0
    frame_rate: float = 0.0
    interlaced: bool = False
    video_codec: str = ""
    has_audio: bool = False
    audio_channels: int = 0
    audio_rate: int = 0
    audio_codec: str = ""

    @property
    def display_aspect(self) -> float:
        """Width over height as shown (non-square pixels corrected)."""
        return self.width * self.pixel_aspect / self.height


@dataclass(frozen=True, kw_only=True, slots=True)
class IntakeLimits:
    max_bytes: int
    max_duration: float


def check_acceptable(facts: SourceFacts, limits: IntakeLimits) -> None:
    """Refuse, with a reason a person understands, what can never be ingested."""
    name = facts.filename
    if facts.size_bytes == 0:
        raise RejectedInputError(name, "the file is empty (0 bytes)")
    if facts.size_bytes > limits.max_bytes:
        raise RejectedInputError(
            name, f"the file is {facts.size_bytes} bytes, over the limit of {limits.max_bytes} bytes"
        )
    if not facts.has_video and not facts.has_audio:
        raise RejectedInputError(name, "the file has neither a video nor an audio track")
    if facts.duration <= 0:
        raise RejectedInputError(name, "the file's duration is zero")
    if facts.duration > limits.max_duration:
        raise RejectedInputError(
            name,
            f"the file lasts {facts.duration:.0f} s, over the limit of {limits.max_duration:.0f} s",
        )
    if facts.has_video and (facts.width < 16 or facts.height < 16):
        raise RejectedInputError(
            name, f"the video is {facts.width}x{facts.height}, too small to be a picture"
        )
