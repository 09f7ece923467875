"""Copying a day's locked programmes: same local clock time on each target day, across DST too."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta

import pytest

from rcmedia.core.builder import build_days
from rcmedia.core.copy_locks import copy_inserts, copy_targets, locked_programmes
from rcmedia.core.edits import Edit, EditKind, apply_edit
from rcmedia.core.schedule import Event, EventKind, Grid
from rcmedia.errors import ScheduleError
from tests.unit.core.test_builder import channel
from tests.unit.core.test_edits import DAY, FREEZE, NOW, at, setup


def event(
    start: datetime, *, kind: EventKind = EventKind.PROGRAMME, locked: bool = True, asset_id: int = 50
) -> Event:
    return Event(
        start=start,
        duration_us=60_000_000,
        asset_id=asset_id,
        first_segment=0,
        last_segment=9,
        kind=kind,
        title="特别节目",
        locked=locked,
    )


def test_only_locked_programmes_are_copied() -> None:
    pinned = event(at(15))
    events = [
        event(at(9), locked=False),
        pinned,
        event(at(16), kind=EventKind.FILLER),  # what a delete left: each target fills its own gaps
        event(at(17), kind=EventKind.SLATE),
    ]
    assert locked_programmes(events) == (pinned,)


@pytest.mark.parametrize(
    ("local", "target", "expected"),
    [
        pytest.param(
            time(19, 0), date(2026, 11, 28), datetime(2026, 11, 28, 11, 0, tzinfo=UTC), id="evening"
        ),
        # 02:00 belongs to the broadcast day that began at 06:00 the evening before
        pytest.param(
            time(2, 0), date(2026, 11, 28), datetime(2026, 11, 28, 18, 0, tzinfo=UTC), id="after-midnight"
        ),
    ],
)
def test_an_insert_at_the_same_local_time_of_each_target(
    local: time, target: date, expected: datetime
) -> None:
    shanghai = channel(Grid())
    source_day = date(2026, 11, 27)
    on = source_day if local >= shanghai.day_start else source_day + timedelta(days=1)
    start = datetime.combine(on, local, tzinfo=UTC) - timedelta(hours=8)
    (edit,) = copy_inserts(shanghai, [event(start)], target)
    assert edit == Edit(kind=EditKind.INSERT, asset_id=50, to=expected)


def test_the_local_time_holds_across_a_daylight_saving_change() -> None:
    berlin = channel(Grid(), zone="Europe/Berlin", day_start=time(5, 0))
    saturday_evening = datetime(2026, 3, 28, 19, 0, tzinfo=UTC)  # 20:00 CET
    (edit,) = copy_inserts(berlin, [event(saturday_evening)], date(2026, 3, 29))
    assert edit.to == datetime(2026, 3, 29, 18, 0, tzinfo=UTC)  # 20:00 CEST


@pytest.mark.parametrize(
    ("targets", "message"),
    [
        pytest.param([], "at least one date", id="none"),
        pytest.param([DAY], "is the day the locks are copied from", id="the-source"),
        pytest.param([DAY + timedelta(days=n) for n in range(1, 64)], "at most 62", id="too-many"),
    ],
)
def test_targets_are_refused_with_the_reason(targets: list[date], message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        copy_targets(DAY, targets)


def test_targets_are_sorted_without_repeats() -> None:
    later, sooner = DAY + timedelta(days=3), DAY + timedelta(days=1)
    assert copy_targets(DAY, [later, sooner, later]) == (sooner, later)


def test_the_copied_inserts_apply_on_the_target_day_as_on_the_source() -> None:
    spec, source = setup()
    source = apply_edit(
        spec, source, Edit(kind=EditKind.INSERT, to=at(15, 30), asset_id=50), now=NOW, freeze=FREEZE
    )
    (target,) = build_days(spec, DAY + timedelta(days=1))
    for edit in copy_inserts(spec.channel, locked_programmes(source.events), target.day):
        target = apply_edit(spec, target, edit, now=NOW, freeze=FREEZE)
    copied = [e for e in target.events if e.locked]
    assert [(e.start - timedelta(days=1), e.asset_id) for e in copied] == [(at(15, 30), 50)]
    assert dataclasses.replace(copied[0], start=at(15, 30), seq0=0, disc0=0) == dataclasses.replace(
        locked_programmes(source.events)[0], seq0=0, disc0=0
    )
