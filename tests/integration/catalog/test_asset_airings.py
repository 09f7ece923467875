"""An asset's airings (scheduled and as aired) and the storage problems, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from rcmedia.catalog.repository import Catalog
from rcmedia.core.asrun import AsRunEntry, StoodIn
from rcmedia.core.models import Output
from rcmedia.core.schedule import EventKind
from rcmedia.storage.local import LocalStorage
from tests.integration.web.schedules import NOW, put_on_air


def test_the_scheduled_airings_of_an_asset_are_its_events_on_every_output(
    any_catalog: Catalog, storage: LocalStorage, tmp_path: Path
) -> None:
    store = put_on_air(any_catalog, storage, tmp_path / "playlists").store
    since, until = NOW, NOW + timedelta(days=1)
    outputs = [("rcxf", o) for o in (Output.TV, Output.IPTV, Output.MOBILE)]
    outputs += [("rcjy", o) for o in (Output.IPTV, Output.MOBILE)]
    expected = [
        (channel_id, output, event.start, event.end)
        for channel_id, output in outputs
        for event in store.events(channel_id, output, start=since, end=until)
        if event.asset_id == 2
    ]
    assert expected, "asset 2 (学习时间 第1集) is scheduled in the next day"
    airings = store.airings_of(2, since=since, until=until)
    assert sorted((a.channel_id, a.output, a.start, a.end) for a in airings) == sorted(expected)
    assert [a.start for a in airings] == sorted(a.start for a in airings)
    assert all(a.title == "学习时间 第1集" and a.kind is EventKind.PROGRAMME for a in airings)
    assert store.airings_of(2, since=until + timedelta(days=30), until=until + timedelta(days=31)) == []
    assert store.airings_of(999, since=since, until=until) == []


def test_the_past_airings_of_an_asset_come_from_the_as_run_log_newest_first(
    any_catalog: Catalog, storage: LocalStorage, tmp_path: Path
) -> None:
    put_on_air(any_catalog, storage, tmp_path / "playlists")
    log = any_catalog.asrun
    start = NOW - timedelta(hours=3)

    def entry(at: timedelta, asset_id: int, substitution: str | None = None) -> AsRunEntry:
        return AsRunEntry(
            scheduled_start=start + at,
            actual_start=start + at,
            duration_us=600_000_000,
            asset_id=asset_id,
            title=f"asset {asset_id}",
            kind=EventKind.PROGRAMME,
            substitution=substitution,
        )

    log.close(
        "rcxf", Output.IPTV, [entry(timedelta(0), 2), entry(timedelta(minutes=10), 3)], until=NOW, now=NOW
    )
    log.close("rcjy", Output.MOBILE, [entry(timedelta(hours=1), 2, "late")], until=NOW, now=NOW)
    aired = log.airings_of(2, since=NOW - timedelta(days=1), until=NOW)
    assert [(a.channel_id, a.output, a.start, a.substitution) for a in aired] == [
        ("rcjy", Output.MOBILE, start + timedelta(hours=1), "late"),
        ("rcxf", Output.IPTV, start, None),
    ]
    assert aired[1].end == start + timedelta(minutes=10)
    assert log.airings_of(2, since=NOW - timedelta(days=1), until=start) == []


def test_recent_stand_ins_are_the_newest_missing_segments_and_their_count(
    any_catalog: Catalog, storage: LocalStorage, tmp_path: Path
) -> None:
    log = any_catalog.asrun
    assert log.recent_stand_ins(limit=5) == ([], 0)
    for index in range(4):
        stood_in = StoodIn(asset_id=7, index=index, rendition="360p", since=NOW + timedelta(seconds=index))
        assert log.record_stand_in(f"assets/7/360p/{index}.ts", stood_in)
    shown, total = log.recent_stand_ins(limit=3)
    assert total == 4
    assert [s.index for s in shown] == [3, 2, 1]
    assert shown[0] == StoodIn(asset_id=7, index=3, rendition="360p", since=NOW + timedelta(seconds=3))
