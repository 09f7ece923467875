"""The recurring ingest jobs of ``serve``: scan the hot folder and settle finished files."""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler

from rcmedia.ingest.hotfolder import HotFolder
from rcmedia.ingest.runner import JobRunner

log = logging.getLogger(__name__)


def start_ingest_scheduler(
    hot_folder: HotFolder, runner: JobRunner, *, poll_seconds: float
) -> BackgroundScheduler:
    """Poll the hot folder every ``poll_seconds``; wake the runner when files were queued."""

    def poll() -> None:
        if hot_folder.scan():
            runner.wake()

    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(
        poll,
        "interval",
        seconds=poll_seconds,
        id="hot-folder",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
    )
    scheduler.start()
    log.info("hot folder %s polled every %.0f s", hot_folder.folders.inbox, poll_seconds)
    return scheduler
