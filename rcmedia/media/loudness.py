"""The first loudness pass: integrated loudness, range, gate threshold and true peak of the audio."""

from __future__ import annotations

import math
import re
from pathlib import Path

from rcmedia.core.plan import LoudnessMeasurement
from rcmedia.errors import ToolError
from rcmedia.media.command import loudness_measure_args
from rcmedia.media.ffmpeg import run_ffmpeg_simple

SILENCE_LUFS = -70.0  # the EBU R128 absolute gate: below it there is nothing to normalise
_NUMBER = r"(-?(?:\d+(?:\.\d+)?|inf|nan))"
_SUMMARY = re.compile(
    r"Integrated loudness:\s*I:\s*" + _NUMBER + r" LUFS\s*Threshold:\s*" + _NUMBER + r" LUFS"
    r".*?LRA:\s*" + _NUMBER + r" LU"
    r".*?True peak:\s*Peak:\s*" + _NUMBER + r" dBFS",
    re.DOTALL,
)


def parse_ebur128_summary(stderr: str) -> LoudnessMeasurement | None:
    """The measurement in the summary ``ebur128=peak=true`` prints at the end; None for silence."""
    start = stderr.rfind("Summary:")
    match = _SUMMARY.search(stderr, start if start >= 0 else 0)
    if match is None:
        raise ToolError("ffmpeg", "loudness measurement printed no summary", stderr_tail=stderr[-1500:])
    integrated, threshold, lra, peak = (float(v) for v in match.groups())
    if not all(math.isfinite(v) for v in (integrated, threshold, lra, peak)) or integrated <= SILENCE_LUFS:
        return None
    return LoudnessMeasurement(
        input_i=integrated, input_tp=peak, input_lra=lra, input_thresh=threshold, target_offset=0.0
    )


def measure_loudness(source: Path, *, ffmpeg_bin: str) -> LoudnessMeasurement | None:
    return parse_ebur128_summary(run_ffmpeg_simple(loudness_measure_args(source, ffmpeg_bin=ffmpeg_bin)))
