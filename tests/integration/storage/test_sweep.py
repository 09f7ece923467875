"""Sweeping abandoned packages (rcmedia.storage.audit.sweep_orphans), on every backend."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

from rcmedia.core.models import AssetStatus
from rcmedia.storage.audit import sweep_orphans
from rcmedia.storage.base import Storage
from tests.integration.storage.test_contract import PACKAGE, contents, publish

STATES: dict[int, tuple[AssetStatus, str | None]] = {
    1: (AssetStatus.PUBLISHED, "assets/1/current"),
    2: (AssetStatus.PENDING, None),  # being ingested: its upload may land before the row flips
}


def states(asset_ids: Iterable[int]) -> Mapping[int, tuple[AssetStatus, str | None]]:
    return {i: STATES[i] for i in asset_ids if i in STATES}


def test_modified_is_when_the_package_was_written(any_storage: Storage) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    publish(any_storage, "assets/1/p")
    changed = any_storage.modified("assets/1/p")
    assert changed is not None
    assert before <= changed <= datetime.now(UTC) + timedelta(seconds=5)
    assert any_storage.modified("assets/1/none") is None


def test_abandoned_packages_are_deleted_after_the_grace(any_storage: Storage) -> None:
    for prefix in ("assets/1/current", "assets/1/crashed", "assets/2/uploading", "assets/9/no-row"):
        publish(any_storage, prefix)

    soon = sweep_orphans(any_storage, states, now=datetime.now(UTC), grace=timedelta(hours=1))
    assert soon == []  # a repackaging may be about to switch to it
    assert contents(any_storage, "assets/1/crashed") == PACKAGE

    later = datetime.now(UTC) + timedelta(hours=2)
    removed = sweep_orphans(any_storage, states, now=later, grace=timedelta(hours=1))

    assert sorted(removed) == ["assets/1/crashed", "assets/9"]
    assert any_storage.list_prefixes("assets") == ["assets/1", "assets/2"]
    assert any_storage.list_prefixes("assets/1") == ["assets/1/current"]
    assert contents(any_storage, "assets/1/current") == PACKAGE
    assert contents(any_storage, "assets/2/uploading") == PACKAGE
