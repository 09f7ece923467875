"""Channels built in forked worker processes: the same days as built one by one, errors in order."""

from __future__ import annotations

import dataclasses
from datetime import date, time
from itertools import pairwise

import pytest

from rcmedia.core.builder import BuildInput, DaySchedule
from rcmedia.core.models import Output, Rights, Source
from rcmedia.core.rotation import AssetIndex
from rcmedia.core.schedule import (
    Block,
    Channel,
    EpisodePolicy,
    FixedSlot,
    Grid,
    Pool,
    Recurrence,
    ScheduleAsset,
)
from rcmedia.errors import ScheduleError
from rcmedia.service.build_workers import MIN_PARALLEL, ChannelBuild, build_channels

FRAME = 40_000
SEGMENT = 150 * FRAME
ALL = tuple(Rights(output=o) for o in Output)
NOT_MOBILE = (Rights(output=Output.TV), Rights(output=Output.IPTV))
FIRST_DAY = date(2026, 11, 27)


def asset(asset_id: int, series: str, episode: int | None, frames: int, *, category: str) -> ScheduleAsset:
    segments = [SEGMENT] * (frames // 150) + ([(frames % 150) * FRAME] if frames % 150 else [])
    return ScheduleAsset(
        id=asset_id,
        title=f"{series} {episode}",
        series=series,
        episode=episode,
        source=Source.CITY,
        categories=(category,),
        segment_us=tuple(segments),
        rights=NOT_MOBILE if asset_id % 7 == 0 else ALL,  # some differ on mobile: outputs not shared
    )


SLATE = ScheduleAsset(
    id=1,
    title="台标卡",
    series="slate",
    episode=None,
    source=Source.OWN,
    categories=(),
    segment_us=tuple([SEGMENT] * 10 + [k * FRAME for k in range(1, 150)]),
    rights=ALL,
)
CATALOG = [
    SLATE,
    *(asset(10 + n, f"系列{n % 6}", n // 6 + 1, 25 * 60 * (20 + n % 9), category="课程") for n in range(60)),
    *(asset(100 + n, "宣传片", None, 25 * (15 + 7 * n % 100), category="宣传片") for n in range(80)),
    *(asset(300 + n, "台标", None, 25 * (5 + n % 5), category="台标") for n in range(20)),
]


def channel(number: int) -> Channel:
    slots = tuple(
        FixedSlot(
            id=f"s{k}",
            start=time(7 + 2 * k, 30 * (number % 2)),
            recurrence=Recurrence(),
            series=f"系列{(number + k) % 6}",
            policy=list(EpisodePolicy)[(number + k) % 3],
            rerun_after_hours=12,
        )
        for k in range(3)
    )
    grid = Grid(
        slots=slots,
        blocks=(
            Block(
                id="pm",
                start=time(14),
                end=time(17),
                recurrence=Recurrence(),
                pool=Pool(categories=("课程",)),
            ),
        ),
        filler=Pool(categories=("宣传片",)),
        idents=Pool(categories=("台标",)),
    )
    return Channel(
        id=f"c{number}",
        xmltv_id=f"c{number}.rcmedia",
        name=f"频道{number}",
        number=number + 1,
        timezone="Asia/Shanghai",
        outputs=tuple(Output),
        grid=grid,
    )


def builds(channels: list[Channel]) -> list[ChannelBuild]:
    index = AssetIndex(CATALOG)
    return [
        ChannelBuild(
            specs=tuple(BuildInput(channel=c, output=o, index=index) for o in Output),
            first_day=FIRST_DAY,
            days=2,
        )
        for c in channels
    ]


@pytest.mark.parametrize("workers", [pytest.param(2, id="one-worker"), pytest.param(3, id="two-workers")])
def test_workers_build_the_same_days_as_one_by_one(workers: int) -> None:
    todo = builds([channel(n) for n in range(MIN_PARALLEL + 3)])
    one_by_one = [build.build() for build in todo]
    spread = list(build_channels(todo, workers=workers))
    assert spread == one_by_one
    assert all(isinstance(day, DaySchedule) for outputs in spread for days in outputs for day in days)
    # outputs that shared their days here (TV and IPTV, not mobile) still share them
    sharing = [[a[0].events is b[0].events for a, b in pairwise(outputs)] for outputs in one_by_one]
    assert [[a[0].events is b[0].events for a, b in pairwise(outputs)] for outputs in spread] == sharing
    assert [True, False] in sharing


def test_a_channel_that_cannot_be_built_raises_in_its_turn() -> None:
    channels = [channel(n) for n in range(MIN_PARALLEL + 2)]
    channels[3] = dataclasses.replace(
        channels[3], grid=dataclasses.replace(channels[3].grid, slate_series="无")
    )
    channels[-1] = dataclasses.replace(
        channels[-1], grid=dataclasses.replace(channels[-1].grid, slate_series="无")
    )
    got = []
    with pytest.raises(ScheduleError, match="channel 'c3': no slate asset"):
        got.extend(build_channels(builds(channels), workers=2))
    assert [outputs[0][0].channel_id for outputs in got] == ["c0", "c1", "c2"]


def test_few_channels_are_built_here_one_by_one() -> None:
    todo = builds([channel(n) for n in range(2)])
    built = build_channels(todo, workers=2)
    assert next(built) == todo[0].build()
    assert next(built) == todo[1].build()
    assert next(built, None) is None
