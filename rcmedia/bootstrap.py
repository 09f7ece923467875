"""Wiring from settings: the catalog (migrated), storage, profiles, ffmpeg and the clock.

Used by the entry points (the CLI, `serve`), the benchmarks and the tests, so that every one of
them runs on exactly the adapters the settings choose.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rcmedia.catalog.db import make_engine, upgrade
from rcmedia.catalog.repository import Catalog
from rcmedia.clock import SystemClock
from rcmedia.config import Settings
from rcmedia.ingest.context import IngestContext
from rcmedia.media.ffmpeg import ffmpeg_binary
from rcmedia.profiles import load_profiles
from rcmedia.storage.factory import open_storage


@contextmanager
def open_context(settings: Settings) -> Iterator[IngestContext]:
    """An ingest context on ``settings``; the catalog's engine is disposed of on exit."""
    engine = make_engine(settings.database_url, busy_timeout=settings.database_busy_timeout_seconds)
    try:
        upgrade(engine)
        yield IngestContext(
            settings=settings,
            catalog=Catalog(engine),
            storage=open_storage(settings),
            profiles=load_profiles(settings.profiles_dir),
            ffmpeg=ffmpeg_binary(settings.ffmpeg),
            clock=SystemClock(),
        )
    finally:
        engine.dispose()
