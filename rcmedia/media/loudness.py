"""The first loudness pass: measure integrated loudness, true peak and range of a source's audio."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

from rcmedia.core.plan import LoudnessMeasurement, LoudnessTarget
from rcmedia.errors import ToolError
from rcmedia.media.command import loudness_measure_args
from rcmedia.media.ffmpeg import run_ffmpeg_simple

_JSON_BLOCK = re.compile(r"\{[^{}]*\"input_i\"[^{}]*\}", re.DOTALL)
SILENCE_LUFS = -70.0  # the EBU R128 absolute gate: below it there is nothing to normalise


def parse_loudnorm_json(stderr: str) -> LoudnessMeasurement | None:
    """The measurement printed by ``loudnorm=print_format=json``; None for silence."""
    match = _JSON_BLOCK.search(stderr)
    if match is None:
        raise ToolError("ffmpeg", "loudness measurement printed no result", stderr_tail=stderr[-1500:])
    data = json.loads(match.group(0))
    values = {
        k: float(data[k]) for k in ("input_i", "input_tp", "input_lra", "input_thresh", "target_offset")
    }
    if not all(math.isfinite(v) for v in values.values()) or values["input_i"] < SILENCE_LUFS:
        return None
    return LoudnessMeasurement(**values)


def measure_loudness(source: Path, *, ffmpeg_bin: str, target: LoudnessTarget) -> LoudnessMeasurement | None:
    stderr = run_ffmpeg_simple(
        loudness_measure_args(
            source, ffmpeg_bin=ffmpeg_bin, plan_target=(target.integrated, target.true_peak, target.lra)
        )
    )
    return parse_loudnorm_json(stderr)
