"""One storage contract for every backend: the ``any_storage`` fixture is parametrized by backend.

Only local disk exists today; an S3 backend (moto's server over real HTTP) joins the params here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rcmedia.storage.base import Storage
from rcmedia.storage.local import LocalStorage


@pytest.fixture(params=[pytest.param("local", id="local")])
def any_storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    """An empty store. Its neighbour ``tmp_path / "outside"`` is where traversal tests aim."""
    if request.param == "local":
        return LocalStorage(tmp_path / "store")
    raise AssertionError(f"no storage backend {request.param!r}")


@pytest.fixture
def local_storage(tmp_path: Path) -> LocalStorage:
    """Local disk only: for what only a file system has (symlinks)."""
    return LocalStorage(tmp_path / "store")
