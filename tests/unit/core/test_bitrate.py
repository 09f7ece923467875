"""Peak and average bit rates as RFC 8216bis §4.4.6.2 defines them, against a brute-force reference."""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcmedia.core.bitrate import average_bit_rate, peak_bit_rate

S = 1_000_000  # µs
FRAME = 40_000  # one frame at 25 fps


def brute_force_peak(sizes: Sequence[int], durations_us: Sequence[int], target_us: int) -> int:
    """Every run of consecutive segments, the definition read literally."""
    rates = [
        Fraction(sum(sizes[i:j]) * 8 * S, sum(durations_us[i:j]))
        for i in range(len(sizes))
        for j in range(i + 1, len(sizes) + 1)
        if target_us / 2 <= sum(durations_us[i:j]) <= target_us * 3 / 2
    ]
    if not rates:
        return average_bit_rate(sizes, durations_us)
    return math.ceil(max(rates))


def test_a_one_frame_tail_does_not_dominate() -> None:
    # the slate's 240p rung of issue 10: 6 s segments at ~58 kbit/s, then 10 KB in one frame
    sizes = [43_500] * 5 + [10_340]
    durations = [6 * S] * 5 + [FRAME]
    old_way = math.ceil(10_340 * 8 / 0.04)
    assert old_way == 2_068_000

    peak = peak_bit_rate(sizes, durations, 6 * S)

    # the heaviest run: the last 6 s segment with the tail (6.04 s), not the tail alone
    assert peak == math.ceil(Fraction((43_500 + 10_340) * 8 * S, 6 * S + FRAME))
    assert peak == 71_312  # against 58,000 for the 6 s segments alone
    assert peak == brute_force_peak(sizes, durations, 6 * S)


@pytest.mark.parametrize(
    ("durations", "expected"),
    [
        # 3 s is half of 6: alone it counts (both ends of the range are included)
        pytest.param([3 * S, 6 * S], 3_000_000 * 8 // 3, id="half-the-target-counts"),
        # 2.96 s is under half: the dense segment only counts with its neighbour (9 s in all)
        pytest.param([2_960_000, 6 * S], math.ceil(Fraction(4_000_000 * 8 * S, 8_960_000)), id="under-half"),
    ],
)
def test_runs_last_half_to_one_and_a_half_target_durations(durations: list[int], expected: int) -> None:
    sizes = [3_000_000, 1_000_000]
    assert peak_bit_rate(sizes, durations, 6 * S) == expected == brute_force_peak(sizes, durations, 6 * S)


def test_runs_longer_than_one_and_a_half_targets_are_not_counted() -> None:
    # two light 6 s segments around nothing heavier: 12 s runs would average, but 6 s runs count
    sizes = [600_000, 300_000, 600_000]
    assert peak_bit_rate(sizes, [6 * S] * 3, 6 * S) == 800_000


def test_an_asset_shorter_than_half_the_target_is_rated_by_its_average() -> None:
    sizes, durations = [10_000, 5_000], [FRAME, 2 * FRAME]
    assert peak_bit_rate(sizes, durations, 6 * S) == average_bit_rate(sizes, durations) == 1_000_000


def test_average_is_all_bits_over_all_seconds() -> None:
    assert average_bit_rate([250_000, 250_000], [2 * S, 4 * S]) == 666_667
    assert average_bit_rate([], []) == 0


@pytest.mark.parametrize(
    ("sizes", "durations", "target"),
    [
        pytest.param([1], [1, 2], S, id="lengths-differ"),
        pytest.param([1], [0], S, id="empty-segment"),
        pytest.param([1], [S], 0, id="no-target"),
    ],
)
def test_bad_input_is_refused(sizes: list[int], durations: list[int], target: int) -> None:
    with pytest.raises(ValueError, match=r"."):
        peak_bit_rate(sizes, durations, target)


segments = st.lists(
    st.tuples(st.integers(0, 5_000_000), st.integers(1, 150).map(lambda frames: frames * FRAME)),
    min_size=1,
    max_size=30,
)


@given(segments, st.integers(1, 6).map(lambda seconds: seconds * S))
def test_peak_is_the_definition(found: list[tuple[int, int]], target: int) -> None:
    sizes, durations = [s for s, _ in found], [d for _, d in found]
    assert peak_bit_rate(sizes, durations, target) == brute_force_peak(sizes, durations, target)


@given(segments, st.integers(1, 6).map(lambda seconds: seconds * S))
def test_peak_lies_between_the_average_and_the_densest_segment(
    found: list[tuple[int, int]], target: int
) -> None:
    sizes, durations = [s for s, _ in found], [d for _, d in found]
    # segments never last longer than the target: then some run of half to 1.5 targets exists
    durations = [min(d, target) for d in durations]
    peak = peak_bit_rate(sizes, durations, target)
    assert peak >= average_bit_rate(sizes, durations) or sum(durations) < target / 2
    assert peak <= max(math.ceil(Fraction(s * 8 * S, d)) for s, d in zip(sizes, durations, strict=True))
