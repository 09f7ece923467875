"""Copying a broadcast day's locked programmes to other dates, at the same local clock time.

An operator who pinned Monday's news at 19:00 wants the same pin on Tuesday to Friday: each
locked programme of the source day becomes an insert (which locks it) at the same wall-clock time
of each target day, in the channel's zone — so 19:00 stays 19:00 across a daylight-saving change,
where the UTC instant moves. Only programmes are copied: locked filler, idents and slate are what
a delete left behind, and each target day's rebuild fills its own gaps.

Pure: the caller applies the inserts (:func:`rcmedia.core.edits.apply_edit`) and decides what a
refusal means (the service refuses the whole copy).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from rcmedia.core.broadcast_days import at_or_after_day_start
from rcmedia.core.edits import Edit, EditKind
from rcmedia.core.schedule import Channel, Event, EventKind
from rcmedia.errors import ScheduleError


@dataclass(frozen=True, kw_only=True, slots=True)
class CopyRefusal:
    """Why one insert of a copy was refused: the target day, the instant and the reason."""

    day: date
    start: datetime | None  # None: the whole target day was refused (not built, the source itself)
    reason: str


def copy_targets(source: date, targets: Iterable[date], *, limit: int = 62) -> tuple[date, ...]:
    """The target days, sorted, without repeats; ScheduleError for none, the source itself or too many."""
    days = tuple(sorted(set(targets)))
    if not days:
        raise ScheduleError("name at least one date to copy the locks to")
    if source in days:
        raise ScheduleError(f"{source} is the day the locks are copied from")
    if len(days) > limit:
        raise ScheduleError(f"at most {limit} dates at a time, got {len(days)}")
    return days


def locked_programmes(events: Sequence[Event]) -> tuple[Event, ...]:
    """What a copy takes from the source day: its locked programmes, in order."""
    return tuple(e for e in events if e.locked and e.kind is EventKind.PROGRAMME)


def copy_inserts(channel: Channel, source: Sequence[Event], target: date) -> tuple[Edit, ...]:
    """One insert per event of ``source`` at its local clock time within broadcast day ``target``.

    A time that does not exist on ``target`` (skipped by a daylight-saving change) resolves as
    Python's zoneinfo does (``fold=0``): the instant an hour later, which the insert then checks.
    """
    zone = ZoneInfo(channel.timezone)
    return tuple(
        Edit(
            kind=EditKind.INSERT,
            asset_id=event.asset_id,
            to=at_or_after_day_start(
                channel, target, event.start.astimezone(zone).time().replace(tzinfo=None)
            ),
        )
        for event in source
    )
