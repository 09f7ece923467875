"""Ingest progress bars and the per-file report the ingest commands print."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from rcmedia.cli.common import console
from rcmedia.core.assets import Job
from rcmedia.core.models import JobState
from rcmedia.errors import RcmediaError
from rcmedia.ingest.context import IngestContext
from rcmedia.ingest.intake import submit
from rcmedia.ingest.runner import JobRunner
from rcmedia.ingest.sidecar import read_sidecar
from rcmedia.terminal import shown


class IngestProgress:
    """One rich progress bar per job: state, percentage, speed and ETA."""

    def __init__(self) -> None:
        self.bars = Progress(
            TextColumn("[bold]{task.fields[name]}", justify="left"),
            TextColumn("{task.fields[state]:<11}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TextColumn("{task.fields[speed]}"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self.tasks: dict[int, TaskID] = {}
        self._lock = threading.Lock()

    def add(self, job_id: int, name: str) -> None:
        self.tasks[job_id] = self.bars.add_task(
            "", total=100, name=shown(name[:40]), state="queued", speed=""
        )

    def update(self, job: Job, state: JobState, fraction: float, speed: float | None) -> None:
        done = {JobState.TRANSCODING: 100 * fraction, JobState.VERIFYING: 100.0}.get(state, 0.0)
        self._set(job.id, completed=done, state=state.value, speed=f"{speed:.1f}x" if speed else "")

    def finish(self, job: Job) -> None:
        if job.state is JobState.PUBLISHED:
            self._set(job.id, completed=100.0, state=job.state.value, speed="")
        else:
            self._set(job.id, state=job.state.value, speed="")

    def _set(self, job_id: int, **fields: Any) -> None:
        with self._lock:
            task = self.tasks.get(job_id)
            if task is not None:
                self.bars.update(task, **fields)


def ingest_files(
    ictx: IngestContext,
    submissions: list[tuple[Path, dict[str, Any]]],
    *,
    profile: str | None = None,
    run_here: bool = True,
    wait: bool = True,
) -> list[Job]:
    """Queue ``submissions`` and run them here (or follow them, run elsewhere) with progress bars.

    Returns the finished jobs, or with neither ``run_here`` nor ``wait`` the queued ones.
    """
    progress = IngestProgress()
    job_ids = []
    for path, overrides in submissions:
        try:
            metadata = read_sidecar(path, overrides=overrides)
            job_id = submit(ictx, path, metadata=metadata, original_filename=path.name, profile=profile)
        except RcmediaError as exc:
            console.print(f"[red]✗ {shown(path.name)}: {shown(exc)}")
            continue
        progress.add(job_id, path.name)
        job_ids.append(job_id)
    if not run_here and not wait:
        jobs = [ictx.catalog.get_job(job_id) for job_id in job_ids]
        for job in jobs:
            console.print(f"queued {shown(job.original_filename)} as job {job.id}")
        return jobs
    with progress.bars:
        if run_here:
            runner = JobRunner(ictx, on_progress=progress.update, on_finished=progress.finish)
            return runner.run_jobs(job_ids)
        return follow(ictx, job_ids, progress)


def follow(
    ictx: IngestContext, job_ids: list[int], progress: IngestProgress, *, poll_seconds: float = 0.5
) -> list[Job]:
    """Watch jobs that others run (Celery workers) until each is finished, updating the bars."""
    pending = set(job_ids)
    finished: dict[int, Job] = {}
    while pending:
        for job_id in sorted(pending):
            job = ictx.catalog.get_job(job_id)
            if job.state.finished:
                progress.finish(job)
                finished[job_id] = job
                pending.discard(job_id)
            else:
                progress.update(job, job.state, job.progress, job.speed)
        if pending:
            time.sleep(poll_seconds)
    return [finished[job_id] for job_id in job_ids]


def report(jobs: list[Job], expected: int) -> bool:
    ok = True
    for job in jobs:
        if job.state is JobState.PUBLISHED:
            console.print(f"[green]✓[/] {shown(job.original_filename)}: published as asset {job.asset_id}")
        else:
            ok = False
            console.print(f"[red]✗[/] {shown(job.original_filename)}: {shown(job.failure_reason)}")
    return ok and len(jobs) == expected
