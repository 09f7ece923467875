"""Rebuilding a day and copying its locks, on SQLite and PostgreSQL: versions checked, locks kept,
a refused copy stores nothing, and the day versions the schedule events poll."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from rcmedia.catalog.repository import AssetQuery, Catalog
from rcmedia.catalog.schedules import ScheduleStore
from rcmedia.core.edits import Edit, EditKind
from rcmedia.core.models import Output
from rcmedia.core.schedule import Event
from rcmedia.errors import ConflictError, ScheduleError
from rcmedia.service.channels import find_channel
from rcmedia.service.day_actions import CopyRefused, copy_locks, rebuild_day
from rcmedia.service.schedules import day_listing, edit_schedule
from rcmedia.storage.local import LocalStorage
from tests.integration.web.schedules import NOW, TODAY, TOMORROW, YESTERDAY, put_on_air

IPTV = Output.IPTV


@pytest.fixture
def store(any_catalog: Catalog, storage: LocalStorage, tmp_path: Path) -> ScheduleStore:
    return put_on_air(any_catalog, storage, tmp_path / "playlists").store


def events_of(store: ScheduleStore, day: date) -> tuple[Event, ...]:
    return day_listing(store, find_channel(store, "rcxf").channel, IPTV, day).events


def pin_promo(store: ScheduleStore, catalog: Catalog, day: date) -> int:
    """The 19:00 programme of ``day`` replaced by 宣传片 A (locked); the day's version after."""
    (promo,) = catalog.find_assets(AssetQuery(text="宣传片 A")).items
    start = next(e for e in events_of(store, day) if e.slot_id == "xxsj-1900").start
    edited = edit_schedule(
        store,
        "rcxf",
        IPTV,
        Edit(kind=EditKind.REPLACE, event_start=start, asset_id=promo.id),
        day=day,
        now=NOW,
    )
    assert edited.version is not None
    return edited.version


def test_a_rebuild_keeps_locks_and_checks_the_version(store: ScheduleStore, any_catalog: Catalog) -> None:
    version = pin_promo(store, any_catalog, TOMORROW)
    locked = [e for e in events_of(store, TOMORROW) if e.locked]
    with pytest.raises(ConflictError):
        rebuild_day(store, "rcxf", IPTV, day=TOMORROW, now=NOW, expected_version=version - 1)
    rebuilt = rebuild_day(store, "rcxf", IPTV, day=TOMORROW, now=NOW, expected_version=version)
    assert [e for e in rebuilt.events if e.locked] == locked
    assert rebuilt.events == events_of(store, TOMORROW)


def test_a_day_before_the_horizon_is_not_rebuilt(store: ScheduleStore) -> None:
    before = store.built_days("rcxf", IPTV)
    with pytest.raises(ScheduleError, match="freeze horizon"):
        rebuild_day(store, "rcxf", IPTV, day=YESTERDAY, now=NOW)
    assert store.built_days("rcxf", IPTV) == before


def test_a_copy_refused_on_one_target_stores_nothing(store: ScheduleStore, any_catalog: Catalog) -> None:
    pin_promo(store, any_catalog, TODAY)
    before = {day: events_of(store, day) for day in (YESTERDAY, TOMORROW)}
    versions = store.built_days("rcxf", IPTV)
    with pytest.raises(CopyRefused) as refused:
        copy_locks(
            store,
            "rcxf",
            IPTV,
            day=TODAY,
            targets=[TOMORROW, YESTERDAY, TOMORROW + timedelta(days=5)],
            now=NOW,
        )
    assert [(r.day, r.start is None) for r in refused.value.refusals] == [
        (YESTERDAY, False),
        (TOMORROW + timedelta(days=5), True),
    ]
    assert store.built_days("rcxf", IPTV) == versions
    assert {day: events_of(store, day) for day in (YESTERDAY, TOMORROW)} == before


def test_a_copy_pins_the_same_local_time(store: ScheduleStore, any_catalog: Catalog) -> None:
    version = pin_promo(store, any_catalog, TODAY)
    copied = copy_locks(store, "rcxf", IPTV, day=TODAY, targets=[TOMORROW], now=NOW, expected_version=version)
    (pinned,) = [e for e in events_of(store, TOMORROW) if e.locked]
    (source,) = [e for e in events_of(store, TODAY) if e.locked]
    assert pinned.start - source.start == timedelta(days=1)
    assert pinned.asset_id == source.asset_id
    assert copied.versions == {TOMORROW: store.built_days("rcxf", IPTV)[TOMORROW]}


def test_day_versions_cover_every_channel_output_from_a_date(store: ScheduleStore) -> None:
    versions = store.day_versions(since=TODAY)
    assert versions[("rcxf", IPTV, TOMORROW)] == store.built_days("rcxf", IPTV)[TOMORROW]
    assert ("rcjy", Output.MOBILE, TODAY) in versions
    assert all(day >= TODAY for _, _, day in versions)


def test_a_copy_answers_the_source_day_as_stored(store: ScheduleStore, any_catalog: Catalog) -> None:
    # a target before the source day re-chains it: the answer's version and events go together
    version = pin_promo(store, any_catalog, TOMORROW)
    copied = copy_locks(store, "rcxf", IPTV, day=TOMORROW, targets=[TODAY], now=NOW, expected_version=version)
    stored = day_listing(store, find_channel(store, "rcxf").channel, IPTV, TOMORROW)
    assert (copied.source.version, copied.source.events) == (stored.version, stored.events)
