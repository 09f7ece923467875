"""The storage port: stage a package locally, publish it under a prefix in one step, read it back."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Protocol, runtime_checkable

from rcmedia.errors import UnsafePathError

# Bounds on a key from outside, far above what ingest writes (``assets/12/<uuid>/720p/seg_00001.ts``)
# and below what a file system takes (PATH_MAX 4096, NAME_MAX 255 bytes on Linux): a longer key can
# name nothing, and refusing it here keeps the OS from failing with ENAMETOOLONG. In UTF-8 bytes,
# as file systems count them (a Chinese character is three).
MAX_KEY_BYTES = 1024
MAX_KEY_PARTS = 32
MAX_PART_BYTES = 255


def safe_key(key: str) -> str:
    """Normalise a storage key from outside; refuse anything that could leave the store.

    Refused: the store root itself, absolute paths, ``..`` parts, hidden parts (``.staging`` holds
    unfinished work), backslashes and NUL, and keys longer or deeper than any stored file's
    (:data:`MAX_KEY_BYTES`, :data:`MAX_KEY_PARTS`, :data:`MAX_PART_BYTES`). Doubled and trailing
    slashes and ``.`` parts are folded.
    """
    if not key or "\\" in key or "\x00" in key or key.startswith("/"):
        raise UnsafePathError(key)
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise UnsafePathError(key, f"is longer than {MAX_KEY_BYTES} bytes: no stored file has such a key")
    parts = PurePosixPath(key).parts
    if not parts or any(part in ("", ".", "..") or part.startswith(".") for part in parts):
        raise UnsafePathError(key)
    if len(parts) > MAX_KEY_PARTS:
        raise UnsafePathError(key, f"has more than {MAX_KEY_PARTS} parts: no stored file is that deep")
    if any(len(part.encode("utf-8", "surrogatepass")) > MAX_PART_BYTES for part in parts):
        raise UnsafePathError(key, f"has a part longer than {MAX_PART_BYTES} bytes")
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

    def modified(self, prefix: str) -> datetime | None:
        """When a file under ``prefix`` last changed (UTC); None when nothing is there."""
        ...

    def exists(self, key: str) -> bool: ...

    def read_bytes(self, key: str) -> bytes: ...

    def local_path(self, key: str) -> Path | None:
        """The file behind ``key`` when it is on local disk (served with sendfile), else None."""
        ...


@runtime_checkable
class PresignedMedia(Protocol):
    """A store whose files a client can fetch itself from a signed URL (S3)."""

    def presigned_url(self, key: str, expires_seconds: int) -> str: ...


@runtime_checkable
class Reachable(Protocol):
    """A storage that can tell whether it is usable now (``GET /readyz``): local disk checks that
    its root takes a file; an object store would ask for its bucket (S3 ``HeadBucket``)."""

    def check_reachable(self) -> str | None:
        """None (or a detail) when usable; raises ``OSError`` or ``RcmediaError`` saying why not."""
        ...


@runtime_checkable
class ObjectFiles(Protocol):
    """A store that takes and gives back single files (S3): how a source reaches a remote worker."""

    def put_file(self, path: Path, key: str) -> None:
        """Upload the local file ``path`` as ``key`` (multipart when large)."""
        ...

    def fetch_file(self, key: str, target: Path) -> None:
        """Download ``key`` into the local file ``target``; ``NotFoundError`` when absent."""
        ...


@runtime_checkable
class BucketCors(Protocol):
    """A store browsers fetch media from directly (S3 with ``s3_media = "redirect"``): its CORS
    rules must let the player's page read it (``rcmedia storage cors``)."""

    def cors_allows(self, origin: str) -> bool: ...

    def allow_cors(self, origin: str) -> None: ...


@runtime_checkable
class UnfinishedUploads(Protocol):
    """A store where a killed upload leaves invisible parts behind (S3 multipart uploads)."""

    def abort_stale_uploads(self, parent: str, *, before: datetime) -> list[str]: ...
