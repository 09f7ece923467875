"""The gapless guide: filler folded into the programme before it, interludes, list mode, the window."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rcmedia.core.guide import GuideEntry, GuideKind, guide_entries
from rcmedia.core.models import Output
from rcmedia.core.schedule import Channel, Event, EventKind, GuideFiller

MINUTE = 60_000_000
T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)

CHANNEL = Channel(
    id="rcxf",
    xmltv_id="rcxf.rcmedia",
    name="蓉城先锋",
    number=1,
    timezone="Asia/Shanghai",
    outputs=(Output.IPTV,),
)
LISTING = replace(CHANNEL, guide_filler=GuideFiller.LIST, interlude_title="稍后回来")


def run(*parts: tuple[EventKind, int], start: datetime = T0) -> list[Event]:
    """Contiguous events of the given kinds and lengths (µs) from ``start``."""
    events = []
    at = start
    for number, (kind, duration) in enumerate(parts):
        events.append(
            Event(
                start=at,
                duration_us=duration,
                asset_id=number + 1,
                first_segment=0,
                last_segment=0,
                kind=kind,
                title=f"{kind.value} {number + 1}",
                series="学习时间" if kind is EventKind.PROGRAMME else None,
                episode=number + 1 if kind is EventKind.PROGRAMME else None,
            )
        )
        at = events[-1].end
    return events


P, F, ID, S = EventKind.PROGRAMME, EventKind.FILLER, EventKind.IDENT, EventKind.SLATE


def spans(entries: list[GuideEntry]) -> list[tuple[str, int, int, int]]:
    """(title, start, stop, content) in minutes from T0."""
    return [
        (
            e.title,
            int((e.start - T0).total_seconds() // 60),
            int((e.stop - T0).total_seconds() // 60),
            e.content_us // MINUTE,
        )
        for e in entries
    ]


def test_filler_idents_and_slate_fold_into_the_programme_before_them() -> None:
    events = run((P, 30 * MINUTE), (ID, MINUTE), (F, 29 * MINUTE), (P, 10 * MINUTE), (S, 5 * MINUTE))
    entries = guide_entries(CHANNEL, events)
    assert spans(entries) == [("programme 1", 0, 60, 30), ("programme 4", 60, 75, 10)]
    assert [e.kind for e in entries] == [GuideKind.PROGRAMME, GuideKind.PROGRAMME]
    assert entries[0].programme is events[0]


def test_a_stretch_with_no_programme_before_it_is_one_interlude() -> None:
    events = run((F, 20 * MINUTE), (ID, MINUTE), (S, 9 * MINUTE), (P, 30 * MINUTE))
    entries = guide_entries(CHANNEL, events)
    assert spans(entries) == [("精彩节目", 0, 30, 30), ("programme 4", 30, 60, 30)]
    assert entries[0].kind is GuideKind.INTERLUDE
    assert entries[0].programme is None


def test_only_filler_is_one_interlude() -> None:
    entries = guide_entries(CHANNEL, run((S, 7 * 60 * MINUTE), (F, 60 * MINUTE)))
    assert spans(entries) == [("精彩节目", 0, 480, 480)]


def test_list_mode_gives_each_run_of_filler_an_entry() -> None:
    events = run((F, 5 * MINUTE), (P, 30 * MINUTE), (ID, MINUTE), (F, 29 * MINUTE), (P, 10 * MINUTE))
    assert spans(guide_entries(LISTING, events)) == [
        ("稍后回来", 0, 5, 5),
        ("programme 2", 5, 35, 30),
        ("稍后回来", 35, 65, 30),
        ("programme 5", 65, 75, 10),
    ]


def test_back_to_back_programmes_keep_their_own_times() -> None:
    events = run((P, 30 * MINUTE), (P, 25 * MINUTE))
    assert spans(guide_entries(CHANNEL, events)) == [("programme 1", 0, 30, 30), ("programme 2", 30, 55, 25)]


def test_a_hole_in_the_events_is_an_interlude_not_the_programme_before() -> None:
    """A day not built between built ones: the slate loop airs there, not the programme."""
    first = run((P, 30 * MINUTE), (F, 30 * MINUTE))
    later = run((F, 10 * MINUTE), (P, 20 * MINUTE), start=T0 + timedelta(hours=2))
    assert spans(guide_entries(CHANNEL, first + later)) == [
        ("programme 1", 0, 60, 30),
        ("精彩节目", 60, 130, 70),
        ("programme 2", 130, 150, 20),
    ]


def test_a_programme_spanning_the_window_start_keeps_its_real_start() -> None:
    events = run((P, 30 * MINUTE), (F, 60 * MINUTE), (P, 30 * MINUTE))
    window = T0 + timedelta(minutes=45)
    entries = guide_entries(CHANNEL, events, start=window, end=T0 + timedelta(hours=3))
    assert spans(entries) == [("programme 1", 0, 90, 30), ("programme 3", 90, 120, 30)]


def test_entries_outside_the_window_are_left_out() -> None:
    events = run((P, 30 * MINUTE), (F, 30 * MINUTE), (P, 30 * MINUTE), (P, 30 * MINUTE))
    entries = guide_entries(CHANNEL, events, start=T0 + timedelta(minutes=60), end=T0 + timedelta(minutes=90))
    assert spans(entries) == [("programme 3", 60, 90, 30)]


def test_order_of_the_input_does_not_matter_and_empty_events_are_skipped() -> None:
    events = run((P, 30 * MINUTE), (F, 0), (F, 30 * MINUTE))
    assert guide_entries(CHANNEL, reversed(events)) == guide_entries(CHANNEL, events)
    assert guide_entries(CHANNEL, []) == []


def test_programme_starts_are_exact_to_the_microsecond() -> None:
    events = run((F, 40_000), (P, 30 * MINUTE + 40_000), (ID, 20_000_000), (P, 120_000))
    entries = guide_entries(CHANNEL, events)
    assert [e.start for e in entries] == [events[0].start, events[1].start, events[3].start]
    assert entries[-1].stop == events[-1].end


# --- the invariants, for any sequence of events ----------------------------------------------------

KINDS = st.sampled_from(list(EventKind))
DURATIONS = st.integers(min_value=1, max_value=3 * 60 * MINUTE)
PARTS = st.lists(st.tuples(KINDS, DURATIONS), min_size=1, max_size=60)


@settings(max_examples=300, deadline=None)
@given(parts=PARTS, mode=st.sampled_from(list(GuideFiller)), offset=st.integers(0, 10**9))
def test_guide_is_gapless_for_any_schedule(
    parts: list[tuple[EventKind, int]], mode: GuideFiller, offset: int
) -> None:
    events = run(*parts, start=T0 + timedelta(microseconds=offset))
    entries = guide_entries(replace(CHANNEL, guide_filler=mode), events)
    # contiguous and never overlapping, covering exactly [first start, last end)
    assert entries[0].start == events[0].start
    assert entries[-1].stop == events[-1].end
    assert all(e.start < e.stop for e in entries)
    assert all(a.stop == b.start for a, b in itertools.pairwise(entries))
    # every programme start is an entry start, of that programme's entry, with its real length
    programmes = [e for e in events if e.kind is EventKind.PROGRAMME]
    listed = [e for e in entries if e.programme is not None]
    assert [e.programme for e in listed] == programmes
    assert all(
        e.start == e.programme.start and e.content_us == e.programme.duration_us
        for e in listed
        if e.programme
    )
    # an interlude stands only where no programme is before it (fold) or for a run of filler (list)
    for before, entry in itertools.pairwise(entries):
        if entry.programme is None:
            assert mode is GuideFiller.LIST
            assert before.programme is not None
    if mode is GuideFiller.FOLD:
        assert all(e.stop == n.start for e, n in itertools.pairwise(listed))


@settings(max_examples=200, deadline=None)
@given(parts=PARTS, cut=st.floats(0, 1), length=st.floats(0, 1))
def test_a_window_keeps_the_entries_it_touches(
    parts: list[tuple[EventKind, int]], cut: float, length: float
) -> None:
    events = run(*parts)
    total = events[-1].end - T0
    start = T0 + total * cut
    end = start + total * length
    everything = guide_entries(CHANNEL, events)
    windowed = guide_entries(CHANNEL, events, start=start, end=end)
    assert windowed == [e for e in everything if e.stop > start and e.start < end]
    if windowed and start < end:
        assert windowed[0].start <= start
        assert windowed[-1].stop >= min(end, events[-1].end)


@pytest.mark.parametrize("mode", [pytest.param(m, id=m.value) for m in GuideFiller])
def test_interlude_titles_come_from_the_channel(mode: GuideFiller) -> None:
    channel = replace(CHANNEL, guide_filler=mode, interlude_title="Back soon")
    entries = guide_entries(channel, run((F, MINUTE), (P, MINUTE), (F, MINUTE)))
    assert entries[0].title == "Back soon"


@settings(max_examples=200, deadline=None)
@given(
    spans=st.lists(
        st.tuples(KINDS, st.integers(0, 10 * 60 * MINUTE), st.integers(0, 3 * 60 * MINUTE)),
        min_size=1,
        max_size=40,
    ),
    mode=st.sampled_from(list(GuideFiller)),
)
def test_any_input_gives_contiguous_entries(
    spans: list[tuple[EventKind, int, int]], mode: GuideFiller
) -> None:
    """Holes and even overlapping events (never built, but read across an edit) give no gap or overlap."""
    events = [
        Event(
            start=T0 + timedelta(microseconds=offset),
            duration_us=duration,
            asset_id=1,
            first_segment=0,
            last_segment=0,
            kind=kind,
            title="x",
        )
        for kind, offset, duration in spans
    ]
    entries = guide_entries(replace(CHANNEL, guide_filler=mode), events)
    real = [e for e in events if e.duration_us > 0]
    if not real:
        assert entries == []
        return
    assert entries[0].start == min(e.start for e in real)
    assert entries[-1].stop == max(e.end for e in real)
    assert all(e.start < e.stop for e in entries)
    assert all(a.stop == b.start for a, b in itertools.pairwise(entries))
