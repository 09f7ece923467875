"""The loudnorm first-pass report, found in ffmpeg's stderr."""

from __future__ import annotations

import pytest

from rcmedia.core.plan import LoudnessMeasurement
from rcmedia.errors import ToolError
from rcmedia.media.loudness import parse_loudnorm_json

NOISE_BEFORE = """\
Input #0, mov,mp4,m4a,3gp,3g2,mj2, from '/in/lecture.mp4':
  Metadata:
    major_brand     : isom
  Duration: 00:45:12.04, start: 0.000000, bitrate: 2510 kb/s
  Stream #0:1[0x2](und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, stereo, fltp, 128 kb/s
Stream mapping:
  Stream #0:1 (aac) -> aresample:default
Output #0, null, to 'pipe:':
[Parsed_loudnorm_2 @ 0x5581c2b9f040] \n"""

NOISE_AFTER = "\nsize=N/A time=00:45:12.03 bitrate=N/A speed= 312x\n"


def report(i: str, tp: str, lra: str, thresh: str, offset: str) -> str:
    return f"""{{
\t"input_i" : "{i}",
\t"input_tp" : "{tp}",
\t"input_lra" : "{lra}",
\t"input_thresh" : "{thresh}",
\t"output_i" : "-24.03",
\t"output_tp" : "-2.19",
\t"output_lra" : "6.80",
\t"output_thresh" : "-34.21",
\t"normalization_type" : "dynamic",
\t"target_offset" : "{offset}"
}}"""


def test_report_embedded_in_stderr_noise() -> None:
    stderr = NOISE_BEFORE + report("-27.61", "-4.47", "8.06", "-38.20", "0.58") + NOISE_AFTER
    assert parse_loudnorm_json(stderr) == LoudnessMeasurement(
        input_i=-27.61, input_tp=-4.47, input_lra=8.06, input_thresh=-38.20, target_offset=0.58
    )


def test_braces_elsewhere_in_stderr_do_not_confuse_the_search() -> None:
    stderr = "{not json}\n" + report("-20.00", "-1.00", "3.00", "-30.00", "-0.10") + "\n{}"
    measurement = parse_loudnorm_json(stderr)
    assert measurement is not None
    assert measurement.input_i == -20.0
    assert measurement.target_offset == -0.1


@pytest.mark.parametrize(
    "values",
    [
        pytest.param(("-inf", "-inf", "0.00", "-70.00", "inf"), id="digital-silence"),
        pytest.param(("-75.50", "-60.00", "0.00", "-85.50", "51.50"), id="below-the-gate"),
        pytest.param(("-30.00", "nan", "1.00", "-40.00", "0.00"), id="nan-peak"),
    ],
)
def test_silence_gives_none(values: tuple[str, str, str, str, str]) -> None:
    assert parse_loudnorm_json(NOISE_BEFORE + report(*values) + NOISE_AFTER) is None


def test_quiet_but_measurable_is_kept() -> None:
    measurement = parse_loudnorm_json(report("-69.90", "-50.00", "2.00", "-79.90", "45.90"))
    assert measurement is not None
    assert measurement.input_i == -69.9


@pytest.mark.parametrize(
    "stderr",
    [
        pytest.param("", id="empty"),
        pytest.param(NOISE_BEFORE + NOISE_AFTER, id="no-report"),
        pytest.param('{"output_i" : "-24.0"}', id="other-json"),
    ],
)
def test_missing_report_is_a_tool_error(stderr: str) -> None:
    with pytest.raises(ToolError, match="loudness measurement printed no result") as info:
        parse_loudnorm_json(stderr)
    assert info.value.tool == "ffmpeg"
