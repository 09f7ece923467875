"""One storage contract for every backend: the ``any_storage`` fixture is parametrized by backend:
local disk, and S3 through moto's server over real HTTP (tests/s3_server.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rcmedia.storage.base import Storage
from rcmedia.storage.local import LocalStorage
from tests.s3_server import S3Server


@pytest.fixture(params=[pytest.param("local", id="local"), pytest.param("s3", id="s3")])
def any_storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    """An empty store. Its neighbour ``tmp_path / "outside"`` is where traversal tests aim."""
    if request.param == "local":
        return LocalStorage(tmp_path / "store")
    if request.param == "s3":
        from rcmedia.storage.s3 import S3Storage

        server: S3Server = request.getfixturevalue("s3_server")
        return S3Storage(server.new_bucket(), staging_root=tmp_path / "staging", endpoint=server.endpoint)
    raise AssertionError(f"no storage backend {request.param!r}")


@pytest.fixture
def local_storage(tmp_path: Path) -> LocalStorage:
    """Local disk only: for what only a file system has (symlinks)."""
    return LocalStorage(tmp_path / "store")
