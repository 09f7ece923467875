"""Ladder geometry: fit without stretching, never upscale, offer what each output lists."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcmedia.core.ladder import RungGeometry, fit, output_rungs, select_ladder
from rcmedia.core.models import Output
from rcmedia.core.profile import Rung
from tests.unit.factories import default_profile

ALL_FIVE = ("1080p", "720p", "540p", "360p", "240p")


def rung(width: int, height: int, name: str = "r") -> Rung:
    return Rung(
        name=name, width=width, height=height, bitrate=1_000_000, maxrate=1_500_000, bufsize=2_000_000
    )


def assert_centred(geometry: RungGeometry) -> None:
    """Offsets are even and the two margins on each axis differ by at most 2 pixels."""
    right = geometry.rung.width - geometry.content_width - geometry.pad_x
    bottom = geometry.rung.height - geometry.content_height - geometry.pad_y
    assert geometry.pad_x % 2 == 0
    assert geometry.pad_y % 2 == 0
    assert 0 <= right - geometry.pad_x <= 2
    assert 0 <= bottom - geometry.pad_y <= 2


@pytest.mark.parametrize("house_rung", [pytest.param(r, id=r.name) for r in default_profile().rungs])
def test_16_9_source_fills_every_house_rung(house_rung: Rung) -> None:
    geometry = fit(house_rung, 16 / 9)
    assert (geometry.content_width, geometry.content_height) == (house_rung.width, house_rung.height)
    assert (geometry.pad_x, geometry.pad_y) == (0, 0)
    assert geometry.name == house_rung.name


@pytest.mark.parametrize(
    ("width", "height", "aspect", "expected"),
    [
        pytest.param(1920, 1080, 4 / 3, (1440, 1080, 240, 0), id="4-3-1080p-pillarbox"),
        pytest.param(1280, 720, 4 / 3, (960, 720, 160, 0), id="4-3-720p-pillarbox"),
        pytest.param(426, 240, 4 / 3, (320, 240, 52, 0), id="4-3-240p-pillarbox"),
        pytest.param(1920, 1080, 9 / 16, (608, 1080, 656, 0), id="portrait-1080p"),
        pytest.param(640, 360, 9 / 16, (202, 360, 218, 0), id="portrait-360p"),
        pytest.param(1920, 1080, 2.39, (1920, 804, 0, 138), id="scope-1080p-letterbox"),
        pytest.param(1280, 720, 2.39, (1280, 536, 0, 92), id="scope-720p-letterbox"),
        pytest.param(1920, 1080, 720 * (64 / 45) / 576, (1920, 1080, 0, 0), id="pal-anamorphic-16-9"),
        pytest.param(1920, 1080, 720 * (16 / 15) / 576, (1440, 1080, 240, 0), id="pal-4-3"),
    ],
)
def test_fit(width: int, height: int, aspect: float, expected: tuple[int, int, int, int]) -> None:
    geometry = fit(rung(width, height), aspect)
    assert (geometry.content_width, geometry.content_height, geometry.pad_x, geometry.pad_y) == expected
    assert_centred(geometry)


even_sizes = st.integers(min_value=8, max_value=2048).map(lambda n: 2 * n)


@given(
    rung_width=even_sizes,
    rung_height=even_sizes,
    source_width=st.integers(min_value=16, max_value=8192),
    source_height=st.integers(min_value=16, max_value=8192),
    pixel_aspect=st.sampled_from([1.0, 64 / 45, 16 / 15, 4 / 3, 8 / 9, 10 / 11, 40 / 33]),
)
def test_fit_properties(
    rung_width: int, rung_height: int, source_width: int, source_height: int, pixel_aspect: float
) -> None:
    aspect = source_width * pixel_aspect / source_height
    geometry = fit(rung(rung_width, rung_height), aspect)
    width, height = geometry.content_width, geometry.content_height

    # inside the frame, even sizes (4:2:0), even non-negative offsets
    assert 2 <= width <= rung_width
    assert 2 <= height <= rung_height
    assert width % 2 == 0
    assert height % 2 == 0
    assert geometry.pad_x >= 0
    assert geometry.pad_y >= 0
    assert geometry.pad_x + width <= rung_width
    assert geometry.pad_y + height <= rung_height
    assert_centred(geometry)
    # never both pillarbox and letterbox
    assert geometry.pad_x == 0 or geometry.pad_y == 0
    # the picture fills the dimension that constrains it; the other is off by no more than the
    # even rounding (not stretched)
    if aspect >= rung_width / rung_height:
        assert width == rung_width
        assert abs(height - rung_width / aspect) <= 2
    else:
        assert height == rung_height
        assert abs(width - rung_height * aspect) <= 2


@pytest.mark.parametrize(
    ("width", "height", "pixel_aspect", "expected"),
    [
        pytest.param(1920, 1080, 1.0, ALL_FIVE, id="1080p"),
        pytest.param(3840, 2160, 1.0, ALL_FIVE, id="uhd"),
        pytest.param(1280, 720, 1.0, ALL_FIVE[1:], id="720p"),
        pytest.param(640, 480, 1.0, ("360p", "240p"), id="vga-4-3"),
        pytest.param(720, 576, 64 / 45, ("540p", "360p", "240p"), id="pal-anamorphic"),
        pytest.param(720, 1280, 1.0, ALL_FIVE, id="portrait-720x1280"),
        pytest.param(1080, 1920, 1.0, ALL_FIVE, id="portrait-1080x1920"),
        pytest.param(1920, 800, 1.0, ALL_FIVE, id="scope-2-4"),
        pytest.param(160, 90, 1.0, ("240p",), id="tiny-keeps-lowest"),
        pytest.param(320, 240, 1.0, ("240p",), id="qvga-exactly-lowest"),
    ],
)
def test_select_ladder(width: int, height: int, pixel_aspect: float, expected: tuple[str, ...]) -> None:
    ladder = select_ladder(default_profile(), height=height, display_aspect=width * pixel_aspect / height)
    assert tuple(g.name for g in ladder) == expected


def test_select_ladder_returns_the_fitted_geometry() -> None:
    ladder = select_ladder(default_profile(), height=480, display_aspect=4 / 3)
    assert [(g.content_width, g.content_height, g.pad_x, g.pad_y) for g in ladder] == [
        (480, 360, 80, 0),
        (320, 240, 52, 0),
    ]


@given(
    height=st.integers(min_value=16, max_value=4320),
    aspect=st.floats(min_value=0.3, max_value=4.0, allow_nan=False),
)
def test_select_ladder_never_upscales(height: int, aspect: float) -> None:
    profile = default_profile()
    ladder = select_ladder(profile, height=height, display_aspect=aspect)
    names = [g.name for g in ladder]
    assert names
    assert names == [r.name for r in profile.rungs if r.name in names]  # highest first, house order
    if all(g.content_height > height for g in ladder):
        assert names == [profile.rungs[-1].name]  # the fallback: only the lowest rung
    else:
        assert all(g.content_height <= height for g in ladder)
        # and nothing that would fit was dropped
        assert len(ladder) == sum(fit(r, aspect).content_height <= height for r in profile.rungs)


@pytest.mark.parametrize(
    ("present", "output", "expected"),
    [
        pytest.param(ALL_FIVE, Output.TV, ("1080p", "720p", "540p"), id="tv-all"),
        pytest.param(ALL_FIVE, Output.IPTV, ("1080p", "720p", "540p", "360p"), id="iptv-all"),
        pytest.param(ALL_FIVE, Output.MOBILE, ("720p", "540p", "360p", "240p"), id="mobile-all"),
        pytest.param(("540p", "360p", "240p"), Output.TV, ("540p",), id="tv-pal"),
        pytest.param(("540p", "360p", "240p"), Output.IPTV, ("540p", "360p"), id="iptv-pal"),
        pytest.param(("360p", "240p"), Output.TV, ("360p",), id="tv-fallback-best"),
        pytest.param(("240p",), Output.TV, ("240p",), id="tv-fallback-tiny"),
        pytest.param(("360p", "240p"), Output.MOBILE, ("360p", "240p"), id="mobile-small"),
    ],
)
def test_output_rungs(present: tuple[str, ...], output: Output, expected: tuple[str, ...]) -> None:
    assert output_rungs(default_profile(), present, output) == expected
