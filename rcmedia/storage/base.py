"""The storage port: stage a package locally, publish it under a prefix in one step, read it back."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Protocol

from rcmedia.errors import UnsafePathError


def safe_key(key: str) -> str:
    """Normalise a storage key from outside; refuse anything that could leave the store.

    Refused: the store root itself, absolute paths, ``..`` parts, hidden parts (``.staging`` holds
    unfinished work), backslashes and NUL. Doubled and trailing slashes and ``.`` parts are folded.
    """
    if not key or "\\" in key or "\x00" in key or key.startswith("/"):
        raise UnsafePathError(key)
    parts = PurePosixPath(key).parts
    if not parts or any(part in ("", ".", "..") or part.startswith(".") for part in parts):
        raise UnsafePathError(key)
    return "/".join(parts)


class Storage(Protocol):
    """A store of published packages, addressed by ``/``-separated keys.

    A package is made in a local staging folder (ffmpeg writes files), then published under a
    prefix that nobody has used: the whole folder appears at once or not at all.
    """

    def staging_dir(self, name: str) -> Path:
        """A fresh, empty local folder to build a package in."""
        ...

    def discard_staging(self, name: str) -> None:
        """Remove a staging folder and whatever is in it."""
        ...

    def publish(self, staging: Path, prefix: str) -> None:
        """Make the staged files visible under ``prefix`` atomically; the staging folder is consumed."""
        ...

    def remove(self, prefix: str) -> None:
        """Delete everything under ``prefix`` (no error if it is absent)."""
        ...

    def list_prefixes(self, parent: str) -> list[str]:
        """The direct children of ``parent`` (as full keys)."""
        ...

    def exists(self, key: str) -> bool: ...

    def read_bytes(self, key: str) -> bytes: ...

    def local_path(self, key: str) -> Path | None:
        """The file behind ``key`` when it is on local disk (served with sendfile), else None."""
        ...
