"""Operator edits of a built schedule: one function validates them and rebuilds from the edit on.

An edit becomes locked events (which survive every rebuild); the day is rebuilt around them from
the edit onwards, so the counters are re-chained from there and nothing earlier moves. Refused,
with the reason: anything inside the freeze horizon (players may already have it), anything that
would move a fixed slot's start or overlap another locked item, and assets without rights on the
output at that time.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from rcmedia.core.builder import BuildInput, DaySchedule, build_days, fill_span
from rcmedia.core.schedule import Event, EventKind
from rcmedia.errors import ScheduleError


class EditKind(StrEnum):
    REPLACE = "replace"  # another asset at the same start
    MOVE = "move"  # the event to another start
    INSERT = "insert"  # an asset at a start
    DELETE = "delete"  # the event's time goes to filler
    LOCK = "lock"  # keep the event as it is through rebuilds
    UNLOCK = "unlock"


@dataclass(frozen=True, kw_only=True, slots=True)
class Edit:
    kind: EditKind
    event_start: datetime | None = None  # the event edited (replace, move, delete, lock, unlock)
    asset_id: int | None = None  # replace, insert
    to: datetime | None = None  # move, insert


def apply_edit(
    spec: BuildInput,
    schedule: DaySchedule,
    edit: Edit,
    *,
    now: datetime,
    freeze: timedelta,
) -> DaySchedule:
    """Apply ``edit`` to ``schedule`` (built from ``spec``); returns the rebuilt day.

    ``spec.locked`` must hold the day's existing locked events. Raises ScheduleError with the
    reason when the edit is refused; nothing is changed then.
    """
    horizon = now + freeze
    events = list(schedule.events)
    locked = [e for e in spec.locked if not (schedule.start <= e.start < schedule.end)]
    day_locked = [e for e in events if e.locked]
    target = _find(events, edit.event_start) if edit.event_start is not None else None
    times = [t for t in (edit.event_start, edit.to) if t is not None]
    if not times:
        raise ScheduleError(f"a {edit.kind.value} edit needs the event's start or a target time")
    earliest = min(times)
    if earliest < horizon:
        raise ScheduleError(
            f"{edit.kind.value} at {earliest:%Y-%m-%d %H:%M:%S} UTC is inside the freeze horizon "
            f"(until {horizon:%H:%M:%S} UTC): players may already have it"
        )
    for moment in times:
        # an event that started before the horizon is frozen whole: cutting into it would renumber
        # segments players already hold (RFC 8216bis §6.2.1)
        frozen = next((e for e in events if e.start <= moment < e.end and e.start < horizon), None)
        if frozen is not None and moment != frozen.start:
            raise ScheduleError(
                f"{edit.kind.value} at {moment:%Y-%m-%d %H:%M:%S} UTC falls inside {frozen.title!r}, which "
                f"starts at {frozen.start:%H:%M:%S} UTC, before the freeze horizon ({horizon:%H:%M:%S} UTC); "
                f"choose {frozen.end:%H:%M:%S} UTC or later"
            )

    if edit.kind is EditKind.LOCK:
        new = [replace(_required(target, edit), locked=True)]
        keep = [e for e in day_locked if e.start != new[0].start]
    elif edit.kind is EditKind.UNLOCK:
        event = _required(target, edit)
        if not event.locked:
            raise ScheduleError(f"the event at {event.start:%H:%M:%S} UTC is not locked")
        new, keep = [], [e for e in day_locked if e.start != event.start]
    elif edit.kind is EditKind.DELETE:
        event = _required(target, edit)
        keep = [e for e in day_locked if e.start != event.start]
        new = [replace(e, locked=True) for e in fill_span(spec, schedule.day, event.start, event.end)]
    else:
        keep, new = _place(spec, schedule, edit, target, day_locked)

    candidate = sorted([*keep, *new], key=lambda e: e.start)
    _check(spec, schedule, candidate, new)
    # everything that ends before the edit stays exactly as it was: held in place for the rebuild
    prefix = [replace(e, locked=True) for e in events if e.end <= earliest and not e.locked]
    held = {e.start for e in prefix}
    rebuilt = build_days(replace(spec, locked=[*locked, *prefix, *candidate]), schedule.day, 1)[0]
    return replace(
        rebuilt, events=tuple(replace(e, locked=False) if e.start in held else e for e in rebuilt.events)
    )


def _place(
    spec: BuildInput, schedule: DaySchedule, edit: Edit, target: Event | None, day_locked: list[Event]
) -> tuple[list[Event], list[Event]]:
    asset_id = edit.asset_id if edit.kind is not EditKind.MOVE else _required(target, edit).asset_id
    if asset_id is None or asset_id not in spec.index.by_id:
        raise ScheduleError(f"asset {asset_id!r} is not published")
    asset = spec.index.by_id[asset_id]
    if edit.kind is EditKind.REPLACE:
        at = _required(target, edit).start
    else:
        if edit.to is None:
            raise ScheduleError(f"a {edit.kind.value} edit needs the time to place it at")
        at = edit.to
    if not (schedule.start <= at < schedule.end):
        raise ScheduleError(f"{at:%Y-%m-%d %H:%M:%S} UTC is not in the broadcast day {schedule.day}")
    if not asset.allowed(spec.output, at):
        raise ScheduleError(
            f"asset {asset.id} {asset.title!r} has no rights on {spec.output.value} at {at:%Y-%m-%d %H:%M} UTC"
        )
    moved = _required(target, edit) if edit.kind is EditKind.MOVE else None
    event = Event(
        start=at,
        duration_us=asset.duration_us,
        asset_id=asset.id,
        first_segment=0,
        last_segment=len(asset.segment_us) - 1,
        kind=EventKind.PROGRAMME,
        title=asset.title,
        series=asset.series,
        episode=asset.episode,
        slot_id=moved.slot_id if moved else (target.slot_id if target else None),
        locked=True,
    )
    replaced = {target.start} if target is not None else set()
    return [e for e in day_locked if e.start not in replaced], [event]


def _check(spec: BuildInput, schedule: DaySchedule, locked: Sequence[Event], new: Sequence[Event]) -> None:
    for before, after in itertools.pairwise(locked):
        if after.start < before.end:
            raise ScheduleError(
                f"the edit overlaps the locked item at {after.start:%H:%M:%S} UTC ({after.title!r})"
            )
    fixed = {slot.id for slot in spec.channel.grid.slots}
    slot_starts = sorted(e.start for e in schedule.events if e.slot_id in fixed and not e.locked)
    for event in new:
        if event.end > schedule.end:
            raise ScheduleError(f"{event.title!r} would run past the end of the broadcast day")
        at = bisect.bisect_right(slot_starts, event.start)
        if at < len(slot_starts) and slot_starts[at] < event.end:
            raise ScheduleError(
                f"{event.title!r} would run into the fixed slot at {slot_starts[at]:%H:%M:%S} UTC; "
                "choose a shorter asset or another time"
            )


def _find(events: Sequence[Event], start: datetime) -> Event:
    for event in events:
        if event.start == start:
            return event
    raise ScheduleError(f"no event starts at {start:%Y-%m-%d %H:%M:%S} UTC")


def _required(event: Event | None, edit: Edit) -> Event:
    if event is None:
        raise ScheduleError(f"a {edit.kind.value} edit needs the start of the event to edit")
    return event
