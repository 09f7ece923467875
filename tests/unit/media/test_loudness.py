"""The first-pass loudness summary (ffmpeg ebur128), found in ffmpeg's stderr."""

from __future__ import annotations

import pytest

from rcmedia.core.plan import LoudnessMeasurement
from rcmedia.errors import ToolError
from rcmedia.media.loudness import parse_ebur128_summary

NOISE_BEFORE = """\
Input #0, mov,mp4,m4a,3gp,3g2,mj2, from '/in/lecture.mp4':
  Duration: 00:45:12.04, start: 0.000000, bitrate: 2510 kb/s
  Stream #0:1[0x2](und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, stereo, fltp, 128 kb/s
Output #0, null, to 'pipe:':
"""
NOISE_AFTER = "\nsize=N/A time=00:45:12.03 bitrate=N/A speed= 312x\n"


def summary(i: str, thresh: str, lra: str, peak: str) -> str:
    return f"""[Parsed_ebur128_2 @ 0x7f5a0c013900] Summary:

  Integrated loudness:
    I:         {i} LUFS
    Threshold: {thresh} LUFS

  Loudness range:
    LRA:         {lra} LU
    Threshold: -35.7 LUFS
    LRA low:   -15.8 LUFS
    LRA high:  -15.8 LUFS

  True peak:
    Peak:      {peak} dBFS"""


def test_summary_embedded_in_stderr_noise() -> None:
    stderr = NOISE_BEFORE + summary("-27.6", "-38.2", "8.1", "-4.5") + NOISE_AFTER
    assert parse_ebur128_summary(stderr) == LoudnessMeasurement(
        input_i=-27.6, input_tp=-4.5, input_lra=8.1, input_thresh=-38.2, target_offset=0.0
    )


def test_the_last_summary_wins() -> None:
    stderr = summary("-40.0", "-50.0", "1.0", "-30.0") + "\n" + summary("-20.0", "-30.0", "3.0", "-1.0")
    measurement = parse_ebur128_summary(stderr)
    assert measurement is not None
    assert measurement.input_i == -20.0
    assert measurement.input_tp == -1.0


@pytest.mark.parametrize(
    "values",
    [
        pytest.param(("-70.0", "0.0", "0.0", "-inf"), id="digital-silence"),
        pytest.param(("-75.5", "-85.5", "0.0", "-60.0"), id="below-the-gate"),
        pytest.param(("-30.0", "-40.0", "1.0", "nan"), id="nan-peak"),
    ],
)
def test_silence_gives_none(values: tuple[str, str, str, str]) -> None:
    assert parse_ebur128_summary(NOISE_BEFORE + summary(*values) + NOISE_AFTER) is None


def test_quiet_but_measurable_is_kept() -> None:
    measurement = parse_ebur128_summary(summary("-69.9", "-79.9", "2.0", "-50.0"))
    assert measurement is not None
    assert measurement.input_i == -69.9


@pytest.mark.parametrize(
    "stderr",
    [
        pytest.param("", id="empty"),
        pytest.param(NOISE_BEFORE + NOISE_AFTER, id="no-summary"),
        pytest.param("Summary:\n  Integrated loudness:\n    I: -24.0 LUFS\n", id="cut-short"),
    ],
)
def test_missing_summary_is_a_tool_error(stderr: str) -> None:
    with pytest.raises(ToolError, match="loudness measurement printed no summary"):
        parse_ebur128_summary(stderr)
