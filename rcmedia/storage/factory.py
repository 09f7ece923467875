"""Choose the storage backend from the ``storage`` setting."""

from __future__ import annotations

from pathlib import Path

from rcmedia.config import Settings
from rcmedia.errors import ConfigError
from rcmedia.storage.base import Storage
from rcmedia.storage.local import LocalStorage


def open_storage(settings: Settings) -> Storage:
    if settings.storage.startswith("s3://"):
        try:
            from rcmedia.storage.s3 import S3Storage  # noqa: PLC0415 (boto3 is an extra: only S3 users need it)
        except ImportError as exc:
            raise ConfigError(
                f"storage {settings.storage!r} needs boto3: pip install 'rcmedia[s3]' ({exc})"
            ) from exc
        return S3Storage(
            settings.storage,
            staging_root=settings.work_dir / "s3-staging",
            endpoint=settings.s3_endpoint,
            region=settings.s3_region,
        )
    return LocalStorage(Path(settings.storage))
