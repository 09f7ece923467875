"""Wiring from settings: the catalog (migrated), storage, profiles, ffmpeg and the clock.

Used by the entry points (the CLI, `serve`), the benchmarks and the tests, so that every one of
them runs on exactly the adapters the settings choose.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager
from typing import TYPE_CHECKING

from rcmedia.catalog.db import close_engine, make_engine, upgrade
from rcmedia.catalog.repository import Catalog
from rcmedia.clock import SystemClock
from rcmedia.config import Settings
from rcmedia.errors import ConfigError
from rcmedia.ingest.context import IngestContext
from rcmedia.media.ffmpeg import ffmpeg_binary
from rcmedia.profiles import load_profiles
from rcmedia.storage.factory import open_storage

if TYPE_CHECKING:
    from rcmedia.ingest.celery_tasks import Enqueuer


def catalog_for(settings: Settings) -> Catalog:
    """The catalog ``settings`` name, not migrated; its owner closes ``catalog.engine`` (``close_engine``)."""
    return Catalog(make_engine(settings.database_url, busy_timeout=settings.database_busy_timeout_seconds))


@contextmanager
def open_catalog(settings: Settings, *, migrate: bool = True) -> Iterator[Catalog]:
    """The catalog ``settings`` name (migrated first, unless not ``migrate``), disposed of on exit."""
    catalog = catalog_for(settings)
    try:
        if migrate:
            upgrade(catalog.engine)
        yield catalog
    finally:
        close_engine(catalog.engine)


@contextmanager
def open_context(settings: Settings) -> Iterator[IngestContext]:
    """An ingest context on ``settings``; the catalog's engine is disposed of on exit."""
    with open_catalog(settings) as catalog, ExitStack() as stack:
        enqueue: Callable[[int], None] = _polled  # in-process runners poll the catalog
        if settings.executor == "celery":
            enqueue = stack.enter_context(closing(celery_enqueuer(settings)))
        yield IngestContext(
            settings=settings,
            catalog=catalog,
            storage=open_storage(settings),
            profiles=load_profiles(settings.profiles_dir),
            ffmpeg=ffmpeg_binary(settings.ffmpeg),
            clock=SystemClock(),
            enqueue=enqueue,
        )


def _polled(_job_id: int) -> None:
    return None


def celery_enqueuer(settings: Settings) -> Enqueuer:
    """What sends jobs to the broker with ``executor = "celery"`` (celery is an optional extra)."""
    try:
        from rcmedia.ingest.celery_tasks import Enqueuer  # noqa: PLC0415 - only Celery users need it
    except ImportError as exc:
        raise ConfigError(
            f"setting 'executor' is 'celery', which needs celery: pip install 'rcmedia[celery]' ({exc})"
        ) from exc
    return Enqueuer(settings)
