"""How much of a stretch of air time is slate: the share an operator watches on the dashboard (pure).

Time no built event covers counts apart, as a gap: nothing is scheduled there yet, so it would go
out as the slate too (or nothing at all) unless the schedule is built first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from rcmedia.core.schedule import Event, EventKind

_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True, kw_only=True, slots=True)
class SlateShare:
    total_us: int
    slate_us: int  # built slate events
    gap_us: int  # no event built

    @property
    def slate(self) -> float:
        return self.slate_us / self.total_us if self.total_us else 0.0

    @property
    def gap(self) -> float:
        return self.gap_us / self.total_us if self.total_us else 0.0

    @property
    def unplanned(self) -> float:
        """Slate and gaps together: the time no programme, filler or ident is planned."""
        return self.slate + self.gap


def _us(start: datetime, end: datetime) -> int:
    return max(0, (end - start) // _MICROSECOND)


def slate_share(events: Iterable[Event], *, start: datetime, end: datetime) -> SlateShare:
    """The slate and the uncovered time of [start, end), given the events overlapping it (any order;
    overlapping events, which a built schedule never has, are counted once)."""
    slate_us = covered_us = 0
    reached = start  # everything before this is counted
    for event in sorted(events, key=lambda e: e.start):
        first, last = max(event.start, reached), min(event.end, end)
        if last <= first:
            continue
        covered_us += _us(first, last)
        if event.kind is EventKind.SLATE:
            slate_us += _us(first, last)
        reached = last
    total = _us(start, end)
    return SlateShare(total_us=total, slate_us=slate_us, gap_us=total - covered_us)
