"""Hypothesis with a fake clock: a day of live reloads over built schedules, edited and withdrawn on the way.

A viewer reloads the live playlist of two rungs at random instants over 24 hours (seconds to minutes
apart, sometimes exactly at a segment boundary). Meanwhile operators edit the schedule outside the
freeze horizon (``apply_edit`` at the sweep's ``now``, the following days re-chained) and assets
become unavailable; each time the timeline is rebuilt from the new events, as the server does. The
viewer remembers every sequence number it was shown and checks every reload against all of them.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from rcmedia.core.builder import BuildInput, DaySchedule, build_days
from rcmedia.core.edits import Edit, EditKind, apply_edit
from rcmedia.core.live_playlist import render_live
from rcmedia.core.models import Output
from rcmedia.core.rotation import AssetIndex
from rcmedia.core.schedule import US, Counters, Grid, Pool, ScheduleAsset
from rcmedia.core.segment_table import SegmentTable
from rcmedia.core.timeline import (
    LiveWindow,
    SegmentRef,
    Timeline,
    at_us,
    build_timeline,
    live_window,
    range_segments,
    us_of,
)
from rcmedia.errors import ScheduleError
from tests.unit.core.test_builder import DAYS, asset, catalogs, channel, grids
from tests.unit.core.test_live_playlist import parse_playlist
from tests.unit.core.test_timeline import SLATE

TARGET = 6
FREEZE = timedelta(seconds=120)
DAY_US = 86_400 * US
RUNGS = ("720p", "360p")


def uri_of(rung: str) -> Callable[[SegmentRef], str]:
    def uri(segment: SegmentRef) -> str:
        shift = f"?shift={segment.shift_us}" if segment.shift_us else ""
        return f"/media/{segment.asset_id}/{rung}/{segment.index}.ts{shift}"

    return uri


@dataclass
class Viewer:
    """A player reloading the live playlist: remembers what each sequence number named."""

    seen: dict[int, tuple[str, int, int]] = field(default_factory=dict)  # seq → (URI, ms, disc)
    last: LiveWindow | None = None
    reloads: int = 0

    def reload(self, timeline: Timeline, now: int) -> LiveWindow:
        window = live_window(timeline, now, target_duration_s=TARGET)
        segments = window.segments
        texts = [render_live(window, target_duration=TARGET, uri=uri_of(rung)) for rung in RUNGS]
        assert texts[0].replace("/720p/", "/360p/") == texts[1], "all rungs list the same segments"
        listed = parse_playlist(texts[0]).segments
        assert [(p.seq, p.disc, p.duration_ms * 1000) for p in listed] == [
            (s.seq, s.disc, s.duration_us) for s in segments
        ], "a player numbers the segments as the timeline does"
        # the window: completed segments only, never shorter than 6 segments or 3 × target duration
        assert all(s.end_us <= now for s in segments)
        assert len(segments) >= 6
        assert sum(s.duration_us for s in segments) >= 3 * TARGET * US
        assert all((p.duration_ms + 500) // 1000 <= TARGET for p in listed), "EXTINF ≤ target duration"
        # the live edge: the segment on air completes next, within 1.5 × target duration
        assert now < window.next_change_us <= segments[-1].end_us + 3 * TARGET * US // 2
        for p in listed:
            first_seen = self.seen.setdefault(p.seq, (p.uri, p.duration_ms, p.disc))
            assert first_seen == (p.uri, p.duration_ms, p.disc), f"sequence number {p.seq} changed"
        if self.last is not None:
            self._slid(timeline, self.last, window, now)
        self.last = window
        self.reloads += 1
        return window

    @staticmethod
    def _slid(timeline: Timeline, before: LiveWindow, after: LiveWindow, now: int) -> None:
        """Counters only rise, by exactly what left the window."""
        rise = after.media_sequence - before.media_sequence
        assert rise >= 0
        left = range_segments(timeline, before.segments[0].start_us, after.segments[0].start_us, now_us=now)
        assert rise == len(left)
        old = {s.seq for s in before.segments}
        gone = old - {s.seq for s in after.segments}
        assert gone == set(range(before.media_sequence, before.media_sequence + min(rise, len(old))))
        crossed = [*left[1:], after.segments[0]] if left else []
        assert after.discontinuity_sequence - before.discontinuity_sequence == sum(
            s.discontinuity for s in crossed
        ), "the discontinuity sequence rises by the splices that left"


def with_house_slate(catalog: list[ScheduleAsset]) -> list[ScheduleAsset]:
    return [SLATE if a.id == SLATE.id else a for a in catalog]


def edited_days(
    spec: BuildInput, days: list[DaySchedule], now: datetime, rng: random.Random
) -> list[DaySchedule] | None:
    """A random operator edit outside the freeze horizon, and the later days re-chained; None if refused."""
    horizon = now + FREEZE
    open_days = [k for k, d in enumerate(days) if d.end > horizon]
    if not open_days:
        return None
    k = rng.choice(open_days)
    day = days[k]
    later = [e for e in day.events if e.start >= horizon]
    kind = rng.choice([EditKind.REPLACE, EditKind.INSERT, EditKind.DELETE, EditKind.MOVE])
    if kind is not EditKind.INSERT and not later:
        return None
    first = max(horizon, day.start)
    to = first + timedelta(seconds=rng.randrange(max(1, int((day.end - first).total_seconds()))))
    straddling = [e for e in day.events if e.start <= horizon < e.end]
    risky = bool(straddling) and rng.random() < 0.5
    if risky:  # the riskiest edit: a short item inserted into what is on air at the horizon
        room = int((straddling[0].end - horizon).total_seconds())
        kind, to = EditKind.INSERT, horizon + timedelta(seconds=rng.randrange(1, max(2, room)))
    to -= timedelta(microseconds=to.microsecond)  # whole seconds, as operators give: whole frames
    assets = sorted(
        (a for a in spec.index.by_id.values() if a.id != SLATE.id and a.allowed(spec.output, to)),
        key=lambda a: a.duration_us,
    )
    if not assets:
        return None
    media = rng.choice(assets[:5] if risky else assets)
    edit = Edit(
        kind=kind,
        event_start=rng.choice(later).start if kind is not EditKind.INSERT else None,
        asset_id=media.id if kind in (EditKind.REPLACE, EditKind.INSERT) else None,
        to=to if kind in (EditKind.INSERT, EditKind.MOVE) else None,
    )
    day_spec = dataclasses.replace(
        spec,
        locked=[e for e in day.events if e.locked],
        counters=Counters(seq=day.events[0].seq0, disc=day.events[0].disc0),
    )
    try:
        changed = [*days[:k], apply_edit(day_spec, day, edit, now=now, freeze=FREEZE)]
    except ScheduleError:
        return None
    for following in days[k + 1 :]:
        rechained = dataclasses.replace(
            spec, counters=changed[-1].end_counters, locked=[e for e in following.events if e.locked]
        )
        changed += build_days(rechained, following.day, 1)
    return changed


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    catalog=catalogs(),
    grid=grids(),
    day=DAYS,
    output=st.sampled_from(list(Output)),
    built=st.integers(1, 2),
    seed=st.integers(0, 2**32),
)
def test_property_a_day_of_reloads_never_moves_a_number(
    catalog: list[ScheduleAsset], grid: Grid, day: date, output: Output, built: int, seed: int
) -> None:
    rng = random.Random(seed)  # the sweep's clock and the operators' whims
    index = AssetIndex(with_house_slate(catalog))
    spec = BuildInput(channel=channel(grid), output=output, index=index)
    days = build_days(spec, day, built)
    table = SegmentTable.of_assets(index.by_id.values())
    unavailable: dict[int, str] = {}
    since: dict[int, datetime] = {}

    def timeline_now() -> Timeline:
        events = [e for d in days for e in d.events]
        return build_timeline(
            events, segments=table, slate=SLATE, unavailable=unavailable, unavailable_since=since
        )

    timeline = timeline_now()
    viewer = Viewer()
    edits = 0
    now = timeline.start_us + rng.randrange(600, 86_400) * US + rng.randrange(US)
    stop = now + DAY_US
    while now < stop:
        window = viewer.reload(timeline, now)
        for segment in window.segments:
            if segment.stands_in_for is not None:
                assert segment.start_us >= us_of(since[segment.stands_in_for])
            elif segment.asset_id in unavailable:
                assert segment.start_us < us_of(since[segment.asset_id]), "only what players may have seen"
        if rng.random() < 1 / 120:
            for _ in range(3):  # most random edits are refused (a fixed slot, rights): try a few
                changed = edited_days(spec, days, at_us(now), rng)
                if changed is not None:
                    days, edits = changed, edits + 1
                    timeline = timeline_now()
                    break
        if rng.random() < 1 / 250:
            later = [e for d in days for e in d.events if us_of(e.end) > now and e.asset_id != SLATE.id]
            if later:
                asset_id = rng.choice(later).asset_id
                unavailable.setdefault(asset_id, rng.choice(["withdrawn", "missing from storage"]))
                since.setdefault(asset_id, at_us(now))
                timeline = timeline_now()
        if rng.random() < 1 / 200:
            fresh = build_timeline(
                timeline.events,
                segments=SegmentTable.of_assets(index.by_id.values()),
                slate=SLATE,
                unavailable=unavailable,
                unavailable_since=since,
            )
            assert live_window(fresh, now, target_duration_s=TARGET) == window, "the same in every process"
        if rng.random() < 0.1:
            now = window.next_change_us  # exactly when the playlist changes
        else:
            now += (rng.randint(1, 20) if rng.random() < 0.7 else rng.randint(21, 600)) * US + rng.randrange(
                US
            )
    assert viewer.reloads > 100
    event(f"edits applied: {min(edits, 3)}{'+' if edits > 3 else ''}")
    event(f"assets made unavailable: {len(unavailable)}")
    event(f"swept into the slate loop: {now > timeline.end_us}")


@settings(max_examples=10, deadline=None)
@given(epoch=st.integers(0, 4_000_000_000).map(lambda s: s * US), seed=st.integers(0, 2**32))
def test_property_a_channel_without_events_loops_the_slate(epoch: int, seed: int) -> None:
    rng = random.Random(seed)
    timeline = build_timeline([], segments={}, slate=SLATE, epoch=at_us(epoch))
    viewer = Viewer()
    now = epoch + rng.randrange(60, 3600) * US
    for _ in range(300):
        window = viewer.reload(timeline, now)
        assert {s.asset_id for s in window.segments} == {SLATE.id}
        assert window.discontinuity_sequence == 0
        assert window.media_sequence == (now - epoch) // (6 * US) - 10
        now += rng.randint(1, 600) * US


def test_an_insert_inside_the_event_on_air_keeps_what_aired() -> None:
    fillers = [asset(100 + n, "宣传片", None, 25 * 300 + n * 7, categories=("宣传片",)) for n in range(6)]
    index = AssetIndex([SLATE, asset(50, "特别节目", 1, 25 * 60), *fillers])
    spec = BuildInput(
        channel=channel(Grid(filler=Pool(categories=("宣传片",)))), output=Output.IPTV, index=index
    )
    (day,) = build_days(spec, date(2026, 11, 27))
    on_air = day.events[20]  # a 5-minute filler
    now = us_of(on_air.start) + 30 * US
    viewer = Viewer()
    for t in range(now - 120 * US, now, 2 * US):
        viewer.reload(
            build_timeline(day.events, segments=SegmentTable.of_assets(index.by_id.values()), slate=SLATE), t
        )
    inside = Edit(kind=EditKind.INSERT, to=at_us(now) + FREEZE + timedelta(seconds=5), asset_id=50)
    with pytest.raises(ScheduleError, match=r"falls inside .* before the freeze horizon"):
        apply_edit(spec, day, inside, now=at_us(now), freeze=FREEZE)  # it would renumber what aired
    insert = Edit(kind=EditKind.INSERT, to=on_air.end, asset_id=50)
    edited = apply_edit(spec, day, insert, now=at_us(now), freeze=FREEZE)
    assert any(e.asset_id == 50 and e.start == on_air.end for e in edited.events)
    timeline = build_timeline(
        edited.events, segments=SegmentTable.of_assets(index.by_id.values()), slate=SLATE
    )
    for t in range(now, now + 600 * US, 2 * US):
        viewer.reload(timeline, t)
