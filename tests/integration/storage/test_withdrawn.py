"""Withdrawn assets' packages deleted after the grace (rcmedia.service.withdrawn), on local disk
and S3, with the catalog on SQLite and PostgreSQL; and through ``rcmedia storage sweep``."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

from click.testing import CliRunner

from rcmedia.catalog.repository import Catalog
from rcmedia.cli.storage import storage as storage_commands
from rcmedia.config import Settings
from rcmedia.core.audit import AuditAction, asset_target
from rcmedia.core.models import AssetStatus
from rcmedia.service.withdrawn import delete_withdrawn_packages
from rcmedia.storage.audit import ProblemKind, audit_packages
from rcmedia.storage.base import Storage
from tests.integration.web.published import NOW, publish_fake_asset

GRACE = timedelta(days=30)


def test_a_withdrawn_package_is_deleted_after_the_grace_once(
    any_catalog: Catalog, any_storage: Storage
) -> None:
    withdrawn = publish_fake_asset(any_catalog, any_storage, seed=1)  # type: ignore[arg-type]
    recent = publish_fake_asset(any_catalog, any_storage, seed=2)  # type: ignore[arg-type]
    playing = publish_fake_asset(any_catalog, any_storage, seed=3)  # type: ignore[arg-type]
    any_catalog.withdraw(withdrawn.asset_id, now=NOW, actor="editor")
    any_catalog.withdraw(recent.asset_id, now=NOW + timedelta(days=20), actor="editor")

    early = delete_withdrawn_packages(
        any_catalog, any_storage, now=NOW + GRACE - timedelta(seconds=1), grace=GRACE
    )
    assert early == []
    assert all(any_storage.exists(key) for key in withdrawn.files)

    later = NOW + GRACE + timedelta(hours=1)
    deleted = delete_withdrawn_packages(any_catalog, any_storage, now=later, grace=GRACE)

    assert [(p.asset_id, p.storage_prefix) for p in deleted] == [(withdrawn.asset_id, withdrawn.prefix)]
    assert not any(any_storage.exists(key) for key in withdrawn.files)
    assert not any_storage.exists(f"{withdrawn.prefix}/master.m3u8")
    for kept in (recent, playing):  # within its grace; published
        assert all(any_storage.read_bytes(key) == data for key, data in kept.files.items())
    asset = any_catalog.get_asset(withdrawn.asset_id)
    assert (asset.status, asset.storage_prefix) == (AssetStatus.WITHDRAWN, None)
    entries = [e for e in any_catalog.audit.entries() if e.action == AuditAction.ASSET_PACKAGE_DELETE]
    assert [(e.target, e.before, e.at) for e in entries] == [
        (asset_target(withdrawn.asset_id), {"storage_prefix": withdrawn.prefix}, later)
    ]
    # idempotent: nothing more to do, nothing more recorded
    assert delete_withdrawn_packages(any_catalog, any_storage, now=later, grace=GRACE) == []
    assert len([e for e in any_catalog.audit.entries() if e.action == AuditAction.ASSET_PACKAGE_DELETE]) == 1


def test_a_package_deleted_behind_the_catalogs_back_is_still_recorded(
    any_catalog: Catalog, any_storage: Storage
) -> None:
    """A crash after the delete, before the record (or an operator's hand): the next sweep records it."""
    gone = publish_fake_asset(any_catalog, any_storage, seed=4)  # type: ignore[arg-type]
    any_catalog.withdraw(gone.asset_id, now=NOW)
    any_storage.remove(gone.prefix)

    deleted = delete_withdrawn_packages(any_catalog, any_storage, now=NOW + GRACE, grace=GRACE)

    assert [p.asset_id for p in deleted] == [gone.asset_id]
    assert any_catalog.get_asset(gone.asset_id).storage_prefix is None


def test_the_audit_sees_no_orphan_after_the_sweep(any_catalog: Catalog, any_storage: Storage) -> None:
    published = publish_fake_asset(any_catalog, any_storage, seed=5)  # type: ignore[arg-type]
    any_catalog.withdraw(published.asset_id, now=NOW)
    delete_withdrawn_packages(any_catalog, any_storage, now=NOW + GRACE, grace=GRACE)

    def states(ids: Any) -> dict[int, tuple[AssetStatus, str | None]]:
        return {i: (a.status, a.storage_prefix) for i in ids if (a := any_catalog.get_asset(i))}

    report = audit_packages(any_storage, [], states)
    assert report.count(ProblemKind.ORPHANED) == 0, report.problems


def test_the_sweep_command_deletes_withdrawn_packages_past_the_setting(
    settings: Settings, catalog: Catalog, storage: Storage
) -> None:
    published = publish_fake_asset(catalog, storage, seed=6)  # type: ignore[arg-type]
    catalog.withdraw(published.asset_id, now=NOW)  # NOW is long ago: past a 30-day grace
    runner = CliRunner()
    patient = dataclasses.replace(settings, withdrawn_grace_days=100_000.0)

    kept = runner.invoke(storage_commands, ["sweep"], obj={"settings": patient})
    assert kept.exit_code == 0, kept.output
    assert "0 withdrawn package(s) deleted" in kept.output
    assert all(storage.exists(key) for key in published.files)

    swept = runner.invoke(storage_commands, ["sweep"], obj={"settings": settings})
    assert swept.exit_code == 0, swept.output
    assert f"deleted {published.prefix} (asset {published.asset_id}, withdrawn)" in swept.output
    assert "1 withdrawn package(s) deleted" in swept.output
    assert not any(storage.exists(key) for key in published.files)
