"""Celery adapter (``executor = "celery"``): the only module that imports celery.

A broker message says "run job N"; the catalog row stays the source of truth for state, progress,
attempts and lease, so a message is only a nudge: a duplicate, a re-delivery after a worker died or
a message for a finished job are all harmless (:func:`rcmedia.ingest.runner.run_delivered`).

Why these options:

- ``task_acks_late`` + ``task_reject_on_worker_lost``: a message is acknowledged only when its
  attempt is over; a worker killed mid-transcode (SIGKILL, OOM, power) leaves it unacknowledged,
  so the broker hands it to another worker, which finds the dead worker's job and takes it over.
- ``worker_prefetch_multiplier = 1``, concurrency ``worker_slots`` (default 1): a worker holds no
  more messages than it runs, so a second worker is not starved by a first one's backlog.
- the prefork pool: each transcode runs in a pool process forked from the worker; its ffmpeg is
  that process's child, in the worker's process group, so stopping the group (systemd's
  ``KillMode=control-group``, a SIGKILL of the group) stops every ffmpeg with it. A pool process
  that dies alone (OOM) is seen by the worker as a lost worker and its message goes back to the
  queue. Pool processes also get ``PR_SET_PDEATHSIG``: a worker SIGKILLed alone takes them along.
- RabbitMQ has no visibility timeout; Redis has one, set from
  ``broker_visibility_timeout_seconds`` (keep it above the longest transcode).
- retries: only a failed attempt that the catalog put back in the queue (a tool crash, storage
  trouble) is re-sent, with a growing countdown; input faults fail for good, never re-sent.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

from celery import Celery, Task, signals
from kombu.exceptions import KombuError

from rcmedia.catalog.repository import Catalog
from rcmedia.config import Settings
from rcmedia.core.models import JobState
from rcmedia.errors import BrokerError
from rcmedia.ingest.context import IngestContext
from rcmedia.ingest.runner import JobRunner, lost_jobs, release_dead_workers, run_delivered

log = logging.getLogger(__name__)

TASK_NAME = "rcmedia.ingest.run_job"
SEND_RETRY = {"max_retries": 3, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 2.0}
PR_SET_PDEATHSIG = 1

OpenContext = Callable[[Settings], AbstractContextManager[IngestContext]]

# the worker's settings and how to wire a context from them (rcmedia.bootstrap.open_context, passed
# in by the entry point), set by run_worker before the pool forks; each pool process opens its own
# catalog connection on its first job (a connection must never cross a fork)
_settings: tuple[Settings, OpenContext] | None = None
_runner: tuple[int, JobRunner] | None = None
_open = contextlib.ExitStack()


def make_app(settings: Settings) -> Celery:
    """The Celery application for ``settings`` (broker, queue, the delivery guarantees above)."""
    app = Celery("rcmedia", broker=settings.broker_url, set_as_current=False)
    transport: dict[str, Any] = {}
    if settings.broker_url.startswith(("redis://", "rediss://")):
        transport["visibility_timeout"] = settings.broker_visibility_timeout_seconds
    app.conf.update(
        task_default_queue=settings.broker_queue,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_concurrency=settings.worker_slots,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        broker_transport_options=transport,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=5.0,
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        worker_send_task_events=False,
        # a lost broker connection leaves running transcodes running: their messages come back
        # to the queue, and whoever takes one waits for the job's lease (the catalog decides)
        worker_cancel_long_running_tasks_on_connection_loss=False,
        enable_utc=True,
    )
    app.task(
        name=TASK_NAME,
        bind=True,
        acks_late=True,
        reject_on_worker_lost=True,
        max_retries=None,  # the catalog's attempts bound them
        ignore_result=True,
    )(_run_job)
    return app


class Enqueuer:
    """``IngestContext.enqueue`` for ``executor = "celery"``: one broker message per job."""

    def __init__(self, settings: Settings) -> None:
        self.app = make_app(settings)
        self.queue = settings.broker_queue

    def __call__(self, job_id: int, countdown: float | None = None) -> None:
        try:
            self.app.send_task(
                TASK_NAME,
                args=[job_id],
                queue=self.queue,
                countdown=countdown,
                retry=True,
                retry_policy=SEND_RETRY,
            )
        except (KombuError, OSError) as exc:
            raise BrokerError(f"cannot enqueue job {job_id!r}: {exc}") from exc

    def waiting(self) -> int | None:
        """Messages waiting in the queue (not those a worker holds), or None when the queue does
        not exist yet (no worker has started; the first one re-sends every waiting job)."""
        try:
            with self.app.connection_for_write() as connection:
                try:
                    declared = connection.default_channel.queue_declare(self.queue, passive=True)
                except connection.channel_errors:  # NOT_FOUND: closes the channel, not the link
                    return None
        except (KombuError, OSError) as exc:
            raise BrokerError(f"cannot read the queue {self.queue!r}: {exc}") from exc
        return int(declared.message_count)

    def close(self) -> None:
        self.app.close()


def _run_job(task: Task[Any, Any], job_id: int) -> None:
    delay = run_delivered(_process_runner(), int(job_id))
    if delay is not None:
        raise task.retry(countdown=delay)


def _process_runner() -> JobRunner:
    """This pool process's runner (its own catalog connection), made on its first job."""
    global _runner  # noqa: PLW0603 - one per process, made after the fork
    if _runner is None or _runner[0] != os.getpid():
        assert _settings is not None, "run_worker sets the settings before the pool starts"
        settings, open_context = _settings
        _open.pop_all()  # a copy inherited through fork belongs to the parent
        ctx = _open.enter_context(open_context(settings))
        _runner = (os.getpid(), JobRunner(ctx, slots=1))
    return _runner[1]


def _die_with_the_worker(**_: object) -> None:
    """A pool process is killed when its worker dies, even by SIGKILL (Linux ``prctl``)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


signals.worker_process_init.connect(_die_with_the_worker)


def requeue_waiting(settings: Settings, open_context: OpenContext, enqueue: Enqueuer) -> int:
    """Send a message for every job that may have lost its own: queued ones, and running ones
    (their worker may be dead; a live one's lease keeps the message waiting). Duplicates are
    harmless (the catalog's claim). Jobs held by dead processes of this machine are freed first."""
    sent = 0
    with open_context(settings) as ctx:
        release_dead_workers(ctx)
        for state in (JobState.QUEUED, JobState.PROBING, JobState.TRANSCODING, JobState.VERIFYING):
            offset = 0
            while True:
                page = ctx.catalog.find_jobs(state=state, limit=500, offset=offset)
                for job in page.items:
                    enqueue(job.id)
                    sent += 1
                if len(page.items) < 500:
                    break
                offset += 500
    return sent


class LostMessages:
    """The scheduler's ``ingest-resend`` job (``executor = "celery"``): re-send queued jobs whose
    message may be lost, e.g. a send that failed after the job row was committed."""

    def __init__(self, settings: Settings, catalog: Catalog) -> None:
        self.settings, self.catalog = settings, catalog
        self.enqueue = Enqueuer(settings)

    def __call__(self, now: datetime | None = None) -> list[int]:
        depth = self.enqueue.waiting()
        if depth is None:
            return []
        queued = self.catalog.job_counts()[JobState.QUEUED]
        jobs = lost_jobs(self.catalog, queued=queued, waiting=depth, now=now or datetime.now(UTC))
        for job_id in jobs:
            self.enqueue(job_id)
        if jobs:
            log.warning("re-sent %d queued job(s) whose message may be lost: %s", len(jobs), jobs)
        return jobs

    def close(self) -> None:
        self.enqueue.close()


def run_worker(settings: Settings, open_context: OpenContext, *, name: str | None = None) -> None:
    """Run a Celery worker for ingest jobs until stopped (SIGTERM: warm shutdown).

    ``open_context`` wires an ingest context from settings (the catalog migrated first); each
    pool process calls it once, and this process once before the pool starts (then disposes of it).
    """
    global _settings  # noqa: PLW0603 - read by the pool processes forked below
    _settings = (settings, open_context)
    enqueue = Enqueuer(settings)
    try:
        sent = requeue_waiting(settings, open_context, enqueue)
    finally:
        enqueue.close()
    if sent:
        log.info("re-sent %d waiting job(s) to the queue %r", sent, settings.broker_queue)
    app = make_app(settings)
    app.worker_main(
        argv=[
            "worker",
            f"--hostname={name or f'rcmedia-{os.getpid()}'}@%h",
            "--pool=prefork",
            f"--concurrency={settings.worker_slots}",
            f"--queues={settings.broker_queue}",
            f"--loglevel={settings.log_level}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
    )
