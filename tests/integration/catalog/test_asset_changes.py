"""Editors' changes to assets: metadata, rights, withdrawal; each moves the EPG's change fingerprint."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rcmedia.catalog.repository import Catalog
from rcmedia.catalog.schedules import ScheduleStore
from rcmedia.core.changes import MetadataChange
from rcmedia.core.models import AssetMetadata, AssetStatus, Output, Rights
from rcmedia.errors import AssetStateError, NotFoundError

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)


def published(catalog: Catalog, title: str = "第1课") -> int:
    asset_id, job_id = catalog.create_ingest(
        AssetMetadata(title=title, series="党建基础", episode=1, categories=("党建",)),
        original_filename=f"{title}.mxf",
        source_path=f"/srv/ingest/{title}.mxf",
        profile="default",
        max_attempts=3,
        now=NOW,
    )
    job = catalog.claim_job(worker="w", lease_seconds=30, now=NOW, job_id=job_id)
    assert job is not None
    catalog.publish(
        job_id=job_id,
        worker="w",
        storage_prefix=f"assets/{asset_id}/x",
        duration=6.0,
        segment_type="mpegts",
        target_duration=6,
        renditions=[],
        now=NOW,
    )
    return asset_id


def test_a_metadata_change_touches_only_the_fields_named(any_catalog: Catalog) -> None:
    asset_id = published(any_catalog)
    store = ScheduleStore(any_catalog.engine)
    before = store.change_fingerprint()

    changed = any_catalog.update_metadata(
        asset_id, MetadataChange(title="第1课（修订）", episode=None, categories=("党建", "理论")), now=LATER
    )

    assert (changed.metadata.title, changed.metadata.episode, changed.metadata.categories) == (
        "第1课（修订）",
        None,
        ("党建", "理论"),
    )
    assert changed.metadata.series == "党建基础"
    assert any_catalog.get_asset(asset_id) == changed
    assert store.change_fingerprint() != before


def test_rights_are_replaced_whole(any_catalog: Catalog) -> None:
    asset_id = published(any_catalog)
    window = Rights(output=Output.TV, start=NOW, end=NOW + timedelta(days=30))

    changed = any_catalog.set_rights(asset_id, [window, Rights(output=Output.MOBILE)], now=LATER)

    assert changed.metadata.rights == (window, Rights(output=Output.MOBILE))
    assert any_catalog.get_asset(asset_id).metadata.rights == changed.metadata.rights
    assert any_catalog.set_rights(asset_id, [], now=LATER).metadata.rights == ()


def test_every_change_moves_the_fingerprint_even_with_a_clock_behind(any_catalog: Catalog) -> None:
    asset_id = published(any_catalog)
    published(any_catalog, "第2课")
    store = ScheduleStore(any_catalog.engine)
    seen = {store.change_fingerprint()}
    earlier = NOW - timedelta(days=1)  # this machine's clock is behind the one that published

    any_catalog.set_rights(asset_id, [Rights(output=Output.TV)], now=earlier)
    seen.add(store.change_fingerprint())
    any_catalog.update_metadata(asset_id, MetadataChange(title="新标题"), now=earlier)
    seen.add(store.change_fingerprint())
    any_catalog.withdraw(asset_id, now=earlier)
    seen.add(store.change_fingerprint())

    assert len(seen) == 4


def test_withdrawal(any_catalog: Catalog) -> None:
    asset_id = published(any_catalog)
    store = ScheduleStore(any_catalog.engine)
    assert asset_id in {a.id for a in store.schedule_assets()}

    withdrawn = any_catalog.withdraw(asset_id, now=LATER)

    assert withdrawn.status is AssetStatus.WITHDRAWN
    assert asset_id not in {a.id for a in store.schedule_assets()}
    assert any_catalog.withdraw(asset_id, now=LATER) == withdrawn  # again: nothing changes


def test_only_published_assets_can_be_withdrawn(any_catalog: Catalog) -> None:
    pending, _job = any_catalog.create_ingest(
        AssetMetadata(title="还在转码"),
        original_filename="p.mxf",
        source_path="/srv/ingest/p.mxf",
        profile="default",
        max_attempts=3,
        now=NOW,
    )
    with pytest.raises(AssetStateError, match="is pending"):
        any_catalog.withdraw(pending, now=LATER)
    assert any_catalog.get_asset(pending).status is AssetStatus.PENDING


def test_unknown_assets(any_catalog: Catalog) -> None:
    with pytest.raises(NotFoundError):
        any_catalog.update_metadata(999, MetadataChange(title="x"), now=NOW)
    with pytest.raises(NotFoundError):
        any_catalog.set_rights(999, [], now=NOW)
    with pytest.raises(NotFoundError):
        any_catalog.withdraw(999, now=NOW)
