"""Where each segment of an asset starts: cumulative offsets, one table per asset, shared (pure).

The live timeline finds the segment on air with a bisection over these offsets. One table per
catalog snapshot serves every event and every channel output that airs the asset: a server with
3,000 outputs holds one 8-byte-per-segment array per distinct asset, not an object per segment.
Segment durations are identical in every rung (verified at ingest), so one table serves all rungs.
"""

from __future__ import annotations

import itertools
from array import array
from collections.abc import Iterable, Mapping, Sequence

from rcmedia.core.schedule import Event, ScheduleAsset


class SegmentTable:
    """Cumulative segment offsets per asset (µs from the asset's start), made on first use."""

    def __init__(self, durations: Mapping[int, Sequence[int]]) -> None:
        self._durations = durations
        self._offsets: dict[int, array[int]] = {}

    @classmethod
    def of_assets(cls, assets: Iterable[ScheduleAsset]) -> SegmentTable:
        return cls({asset.id: asset.segment_us for asset in assets})

    def offsets(self, asset_id: int) -> array[int] | None:
        """``offsets[k]`` = where segment ``k`` starts; one entry more than segments. None: unknown."""
        found = self._offsets.get(asset_id)
        if found is None:
            durations = self._durations.get(asset_id)
            if not durations:
                return None
            found = self._offsets[asset_id] = cumulative(durations)
        return found


def cumulative(durations: Iterable[int]) -> array[int]:
    return array("q", itertools.accumulate(durations, initial=0))


def event_offsets(event: Event, offsets: array[int] | None, full_us: int) -> tuple[array[int], str | None]:
    """The offsets to place ``event``'s segments with, and why its asset's own cannot be used, or None.

    The asset's table is unusable when it is gone (the catalog row was deleted) or no longer adds
    up to the event (re-transcoded since). The event's segment count and total still fix the
    numbering, so its segments are assumed cut the way every asset is — full-length ones
    (``full_us``) and a shorter last one — and the slate plays them.
    """
    if offsets is None:
        why = "has no segment durations"
    elif not 0 <= event.first_segment <= event.last_segment < len(offsets) - 1 or (
        offsets[event.last_segment + 1] - offsets[event.first_segment] != event.duration_us
    ):
        why = "has other segments than when it was scheduled"
    else:
        return offsets, None
    count, total = event.segment_count, event.duration_us
    if (count - 1) * full_us < total <= count * full_us:
        durations = [full_us] * (count - 1) + [total - (count - 1) * full_us]
    else:
        share, rest = divmod(total, count)
        durations = [share] * (count - 1) + [share + rest]
    return cumulative([full_us] * event.first_segment + durations), why
