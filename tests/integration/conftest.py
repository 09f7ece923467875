"""Fixtures for integration tests: the real ffmpeg and an ingest context on the test's home."""

from __future__ import annotations

import pytest

from rcmedia.catalog.repository import Catalog
from rcmedia.clock import SystemClock
from rcmedia.config import Settings
from rcmedia.ingest.context import IngestContext
from rcmedia.media.ffmpeg import ffmpeg_binary
from rcmedia.profiles import load_profiles
from rcmedia.storage.local import LocalStorage


@pytest.fixture(scope="session")
def ffmpeg() -> str:
    return ffmpeg_binary()


@pytest.fixture
def ingest_ctx(settings: Settings, catalog: Catalog, storage: LocalStorage, ffmpeg: str) -> IngestContext:
    return IngestContext(
        settings=settings.replace(profile="tiny"),
        catalog=catalog,
        storage=storage,
        profiles=load_profiles(settings.profiles_dir),
        ffmpeg=ffmpeg,
        clock=SystemClock(),
    )
