"""``ScheduleStore.events``: the events overlapping a range, the one reaching in from before included."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from rcmedia.catalog.repository import Catalog
from rcmedia.core.models import Output
from rcmedia.core.schedule import EventKind
from rcmedia.storage.local import LocalStorage
from tests.integration.web.schedules import NOW, put_on_air


@pytest.mark.parametrize(
    "kinds", [pytest.param(None, id="all"), pytest.param([EventKind.PROGRAMME], id="kinds")]
)
def test_events_overlapping_a_range_are_every_one_and_only_those(
    any_catalog: Catalog, storage: LocalStorage, tmp_path: Path, kinds: list[EventKind] | None
) -> None:
    store = put_on_air(any_catalog, storage, tmp_path / "playlists").store
    everything = store.events("rcxf", Output.IPTV, start=NOW - timedelta(days=2), end=NOW + timedelta(days=2))
    assert len(everything) > 50
    # instants inside events (the one reaching in from before must come too) and on their starts
    instants = [e.start + timedelta(microseconds=e.duration_us // 2) for e in everything[::7]] + [
        e.start for e in everything[3::11]
    ]
    for start in instants:
        for length in (timedelta(seconds=1), timedelta(minutes=20), timedelta(hours=3)):
            expected = [
                e
                for e in everything
                if e.start < start + length and e.end > start and (kinds is None or e.kind in kinds)
            ]
            assert store.events("rcxf", Output.IPTV, start=start, end=start + length, kinds=kinds) == expected


def test_start_of_the_first_and_last_event_of_a_kind_in_a_range(
    any_catalog: Catalog, storage: LocalStorage, tmp_path: Path
) -> None:
    """What the guide reads around its window: the programme before it and the one after it."""
    store = put_on_air(any_catalog, storage, tmp_path / "playlists").store
    everything = store.events("rcxf", Output.IPTV, start=NOW - timedelta(days=2), end=NOW + timedelta(days=2))
    starts = [e.start for e in everything if e.kind is EventKind.PROGRAMME]
    for at in [e.start for e in everything[::9]] + [NOW]:
        since, before = at - timedelta(hours=6), at
        inside = [s for s in starts if since <= s < before]
        with store.reading("rcxf", Output.IPTV) as tx:
            last = tx.start_of(EventKind.PROGRAMME, since=since, before=before, last=True)
            first = tx.start_of(EventKind.PROGRAMME, since=since, before=before, last=False)
        assert last == (inside[-1] if inside else None)
        assert first == (inside[0] if inside else None)
