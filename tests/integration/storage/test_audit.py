"""``rcmedia storage check``: packages audited against the catalog (missing, truncated, orphaned)."""

from __future__ import annotations

import json
import os
import time

import pytest
from click.testing import CliRunner

from rcmedia.catalog.repository import Catalog
from rcmedia.cli.storage import check_storage
from rcmedia.cli.storage import storage as storage_commands
from rcmedia.config import Settings
from rcmedia.storage.audit import ProblemKind
from rcmedia.storage.local import LocalStorage
from tests.integration.web.published import Published, create_pending, publish_fake_asset


def whole_ts(size_packets: int) -> bytes:
    return (bytes([0x47]) + bytes(187)) * size_packets


def publish_whole(catalog: Catalog, storage: LocalStorage, seed: int) -> Published:
    """A fake asset whose segments look like MPEG-TS (whole packets) and whose renditions have playlists."""
    published = publish_fake_asset(
        catalog, storage, seed=seed, title=f"第{seed}集", original_filename=f"{seed}.mp4"
    )
    for key in published.files:
        (storage.root / key).write_bytes(whole_ts(11))
    for rendition in {key.rsplit("/", 2)[-2] for key in published.files}:
        (storage.root / published.prefix / rendition / "index.m3u8").write_text("#EXTM3U\n")
    return published


@pytest.fixture
def damaged(catalog: Catalog, storage: LocalStorage) -> dict[str, str]:
    """Three sound packages, then: one segment deleted, one cut short, one not TS at all, and
    three folders no row refers to; a pending ingest's package is left alone."""
    first, second, _third = (publish_whole(catalog, storage, seed) for seed in (1, 2, 3))
    segments = sorted(key for key in first.files if key.endswith(".ts"))
    missing, cut, garbled = segments[0], segments[1], sorted(k for k in second.files if k.endswith(".ts"))[2]
    (storage.root / missing).unlink()
    (storage.root / cut).write_bytes(whole_ts(11)[:1000])
    (storage.root / garbled).write_bytes(b"\x00" * 188 * 3)
    stale = f"assets/{first.asset_id}/an-earlier-package"
    (storage.root / stale / "360p").mkdir(parents=True)
    (storage.root / "assets/999999/lost").mkdir(parents=True)
    (storage.root / "assets/not-an-id").mkdir(parents=True)
    pending, _job = create_pending(catalog, title="在路上", original_filename="coming.mp4")
    (storage.root / f"assets/{pending}/being-published").mkdir(parents=True)
    return {"missing": missing, "cut": cut, "garbled": garbled, "stale": stale}


def test_the_audit_finds_missing_truncated_and_orphaned_files(
    settings: Settings, damaged: dict[str, str]
) -> None:
    report = check_storage(settings)

    found = {(p.kind, p.key) for p in report.problems}
    assert found == {
        (ProblemKind.MISSING, damaged["missing"]),
        (ProblemKind.TRUNCATED, damaged["cut"]),
        (ProblemKind.TRUNCATED, damaged["garbled"]),
        (ProblemKind.ORPHANED, damaged["stale"]),
        (ProblemKind.ORPHANED, "assets/999999"),
        (ProblemKind.ORPHANED, "assets/not-an-id"),
    }
    assert report.assets == 3
    assert not report.ok
    cut = next(p for p in report.problems if p.key == damaged["cut"])
    assert "not whole 188-byte packets" in cut.detail


def test_a_sound_store_passes(settings: Settings, catalog: Catalog, storage: LocalStorage) -> None:
    for seed in (1, 2):
        publish_whole(catalog, storage, seed)
    report = check_storage(settings)
    assert report.ok, report.problems
    assert report.files == 2 * (1 + 3 * (1 + 3))  # master; per rung: its playlist and 3 segments

    result = CliRunner().invoke(storage_commands, ["check"], obj={"settings": settings})
    assert result.exit_code == 0, result.output
    assert "0 missing, 0 truncated, 0 orphaned" in result.output


def test_the_command_prints_a_table_or_json_and_fails(settings: Settings, damaged: dict[str, str]) -> None:
    runner = CliRunner()
    table = runner.invoke(storage_commands, ["check"], obj={"settings": settings})
    assert table.exit_code == 1
    assert "1 missing, 2 truncated, 3 orphaned" in table.output
    assert damaged["missing"] in table.output

    as_json = runner.invoke(storage_commands, ["check", "--json"], obj={"settings": settings})
    assert as_json.exit_code == 1
    document = json.loads(as_json.output)
    assert document["counts"] == {"missing": 1, "truncated": 2, "orphaned": 3}
    assert {p["key"] for p in document["problems"]} >= {damaged["missing"], damaged["stale"]}


def test_the_sweep_command_deletes_old_orphans_only(
    settings: Settings, catalog: Catalog, storage: LocalStorage, damaged: dict[str, str]
) -> None:
    runner = CliRunner()
    kept = runner.invoke(storage_commands, ["sweep"], obj={"settings": settings})
    assert kept.exit_code == 0, kept.output
    assert "0 orphaned package(s) deleted" in kept.output  # all just made: within the grace

    hours_ago = time.time() - 2 * 3600
    for folder in (storage.root / "assets").rglob("*"):
        os.utime(folder, (hours_ago, hours_ago))
    swept = runner.invoke(storage_commands, ["sweep", "--grace-hours", "1"], obj={"settings": settings})

    assert swept.exit_code == 0, swept.output
    assert "3 orphaned package(s) deleted" in swept.output
    assert f"deleted {damaged['stale']}" in swept.output
    report = runner.invoke(storage_commands, ["check", "--json"], obj={"settings": settings})
    assert json.loads(report.output)["counts"]["orphaned"] == 0
    assert any(p.name == "being-published" for p in (storage.root / "assets").rglob("*"))  # pending
