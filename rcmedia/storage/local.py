"""Local-disk storage: publish is a directory rename, atomic on one filesystem."""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from rcmedia.errors import StorageError, UnsafePathError
from rcmedia.storage.base import safe_key

STAGING = ".staging"


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        (self.root / STAGING).mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        path = (self.root / safe_key(key)).resolve()
        if not path.is_relative_to(self.root):  # a symlink inside the store pointing out of it
            raise UnsafePathError(key)
        return path

    def check_reachable(self) -> str | None:
        """The root exists and takes a file (a full or read-only disk fails here)."""
        fd, name = tempfile.mkstemp(prefix="ready-", dir=self.root / STAGING)
        os.close(fd)
        os.unlink(name)
        return None

    def staging_dir(self, name: str) -> Path:
        path = self.root / STAGING / safe_key(name)
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    def discard_staging(self, name: str) -> None:
        shutil.rmtree(self.root / STAGING / safe_key(name), ignore_errors=True)

    def publish(self, staging: Path, prefix: str) -> None:
        target = self._path(prefix)
        if target.exists():
            raise StorageError(f"storage prefix {prefix!r} is already taken")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            _fsync_tree(staging)
            os.rename(staging, target)  # atomic: readers see all of it or none of it
            _fsync_dir(target.parent)
        except OSError as exc:
            raise StorageError(f"cannot publish {str(staging)!r} as {prefix!r}: {exc}") from exc

    def remove(self, prefix: str) -> None:
        shutil.rmtree(self._path(prefix), ignore_errors=True)

    def list_prefixes(self, parent: str) -> list[str]:
        folder = self._path(parent)
        if not folder.is_dir():
            return []
        return sorted(
            f"{safe_key(parent)}/{child.name}" for child in folder.iterdir() if not child.name.startswith(".")
        )

    def modified(self, prefix: str) -> datetime | None:
        folder = self._path(prefix)
        paths = [folder, *folder.rglob("*")] if folder.is_dir() else [folder] if folder.is_file() else []
        times = []
        for path in paths:
            try:
                times.append(path.stat().st_mtime)
            except OSError:  # removed meanwhile
                continue
        return datetime.fromtimestamp(max(times), UTC) if times else None

    def exists(self, key: str) -> bool:
        try:
            return self._path(key).is_file()
        except UnsafePathError:
            return False

    def read_bytes(self, key: str) -> bytes:
        path = self._path(key)  # UnsafePathError is an OSError too: resolve outside the try
        try:
            return path.read_bytes()
        except OSError as exc:
            raise StorageError(f"cannot read {key!r}: {exc}") from exc

    def local_path(self, key: str) -> Path | None:
        path = self._path(key)
        return path if path.is_file() else None


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
