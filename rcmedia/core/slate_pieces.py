"""The house slate cut into runs of its segments that add up to any remainder exactly.

The slate's segments come in lengths chosen so that any remainder before an anchor takes at most
two of them, after a run of full-length ones: each anchor is reached to the frame, with no piece
under a second unless the whole gap is that short.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence

from rcmedia.core.schedule import ScheduleAsset
from rcmedia.errors import ScheduleError

# No slate piece shorter than this where the slate's layout can avoid it (issue 10)
MIN_PIECE_US = 1_000_000


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
        self._index = dict(self.lengths)

    def pieces(self, room: int) -> list[tuple[int, int, int]]:
        """(first, last, duration) runs of slate segments adding up to exactly ``room`` µs.

        Loop segments for all whole loop lengths, then at most two pieces for the rest; when the
        rest can only be made with a piece under a second (:data:`MIN_PIECE_US`) and a loop
        segment was used, that segment is given back and the rest plus it is made of two longer
        pieces instead, if the slate has them (:func:`rcmedia.core.plan.plan_slate` lays it out so).
        """
        run_start, run_len = self.run
        loops, rest = divmod(room, self.loop_us) if run_len else (0, room)
        chosen = self._at_most_two(rest)
        if loops and (chosen is None or min(chosen, default=MIN_PIECE_US) < MIN_PIECE_US):
            borrowed = self._at_most_two(rest + self.loop_us)
            if borrowed is not None and (chosen is None or min(borrowed) > min(chosen)):
                loops, chosen = loops - 1, borrowed
        if chosen is None:
            return self._greedy(room)
        pieces = []
        while loops:
            count = min(loops, run_len)
            pieces.append((run_start, run_start + count - 1, count * self.loop_us))
            loops -= count
        pieces.extend((self._index[d], self._index[d], d) for d in chosen)
        return pieces

    def _at_most_two(self, rest: int) -> list[int] | None:
        """Durations of at most two slate segments (shorter than the loop's) adding up to ``rest``,
        the shorter of a pair as long as can be; None if there are none."""
        if rest == 0:
            return []
        if rest in self._index and rest < self.loop_us:
            return [rest]
        best: list[int] | None = None
        for duration in self._keys:
            other = rest - duration
            if other < duration:
                break
            if other in self._index and other < self.loop_us:
                best = [other, duration]  # the shorter piece grows as the loop goes on
        return best

    def _greedy(self, room: int) -> list[tuple[int, int, int]]:
        """The longest fitting piece, over and over: for a slate not laid out by ``plan_slate``."""
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
