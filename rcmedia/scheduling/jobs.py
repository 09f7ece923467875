"""The recurring jobs (APScheduler 3), owned by `serve` or by a dedicated `rcmedia scheduler`.

* ``epg-daily-build`` (persistent, in the catalog database): every day, build the EPG of every
  channel ``schedule_days`` ahead. Its job row survives restarts, so it is neither lost nor
  duplicated; a run missed while nothing was running happens once at start-up (coalesced).
* ``epg-watch`` (at start-up, then every minute): build at start-up, and when channels are applied
  or assets are published, withdrawn or changed, rebuild from now on (the freeze horizon keeps
  what players may have seen).
* ``asrun-close`` (every minute): record the events that finished airing in the as-run log, with
  the slate substitutions of assets that could not air (rcmedia.playout.asrun).
* ``ingest-resend`` (every minute, ``executor = "celery"`` only): re-send queued jobs whose
  broker message may be lost (rcmedia.ingest.runner.lost_jobs).
* ``hot-folder``: scan the ingest hot folder (only where ingest runs).

Both EPG builds run in a child process (:class:`BuildProcess`), so that the origin's event loop
never waits for one, and stopping the jobs (``stop_jobs``) stops a build in progress.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from multiprocessing.process import BaseProcess
from weakref import WeakKeyDictionary

from apscheduler.jobstores.base import ConflictingIdError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from rcmedia.bootstrap import catalog_for
from rcmedia.catalog.db import close_engine, close_on_return
from rcmedia.catalog.repository import Catalog
from rcmedia.clock import SystemClock
from rcmedia.config import Settings
from rcmedia.errors import BrokerError
from rcmedia.ingest.hotfolder import HotFolder
from rcmedia.ingest.runner import JobRunner
from rcmedia.logs import configure_logging
from rcmedia.playout.asrun import close_asrun
from rcmedia.service.schedules import build_all
from rcmedia.storage.factory import open_storage

log = logging.getLogger(__name__)

DAILY_BUILD = "epg-daily-build"
PERSISTENT = "persistent"
BUILD_STOP_S = 10.0  # how long a stopping build process gets before it is killed


class BuildFailedError(RuntimeError):
    """The EPG build process failed; its own error is in the log."""


class BuildProcess:
    """EPG builds, each in a process of its own, one at a time.

    A week of every channel is seconds to minutes of Python: in the origin's process it would take
    the interpreter lock from the event loop (a live playlist waited seconds while a build ran), and
    stopping the origin would wait for it. The child is spawned (a fork would copy the origin's
    threads' locks mid-use), reads and writes the catalog itself, and is terminated when the jobs
    stop: every channel is stored in a transaction of its own, so a killed build leaves each
    channel either built or as it was, and the next build (at start-up) does the rest.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: BaseProcess | None = None
        self.stopped = False

    def run(self, settings: Settings) -> None:
        with self._lock:
            if self.stopped:
                return
            process = multiprocessing.get_context("spawn").Process(
                target=_build_here, args=(settings,), name="rcmedia-epg-build", daemon=True
            )
            process.start()
            self._running = process
        started = time.monotonic()
        try:
            process.join()
        finally:
            with self._lock:
                self._running = None
        if not self.stopped:
            # imported here: under `serve`, only once the metrics folder is chosen (rcmedia.metrics_files)
            from rcmedia import metrics  # noqa: PLC0415

            metrics.epg_built(time.monotonic() - started, ok=process.exitcode == 0)
        if process.exitcode != 0 and not self.stopped:
            raise BuildFailedError(f"the EPG build process exited with status {process.exitcode}")

    def stop(self) -> None:
        """Stop the build in progress, if any; no other starts."""
        with self._lock:
            self.stopped = True
            process = self._running
        if process is not None:
            process.terminate()
            process.join(BUILD_STOP_S)
            if process.is_alive():
                process.kill()


_BUILDS = BuildProcess()
# the catalog each running scheduler's job store is on, closed by stop_jobs
_STORES: WeakKeyDictionary[BackgroundScheduler, Catalog] = WeakKeyDictionary()


def build_schedules(settings: Settings) -> None:
    """Build every channel ``schedule_days`` ahead, in a child process (see :class:`BuildProcess`).

    A module-level function: the job store pickles it."""
    _BUILDS.run(settings)


def _build_here(settings: Settings) -> None:
    """The build itself (the child process's work)."""
    configure_logging(settings.log_level)
    catalog = catalog_for(settings)
    try:
        store = catalog.schedules
        if not store.applied_channels():
            log.info("EPG build: no channels applied yet")
            return
        clock = SystemClock()
        built = build_all(
            store,
            first_day=None,
            days=settings.schedule_days,
            now=clock.now(),
            freeze=timedelta(seconds=settings.freeze_seconds),
            clock=clock,
        )
        log.info("EPG build: %d channel(s) built %d day(s) ahead", len(built), settings.schedule_days)
    except Exception:
        log.exception("EPG build failed")
        raise
    finally:
        close_engine(catalog.engine)


class ChangeWatch:
    """Rebuilds when the catalog's published assets or the applied channels change."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._catalog = catalog_for(settings)
        self.store = self._catalog.schedules
        self.seen: tuple[object, ...] | None = None

    def close(self) -> None:
        close_engine(self._catalog.engine)

    def __call__(self) -> None:
        """At start-up, and whenever the fingerprint moves, (re)build from now on."""
        current = self.store.change_fingerprint()
        if current != self.seen:
            if self.seen is not None:
                log.info("catalog or channels changed: rebuilding the EPG from now on")
            build_schedules(self.settings)
        self.seen = current


class AsRunCloser:
    """Closes the as-run log up to now (see rcmedia.playout.asrun)."""

    def __init__(self, settings: Settings) -> None:
        self._catalog = catalog_for(settings)
        self.store, self.asrun = self._catalog.schedules, self._catalog.asrun
        self.storage = open_storage(settings)

    def close(self) -> None:
        close_engine(self._catalog.engine)

    def __call__(self) -> None:
        close_asrun(self.store, self.asrun, self.storage, now=SystemClock().now())


class LostMessageWatch:
    """``ingest-resend`` (``executor = "celery"``): queued jobs whose broker message may be lost
    (a send that failed after the job was committed) get another (rcmedia.ingest.celery_tasks)."""

    def __init__(self, settings: Settings) -> None:
        from rcmedia.ingest.celery_tasks import LostMessages  # noqa: PLC0415 - only Celery users need it

        self._catalog = catalog_for(settings)
        self.resend = LostMessages(settings, self._catalog)

    def close(self) -> None:
        self.resend.close()
        close_engine(self._catalog.engine)

    def __call__(self) -> None:
        try:
            self.resend()
        except BrokerError as exc:
            log.warning("ingest-resend: %s", exc)


def start_jobs(
    settings: Settings,
    *,
    schedule: bool = True,
    hot_folder: HotFolder | None = None,
    runner: JobRunner | None = None,
    daily_at: tuple[int, int] = (3, 0),
) -> BackgroundScheduler:
    """Start the scheduler with the jobs this process owns; returns it (stop it with ``stop_jobs``)."""
    global _BUILDS  # noqa: PLW0603 - one per running scheduler; a stopped one stays stopped
    _BUILDS = BuildProcess()
    store = catalog_for(settings)
    scheduler = BackgroundScheduler(
        jobstores={
            "default": MemoryJobStore(),
            PERSISTENT: SQLAlchemyJobStore(engine=store.engine, tablename="apscheduler_jobs"),
        },
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        timezone="UTC",
    )
    _STORES[scheduler] = store
    # paused first: a stored daily build whose time passed while we were down is found, and runs
    # once on resume, instead of being replaced by a fresh job that forgets the missed run
    scheduler.start(paused=True)
    if schedule:
        hour, minute = daily_at
        # added unless stored already: by our last run, or by another scheduler starting at the
        # same moment (checking first would leave that race open; the store's key settles it)
        with contextlib.suppress(ConflictingIdError):
            scheduler.add_job(
                build_schedules,
                "cron",
                hour=hour,
                minute=minute,
                id=DAILY_BUILD,
                jobstore=PERSISTENT,
                kwargs={"settings": settings},
            )
        # first run right away: the EPG is complete and current from start-up on
        scheduler.add_job(
            ChangeWatch(settings), "interval", seconds=60, id="epg-watch", next_run_time=datetime.now(UTC)
        )
        scheduler.add_job(AsRunCloser(settings), "interval", seconds=60, id="asrun-close")
        if settings.executor == "celery":
            scheduler.add_job(LostMessageWatch(settings), "interval", seconds=60, id="ingest-resend")
    if hot_folder is not None:
        poll: Callable[[], None] = _hot_folder_poll(hot_folder, runner)
        scheduler.add_job(poll, "interval", seconds=settings.hot_folder_poll_seconds, id="hot-folder")
    scheduler.resume()
    return scheduler


def stop_jobs(scheduler: BackgroundScheduler, *, wait: bool = False) -> None:
    """Stop the scheduler without waiting for a running build to store every channel (``wait``:
    for the jobs' threads to return, once the build is stopped)."""
    _BUILDS.stop()
    jobs = scheduler.get_jobs(jobstore="default")
    store = _STORES.pop(scheduler, None)
    if store is not None:
        # the job store disposes of its engine before the scheduler's thread has stopped using it
        close_on_return(store.engine)
    scheduler.shutdown(wait=wait)
    for job in jobs:  # the watches and the as-run closer hold a catalog each: its connections closed
        if isinstance(job.func, ChangeWatch | AsRunCloser | LostMessageWatch):
            job.func.close()


def _hot_folder_poll(hot_folder: HotFolder, runner: JobRunner | None) -> Callable[[], None]:
    def poll() -> None:
        if hot_folder.scan() and runner is not None:
            runner.wake()

    return poll
