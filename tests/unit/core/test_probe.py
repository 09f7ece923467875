"""Early refusals from the probe's facts: each with a reason a person understands."""

from __future__ import annotations

from typing import Any

import pytest

from rcmedia.core.probe import IntakeLimits, SourceFacts, check_acceptable
from rcmedia.errors import MediaError, RejectedInputError
from tests.unit.factories import source_facts

LIMITS = IntakeLimits(max_bytes=1_000_000_000, max_duration=3600.0)


@pytest.mark.parametrize(
    ("changes", "fragments"),
    [
        pytest.param({"size_bytes": 0}, ["empty", "0 bytes"], id="empty-file"),
        pytest.param(
            {"size_bytes": 1_000_000_001},
            ["1000000001 bytes", "limit of 1000000000 bytes"],
            id="too-big",
        ),
        pytest.param(
            {"has_video": False, "has_audio": False}, ["neither a video nor an audio"], id="no-tracks"
        ),
        pytest.param({"duration": 0.0}, ["duration is zero"], id="zero-duration"),
        pytest.param({"duration": -1.0}, ["duration is zero"], id="negative-duration"),
        pytest.param({"duration": 3601.0}, ["lasts 3601 s", "limit of 3600 s"], id="too-long"),
        pytest.param({"width": 15, "height": 1080}, ["15x1080", "too small"], id="too-narrow"),
        pytest.param({"width": 1920, "height": 8}, ["1920x8", "too small"], id="too-flat"),
        pytest.param({"width": 0, "height": 0}, ["0x0", "too small"], id="no-picture-size"),
    ],
)
def test_refusals(changes: dict[str, Any], fragments: list[str]) -> None:
    facts = source_facts(**changes)
    with pytest.raises(RejectedInputError) as info:
        check_acceptable(facts, LIMITS)
    assert info.value.filename == "lecture.mxf"
    for fragment in fragments:
        assert fragment in info.value.reason
    assert str(info.value).startswith("'lecture.mxf': ")
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, MediaError)


def test_empty_file_is_reported_before_anything_else() -> None:
    facts = SourceFacts(filename="x.mp4", size_bytes=0, duration=0.0)
    with pytest.raises(RejectedInputError, match="empty"):
        check_acceptable(facts, LIMITS)


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({}, id="ordinary"),
        pytest.param({"size_bytes": 1_000_000_000}, id="size-at-limit"),
        pytest.param({"duration": 3600.0}, id="duration-at-limit"),
        pytest.param({"width": 16, "height": 16}, id="smallest-picture"),
        pytest.param({"has_video": False, "width": 0, "height": 0}, id="audio-only"),
        pytest.param({"has_audio": False}, id="video-only"),
    ],
)
def test_accepted(changes: dict[str, Any]) -> None:
    check_acceptable(source_facts(**changes), LIMITS)  # raises RejectedInputError when refused


@pytest.mark.parametrize(
    ("width", "height", "pixel_aspect", "expected"),
    [
        pytest.param(1920, 1080, 1.0, 16 / 9, id="square-16-9"),
        pytest.param(720, 576, 64 / 45, 16 / 9, id="pal-anamorphic"),
        pytest.param(720, 576, 16 / 15, 4 / 3, id="pal-4-3"),
        pytest.param(1440, 1080, 4 / 3, 16 / 9, id="hdv"),
        pytest.param(1080, 1920, 1.0, 9 / 16, id="portrait"),
    ],
)
def test_display_aspect(width: int, height: int, pixel_aspect: float, expected: float) -> None:
    facts = source_facts(width=width, height=height, pixel_aspect=pixel_aspect)
    assert facts.display_aspect == pytest.approx(expected)
