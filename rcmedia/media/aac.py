"""AAC-LC access units the origin writes itself: digital silence, one frame of 1024 samples.

Where a splice cuts a programme's audio short of its last picture, the origin fills the rest with
silence rather than leave a hole (rcmedia.media.continuous). These are the raw_data_block()s the
bundled ffmpeg's AAC encoder writes for digital silence once its first frame is out (the same
bytes at any bit rate and sample rate: every spectral coefficient is zero), for the channel
layouts conditioning produces: mono (one SCE) and stereo (one CPE).
"""

from __future__ import annotations

SAMPLES_PER_FRAME = 1024  # AAC-LC (ISO/IEC 14496-3 §4.5.2.1: frameLengthFlag 0)

SILENT_FRAMES = {
    1: bytes.fromhex("01182007"),
    2: bytes.fromhex("211004608c1c"),
}


def silent_frame(channels: int) -> bytes | None:
    """A raw AAC-LC frame of silence for ``channels`` (1 or 2), or None for another layout."""
    return SILENT_FRAMES.get(channels)
