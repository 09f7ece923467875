"""The house slate cut into runs of its segments that add up to any remainder exactly.

The slate's segments come in lengths chosen so that any remainder before an anchor takes at most
two of them, after a run of full-length ones: each anchor is reached to the frame.
"""

from __future__ import annotations

import bisect

from rcmedia.core.schedule import ScheduleAsset
from rcmedia.errors import ScheduleError


class SlatePieces:
    """The house slate: its segments by length, to fill any remainder exactly."""

    def __init__(self, asset: ScheduleAsset) -> None:
        self.asset = asset
        self.loop_us = max(asset.segment_us)
        # the longest run of loop-length segments, for long gaps
        best_start, best_len, start = 0, 0, None
        for i, d in enumerate((*asset.segment_us, -1)):
            if d == self.loop_us:
                start = i if start is None else start
            elif start is not None:
                if i - start > best_len:
                    best_start, best_len = start, i - start
                start = None
        self.run = (best_start, best_len)
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
