"""The house slate fills any remainder to the frame in at most two pieces, none under a second
where the gap is a second or more (issue 10: tiny pieces at the live edge starve a player)."""

from __future__ import annotations

import dataclasses

import pytest

from rcmedia.core.plan import plan_slate
from rcmedia.core.profile import Profile
from rcmedia.core.schedule import US
from rcmedia.core.slate_pieces import SlatePieces
from rcmedia.errors import ScheduleError
from tests.unit.core.test_timeline import house_slate
from tests.unit.factories import default_profile, tiny_profile

FRAME = US // 25


def pieces_for(profile: Profile) -> tuple[SlatePieces, int]:
    frames = plan_slate(profile, title="台标卡").segment_frames
    assert frames is not None
    slate = dataclasses.replace(house_slate(), segment_us=tuple(f * FRAME for f in frames))
    return SlatePieces(slate), max(frames)


@pytest.mark.parametrize(
    "profile", [pytest.param(default_profile, id="6s"), pytest.param(tiny_profile, id="tiny-2s")]
)
def test_any_gap_is_loop_runs_and_at_most_two_pieces_none_under_a_second(profile: type[Profile]) -> None:
    slate, full = pieces_for(profile())
    loop_start, loop_length = slate.run
    for frames in range(1, 3 * loop_length * full):
        runs = slate.pieces(frames * FRAME)
        assert sum(duration for _, _, duration in runs) == frames * FRAME, frames
        for first, last, duration in runs:  # each run's duration is its segments' sum
            assert duration == sum(slate.asset.segment_us[first : last + 1])
        others = [run for run in runs if not loop_start <= run[0] <= run[1] < loop_start + loop_length]
        assert len(others) <= 2, (frames, runs)
        if frames >= 25:
            assert min(duration for _, _, duration in runs) >= US, (frames, runs)


@pytest.mark.parametrize(
    ("seconds", "durations"),
    [
        # 6.12 s: not 6 s of loop and a 0.12 s piece, but 5 s and 1.12 s
        pytest.param(6.12, [5 * US, 28 * FRAME], id="a-loop-segment-given-back"),
        pytest.param(54.04, [48 * US, 5 * US, 26 * FRAME], id="after-a-whole-loop"),
        pytest.param(1.52, [38 * FRAME], id="one-piece"),
        pytest.param(4.6, [3 * US, 40 * FRAME], id="two-pieces"),
        pytest.param(0.96, [20 * FRAME, 4 * FRAME], id="a-gap-under-a-second-takes-short-pieces"),
    ],
)
def test_pieces(seconds: float, durations: list[int]) -> None:
    slate, _ = pieces_for(default_profile())
    assert [duration for _, _, duration in slate.pieces(round(seconds * US))] == durations


def test_a_slate_laid_out_otherwise_still_fills_greedily() -> None:
    slate = SlatePieces(dataclasses.replace(house_slate(), segment_us=(2 * US, 2 * US, US // 2)))
    assert [d for _, _, d in slate.pieces(5 * US + US // 2)] == [4 * US, US // 2, US // 2, US // 2]
    with pytest.raises(ScheduleError, match="shortest segment"):
        slate.pieces(US // 4)
