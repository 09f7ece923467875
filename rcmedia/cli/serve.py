"""`rcmedia serve` and `rcmedia scheduler`: the origin, its workers and the recurring jobs."""

from __future__ import annotations

import functools
import logging
import signal
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from rcmedia import metrics_files
from rcmedia.bootstrap import open_context
from rcmedia.config import Settings
from rcmedia.ingest.context import IngestContext
from rcmedia.ingest.hotfolder import HotFolder
from rcmedia.ingest.runner import JobRunner
from rcmedia.logs import configure_logging
from rcmedia.web.workers import (
    Worker,
    check_address,
    event_loop_name,
    run_event_loop,
    run_workers,
    worker_count,
)

if TYPE_CHECKING:
    from aiohttp import web

from rcmedia.cli.common import console, guard, log, settings_of


def serve_until_stopped(
    ictx: IngestContext,
    host: str,
    port: int,
    on_ready: Callable[[Any], None] | None = None,
    *,
    jobs: bool = True,
    workers: int = 1,
    access_log: bool = False,
) -> None:
    """Serve until stopped; ``on_ready`` gets something with the ``url`` served on.

    One worker: this process runs everything. More: see rcmedia.web.workers; this process keeps the
    ingest runner, the hot folder and the EPG jobs (once per origin, not once per worker).
    """
    from rcmedia.scheduling.jobs import start_jobs, stop_jobs
    from rcmedia.web.app import serve

    log.info("serving on the %s event loop", event_loop_name())
    settings = ictx.settings
    _access_log(access_log)
    if workers > 1:  # before the jobs start: a hot folder file must not be taken for nothing
        check_address(host, port)
    from rcmedia import metrics

    runner: JobRunner | None = None
    if settings.executor == "inprocess":  # with "celery", `rcmedia worker` processes run the jobs
        runner = JobRunner(ictx, on_finished=metrics.job_finished)
        runner.start()
    scheduler = start_jobs(
        settings, schedule=jobs, hot_folder=HotFolder(ictx, settings.hot_folder), runner=runner
    )
    status = 0
    try:
        if workers > 1:
            worker = functools.partial(_serve_worker, settings, host, port, access_log)
            status = run_workers(
                workers, worker, host=host, port=port, on_ready=on_ready, on_exit=metrics.process_exited
            )
        else:
            app = _origin_app(ictx)
            run_event_loop(serve(app, host=host, port=port, on_ready=on_ready, stop_on=(signal.SIGTERM,)))
    except KeyboardInterrupt:
        pass
    finally:
        stop_jobs(scheduler)
        if runner is not None:
            runner.stop()
    if status:
        console.print("[red]✗ a worker process failed; the origin stopped[/] (its error is above)")
        sys.exit(status)


def _access_log(enabled: bool) -> None:
    """aiohttp's access log, off unless asked: a line per request costs a cached playlist 1.5 times
    its CPU as plain text, 15 times through rich's console handler, so it is written plainly."""
    if not enabled:
        return
    access = logging.getLogger("aiohttp.access")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))  # aiohttp's line has its own time stamp
    access.addHandler(handler)
    access.propagate = False
    access.setLevel(logging.INFO)


def _origin_app(ictx: IngestContext) -> web.Application:
    """The origin's app over the catalog, storage, profiles and clock ``ictx`` opened."""
    from rcmedia.web.app import create_app

    return create_app(
        settings=ictx.settings,
        catalog=ictx.catalog,
        storage=ictx.storage,
        profiles=ictx.profiles,
        clock=ictx.clock,
    )


def _serve_worker(settings: Settings, host: str, port: int, access_log: bool, worker: Worker) -> None:
    """One of ``serve --workers N``'s processes: the whole app on the shared port, nothing else."""
    from rcmedia.web.app import serve

    configure_logging(settings.log_level, console)
    _access_log(access_log)
    with open_context(settings) as ictx:
        app = _origin_app(ictx)
        run_event_loop(
            serve(
                app,
                host=host,
                port=port,
                on_ready=lambda server: worker.ready(server.port),
                reuse_port=True,
                worker=worker.index,
                stop_on=(signal.SIGTERM,),
            )
        )


@click.command()
@click.option("--host", help="Address to listen on (default: the host setting).")
@click.option("--port", type=int, help="Port to listen on (default: the port setting).")
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    help="Server processes sharing the port (default: the workers setting; 0: one per CPU core).",
)
@click.option(
    "--access-log", is_flag=True, help="Log every request to stderr (aiohttp's access log; 1.5x CPU)."
)
@click.option("--no-scheduler", is_flag=True, help="Leave the EPG jobs to a separate `rcmedia scheduler`.")
@click.pass_context
@guard
def serve(
    ctx: click.Context,
    host: str | None,
    port: int | None,
    workers: int | None,
    access_log: bool,
    no_scheduler: bool,
) -> None:
    """Serve the origin (VOD, live, media, EPG, API), run ingest jobs, the hot folder and the EPG jobs.

    With --workers N (N > 1), N processes serve HTTP on the same port and this one supervises them:
    SIGINT or SIGTERM stops them all; if one dies, the others are stopped and the exit status is 1.
    """
    settings = settings_of(ctx, host=host, port=port, workers=workers)
    count = worker_count(settings.workers)
    shared = metrics_files.prepare(settings.home)  # before anything loads prometheus-client
    try:
        with open_context(settings) as ictx:
            serve_until_stopped(
                ictx,
                settings.host,
                settings.port,
                on_ready=lambda server: console.print(
                    f"serving on {server.url}" + (f" with {count} worker processes" if count > 1 else "")
                ),
                jobs=not no_scheduler,
                workers=count,
                access_log=access_log,
            )
    finally:
        metrics_files.remove(shared)


@click.command()
@click.pass_context
@guard
def scheduler(ctx: click.Context) -> None:
    """Own the EPG jobs (daily build, rebuild on change) when `serve` runs on several machines."""
    from rcmedia.scheduling.jobs import start_jobs, stop_jobs

    settings = settings_of(ctx)
    with open_context(settings):  # migrates the catalog and checks the settings
        pass
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    running = start_jobs(settings)
    console.print("scheduler running (daily EPG build, rebuild on change); Ctrl-C stops it")
    stop.wait()
    stop_jobs(running)
