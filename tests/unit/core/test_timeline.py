"""The playout timeline: numbering, the live window, replays, slate stand-ins and the slate loop."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from rcmedia.core.plan import plan_slate
from rcmedia.core.schedule import US, Event, EventKind, ScheduleAsset
from rcmedia.core.segment_table import SegmentTable
from rcmedia.core.timeline import (
    EXHAUSTED,
    SegmentRef,
    Timeline,
    at_us,
    build_timeline,
    event_at,
    events_as_aired,
    live_window,
    range_segments,
    replay_bounds,
    snap_range,
    snap_to_event,
    us_of,
)
from rcmedia.errors import ScheduleError
from tests.unit.core.test_builder import FRAME, SEGMENT, asset
from tests.unit.factories import default_profile

# plan_slate for the shipped profile: 4 giant steps (5 … 20 frames) and 4 strides (2 … 5 s), then
# the loop of 48 s (8 segments of 6 s: whole AAC frames), then 25 seconds (1.00 … 1.96 s) and 4
# baby steps
LOOP_START = 8
LOOP = 8
TARGET = 6


def house_slate(asset_id: int = 1) -> ScheduleAsset:
    """The house slate exactly as plan_slate cuts it for the shipped profile."""
    frames = plan_slate(default_profile(), title="台标卡").segment_frames
    assert frames is not None
    slate = asset(asset_id, "slate", None, 0)
    return dataclasses.replace(slate, title="台标卡", segment_us=tuple(f * FRAME for f in frames))


SLATE = house_slate()
SLATE_OFFSETS = [sum(SLATE.segment_us[:k]) for k in range(len(SLATE.segment_us) + 1)]
T0 = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)
START = us_of(T0)


def chain(
    items: Sequence[tuple[ScheduleAsset, int, int] | ScheduleAsset],
    *,
    start: datetime = T0,
    seq0: int = 0,
    disc0: int = 0,
) -> list[Event]:
    """Contiguous events with chained counters; an item is an asset (whole) or (asset, first, last)."""
    events = []
    for item in items:
        media, first, last = item if isinstance(item, tuple) else (item, 0, len(item.segment_us) - 1)
        event = Event(
            start=start,
            duration_us=sum(media.segment_us[first : last + 1]),
            asset_id=media.id,
            first_segment=first,
            last_segment=last,
            kind=EventKind.SLATE if media.id == SLATE.id else EventKind.PROGRAMME,
            title=media.title,
            seq0=seq0,
            disc0=disc0,
        )
        events.append(event)
        start, seq0, disc0 = event.end, seq0 + event.segment_count, disc0 + 1
    return events


def timeline_of(events: Sequence[Event], *assets: ScheduleAsset, **options: object) -> Timeline:
    return build_timeline(events, segments=SegmentTable.of_assets([SLATE, *assets]), slate=SLATE, **options)  # type: ignore[arg-type]


def everything(timeline: Timeline, until_us: int) -> tuple[SegmentRef, ...]:
    return range_segments(timeline, timeline.start_us, until_us, now_us=until_us)


# 62 s: ten 6 s segments and a 2 s last one; 25 s; 140 s (more than a slate loop)
A = asset(10, "党建视讯", 1, 25 * 62)
B = asset(11, "宣传片", 1, 25 * 25)
C = asset(12, "峥嵘岁月", 1, 25 * 140)


def test_segments_carry_the_stored_counters_and_their_air_times() -> None:
    events = chain([A, B, (C, 2, 5)], seq0=500, disc0=40)
    segments = everything(timeline_of(events, A, B, C), us_of(events[-1].end))
    expected = []
    for event, media in zip(events, (A, B, C), strict=True):
        at = us_of(event.start)
        for k, index in enumerate(range(event.first_segment, event.last_segment + 1)):
            duration = media.segment_us[index]
            expected.append((event.seq0 + k, event.disc0, at, duration, media.id, index, k == 0))
            at += duration
    got = [(s.seq, s.disc, s.start_us, s.duration_us, s.asset_id, s.index, s.discontinuity) for s in segments]
    assert got == expected
    assert all(s.shift_us == 0 and s.stands_in_for is None for s in segments)
    assert segments[-1].end_us == us_of(events[-1].end)


def test_the_channels_first_segment_follows_no_splice() -> None:
    segments = everything(timeline_of(chain([A, B]), A, B), START + 80 * US)
    assert [s.discontinuity for s in segments if s.index == 0] == [False, True]
    assert {s.disc for s in segments} == {0, 1}


def test_live_window_lists_the_last_completed_segments() -> None:
    events = chain([A, B, A, B, A], seq0=1000, disc0=7)
    timeline = timeline_of(events, A, B)
    now = START + 150 * US + 1  # inside the 3rd event (A from 87 s), its segment 10 (147 s–149 s) done
    window = live_window(timeline, now, target_duration_s=TARGET)
    assert len(window.segments) == 10
    assert all(s.end_us <= now for s in window.segments)
    assert window.segments[-1].end_us == START + 149 * US
    assert window.next_change_us == START + 155 * US, "B's first segment completes next"
    assert window.media_sequence == window.segments[0].seq
    assert window.discontinuity_sequence == window.segments[0].disc
    assert [s.seq for s in window.segments] == list(range(window.media_sequence, window.media_sequence + 10))
    # exactly at a boundary the segment that just ended is in
    at_boundary = live_window(timeline, START + 155 * US, target_duration_s=TARGET)
    assert at_boundary.segments[-1].end_us == START + 155 * US
    assert at_boundary.media_sequence == window.media_sequence + 1


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        pytest.param(3, 6, id="never-fewer-than-6"),
        pytest.param(10, 10, id="default"),
        pytest.param(15, 15, id="longer-if-asked"),
    ],
)
def test_live_window_size(window: int, expected: int) -> None:
    timeline = timeline_of(chain([C, C]), C)
    got = live_window(timeline, START + 200 * US, target_duration_s=TARGET, window=window)
    assert len(got.segments) == expected


def test_short_segments_make_the_window_longer_to_span_three_target_durations() -> None:
    # twenty baby slate pieces of 5 frames (0.2 s) each, as the builder uses to reach a slot
    baby = SLATE.segment_us.index(5 * FRAME)
    events = chain([A] + [(SLATE, baby, baby)] * 20)
    now = us_of(events[-1].end)
    window = live_window(timeline_of(events, A), now, target_duration_s=TARGET)
    span = sum(s.duration_us for s in window.segments)
    assert span >= 3 * TARGET * US
    assert len(window.segments) > 10
    shorter = window.segments[1:]
    assert sum(s.duration_us for s in shorter) < 3 * TARGET * US, "no longer than needed"


def test_window_near_the_timelines_start_lists_what_exists_and_refuses_before() -> None:
    timeline = timeline_of(chain([A], seq0=70, disc0=3), A)
    window = live_window(timeline, START + 20 * US, target_duration_s=TARGET)
    assert [s.seq for s in window.segments] == [70, 71, 72]
    with pytest.raises(ScheduleError, match="no segment of this timeline has completed"):
        live_window(timeline, START + 5 * US, target_duration_s=TARGET)
    with pytest.raises(ScheduleError, match="before this timeline starts"):
        live_window(timeline, START - 1, target_duration_s=TARGET)
    with pytest.raises(ScheduleError, match="before this timeline starts"):
        range_segments(timeline, START - US, START + 60 * US, now_us=START + 60 * US)
    with pytest.raises(ScheduleError, match="before this timeline starts"):
        event_at(timeline, START - 1)


def test_an_unavailable_asset_is_replaced_one_segment_for_one_by_the_slate_loop() -> None:
    events = chain([A, C, B], seq0=10, disc0=2)
    end = us_of(events[-1].end)
    plain = everything(timeline_of(events, A, B, C), end)
    replaced = everything(timeline_of(events, A, B, C, unavailable={C.id: "withdrawn"}), end)
    numbers = [(s.seq, s.disc, s.start_us, s.duration_us, s.discontinuity, s.event_start_us) for s in plain]
    again = [(s.seq, s.disc, s.start_us, s.duration_us, s.discontinuity, s.event_start_us) for s in replaced]
    assert again == numbers, "the numbering and the air times are the stored ones"
    stand_ins = [s for s in replaced if s.stands_in_for is not None]
    assert len(stand_ins) == len(C.segment_us) == 24
    assert {s.stands_in_for for s in stand_ins} == {C.id}
    assert {s.asset_id for s in stand_ins} == {SLATE.id}
    loop_us = LOOP * SEGMENT
    for k, segment in enumerate(stand_ins[:-1]):
        # the loop from its real start, each pass one loop later: C's first segment plays the
        # loop's first exactly where it lies in the slate (a splice comes before it)
        assert (segment.index, segment.shift_us) == (LOOP_START + k % LOOP, (k // LOOP) * loop_us)
    # the last one (2 s: 50 frames) gets the longest piece that fits: the 2 s stride, exactly its
    # length (before issue 10's layout, the 39-frame giant); its EXTINF stays 2 s
    last = stand_ins[-1]
    piece = SLATE.segment_us.index(50 * FRAME)
    assert (last.index, last.duration_us) == (piece, 50 * FRAME)
    assert last.shift_us + SLATE_OFFSETS[piece] == SLATE_OFFSETS[LOOP_START] + 23 * SEGMENT, (
        "it plays where the event's segment 23 would, in the stream the loop began"
    )
    assert all(s.asset_id != SLATE.id for s in replaced if s.stands_in_for is None)


def test_unavailable_from_an_instant_keeps_what_players_may_have_seen() -> None:
    events = chain([A, C, B])
    since = us_of(events[1].start) + 30 * US  # C's 6th segment on
    timeline = timeline_of(
        events, A, B, C, unavailable={C.id: "missing from storage"}, unavailable_since={C.id: at_us(since)}
    )
    segments = [
        s for s in everything(timeline, us_of(events[-1].end)) if s.event_start_us == us_of(events[1].start)
    ]
    assert [s.asset_id for s in segments] == [C.id] * 5 + [SLATE.id] * 19
    first_stand_in = segments[5]
    # the stand-in continues C's own timestamps: C's segment 5 would start 30 s into C
    assert first_stand_in.shift_us + SLATE_OFFSETS[first_stand_in.index] == 30 * US
    aired = events_as_aired(timeline, START, us_of(events[-1].end))
    assert [reason for _, reason in aired] == [
        None,
        f"asset {C.id} missing from storage: slate aired from {at_us(since):%Y-%m-%d %H:%M:%S} UTC",
        None,
    ]


def test_as_aired_names_whole_substitutions_and_the_slate_loop() -> None:
    events = chain([A, B, A], disc0=9, seq0=90)
    timeline = timeline_of(events, A, B, unavailable={B.id})
    end = us_of(events[-1].end)
    aired = events_as_aired(timeline, START + 70 * US, end + 61 * US)
    assert [(e.asset_id, reason) for e, reason in aired] == [
        (B.id, f"asset {B.id} unavailable: slate aired"),
        (A.id, None),
        (SLATE.id, EXHAUSTED),
    ]
    loop = aired[-1][0]
    assert (loop.start, loop.duration_us, loop.kind) == (events[-1].end, 11 * SEGMENT, EventKind.SLATE)
    assert (loop.seq0, loop.disc0) == (events[-1].seq0 + events[-1].segment_count, 12)


def test_an_asset_without_durations_still_keeps_the_numbering() -> None:
    events = chain([A, B, A])
    timeline = build_timeline(events, segments=SegmentTable.of_assets([SLATE, A]), slate=SLATE)
    segments = everything(timeline, us_of(events[-1].end))
    middle = [s for s in segments if s.event_start_us == us_of(events[1].start)]
    assert [s.duration_us for s in middle] == list(B.segment_us), (
        "6 s segments and the rest, as assets are cut"
    )
    assert {(s.asset_id, s.stands_in_for) for s in middle} == {(SLATE.id, B.id)}
    assert [s.seq for s in segments] == list(range(len(segments)))
    aired = events_as_aired(timeline, START, us_of(events[-1].end))
    assert aired[1][1] == f"asset {B.id} has no segment durations: slate aired"


def test_the_slate_is_never_replaced() -> None:
    events = chain([A, (SLATE, 0, 2)])
    timeline = timeline_of(events, A, unavailable={SLATE.id, A.id})
    segments = everything(timeline, us_of(events[-1].end))
    assert [(s.asset_id, s.index, s.stands_in_for) for s in segments[-3:]] == [
        (SLATE.id, i, None) for i in range(3)
    ]


def test_after_the_last_event_the_slate_loop_plays_and_the_counters_continue() -> None:
    events = chain([A, B], seq0=300, disc0=20)
    end = us_of(events[-1].end)
    timeline = timeline_of(events, A, B)
    tail = range_segments(timeline, end, end + 25 * LOOP * SEGMENT, now_us=end + 25 * LOOP * SEGMENT)
    assert len(tail) == 25 * LOOP
    assert [s.seq for s in tail] == list(range(300 + 11 + 5, 300 + 11 + 5 + 25 * LOOP))
    assert {s.disc for s in tail} == {22}
    assert [s.discontinuity for s in tail] == [True] + [False] * (25 * LOOP - 1), "one splice into the loop"
    assert all(s.start_us == end + n * SEGMENT for n, s in enumerate(tail))
    assert [(s.index, s.shift_us) for s in tail[:2]] == [(LOOP_START, 0), (LOOP_START + 1, 0)]
    assert [(s.index, s.shift_us) for s in tail[LOOP - 2 : LOOP + 2]] == [
        (LOOP_START + LOOP - 2, 0),
        (LOOP_START + LOOP - 1, 0),
        (LOOP_START, LOOP * SEGMENT),
        (LOOP_START + 1, LOOP * SEGMENT),
    ], "continuous: each pass of the loop plays one loop later"
    window = live_window(timeline, end + 3600 * US, target_duration_s=TARGET)
    assert len(window.segments) == 10
    assert window.discontinuity_sequence == 22
    on_air = event_at(timeline, end + 3600 * US)
    assert (on_air.start, on_air.asset_id, on_air.substitution) == (events[-1].end, SLATE.id, EXHAUSTED)


def test_a_channel_without_events_plays_the_loop_from_its_epoch() -> None:
    timeline = build_timeline([], segments={}, slate=SLATE, epoch=T0)
    window = live_window(timeline, START + 61 * US, target_duration_s=TARGET)
    assert [s.seq for s in window.segments] == list(range(10))
    assert (window.media_sequence, window.discontinuity_sequence) == (0, 0)
    assert not any(s.discontinuity for s in window.segments), "nothing came before: no splice"
    later = live_window(timeline, START + 86_400 * US, target_duration_s=TARGET)
    assert later.media_sequence == 86_400 // 6 - 10
    with pytest.raises(ScheduleError, match="needs its epoch"):
        build_timeline([], segments={}, slate=SLATE)


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        pytest.param(
            lambda e: dataclasses.replace(e, start=e.start + timedelta(seconds=1)), "does not start", id="gap"
        ),
        pytest.param(lambda e: dataclasses.replace(e, seq0=e.seq0 + 1), "counters", id="seq0"),
        pytest.param(lambda e: dataclasses.replace(e, disc0=e.disc0 + 2), "counters", id="disc0"),
    ],
)
def test_events_that_do_not_chain_are_refused(mutate: object, reason: str) -> None:
    events = chain([A, B, A])
    events[1] = mutate(events[1])  # type: ignore[operator]
    with pytest.raises(ScheduleError, match=reason):
        timeline_of(events, A, B)


def test_range_segments_are_whole_segments_that_have_completed() -> None:
    events = chain([A, B])
    timeline = timeline_of(events, A, B)
    segments = range_segments(timeline, START + 7 * US, START + 13 * US, now_us=START + 3600 * US)
    assert [(s.start_us - START, s.duration_us) for s in segments] == [(6 * US, SEGMENT), (12 * US, SEGMENT)]
    # start-over: up to now, only what has completed
    started = range_segments(timeline, START, START + 20 * US, now_us=START + 20 * US)
    assert started[-1].end_us == START + 18 * US
    assert range_segments(timeline, START + 10 * US, START + 10 * US, now_us=START + 60 * US) == ()


@pytest.mark.parametrize("step_us", [pytest.param(US, id="seconds"), pytest.param(1_234_567, id="odd")])
def test_replay_bounds_are_those_of_the_segments_a_range_lists(step_us: int) -> None:
    events = chain([A, B, (C, 2, 5)])
    timeline = timeline_of(events, A, B, C)
    end = us_of(events[-1].end) + 3 * LOOP * SEGMENT  # on into the slate loop after the schedule
    now = end + 3600 * US
    for start in range(START, end, 7 * step_us):
        for length in (1, step_us, 13 * step_us, 200 * step_us):
            listed = range_segments(timeline, start, start + length, now_us=now)
            assert replay_bounds(timeline, start, start + length) == (listed[0].start_us, listed[-1].end_us)
    with pytest.raises(ValueError, match="empty"):
        replay_bounds(timeline, START + US, START + US)


def test_event_at_finds_the_programme_on_air() -> None:
    events = chain([A, B, A])
    timeline = timeline_of(events, A, B)
    assert event_at(timeline, START) == events[0]
    assert event_at(timeline, us_of(events[1].start) - 1) == events[0]
    assert event_at(timeline, us_of(events[1].start)) == events[1]
    assert event_at(timeline, us_of(events[2].end) - 1) == events[2]


def test_segment_tables_are_shared_between_timelines() -> None:
    table = SegmentTable.of_assets([SLATE, A, B])
    first = build_timeline(chain([A, B, A]), segments=table, slate=SLATE)
    second = build_timeline(chain([B, A], seq0=5, disc0=1), segments=table, slate=SLATE)
    assert first.offsets[0] is first.offsets[2] is second.offsets[1]


def test_instants_convert_exactly() -> None:
    moment = datetime(2026, 11, 27, 1, 2, 3, 40_000, tzinfo=UTC)
    assert at_us(us_of(moment)) == moment
    assert us_of(moment) == 1_795_741_323_040_000
    with pytest.raises(ScheduleError, match="no time zone"):
        us_of(datetime(2026, 11, 27))  # noqa: DTZ001


@pytest.mark.parametrize(
    ("offset_us", "within_us", "snapped_offset_us"),
    [
        pytest.param(0, 1_000_000, 0, id="on-the-boundary"),
        pytest.param(-40_000, 1_000_000, 0, id="guide-truncated-start"),
        pytest.param(960_000, 1_000_000, 0, id="just-within-after"),
        pytest.param(-1_000_001, 1_000_000, -1_000_001, id="too-far-before"),
        pytest.param(2_500_000, 1_000_000, 2_500_000, id="mid-segment"),
        pytest.param(-40_000, 0, -40_000, id="no-tolerance"),
    ],
)
def test_a_time_within_a_second_of_an_event_boundary_snaps_to_it(
    offset_us: int, within_us: int, snapped_offset_us: int
) -> None:
    # 62 s of A (its last segment 2 s), then B: the boundary is at 62 s
    timeline = timeline_of(chain([A, B]), A, B)
    boundary = START + 62 * US
    assert snap_to_event(timeline, boundary + offset_us, within_us) == boundary + snapped_offset_us


def test_snapping_reaches_the_schedules_end_and_its_start() -> None:
    timeline = timeline_of(chain([A, B]), A, B)
    assert snap_to_event(timeline, START - 300_000) == START
    assert snap_to_event(timeline, timeline.end_us + 700_000) == timeline.end_us


def test_a_range_that_snapping_would_empty_stays_as_asked() -> None:
    """utc one second before a boundary with duration=1: both ends are within a second of it."""
    timeline = timeline_of(chain([A, B]), A, B)
    boundary = START + 62 * US
    asked = (boundary - 400_000, boundary + 600_000)
    assert snap_range(timeline, *asked) == asked
    assert snap_range(timeline, boundary - 400_000, boundary + 5 * US) == (boundary, boundary + 5 * US)
