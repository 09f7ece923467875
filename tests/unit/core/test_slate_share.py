"""The share of slate (and of unbuilt time) in a stretch of air time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rcmedia.core.schedule import Event, EventKind
from rcmedia.core.slate_share import slate_share

T0 = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def event(start: timedelta, length: timedelta, kind: EventKind) -> Event:
    return Event(
        start=T0 + start,
        duration_us=length // timedelta(microseconds=1),
        asset_id=1,
        first_segment=0,
        last_segment=0,
        kind=kind,
        title=kind.value,
    )


@pytest.mark.parametrize(
    ("events", "slate", "gap"),
    [
        pytest.param([], 0.0, 1.0, id="nothing-built"),
        pytest.param([event(-HOUR, 30 * HOUR, EventKind.PROGRAMME)], 0.0, 0.0, id="all-programme"),
        pytest.param(
            [event(-HOUR, 7 * HOUR, EventKind.SLATE), event(6 * HOUR, 6 * HOUR, EventKind.PROGRAMME)],
            0.25,
            0.5,
            id="slate-reaching-in-then-a-gap",
        ),
        pytest.param(
            [event(12 * HOUR, 24 * HOUR, EventKind.SLATE), event(0 * HOUR, 12 * HOUR, EventKind.FILLER)],
            0.5,
            0.0,
            id="unordered-slate-reaching-out",
        ),
        pytest.param(
            [event(0 * HOUR, 6 * HOUR, EventKind.SLATE), event(3 * HOUR, 6 * HOUR, EventKind.SLATE)],
            0.375,
            0.625,
            id="overlaps-counted-once",
        ),
    ],
)
def test_slate_and_gaps_are_shares_of_the_window(events: list[Event], slate: float, gap: float) -> None:
    share = slate_share(events, start=T0, end=T0 + 24 * HOUR)
    assert share.total_us == 24 * 3600 * 1_000_000
    assert share.slate == pytest.approx(slate)
    assert share.gap == pytest.approx(gap)
    assert share.unplanned == pytest.approx(slate + gap)


def test_an_empty_window_is_no_share() -> None:
    share = slate_share([], start=T0, end=T0)
    assert (share.slate, share.gap) == (0.0, 0.0)
