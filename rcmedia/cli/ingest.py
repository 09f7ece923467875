"""`rcmedia ingest`, `rcmedia jobs` and `rcmedia worker`: files in, jobs listed and run."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from rcmedia.bootstrap import open_context
from rcmedia.cli.common import console, guard, settings_of
from rcmedia.cli.progress import ingest_files, report
from rcmedia.core.models import JobState, Source
from rcmedia.ingest.runner import JobRunner
from rcmedia.terminal import shown


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--title", help="Title (default: the sidecar's, else the file name).")
@click.option("--series", help="Series (programme) the asset belongs to.")
@click.option("--episode", type=click.IntRange(min=0), help="Episode number in the series.")
@click.option("--source", type=click.Choice([s.value for s in Source]), help="Who supplied it.")
@click.option("--language", help="Language code (default zh).")
@click.option("--profile", help="Transcode profile (default: the `profile` setting).")
@click.option(
    "--wait/--no-wait",
    default=None,
    help="Follow the jobs to their outcome with progress bars. Default: with executor 'inprocess' "
    "the jobs run here and are waited for; with 'celery' they are followed when stdout is a "
    "terminal, else the command prints the job ids and exits once they are queued.",
)
@click.pass_context
@guard
def ingest(
    ctx: click.Context,
    paths: tuple[Path, ...],
    title: str | None,
    series: str | None,
    episode: int | None,
    source: str | None,
    language: str | None,
    profile: str | None,
    wait: bool | None,
) -> None:
    """Ingest files: probe, condition, transcode once into the ladder, verify, publish.

    A NAME.toml next to a file gives its metadata (see ingest/README.md); flags override it.
    Exits non-zero if any file failed, with each reason. With executor 'celery' the files go to
    the workers (`rcmedia worker`); --no-wait only queues them (also with 'inprocess': a running
    `serve` or `worker` takes them).
    """
    if len(paths) > 1 and (title or episode is not None):
        raise click.UsageError("--title and --episode name one file; give one path, or use sidecar files")
    overrides = {"title": title, "series": series, "episode": episode, "source": source, "language": language}
    settings = settings_of(ctx)
    if wait is None:
        wait = settings.executor == "inprocess" or sys.stdout.isatty()
    run_here = settings.executor == "inprocess" and wait
    with open_context(settings) as ictx:
        jobs = ingest_files(
            ictx, [(p, overrides) for p in paths], profile=profile, run_here=run_here, wait=wait
        )
    if not wait:
        if len(jobs) != len(paths):
            sys.exit(1)
        return
    if not report(jobs, len(paths)):
        sys.exit(1)


@click.command()
@click.option("--state", type=click.Choice([s.value for s in JobState]))
@click.option("--limit", default=50, show_default=True)
@click.pass_context
@guard
def jobs(ctx: click.Context, state: str | None, limit: int) -> None:
    """List ingest jobs, newest first."""
    with open_context(settings_of(ctx)) as ictx:
        page = ictx.catalog.find_jobs(state=JobState(state) if state else None, limit=limit)
    table = Table("job", "asset", "file", "state", "attempts", "progress", "reason")
    for job in page.items:
        table.add_row(
            str(job.id),
            str(job.asset_id),
            shown(job.original_filename),
            job.state.value,
            f"{job.attempts}/{job.max_attempts}",
            f"{job.progress:.0%}",
            shown(job.failure_reason or ""),
        )
    Console().print(table)


@click.command()
@click.pass_context
@guard
def worker(ctx: click.Context) -> None:
    """Run queued ingest jobs until stopped (Ctrl-C or SIGTERM).

    With executor 'celery': a Celery worker on `broker_url` (`worker_slots` transcodes at once,
    default one); otherwise threads that poll the catalog for queued jobs.
    """
    settings = settings_of(ctx)
    if settings.executor == "celery":
        from rcmedia.bootstrap import celery_enqueuer

        celery_enqueuer(settings).close()  # a missing celery extra fails here, naming the setting
        from rcmedia.ingest.celery_tasks import run_worker

        console.print(
            f"ingest worker (Celery, {settings.worker_slots} transcode(s) at a time) on queue "
            f"{settings.broker_queue!r}; Ctrl-C stops it"
        )
        run_worker(settings, open_context)
        return
    with open_context(settings) as ictx:
        runner = JobRunner(ictx)
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        runner.start()
        console.print(f"ingest worker running {runner.slots} transcode(s) at a time; Ctrl-C stops it")
        stop.wait()
        runner.stop()
