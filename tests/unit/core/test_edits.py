"""Operator edits: validated, re-chained from the edit on, never touching the frozen past."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise

import pytest

from rcmedia.core.builder import BuildInput, DaySchedule, build_days
from rcmedia.core.edits import Edit, EditKind, apply_edit
from rcmedia.core.models import Output, Rights
from rcmedia.core.rotation import AssetIndex
from rcmedia.core.schedule import EventKind, FixedSlot, Grid, Pool, Recurrence
from rcmedia.errors import ScheduleError
from tests.unit.core.test_builder import SLATE, asset, channel, check_day

DAY = date(2026, 11, 27)
FREEZE = timedelta(minutes=2)
NOW = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)  # 08:00 in Chengdu; the day started at 06:00


def setup() -> tuple[BuildInput, DaySchedule]:
    episodes = [asset(10 + n, "党建视讯", n + 1, 25 * 60 * 25) for n in range(5)]
    specials = [
        asset(50, "特别节目", 1, 25 * 60 * 10),
        asset(51, "特别节目", 2, 25 * 60 * 90),  # too long for any gap between slots
        asset(52, "特别节目", 3, 25 * 60 * 5, rights=(Rights(output=Output.TV),)),
    ]
    fillers = [asset(100 + n, "宣传片", None, 25 * 45, categories=("宣传片",)) for n in range(6)]
    index = AssetIndex([SLATE, *episodes, *specials, *fillers])
    grid = Grid(
        slots=(
            FixedSlot(id="morning", start=time(9, 0), recurrence=Recurrence(), series="党建视讯"),
            FixedSlot(id="noon", start=time(10, 0), recurrence=Recurrence(), series="党建视讯"),
            FixedSlot(id="evening", start=time(20, 0), recurrence=Recurrence(), series="党建视讯"),
        ),
        filler=Pool(categories=("宣传片",)),
    )
    spec = BuildInput(channel=channel(grid), output=Output.IPTV, index=index)
    (schedule,) = build_days(spec, DAY)
    return spec, schedule


def at(hour: int, minute: int = 0) -> datetime:
    return (
        datetime(2026, 11, 27, hour - 8, minute, tzinfo=UTC)
        if hour >= 8
        else datetime(2026, 11, 26, hour + 16, minute, tzinfo=UTC)
    )


def edited(edit: Edit) -> tuple[BuildInput, DaySchedule, DaySchedule]:
    spec, schedule = setup()
    return spec, schedule, apply_edit(spec, schedule, edit, now=NOW, freeze=FREEZE)


def test_replace_puts_the_asset_at_the_same_start_and_keeps_everything_before() -> None:
    spec, before, after = edited(Edit(kind=EditKind.REPLACE, event_start=at(9), asset_id=50))
    check_day(after, spec.index)
    replaced = next(e for e in after.events if e.start == at(9))
    assert (replaced.asset_id, replaced.locked) == (50, True)
    assert [e for e in after.events if e.end <= at(9)] == [e for e in before.events if e.end <= at(9)]
    assert next(e for e in after.events if e.start == at(10)).slot_id == "noon", "the next slot stays on time"


def test_a_locked_edit_survives_a_rebuild() -> None:
    spec, _before, after = edited(Edit(kind=EditKind.INSERT, to=at(15, 30), asset_id=50))
    locked = [e for e in after.events if e.locked]
    (rebuilt,) = build_days(dataclasses.replace(spec, locked=locked), DAY)
    assert [e for e in rebuilt.events if e.locked] == locked
    check_day(rebuilt, spec.index)


def test_delete_gives_the_time_to_filler() -> None:
    spec, _before, after = edited(Edit(kind=EditKind.DELETE, event_start=at(9)))
    check_day(after, spec.index)
    assert all(
        e.kind in (EventKind.FILLER, EventKind.SLATE) for e in after.events if at(9) <= e.start < at(10)
    )


def test_move_and_lock_and_unlock() -> None:
    spec, before, moved = edited(Edit(kind=EditKind.MOVE, event_start=at(9), to=at(15)))
    original = next(e for e in before.events if e.start == at(9))
    placed = next(e for e in moved.events if e.start == at(15))
    assert (placed.asset_id, placed.locked) == (original.asset_id, True)
    check_day(moved, spec.index)
    spec, schedule = setup()
    locked = apply_edit(spec, schedule, Edit(kind=EditKind.LOCK, event_start=at(20)), now=NOW, freeze=FREEZE)
    assert next(e for e in locked.events if e.start == at(20)).locked
    unlocked = apply_edit(
        dataclasses.replace(spec),
        locked,
        Edit(kind=EditKind.UNLOCK, event_start=at(20)),
        now=NOW,
        freeze=FREEZE,
    )
    assert not any(e.locked for e in unlocked.events)


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        pytest.param(
            Edit(kind=EditKind.REPLACE, event_start=at(6), asset_id=50), "freeze horizon", id="frozen-past"
        ),
        pytest.param(
            Edit(kind=EditKind.INSERT, to=NOW + timedelta(minutes=1), asset_id=50),
            "freeze horizon",
            id="within-freeze",
        ),
        pytest.param(
            Edit(kind=EditKind.REPLACE, event_start=at(9), asset_id=51), "fixed slot", id="breaks-a-slot"
        ),
        pytest.param(Edit(kind=EditKind.INSERT, to=at(15), asset_id=52), "no rights on iptv", id="no-rights"),
        pytest.param(
            Edit(kind=EditKind.INSERT, to=at(15), asset_id=999), "not published", id="unknown-asset"
        ),
        pytest.param(Edit(kind=EditKind.DELETE, event_start=at(9, 1)), "no event starts", id="no-such-event"),
        pytest.param(Edit(kind=EditKind.UNLOCK, event_start=at(9)), "not locked", id="unlock-unlocked"),
    ],
)
def test_refused_edits_say_why_and_change_nothing(edit: Edit, reason: str) -> None:
    spec, schedule = setup()
    with pytest.raises(ScheduleError, match=reason):
        apply_edit(spec, schedule, edit, now=NOW, freeze=FREEZE)
    assert build_days(spec, DAY) == [schedule]


def test_counters_are_rechained_from_the_edit() -> None:
    _spec, _before, after = edited(Edit(kind=EditKind.INSERT, to=at(15), asset_id=50))
    for a, b in pairwise(after.events):
        assert b.seq0 == a.seq0 + a.segment_count
        assert b.disc0 == a.disc0 + 1
