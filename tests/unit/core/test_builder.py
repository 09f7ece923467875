"""The EPG builder: unit cases and Hypothesis properties over random grids and catalogs."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rcmedia.core.builder import BuildInput, DaySchedule, broadcast_day, build_days, build_outputs
from rcmedia.core.models import Output, Rights, Source
from rcmedia.core.rotation import AssetIndex
from rcmedia.core.schedule import (
    Block,
    Channel,
    EpisodePolicy,
    EventKind,
    FixedSlot,
    Grid,
    OverrunPolicy,
    Pool,
    Recurrence,
    ScheduleAsset,
)
from rcmedia.errors import ScheduleError

FRAME = 40_000  # µs
SEGMENT = 150 * FRAME  # 6 s
ALL = tuple(Rights(output=o) for o in Output)


def asset(
    asset_id: int,
    series: str,
    episode: int | None,
    frames: int,
    *,
    categories: tuple[str, ...] = (),
    rights: tuple[Rights, ...] = ALL,
) -> ScheduleAsset:
    segments = [SEGMENT] * (frames // 150) + ([(frames % 150) * FRAME] if frames % 150 else [])
    return ScheduleAsset(
        id=asset_id,
        title=f"{series} 第{episode}集" if episode else series,
        series=series,
        episode=episode,
        source=Source.OWN,
        categories=categories,
        segment_us=tuple(segments),
        rights=rights,
    )


SLATE = ScheduleAsset(
    id=1,
    title="台标卡",
    series="slate",
    episode=None,
    source=Source.OWN,
    categories=(),
    # as plan_slate lays it out: shorter pieces before and after the loop, which is not at index 0
    segment_us=tuple(
        [k * FRAME for k in range(75, 150)] + [SEGMENT] * 10 + [k * FRAME for k in range(1, 75)]
    ),
    rights=ALL,
)


def channel(grid: Grid, zone: str = "Asia/Shanghai", day_start: time = time(6, 0)) -> Channel:
    return Channel(
        id="rcxf",
        xmltv_id="rcxf.rcmedia",
        name="蓉城先锋",
        number=1,
        timezone=zone,
        outputs=tuple(Output),
        day_start=day_start,
        grid=grid,
    )


def check_day(schedule: DaySchedule, index: AssetIndex) -> None:
    """The invariants every built day keeps."""
    events = schedule.events
    assert events, "a day is never empty"
    assert events[0].start == schedule.start
    assert events[-1].end == schedule.end
    for before, after in pairwise(events):
        assert after.start == before.end, f"gap or overlap at {after.start}"
        assert after.seq0 == before.seq0 + before.segment_count
        assert after.disc0 == before.disc0 + 1
    for event in events:
        media = index.by_id[event.asset_id]
        assert 0 <= event.first_segment <= event.last_segment < len(media.segment_us)
        assert event.duration_us == sum(media.segment_us[event.first_segment : event.last_segment + 1])
        assert media.allowed(schedule.output, event.start), f"{event.title} has no rights here"


def test_a_day_is_covered_exactly_with_programmes_on_time() -> None:
    episodes = [asset(10 + n, "党建视讯", n + 1, 25 * 60 * 25 + 37 * n) for n in range(10)]
    fillers = [asset(100 + n, "宣传片", None, 30 * 25 + n * 13, categories=("宣传片",)) for n in range(20)]
    index = AssetIndex([SLATE, *episodes, *fillers])
    grid = Grid(
        slots=(
            FixedSlot(id="m", start=time(7, 0), recurrence=Recurrence(), series="党建视讯"),
            FixedSlot(
                id="e",
                start=time(19, 30),
                recurrence=Recurrence(),
                series="党建视讯",
                policy=EpisodePolicy.RERUN,
                rerun_after_hours=12,
            ),
        ),
        filler=Pool(categories=("宣传片",)),
    )
    (day,) = build_days(BuildInput(channel=channel(grid), output=Output.TV, index=index), date(2026, 11, 27))
    check_day(day, index)
    programmes = [e for e in day.events if e.kind is EventKind.PROGRAMME]
    assert [e.start for e in programmes] == [
        datetime(2026, 11, 26, 23, 0, tzinfo=UTC),  # 07:00 +0800
        datetime(2026, 11, 27, 11, 30, tzinfo=UTC),  # 19:30 +0800
    ]
    morning, evening = programmes
    assert (morning.title, morning.premiere, morning.previously_shown) == ("党建视讯 第1集", True, None)
    assert (evening.asset_id, evening.premiere) == (morning.asset_id, False)
    assert evening.previously_shown == morning.start


def test_filler_repeats_least_recent_first_rather_than_the_slate_when_its_window_runs_dry() -> None:
    episodes = [asset(10 + n, "党建视讯", n + 1, 2 * 60 * 25) for n in range(40)]  # 2 min each
    fillers = [asset(100 + n, "宣传片", None, 30 * 25, categories=("宣传片",)) for n in range(3)]
    index = AssetIndex([SLATE, *episodes, *fillers])
    slots = tuple(
        FixedSlot(id=f"s{hour}", start=time(hour, 0), recurrence=Recurrence(), series="党建视讯")
        for hour in range(6, 24)
    )
    grid = Grid(slots=slots, filler=Pool(categories=("宣传片",), no_repeat_hours=2))
    (day,) = build_days(BuildInput(channel=channel(grid), output=Output.TV, index=index), date(2026, 11, 27))
    check_day(day, index)
    fill = [e for e in day.events if e.kind is EventKind.FILLER]
    slate = [e for e in day.events if e.kind is EventKind.SLATE]
    # 58 minutes a hour to fill with three 30 s fillers: they repeat, in rotation, and no slate
    # is needed (each gap is a whole number of 30 s fillers)
    assert not slate
    programmes = [e for e in day.events if e.kind is EventKind.PROGRAMME]
    assert len(programmes) == 18
    assert len(fill) == (24 * 60 - 18 * 2) * 2
    assert [e.asset_id for e in fill[:7]] == [100, 101, 102, 100, 101, 102, 100]


def test_premieres_go_in_episode_order_across_days() -> None:
    episodes = [asset(10 + n, "峥嵘岁月", n + 1, 25 * 60 * 10) for n in reversed(range(5))]
    index = AssetIndex([SLATE, *episodes])
    grid = Grid(slots=(FixedSlot(id="s", start=time(20, 0), recurrence=Recurrence(), series="峥嵘岁月"),))
    days = build_days(BuildInput(channel=channel(grid), output=Output.TV, index=index), date(2026, 11, 27), 4)
    shown = [e.episode for d in days for e in d.events if e.kind is EventKind.PROGRAMME]
    assert shown == [1, 2, 3, 4]
    for day in days:
        check_day(day, index)
    assert days[1].events[0].seq0 == days[0].end_counters.seq


@pytest.mark.parametrize(
    ("zone", "day", "hours"),
    [
        pytest.param("Asia/Shanghai", date(2026, 11, 27), 24, id="shanghai"),
        pytest.param("Europe/Berlin", date(2026, 3, 28), 23, id="berlin-spring-forward"),
        pytest.param("Europe/Berlin", date(2026, 10, 24), 25, id="berlin-fall-back"),
    ],
)
def test_broadcast_days_are_23_24_or_25_hours(zone: str, day: date, hours: int) -> None:
    episodes = [asset(10 + n, "新视野", n + 1, 25 * 60 * 25) for n in range(3)]
    index = AssetIndex([SLATE, *episodes])
    grid = Grid(slots=(FixedSlot(id="s", start=time(2, 30), recurrence=Recurrence(), series="新视野"),))
    start, end = broadcast_day(channel(grid, zone), day)
    assert end - start == timedelta(hours=hours)
    (schedule,) = build_days(BuildInput(channel=channel(grid, zone), output=Output.IPTV, index=index), day)
    check_day(schedule, index)
    assert sum(e.duration_us for e in schedule.events) == hours * 3600 * 1_000_000


def test_an_asset_without_rights_on_an_output_is_substituted_there_only() -> None:
    tv_only = (Rights(output=Output.TV),)
    episodes = [
        asset(10, "理论1+1", 1, 25 * 60 * 20, rights=tv_only),
        asset(11, "理论1+1", 2, 25 * 60 * 20),
    ]
    index = AssetIndex([SLATE, *episodes])
    grid = Grid(slots=(FixedSlot(id="s", start=time(12, 0), recurrence=Recurrence(), series="理论1+1"),))
    spec = BuildInput(channel=channel(grid), output=Output.TV, index=index)
    (tv,) = build_days(spec, date(2026, 11, 27))
    (mobile,) = build_days(dataclasses.replace(spec, output=Output.MOBILE), date(2026, 11, 27))
    tv_programme = next(e for e in tv.events if e.kind is EventKind.PROGRAMME)
    mobile_programme = next(e for e in mobile.events if e.kind is EventKind.PROGRAMME)
    assert (tv_programme.asset_id, tv_programme.substitution) == (10, None)
    assert mobile_programme.asset_id == 11
    assert "no rights on mobile" in (mobile_programme.substitution or "")
    check_day(mobile, index)


@pytest.mark.parametrize(
    ("overrun", "expected"),
    [
        pytest.param(OverrunPolicy.CUT, (10, "cut"), id="cut-at-a-segment-boundary"),
        pytest.param(OverrunPolicy.SHORTER, (11, "whole"), id="choose-a-shorter-episode"),
    ],
)
def test_a_programme_never_moves_the_next_fixed_slot(
    overrun: OverrunPolicy, expected: tuple[int, str]
) -> None:
    long_one = asset(10, "先锋党课", 1, 25 * 60 * 45)  # 45 min in a 30 min slot
    short_one = asset(11, "先锋党课", 2, 25 * 60 * 20)
    news = asset(20, "学习时间", 1, 25 * 60 * 10)
    index = AssetIndex([SLATE, long_one, short_one, news])
    grid = Grid(
        slots=(
            FixedSlot(id="a", start=time(9, 0), recurrence=Recurrence(), series="先锋党课", overrun=overrun),
            FixedSlot(id="b", start=time(9, 30), recurrence=Recurrence(), series="学习时间"),
        )
    )
    (day,) = build_days(BuildInput(channel=channel(grid), output=Output.TV, index=index), date(2026, 11, 27))
    check_day(day, index)
    first = next(e for e in day.events if e.slot_id == "a")
    second = next(e for e in day.events if e.slot_id == "b")
    assert second.start == datetime(2026, 11, 27, 1, 30, tzinfo=UTC)
    assert first.asset_id == expected[0]
    whole = first.segment_count == len(index.by_id[first.asset_id].segment_us)
    assert ("whole" if whole else "cut") == expected[1]


def test_without_a_slate_the_builder_refuses_with_the_reason() -> None:
    index = AssetIndex([asset(10, "新视野", 1, 1000)])
    with pytest.raises(ScheduleError, match="no slate asset"):
        build_days(BuildInput(channel=channel(Grid()), output=Output.TV, index=index), date(2026, 11, 27))


# --- properties --------------------------------------------------------------------------

SERIES = ("党建视讯", "峥嵘岁月", "新视野", "理论1+1")


@st.composite
def catalogs(draw: st.DrawFn) -> list[ScheduleAsset]:
    assets = [SLATE]
    next_id = 10
    for series in SERIES:
        for episode in range(1, draw(st.integers(1, 6)) + 1):
            frames = draw(st.integers(25, 25 * 60 * 50))
            outputs = draw(st.sets(st.sampled_from(list(Output)), min_size=0, max_size=3))
            rights = tuple(Rights(output=o) for o in sorted(outputs))
            assets.append(asset(next_id, series, episode, frames, rights=rights))
            next_id += 1
    for n in range(draw(st.integers(0, 8))):
        frames = draw(st.integers(25 * 30, 25 * 900))
        assets.append(asset(next_id, "宣传片", n + 1, frames, categories=("宣传片",)))
        next_id += 1
    return assets


@st.composite
def grids(draw: st.DrawFn) -> Grid:
    minutes = draw(st.lists(st.integers(0, 24 * 60 - 1), min_size=0, max_size=8, unique=True))
    slots = tuple(
        FixedSlot(
            id=f"s{n}",
            start=time(m // 60, m % 60),
            recurrence=Recurrence(weekdays=frozenset(draw(st.sets(st.integers(0, 6), min_size=1)))),
            series=draw(st.sampled_from(SERIES)),
            policy=draw(st.sampled_from(list(EpisodePolicy))),
            rerun_after_hours=draw(st.sampled_from([0.0, 6.0, 24.0])),
            overrun=draw(st.sampled_from(list(OverrunPolicy))),
        )
        for n, m in enumerate(sorted(minutes))
    )
    blocks = ()
    if draw(st.booleans()):
        begin = draw(st.integers(0, 23))
        blocks = (
            Block(
                id="blk",
                start=time(begin, 0),
                end=time((begin + draw(st.integers(1, 6))) % 24, 0),
                recurrence=Recurrence(),
                pool=Pool(series=(draw(st.sampled_from(SERIES)),)),
            ),
        )
    idents = Pool(categories=("宣传片",), max_duration=10.0) if draw(st.booleans()) else None
    return Grid(slots=slots, blocks=blocks, filler=Pool(categories=("宣传片",)), idents=idents)


ZONES = st.sampled_from(["Asia/Shanghai", "Europe/Berlin", "America/New_York"])
DAYS = st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(catalog=catalogs(), grid=grids(), zone=ZONES, day=DAYS, output=st.sampled_from(list(Output)))
def test_property_every_day_is_exactly_covered_and_deterministic(
    catalog: list[ScheduleAsset], grid: Grid, zone: str, day: date, output: Output
) -> None:
    index = AssetIndex(catalog)
    spec = BuildInput(channel=channel(grid, zone), output=output, index=index)
    schedules = build_days(spec, day, 2)
    for schedule in schedules:
        check_day(schedule, index)
        starts = {e.start for e in schedule.events}
        for slot in grid.slots:
            if slot.recurrence.occurs(schedule.day):
                local = datetime.combine(
                    schedule.day if slot.start >= time(6, 0) else schedule.day + timedelta(days=1),
                    slot.start,
                    tzinfo=ZoneInfo(zone),
                ).astimezone(UTC)
                if schedule.start <= local < schedule.end:
                    assert local in starts, f"slot {slot.id} does not start on time"
    assert schedules[1].events[0].seq0 == schedules[0].end_counters.seq
    assert schedules[1].events[0].disc0 == schedules[0].end_counters.disc
    assert build_days(spec, day, 2) == schedules, "same inputs, same EPG"


@settings(max_examples=40, deadline=None)
@given(catalog=catalogs(), grid=grids(), day=DAYS, pick=st.integers(0, 10_000))
def test_property_locked_items_survive_rebuilds(
    catalog: list[ScheduleAsset], grid: Grid, day: date, pick: int
) -> None:
    index = AssetIndex(catalog)
    spec = BuildInput(channel=channel(grid), output=Output.TV, index=index)
    (first,) = build_days(spec, day)
    chosen = first.events[pick % len(first.events)]
    locked = dataclasses.replace(chosen, locked=True)
    (rebuilt,) = build_days(dataclasses.replace(spec, locked=(locked,)), day)
    check_day(rebuilt, index)
    kept = [e for e in rebuilt.events if e.locked]
    assert len(kept) == 1
    strip = lambda e: (e.start, e.asset_id, e.first_segment, e.last_segment)  # noqa: E731
    assert strip(kept[0]) == strip(locked)
    assert build_days(dataclasses.replace(spec, locked=(locked,)), day) == [rebuilt]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(catalog=catalogs(), grid=grids(), day=DAYS)
def test_property_outputs_built_together_equal_outputs_built_alone(
    catalog: list[ScheduleAsset], grid: Grid, day: date
) -> None:
    index = AssetIndex(catalog)
    specs = [BuildInput(channel=channel(grid), output=output, index=index) for output in Output]
    together = build_outputs(specs, day, 2)
    alone = [build_days(spec, day, 2) for spec in specs]
    assert together == alone
