"""The house slate cut into runs of its segments that add up to any remainder exactly.

The slate's segments come in lengths chosen so that any remainder before an anchor takes at most
two of them, after a run of full-length ones: each anchor is reached to the frame.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence

from rcmedia.core.schedule import ScheduleAsset
from rcmedia.errors import ScheduleError


def loop_run(durations: Sequence[int]) -> tuple[int, int]:
    """(first index, length) of the slate's loop: its longest run of its longest segments (the
    first such run on a tie). :func:`rcmedia.core.plan.plan_slate` lays the loop out so."""
    longest = max(durations, default=0)
    best_start, best_length = 0, 0
    for is_loop, run in itertools.groupby(enumerate(durations), key=lambda pair: pair[1] == longest):
        indices = [index for index, _ in run]
        if is_loop and len(indices) > best_length:
            best_start, best_length = indices[0], len(indices)
    return best_start, best_length


class SlatePieces:
    """The house slate: its segments by length, to fill any remainder exactly."""

    def __init__(self, asset: ScheduleAsset) -> None:
        self.asset = asset
        self.loop_us = max(asset.segment_us)
        self.run = loop_run(asset.segment_us)  # for long gaps
        self.lengths = sorted({d: i for i, d in reversed(list(enumerate(asset.segment_us)))}.items())
        self._keys = [d for d, _ in self.lengths]

    def pieces(self, room: int) -> list[tuple[int, int, int]]:
        """(first, last, duration) runs of slate segments adding up to exactly ``room`` µs."""
        pieces = []
        run_start, run_len = self.run
        while room > 0:
            if room >= self.loop_us and run_len:
                count = min(room // self.loop_us, run_len)
                pieces.append((run_start, run_start + count - 1, count * self.loop_us))
                room -= count * self.loop_us
                continue
            at = bisect.bisect_right(self._keys, room) - 1
            if at < 0:
                raise ScheduleError(
                    f"cannot fill the last {room / 1e6:.3f} s before an anchor exactly: the slate's "
                    f"shortest segment lasts {self._keys[0] / 1e6:.3f} s; ingest the house slate"
                )
            duration, index = self.lengths[at]
            pieces.append((index, index, duration))
            room -= duration
        return pieces
