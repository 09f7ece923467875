"""slate_on_air: the share of a stretch of a live timeline that goes out as the slate."""

from __future__ import annotations

import pytest

from rcmedia.core.slate_on_air import slate_on_air
from tests.unit.core.test_timeline import SLATE, START, A, B, chain, timeline_of


def test_programmes_only_are_no_slate() -> None:
    timeline = timeline_of(chain([A, B]), A, B)

    assert slate_on_air(timeline, START, timeline.end_us) == 0.0


def test_slate_events_and_the_loop_after_the_last_event_count() -> None:
    events = chain([A, SLATE, B])
    timeline = timeline_of(events, A, B)
    slate_us = events[1].duration_us
    after_us = 10_000_000

    share = slate_on_air(timeline, START, timeline.end_us + after_us)

    assert share == pytest.approx((slate_us + after_us) / (timeline.end_us + after_us - START))


def test_an_unavailable_asset_is_slate_from_when_it_became_so() -> None:
    events = chain([A, B])
    timeline = timeline_of(events, A, B, unavailable={B.id: "withdrawn"})

    assert slate_on_air(timeline, START, timeline.end_us) == pytest.approx(
        events[1].duration_us / (timeline.end_us - START)
    )
    assert slate_on_air(timeline, START, timeline.bounds[1]) == 0.0  # A alone


def test_an_empty_stretch_is_no_slate() -> None:
    timeline = timeline_of(chain([A]), A)

    assert slate_on_air(timeline, START, START) == 0.0
