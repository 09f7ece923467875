"""Choose the storage backend from the ``storage`` setting."""

from __future__ import annotations

from pathlib import Path

from rcmedia.config import Settings
from rcmedia.errors import ConfigError
from rcmedia.storage.base import Storage
from rcmedia.storage.local import LocalStorage


def open_storage(settings: Settings) -> Storage:
    if settings.storage.startswith("s3://"):
        raise ConfigError(
            f"storage {settings.storage!r}: the S3 backend is not available yet; use a local folder"
        )
    return LocalStorage(Path(settings.storage))
