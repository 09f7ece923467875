"""Slate stand-ins: the loop is found where plan_slate puts it and played from its real start."""

from __future__ import annotations

import pytest

from rcmedia.core.schedule import US
from rcmedia.core.slate_stand_in import SlateStandIn
from tests.unit.core.test_builder import SEGMENT
from tests.unit.core.test_timeline import LOOP, LOOP_START, SLATE, SLATE_OFFSETS

STAND_IN = SlateStandIn.of(SLATE)


def test_the_loop_is_the_longest_run_of_full_segments_after_the_giants() -> None:
    assert (STAND_IN.loop_start, STAND_IN.loop_length, STAND_IN.loop_us) == (LOOP_START, LOOP, SEGMENT)
    assert STAND_IN.loop_duration_us == 48 * US
    assert SLATE.segment_us[LOOP_START - 1] < SEGMENT > SLATE.segment_us[LOOP_START + LOOP]


@pytest.mark.parametrize("k", [0, 1, LOOP - 1, LOOP, LOOP + 1, 3 * LOOP + 5, 10_000])
def test_a_stream_replaced_from_its_start_plays_the_loop_from_its_real_start(k: int) -> None:
    index, shift = STAND_IN.stand_in(k, k * SEGMENT, SEGMENT, from_start=True)
    assert index == LOOP_START + k % LOOP
    assert shift == (k // LOOP) * LOOP * SEGMENT, "each pass one loop later; the first as stored"
    assert SLATE_OFFSETS[index] + shift == SLATE_OFFSETS[LOOP_START] + k * SEGMENT


@pytest.mark.parametrize("k", [1, LOOP - 1, LOOP, 3 * LOOP + 5])
def test_a_stand_in_from_within_a_stream_continues_its_timestamps(k: int) -> None:
    index, shift = STAND_IN.stand_in(k, k * SEGMENT, SEGMENT, from_start=False)
    assert index == LOOP_START + k % LOOP
    assert SLATE_OFFSETS[index] + shift == k * SEGMENT


@pytest.mark.parametrize("duration", sorted(set(SLATE.segment_us)))
def test_from_the_start_no_piece_plays_before_the_loops_own_place_in_the_slate(duration: int) -> None:
    # An fMP4 tfdt cannot go below zero, and a piece's audio may begin a frame or two before its
    # picture: from a stream's start every piece plays at the loop's place in the slate or later,
    # which the giant steps put well past the slate's start.
    index, shift = STAND_IN.stand_in(0, 0, duration, from_start=True)
    assert SLATE.segment_us[index] <= duration
    assert SLATE_OFFSETS[index] + shift == SLATE_OFFSETS[LOOP_START] > SEGMENT
