"""The tus staging folder shared by several processes: locks, sweeps, and ids that are never paths."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path

import pytest

from rcmedia.errors import NotFoundError, UploadLockedError
from rcmedia.ingest.uploads import UploadStaging

NOW = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)
EXPIRY = timedelta(hours=1)


def hold_lock(root: str, upload_id: str, pipe: Connection) -> None:
    """In another process (a `serve --workers` worker): hold the upload until told to let go."""
    staging = UploadStaging(Path(root), expiry=EXPIRY)
    with staging.locked(upload_id, now=NOW):
        pipe.send("holding")
        pipe.recv()


@pytest.fixture
def staging(tmp_path: Path) -> UploadStaging:
    return UploadStaging(tmp_path / "uploads", expiry=EXPIRY)


def test_an_upload_held_by_another_process_is_locked_and_not_swept(staging: UploadStaging) -> None:
    upload = staging.create(length=10, metadata={"filename": "a.mp4"}, owner="editor", now=NOW)
    ours, theirs = multiprocessing.get_context("spawn").Pipe()
    process = multiprocessing.get_context("spawn").Process(
        target=hold_lock, args=(str(staging.root), upload.id, theirs)
    )
    process.start()
    try:
        assert ours.poll(30)
        assert ours.recv() == "holding"
        with pytest.raises(UploadLockedError), staging.locked(upload.id, now=NOW):
            pass
        assert staging.sweep(now=NOW + 2 * EXPIRY) == []  # being written: left for the next sweep
    finally:
        ours.send("done")
        process.join(30)
    with staging.locked(upload.id, now=NOW) as current:  # let go: ours now
        assert current.offset == 0
    assert staging.sweep(now=NOW + 2 * EXPIRY) == [upload.id]
    assert list(staging.root.iterdir()) == []


@pytest.mark.parametrize("upload_id", ["../outside", "../" + "o" * 21, "a" * 23, "a/" + "b" * 22, ""])
def test_ids_that_are_not_ours_are_never_paths(staging: UploadStaging, upload_id: str) -> None:
    # what a traversal would reach: an upload's files just outside the staging folder
    outside = staging.create(length=1, metadata={"filename": "x.mp4"}, owner="editor", now=NOW)
    name = upload_id.rsplit("/", 1)[-1] or "x"
    targets = [staging.root.parent / f"{name}{ext}" for ext in (".json", ".part")]
    for ext, target in zip((".json", ".part"), targets, strict=True):
        (staging.root / f"{outside.id}{ext}").rename(target)
    with pytest.raises(NotFoundError):
        staging.get(upload_id, now=NOW)
    with pytest.raises(NotFoundError):
        staging.delete(upload_id, now=NOW)
    assert all(target.exists() for target in targets)  # nothing outside was touched


def test_ids_are_random_and_url_safe(staging: UploadStaging) -> None:
    ids = {staging.create(length=1, metadata={}, owner="e", now=NOW).id for _ in range(20)}
    assert len(ids) == 20
    assert all(len(i) == 24 and i.replace("-", "").replace("_", "").isalnum() for i in ids)
