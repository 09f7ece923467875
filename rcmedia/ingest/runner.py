"""Run ingest jobs in-process: a bounded number at a time, leased, retried, isolated.

Jobs are catalog rows, so they survive a restart: a job whose worker died keeps its lease until
it runs out, then any runner takes it over (another attempt). A failure of one job is recorded
on that job only. Input faults (empty, not media, truncated) are not retried; tool crashes,
verification and storage failures are, up to the job's attempt limit.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from rcmedia.catalog.repository import Catalog
from rcmedia.core.assets import Job
from rcmedia.core.models import JobState
from rcmedia.errors import CatalogError, NotFoundError, RcmediaError, RejectedInputError
from rcmedia.ingest.context import IngestContext
from rcmedia.ingest.pipeline import ProgressCallback, run_attempt
from rcmedia.ingest.sources import drop_source

log = logging.getLogger(__name__)

FinishedCallback = Callable[[Job], None]


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def _died_here(worker: str) -> bool:
    """True when ``worker`` names a process on this machine that no longer exists."""
    host, _, rest = worker.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit() or int(pid_text) == os.getpid():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def release_dead_workers(ctx: IngestContext) -> list[int]:
    """Free jobs held by processes on this machine that are gone (a restart after a crash or kill).

    Their leases would run out anyway; this lets a restarted ``serve`` or ``worker`` resume them
    at once instead of after ``job_lease_seconds``. Jobs of other machines wait for their lease.
    """
    released = []
    for job_id, worker in ctx.catalog.running_workers().items():
        if _died_here(worker) and ctx.catalog.expire_lease(job_id, worker=worker, now=ctx.clock.now()):
            log.info("job %s: its worker %s is gone; resuming it", job_id, worker)
            released.append(job_id)
    return released


LOST_AFTER = timedelta(minutes=10)  # a queued job this quiet may have lost its message


def lost_jobs(catalog: Catalog, *, queued: int, waiting: int, now: datetime) -> list[int]:
    """Queued jobs to send a message for again: as many as the catalog's ``queued`` jobs
    outnumber the broker's ``waiting`` messages, taken from those quiet for ``LOST_AFTER``,
    longest-waiting first.

    The broker cannot say which job a missing message was for; a guess is safe because a message
    only nudges (a duplicate is dropped once its job is taken). Counting first keeps a backlog of
    thousands of waiting jobs from being re-sent every round. A job whose retry message a worker
    holds with a countdown is counted as missing when quiet that long, and gets one early nudge.
    """
    missing = queued - waiting
    if missing <= 0:
        return []
    return catalog.quiet_queued_jobs(before=now - LOST_AFTER, limit=missing)


def is_permanent(exc: BaseException) -> bool:
    """Failures that another attempt cannot fix."""
    return isinstance(exc, (RejectedInputError, NotFoundError))


class JobRunner:
    """Claims queued jobs and runs them on ``slots`` threads."""

    def __init__(
        self,
        ctx: IngestContext,
        *,
        slots: int | None = None,
        on_progress: ProgressCallback | None = None,
        on_finished: FinishedCallback | None = None,
        poll_seconds: float = 1.0,
    ) -> None:
        self.ctx = ctx
        self.slots = slots or ctx.settings.transcode_slots
        self.on_progress = on_progress
        self.on_finished = on_finished
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self._active: set[threading.Event] = set()
        self._lock = threading.Lock()

    # --- one job ---------------------------------------------------------------------------

    def run_one(self, job_id: int | None = None) -> Job | None:
        """Claim a job (the given one, or the oldest claimable) and run it to the end of this attempt."""
        ctx = self.ctx
        name = worker_name()
        job = ctx.catalog.claim_job(
            worker=name, lease_seconds=ctx.settings.job_lease_seconds, now=ctx.clock.now(), job_id=job_id
        )
        if job is None:
            return None
        log.info(
            "job %s: attempt %d of %d (%r)", job.id, job.attempts, job.max_attempts, job.original_filename
        )
        cancel = threading.Event()
        with self._lock:
            self._active.add(cancel)
        lease = threading.Thread(target=self._keep_lease, args=(job, name, cancel), daemon=True)
        lease.start()
        try:
            run_attempt(ctx, job, on_progress=self.on_progress, cancel=cancel)
        except Exception as exc:
            permanent = is_permanent(exc)
            reason = str(exc) if isinstance(exc, RcmediaError) else f"internal error: {exc!r}"
            if not isinstance(exc, RcmediaError):
                log.exception("job %s: unexpected failure", job.id)
            if cancel.is_set():
                reason = f"lease lost, another worker took the job over ({reason})"
            try:
                state = ctx.catalog.fail_job(
                    job.id, worker=name, reason=reason, retry=not permanent, now=ctx.clock.now()
                )
            except CatalogError:
                log.exception(
                    "job %s: cannot record failure; the lease will expire and it will be retried", job.id
                )
                state = JobState.QUEUED
            log.warning("job %s: %s%s", job.id, reason, " (will retry)" if state is JobState.QUEUED else "")
        finally:
            cancel.set()
            lease.join()
            with self._lock:
                self._active.discard(cancel)
        finished = ctx.catalog.get_job(job.id)
        if finished.state.finished:
            drop_source(ctx, finished)
            if self.on_finished is not None:
                self.on_finished(finished)
        return finished

    def _keep_lease(self, job: Job, name: str, cancel: threading.Event) -> None:
        settings = self.ctx.settings
        interval = settings.job_lease_seconds / 3
        while not cancel.wait(interval):
            try:
                kept = self.ctx.catalog.renew_lease(
                    job.id, worker=name, lease_seconds=settings.job_lease_seconds, now=self.ctx.clock.now()
                )
            except CatalogError:
                log.warning("job %s: could not renew the lease; trying again", job.id, exc_info=True)
                continue
            if not kept:
                log.warning("job %s: lease lost; stopping this attempt", job.id)
                cancel.set()

    # --- batches (CLI) ---------------------------------------------------------------------

    def run_jobs(self, job_ids: Iterable[int]) -> list[Job]:
        """Run the given jobs (with retries) until each is published or failed; returns them."""
        pending = list(job_ids)

        def drive(job_id: int) -> Job:
            while True:
                job = self.ctx.catalog.get_job(job_id)
                if job.state.finished:
                    return job
                if self.run_one(job_id) is None:
                    # running elsewhere, or a dead worker's lease has not run out yet
                    self._stop.wait(min(self.poll_seconds, self.ctx.settings.job_lease_seconds))

        with ThreadPoolExecutor(max_workers=self.slots, thread_name_prefix="ingest") as pool:
            return list(pool.map(drive, pending))

    # --- background service (serve, worker) ------------------------------------------------

    def start(self) -> None:
        """Start ``slots`` threads that claim and run jobs until :meth:`stop`."""
        release_dead_workers(self.ctx)
        for index in range(self.slots):
            thread = threading.Thread(target=self._loop, name=f"ingest-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def wake(self) -> None:
        """New work was queued: look now instead of at the next poll."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop claiming; running transcodes are cancelled and their jobs go back to the queue."""
        self._stop.set()
        self._wake.set()
        with self._lock:
            for cancel in self._active:
                cancel.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                ran = self.run_one()
            except CatalogError:
                log.exception("ingest runner: catalog unavailable")
                ran = None
            if ran is None:
                self._wake.wait(self.poll_seconds)
                self._wake.clear()


def retry_delay(settings_retry_seconds: float, attempts: int) -> float:
    """Backoff before attempt ``attempts + 1``: doubling from the base, at most 20 times it."""
    return min(settings_retry_seconds * 2.0 ** max(0, attempts - 1), settings_retry_seconds * 20)


def run_delivered(runner: JobRunner, job_id: int) -> float | None:
    """Handle one delivery of "run job ``job_id``" (a broker message, possibly a duplicate).

    Returns None when the message is done with, or the seconds after which it should be delivered
    again. The catalog decides, never the message: a finished job returns at once; a job another
    live worker holds is looked at again when its lease could have run out; one held by a dead
    process on this machine is released and run here; a claimed job runs one attempt, and an
    attempt that failed for a transient reason (the catalog put the job back in the queue) is
    tried again after a growing delay. Two deliveries never run a job twice at once: only one
    claim can win (``Catalog.claim_job``).
    """
    ctx = runner.ctx
    lease = ctx.settings.job_lease_seconds
    try:
        job = ctx.catalog.get_job(job_id)
    except NotFoundError:
        log.warning("job %s: no such job; message dropped", job_id)
        return None
    if job.state.finished:
        log.info("job %s is already %s; message dropped", job_id, job.state.value)
        drop_source(ctx, job)  # finished elsewhere (cancelled, given up): its bucket source goes too
        return None
    if (
        job.state.running
        and job.worker is not None
        and _died_here(job.worker)
        and ctx.catalog.expire_lease(job_id, worker=job.worker, now=ctx.clock.now())
    ):
        log.info("job %s: its worker %s is gone; resuming it", job_id, job.worker)
    finished = runner.run_one(job_id)
    if finished is None:  # another worker holds it (a live lease), or another delivery took it
        again = ctx.catalog.get_job(job_id)
        if again.state.finished:  # given up on by the claim (its worker kept dying)
            drop_source(ctx, again)
            return None
        log.info("job %s is held by %s; looking again in %.0f s", job_id, again.worker, lease)
        return lease
    if finished.state is JobState.QUEUED:
        return retry_delay(ctx.settings.job_retry_seconds, finished.attempts)
    return None
