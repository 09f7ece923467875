"""Schedule benchmark: build 7 days for 100 channels x 3 outputs over a 20,000-asset catalog.

Generated rows, no media. Reports the total, and growth with days and channels (linear is the
goal: the time per channel-day should stay flat). Goal (issue 3): 7 days x 100 channels x 3
outputs in <= 2 s.

It times what ``rcmedia.service.schedules.build_all`` runs between reading the catalog and storing
the days: ``build_workers.build_channels``, which builds channels in forked worker processes
(one per idle CPU, see ``default_workers``) as well as in this one, and returns the same days as
building them one by one. The one-by-one build is timed too, as the baseline, and checked equal.
Usage: .venv/bin/python bench/schedule.py [--channels 100] [--days 7] [--assets 20000] [--workers N]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import date
from datetime import time as clock
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

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
from rcmedia.service.build_workers import (
    ChannelBuild,
    available_cpus,
    build_channels,
    default_workers,
    idle_cpus,
)

FRAME = 40_000
SEGMENT = 150 * FRAME
ALL = tuple(Rights(output=o) for o in Output)


def segments(frames: int) -> tuple[int, ...]:
    whole, rest = divmod(frames, 150)
    return tuple([SEGMENT] * whole + ([rest * FRAME] if rest else []))


def catalog(count: int, rng: random.Random) -> tuple[list[ScheduleAsset], list[str]]:
    series = [f"系列{n:03d}" for n in range(400)]
    assets = [
        ScheduleAsset(
            id=1,
            title="slate",
            series="slate",
            episode=None,
            source=Source.OWN,
            categories=(),
            segment_us=tuple([SEGMENT] * 10 + [k * FRAME for k in range(1, 150)]),
            rights=ALL,
        )
    ]
    for n in range(count):
        kind = n % 10
        if kind < 7:  # episodes of series: a 30, 45 or 60 min programme runs 1-4 min short of its slot
            k = (n // 10 * 7 + kind) % len(series)
            name = series[k]
            slot_minutes = (30, 45, 60)[k % 3]
            frames = rng.randint(25 * 60 * (slot_minutes - 4), 25 * 60 * (slot_minutes - 1))
            cats, episode = ("课程",), (n // 10 * 7 + kind) // len(series) + 1
        elif kind < 9:  # promos and public-service spots, 15 s - 2 min
            name, frames, cats, episode = "宣传片", rng.randint(25 * 15, 25 * 120), ("宣传片",), None
        else:  # idents 5-10 s
            name, frames, cats, episode = "台标", rng.randint(125, 250), ("台标",), None
        rights = ALL if rng.random() > 0.1 else (Rights(output=Output.TV), Rights(output=Output.IPTV))
        assets.append(
            ScheduleAsset(
                id=n + 10,
                title=f"{name} {n}",
                series=name,
                episode=episode,
                source=Source.CITY,
                categories=cats,
                segment_us=segments(frames),
                rights=rights,
            )
        )
    return assets, series


def channels(count: int, series: list[str], rng: random.Random) -> list[Channel]:
    """Grids like a real channel's: fixed slots of 30/45/60 min from 06:00, an afternoon block."""
    by_length = {
        length: [n for k, n in enumerate(series) if (30, 45, 60)[k % 3] == length] for length in (30, 45, 60)
    }
    result = []
    for number in range(count):
        slots = []
        minute = 6 * 60
        while minute < 30 * 60 - 60:
            length = rng.choice([30, 45, 60])
            if not (13 * 60 <= minute < 17 * 60):  # the afternoon is a floating block
                slots.append(
                    FixedSlot(
                        id=f"s{len(slots)}",
                        start=clock((minute // 60) % 24, minute % 60),
                        recurrence=Recurrence(),
                        series=rng.choice(by_length[length]),
                        policy=rng.choice(list(EpisodePolicy)),
                        rerun_after_hours=12,
                    )
                )
            minute += length
        grid = Grid(
            slots=tuple(slots),
            blocks=(
                Block(
                    id="pm",
                    start=clock(13),
                    end=clock(17),
                    recurrence=Recurrence(),
                    pool=Pool(categories=("课程",), max_duration=3600),
                ),
            ),
            filler=Pool(categories=("宣传片",)),
            idents=Pool(categories=("台标",)),
        )
        result.append(
            Channel(
                id=f"c{number}",
                xmltv_id=f"c{number}.rcmedia",
                name=f"频道{number}",
                number=number + 1,
                timezone="Asia/Shanghai",
                outputs=tuple(Output),
                grid=grid,
            )
        )
    return result


GOAL_S = 2.0
FIRST_DAY = date(2026, 11, 27)


def run(
    chans: list[Channel], index: AssetIndex, days: int, workers: int | None
) -> tuple[float, int, list[list[list[DaySchedule]]]]:
    """Seconds to build ``days`` days of every channel's outputs, the events made, and the days."""
    builds = [
        ChannelBuild(
            specs=tuple(BuildInput(channel=chan, output=output, index=index) for output in Output),
            first_day=FIRST_DAY,
            days=days,
        )
        for chan in chans
    ]
    started = time.perf_counter()
    built = list(build_channels(builds, workers=workers))
    seconds = time.perf_counter() - started
    return seconds, sum(len(d.events) for outputs in built for days in outputs for d in days), built


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--channels", type=int, default=100)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--assets", type=int, default=20_000)
    parser.add_argument(
        "--workers", type=int, default=None, help="processes in all (default: one per idle CPU)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of the whole build (best is kept)")
    args = parser.parse_args()
    rng = random.Random(20261127)
    assets, series = catalog(args.assets, rng)
    chans = channels(args.channels, series, rng)
    started = time.perf_counter()
    index = AssetIndex(assets)
    for chan in chans:
        index.prepare(chan.grid)  # the pools: once per catalog snapshot, as build_channels does
    indexing = time.perf_counter() - started
    idle = idle_cpus(0.5)
    workers = args.workers or default_workers()
    print(
        f"catalog {len(assets)} assets indexed in {indexing * 1000:.0f} ms; {available_cpus()} CPUs, "
        f"{'?' if idle is None else f'{idle:.1f}'} idle before the runs: {workers} process(es)"
        f"{'' if args.workers else ' (default_workers)'}"
    )

    timings = []
    for _ in range(args.repeat):
        seconds, events, together = run(chans, index, args.days, workers=workers)
        timings.append(seconds)
    serial, serial_events, one_by_one = run(chans, index, args.days, workers=1)
    assert together == one_by_one, "the parallel build differs from the one-by-one build"
    assert serial_events == events
    del together, one_by_one
    best, typical = min(timings), sorted(timings)[len(timings) // 2]
    cells = args.channels * 3 * args.days
    print(
        f"{args.channels} channels x 3 outputs x {args.days} days, {events} events:\n"
        f"  {workers} process(es): best {best:.2f} s, median {typical:.2f} s of {args.repeat} "
        f"({best / cells * 1000:.2f} ms per channel-output-day)\n"
        f"  one by one:  {serial:.2f} s ({serial / cells * 1000:.2f} ms per channel-output-day); "
        f"{serial / best:.2f}x; the same days"
    )
    print(f"goal <= {GOAL_S:.0f} s: {'MET' if best <= GOAL_S else 'NOT MET'} (best {best:.2f} s)")
    print(f"growth with {workers} process(es) (time per channel-output-day should stay flat):")
    for n_channels, n_days in (
        (args.channels // 4, args.days),
        (args.channels // 2, args.days),
        (args.channels, 1),
        (args.channels, max(1, args.days // 2)),
        (args.channels, args.days),
    ):
        seconds, _, _ = run(chans[:n_channels], index, n_days, workers=workers)
        print(
            f"  {n_channels:>4} channels x {n_days} days: {seconds:6.2f} s = "
            f"{seconds / (n_channels * 3 * n_days) * 1000:.2f} ms per channel-output-day"
        )


if __name__ == "__main__":
    main()
