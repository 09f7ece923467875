"""Closing the as-run log over the real catalog and local storage (two channels on air, no media)."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from rcmedia.catalog.asrun import AsRunLog
from rcmedia.catalog.repository import Catalog
from rcmedia.core.builder import broadcast_day
from rcmedia.core.models import Output
from rcmedia.core.schedule import EventKind
from rcmedia.playout.asrun import asrun_between, close_asrun
from rcmedia.service.channels import load_channels
from rcmedia.storage.local import LocalStorage
from tests.integration.web.schedules import NOW, TODAY, YESTERDAY, OnAir, put_on_air


@pytest.fixture
def on_air(any_catalog: Catalog, storage: LocalStorage, tmp_path: Path) -> OnAir:
    return put_on_air(any_catalog, storage, tmp_path / "playlists")


@pytest.fixture
def asrun(any_catalog: Catalog) -> AsRunLog:
    return AsRunLog(any_catalog.engine)


def test_closing_records_every_event_that_ended_once(
    on_air: OnAir, asrun: AsRunLog, storage: LocalStorage
) -> None:
    recorded = close_asrun(on_air.store, asrun, storage, now=NOW)

    rcxf = next(c for c in load_channels(on_air.store) if c.id == "rcxf")
    start, _ = broadcast_day(rcxf, YESTERDAY)  # the oldest built day (within the 7 catch-up days)
    events = [e for e in on_air.store.events("rcxf", Output.TV, start=start, end=NOW) if e.end <= NOW]
    entries = asrun.entries("rcxf", Output.TV, start=start, end=NOW)
    assert [(e.actual_start, e.duration_us, e.asset_id, e.title) for e in entries] == [
        (e.start, e.duration_us, e.asset_id, e.title) for e in events
    ]
    assert asrun.closed_until("rcxf", Output.TV) == events[-1].end
    assert recorded >= len(entries) * 3  # rcxf's three outputs, and rcjy's
    assert close_asrun(on_air.store, asrun, storage, now=NOW) == 0  # nothing twice


def test_a_later_close_picks_up_from_the_mark(on_air: OnAir, asrun: AsRunLog, storage: LocalStorage) -> None:
    close_asrun(on_air.store, asrun, storage, now=NOW - timedelta(hours=3))
    close_asrun(on_air.store, asrun, storage, now=NOW)

    rcxf = next(c for c in load_channels(on_air.store) if c.id == "rcxf")
    start, _ = broadcast_day(rcxf, YESTERDAY)
    events = [e for e in on_air.store.events("rcxf", Output.IPTV, start=start, end=NOW) if e.end <= NOW]
    entries = asrun.entries("rcxf", Output.IPTV, start=start, end=NOW)
    assert [e.actual_start for e in entries] == [e.start for e in events]  # no gap, no duplicate


def test_an_asset_missing_from_storage_aired_as_the_slate(
    on_air: OnAir, asrun: AsRunLog, storage: LocalStorage, any_catalog: Catalog
) -> None:
    rcxf = next(c for c in load_channels(on_air.store) if c.id == "rcxf")
    start, _ = broadcast_day(rcxf, TODAY)
    programme = next(
        e
        for e in on_air.store.events("rcxf", Output.TV, start=start, end=NOW)
        if e.kind is EventKind.PROGRAMME
    )
    prefix = any_catalog.get_asset(programme.asset_id).storage_prefix
    assert prefix is not None
    folder = storage.local_path(f"{prefix}/master.m3u8")
    assert folder is not None
    shutil.rmtree(folder.parent)  # an operator deleted the files behind the catalog's back

    close_asrun(on_air.store, asrun, storage, now=NOW)

    entries = {e.scheduled_start: e for e in asrun.entries("rcxf", Output.TV, start=start, end=NOW)}
    substituted = entries[programme.start]
    slate = any_catalog.get_asset(substituted.asset_id)
    assert (substituted.kind, slate.metadata.series) == (EventKind.SLATE, "slate")
    assert substituted.duration_us == programme.duration_us  # the slate fills it exactly
    assert substituted.substitution == f"asset {programme.asset_id} missing from storage: slate aired"
    others = [e for e in entries.values() if e.scheduled_start != programme.start]
    assert all(e.asset_id != programme.asset_id or e.substitution for e in others)


def test_the_log_of_a_day_is_the_closed_entries_then_the_schedule_since(
    on_air: OnAir, asrun: AsRunLog, storage: LocalStorage
) -> None:
    rcxf = next(c for c in load_channels(on_air.store) if c.id == "rcxf")
    start, end = broadcast_day(rcxf, TODAY)
    events = on_air.store.events("rcxf", Output.MOBILE, start=start, end=end)
    before = asrun_between(asrun, storage, rcxf, Output.MOBILE, events, start=start, end=end, now=NOW)

    close_asrun(on_air.store, asrun, storage, now=NOW - timedelta(hours=2))
    after = asrun_between(asrun, storage, rcxf, Output.MOBILE, events, start=start, end=end, now=NOW)

    assert asrun.entries("rcxf", Output.MOBILE, start=start, end=end)  # some of the day is closed
    assert after == before
    assert [e.scheduled_start for e in after] == [
        e.start for e in events if e.start < NOW and e.start >= start
    ]
