"""The as-run rules: what aired in place of an asset that could not air, and what can be closed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rcmedia.core.asrun import LIVE_REACH, SlateRef, StoodIn, as_aired, closable, with_stand_ins
from rcmedia.core.schedule import Event, EventKind

T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
SLATE = SlateRef(id=1, title="台标 slate")


def events() -> list[Event]:
    out, start, seq = [], T0, 0
    for asset_id, seconds, kind, substitution in (
        (7, 600, EventKind.PROGRAMME, None),
        (9, 30, EventKind.FILLER, "no episode of 'x' may air on iptv here"),
        (8, 300, EventKind.PROGRAMME, None),
    ):
        count = seconds // 6
        out.append(
            Event(
                start=start,
                duration_us=seconds * 1_000_000,
                asset_id=asset_id,
                first_segment=0,
                last_segment=count - 1,
                kind=kind,
                title=f"asset {asset_id}",
                substitution=substitution,
                seq0=seq,
                disc0=len(out),
            )
        )
        start += timedelta(seconds=seconds)
        seq += count
    return out


def test_playable_events_air_as_scheduled() -> None:
    aired = as_aired(events(), unavailable={}, slate=SLATE)

    assert [(a.asset_id, a.kind, a.substitution) for a in aired] == [
        (7, EventKind.PROGRAMME, None),
        (9, EventKind.FILLER, "no episode of 'x' may air on iptv here"),
        (8, EventKind.PROGRAMME, None),
    ]
    assert [a.actual_start for a in aired] == [e.start for e in events()]


def test_an_unavailable_asset_airs_as_the_slate_for_exactly_its_time() -> None:
    aired = as_aired(events(), unavailable={8: "withdrawn", 9: "missing from storage"}, slate=SLATE)

    assert [(a.asset_id, a.kind, a.title) for a in aired] == [
        (7, EventKind.PROGRAMME, "asset 7"),
        (1, EventKind.SLATE, "台标 slate"),
        (1, EventKind.SLATE, "台标 slate"),
    ]
    assert aired[1].substitution == (
        "no episode of 'x' may air on iptv here; asset 9 missing from storage: slate aired"
    )
    assert aired[2].substitution == "asset 8 withdrawn: slate aired"
    assert [(a.actual_start, a.duration_us) for a in aired] == [(e.start, e.duration_us) for e in events()]


def test_closable_events_have_ended_and_start_at_the_mark_or_later() -> None:
    schedule = events()
    now = schedule[2].start + timedelta(seconds=1)

    assert closable(schedule, after=None, now=now) == schedule[:2]
    assert closable(schedule, after=schedule[1].start, now=now) == schedule[1:2]
    assert closable(schedule, after=None, now=schedule[2].end) == schedule


def test_segments_the_slate_stood_in_for_are_noted_on_the_airings_they_reached() -> None:
    planned = events()
    aired = as_aired(planned, unavailable={8: "withdrawn"}, slate=SLATE)
    late = planned[1].end + LIVE_REACH  # too late for the filler's viewers
    stood_in = [
        StoodIn(asset_id=7, index=3, rendition="720p", since=T0),
        StoodIn(asset_id=7, index=3, rendition="360p", since=T0 + timedelta(seconds=5)),
        StoodIn(asset_id=7, index=100, rendition="720p", since=T0),  # not in the event: 0 to 99
        StoodIn(asset_id=9, index=1, rendition="720p", since=late),  # after the filler's reach
        StoodIn(asset_id=8, index=0, rendition="720p", since=T0),  # the slate aired in its place
    ]
    noted = with_stand_ins(aired, planned, stood_in)

    assert noted[0].substitution == "segment 3 of asset 7 missing from storage: slate stood in (360p, 720p)"
    assert noted[1] == aired[1]
    assert noted[2] == aired[2]
    just_in_time = late - timedelta(microseconds=1)
    again = with_stand_ins(
        aired, planned, [StoodIn(asset_id=9, index=2, rendition="720p", since=just_in_time)]
    )
    assert again[1].substitution == (
        "no episode of 'x' may air on iptv here; "
        "segment 2 of asset 9 missing from storage: slate stood in (720p)"
    )
