"""Pool rotation: the cursor's read-ahead window picks what the plain rule picks."""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime, timedelta
from unittest.mock import patch

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rcmedia.core import rotation
from rcmedia.core.models import Output, Rights, Source
from rcmedia.core.rotation import EVERYWHERE, AssetIndex, Memory, PoolCursor, RightsLog
from rcmedia.core.schedule import Pool, ScheduleAsset

T0 = datetime(2026, 11, 27, 22, 0, tzinfo=UTC)
FRAME = 40_000


class PlainCursor:
    """The rotation rule written as plainly as possible: a scan from the start of the pool.

    The first never-aired asset (pool order) that fits and may air, looking at no more than
    ``rotation.SCAN_LIMIT`` never-aired ones; an asset with no rights at all on the output is not
    looked at again. Then the aired ones, oldest airing first, outside the no-repeat window.
    """

    def __init__(self, assets: tuple[ScheduleAsset, ...], memory: Memory, output: Output) -> None:
        self.assets, self.memory, self.output = assets, memory, output
        self.used = {a.id for a in assets if a.id in memory.last_aired}
        aired = sorted(self.used, key=lambda i: (memory.last_aired[i], i))
        by_id = {a.id: a for a in assets}
        self.recent = deque(by_id[i] for i in aired)
        self.asked: list[tuple[ScheduleAsset, datetime]] = []
        self.refused = 0

    def _allows(self, asset: ScheduleAsset, when: datetime) -> bool:
        self.asked.append((asset, when))
        if asset.allowed(self.output, when):
            return True
        self.refused += 1
        return False

    def take(self, when: datetime, room_us: int, no_repeat_hours: float) -> ScheduleAsset | None:
        if not self.assets or room_us < min(a.duration_us for a in self.assets):
            return None
        scanned = 0
        for asset in self.assets:
            if asset.id in self.used:
                continue
            scanned += 1
            if scanned > rotation.SCAN_LIMIT:
                return None
            if asset.duration_us <= room_us:
                if self._allows(asset, when):
                    self.used.add(asset.id)
                    self.recent.append(asset)
                    return asset
                if all(r.output is not self.output for r in asset.rights):
                    self.used.add(asset.id)
        for position, asset in enumerate(self.recent):
            scanned += 1
            if scanned > rotation.SCAN_LIMIT:
                return None
            last = self.memory.last_aired.get(asset.id)
            recently = (
                last is not None and no_repeat_hours > 0 and when - last < timedelta(hours=no_repeat_hours)
            )
            if asset.duration_us <= room_us and not recently and self._allows(asset, when):
                del self.recent[position]
                self.recent.append(asset)
                return asset
        return None


@st.composite
def rights(draw: st.DrawFn) -> tuple[Rights, ...]:
    kind = draw(st.sampled_from(["all", "all", "all", "some", "window", "none", "none"]))
    if kind == "all":
        return tuple(Rights(output=o) for o in Output)
    if kind == "none":
        return ()
    outputs = draw(st.sets(st.sampled_from(list(Output)), min_size=1))
    if kind == "some":
        return tuple(Rights(output=o) for o in sorted(outputs))
    start = T0 + timedelta(hours=draw(st.integers(-24, 48)))
    return tuple(Rights(output=o, start=start, end=start + timedelta(hours=12)) for o in sorted(outputs))


@st.composite
def pools(draw: st.DrawFn) -> list[ScheduleAsset]:
    count = draw(st.integers(0, 90))
    return [
        ScheduleAsset(
            id=10 + n,
            title=f"宣传片 {n}",
            series="宣传片",
            episode=None,
            source=Source.OWN,
            categories=("宣传片",),
            segment_us=(draw(st.integers(1, 30)) * 25 * FRAME,),
            rights=draw(rights()),
        )
        for n in range(count)
    ]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    scan_limit=st.sampled_from([1, 3, 8, 64]),
    read_ahead=st.sampled_from([1, 2, 5, 256]),
    assets=pools(),
    output=st.sampled_from(list(Output)),
    aired=st.sets(st.integers(0, 200), max_size=40),
    steps=st.lists(st.tuples(st.integers(0, 40), st.integers(0, 120), st.booleans()), max_size=100),
    no_repeat_hours=st.sampled_from([0.0, 2.0, 30.0]),
)
def test_property_the_cursor_picks_what_the_plain_rule_picks(
    scan_limit: int,
    read_ahead: int,
    assets: list[ScheduleAsset],
    output: Output,
    aired: set[int],
    steps: list[tuple[int, int, bool]],
    no_repeat_hours: float,
) -> None:
    # small limits and read-ahead chunks, so that small pools go through every case
    with patch.object(rotation, "SCAN_LIMIT", scan_limit), patch.object(rotation, "READ_AHEAD", read_ahead):
        check_against_plain_rule(assets, output, aired, steps, no_repeat_hours)


def check_against_plain_rule(
    assets: list[ScheduleAsset],
    output: Output,
    aired: set[int],
    steps: list[tuple[int, int, bool]],
    no_repeat_hours: float,
) -> None:
    index = AssetIndex(assets)
    pool = Pool(categories=("宣传片",))
    history = {10 + n: T0 - timedelta(minutes=n) for n in sorted(aired) if n < len(assets)}
    memory, plain_memory = Memory(last_aired=dict(history)), Memory(last_aired=dict(history))
    log = RightsLog(output)
    cursor = PoolCursor(index, pool, memory, log)
    plain = PlainCursor(index.pool(pool), plain_memory, output)
    when = T0
    for seconds, minutes, airs in steps:
        when += timedelta(minutes=minutes)
        room = seconds * 1_000_000
        got = cursor.take(when=when, room_us=room, no_repeat_hours=no_repeat_hours)
        expected = plain.take(when, room, no_repeat_hours)
        assert got == expected
        if got is not None and airs:  # what the builder does with a pick: it airs
            memory.last_aired[got.id] = plain_memory.last_aired[got.id] = when
    assert log.refused == plain.refused
    # the cursor keeps only the questions whose answer could differ between outputs
    assert log.asked == [(a, w) for a, w in plain.asked if a.always_on != EVERYWHERE]
