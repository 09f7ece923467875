"""ffmpeg's ``-progress`` blocks and the classification of its failures (no process is run)."""

from __future__ import annotations

import pytest

from rcmedia.errors import ToolError
from rcmedia.media.ffmpeg import FfmpegFailed, Progress, parse_progress_block

# One block as ffmpeg 6/7 writes it to -progress pipe:1 (out_time_ms is microseconds too: ffmpeg bug).
BLOCK = """\
frame=2331
fps=187.52
stream_0_0_q=28.0
bitrate=N/A
total_size=N/A
out_time_us=93240000
out_time_ms=93240000
out_time=00:01:33.240000
dup_frames=0
drop_frames=1
speed=7.51x
progress=continue
"""


def block(text: str) -> dict[str, str]:
    """Split ``key=value`` lines the way the runner does."""
    fields = {}
    for line in text.splitlines():
        key, _, value = line.strip().partition("=")
        if key:
            fields[key] = value
    return fields


def test_real_block() -> None:
    assert parse_progress_block(block(BLOCK)) == Progress(out_seconds=93.24, speed=7.51, done=False)


def test_last_block_is_done() -> None:
    text = BLOCK.replace("progress=continue", "progress=end")
    assert parse_progress_block(block(text)).done is True


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({"out_time_us": "1500000"}, 1.5, id="out-time-us"),
        pytest.param({"out_time_ms": "2500000"}, 2.5, id="out-time-ms-is-microseconds"),
        pytest.param({"out_time_us": "3000000", "out_time_ms": "9"}, 3.0, id="us-preferred"),
        pytest.param({"out_time_us": "N/A"}, 0.0, id="not-available"),
        pytest.param({"out_time_us": "-9223372036854775807"}, 0.0, id="negative-at-start"),
        pytest.param({}, 0.0, id="missing"),
    ],
)
def test_out_seconds(fields: dict[str, str], expected: float) -> None:
    assert parse_progress_block(fields).out_seconds == pytest.approx(expected)


@pytest.mark.parametrize(
    ("speed", "expected"),
    [
        pytest.param("7.51x", 7.51, id="normal"),
        pytest.param(" 0.98x", 0.98, id="padded"),
        pytest.param("12x", 12.0, id="whole"),
        pytest.param("N/A", None, id="not-available"),
        pytest.param("", None, id="empty"),
        pytest.param("fast", None, id="garbage"),
    ],
)
def test_speed(speed: str, expected: float | None) -> None:
    assert parse_progress_block({"speed": speed}).speed == expected


def test_speed_missing() -> None:
    assert parse_progress_block({"out_time_us": "0"}).speed is None


@pytest.mark.parametrize(
    ("stderr", "input_fault"),
    [
        pytest.param("/in/x.mp4: Invalid data found when processing input\n", True, id="invalid-data"),
        pytest.param("[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55] moov atom not found\n", True, id="moov"),
        pytest.param("Could not find codec parameters for stream 0\n", True, id="codec-parameters"),
        pytest.param("could not find codec parameters for stream 1\n", True, id="codec-parameters-lower"),
        pytest.param("Output file #0 does not contain any stream\n", True, id="no-stream"),
        pytest.param("Conversion failed!\n", False, id="conversion-failed"),
        pytest.param("[libx264 @ 0x1] malloc of size 1 failed\nKilled\n", False, id="killed"),
        pytest.param("", False, id="no-output"),
    ],
)
def test_input_fault_classification(stderr: str, input_fault: bool) -> None:
    error = FfmpegFailed(1, stderr)
    assert error.input_fault is input_fault
    assert error.returncode == 1


def test_failure_message_has_the_status_and_the_tail() -> None:
    error = FfmpegFailed(187, "frame=1\nConversion failed!\n")
    assert isinstance(error, ToolError)
    assert isinstance(error, RuntimeError)
    assert error.tool == "ffmpeg"
    assert "exited with status 187" in str(error)
    assert "Conversion failed!" in str(error)
    assert error.stderr_tail.endswith("Conversion failed!\n")
