"""The recurring jobs (APScheduler 3), owned by `serve` or by a dedicated `rcmedia scheduler`.

* ``epg-daily-build`` (persistent, in the catalog database): every day, build the EPG of every
  channel ``schedule_days`` ahead. Its job row survives restarts, so it is neither lost nor
  duplicated; a run missed while nothing was running happens once at start-up (coalesced).
* ``epg-watch`` (at start-up, then every minute): build at start-up, and when channels are applied
  or assets are published, withdrawn or changed, rebuild from now on (the freeze horizon keeps
  what players may have seen).
* ``asrun-close`` (every minute): record the events that finished airing in the as-run log, with
  the slate substitutions of assets that could not air (rcmedia.scheduling.asrun).
* ``hot-folder``: scan the ingest hot folder (only where ingest runs).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from rcmedia.catalog.asrun import AsRunLog
from rcmedia.catalog.db import make_engine
from rcmedia.catalog.schedules import ScheduleStore
from rcmedia.clock import SystemClock
from rcmedia.config import Settings
from rcmedia.ingest.hotfolder import HotFolder
from rcmedia.ingest.runner import JobRunner
from rcmedia.scheduling.asrun import close_asrun
from rcmedia.scheduling.epg import build_all
from rcmedia.storage.factory import open_storage

log = logging.getLogger(__name__)

DAILY_BUILD = "epg-daily-build"
PERSISTENT = "persistent"


def build_schedules(settings: Settings) -> None:
    """Build every channel ``schedule_days`` ahead (a module-level function: the job store pickles it)."""
    engine = make_engine(settings.database_url)
    try:
        store = ScheduleStore(engine)
        if not store.applied_channels():
            log.info("EPG build: no channels applied yet")
            return
        built = build_all(
            store,
            first_day=None,
            days=settings.schedule_days,
            now=SystemClock().now(),
            freeze=timedelta(seconds=settings.freeze_seconds),
        )
        log.info("EPG build: %d channel(s) built %d day(s) ahead", len(built), settings.schedule_days)
    finally:
        engine.dispose()


class ChangeWatch:
    """Rebuilds when the catalog's published assets or the applied channels change."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = ScheduleStore(make_engine(settings.database_url))
        self.seen: tuple[object, ...] | None = None

    def __call__(self) -> None:
        """At start-up, and whenever the fingerprint moves, (re)build from now on."""
        current = self.store.change_fingerprint()
        if current != self.seen:
            if self.seen is not None:
                log.info("catalog or channels changed: rebuilding the EPG from now on")
            build_schedules(self.settings)
        self.seen = current


class AsRunCloser:
    """Closes the as-run log up to now (see rcmedia.scheduling.asrun)."""

    def __init__(self, settings: Settings) -> None:
        engine = make_engine(settings.database_url)
        self.store = ScheduleStore(engine)
        self.asrun = AsRunLog(engine)
        self.storage = open_storage(settings)

    def __call__(self) -> None:
        close_asrun(self.store, self.asrun, self.storage, now=SystemClock().now())


def start_jobs(
    settings: Settings,
    *,
    schedule: bool = True,
    hot_folder: HotFolder | None = None,
    runner: JobRunner | None = None,
    daily_at: tuple[int, int] = (3, 0),
) -> BackgroundScheduler:
    """Start the scheduler with the jobs this process owns; returns it (call ``shutdown``)."""
    scheduler = BackgroundScheduler(
        jobstores={
            "default": MemoryJobStore(),
            PERSISTENT: SQLAlchemyJobStore(url=settings.database_url, tablename="apscheduler_jobs"),
        },
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        timezone="UTC",
    )
    # paused first: a stored daily build whose time passed while we were down is found, and runs
    # once on resume, instead of being replaced by a fresh job that forgets the missed run
    scheduler.start(paused=True)
    if schedule:
        if scheduler.get_job(DAILY_BUILD, jobstore=PERSISTENT) is None:
            hour, minute = daily_at
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
    if hot_folder is not None:
        poll: Callable[[], None] = _hot_folder_poll(hot_folder, runner)
        scheduler.add_job(poll, "interval", seconds=settings.hot_folder_poll_seconds, id="hot-folder")
    scheduler.resume()
    return scheduler


def _hot_folder_poll(hot_folder: HotFolder, runner: JobRunner | None) -> Callable[[], None]:
    def poll() -> None:
        if hot_folder.scan() and runner is not None:
            runner.wake()

    return poll
