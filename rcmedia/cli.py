"""The ``rcmedia`` command: the entry point that wires settings to adapters."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Table

from rcmedia import __version__
from rcmedia.bootstrap import open_context
from rcmedia.catalog.db import make_engine, upgrade
from rcmedia.catalog.repository import AssetQuery
from rcmedia.catalog.schedules import ScheduleStore
from rcmedia.config import Settings, load_settings, settings_markdown
from rcmedia.core.assets import Job
from rcmedia.core.models import JobState, Output, Source
from rcmedia.errors import ConfigError, RcmediaError
from rcmedia.ingest.context import IngestContext
from rcmedia.ingest.hotfolder import HotFolder
from rcmedia.ingest.intake import submit
from rcmedia.ingest.runner import JobRunner
from rcmedia.ingest.sidecar import read_sidecar
from rcmedia.logs import configure_logging

log = logging.getLogger("rcmedia")
console = Console(stderr=True)


def _settings(ctx: click.Context, **overrides: Any) -> Settings:
    settings: Settings = ctx.obj["settings"]
    changes = {k: v for k, v in overrides.items() if v is not None}
    return settings.replace(**changes) if changes else settings


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
        self.tasks[job_id] = self.bars.add_task("", total=100, name=name[:40], state="queued", speed="")

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
    ictx: IngestContext, submissions: list[tuple[Path, dict[str, Any]]], *, profile: str | None = None
) -> list[Job]:
    """Queue ``submissions`` and run them here with progress bars; returns the finished jobs."""
    progress = IngestProgress()
    job_ids = []
    for path, overrides in submissions:
        try:
            metadata = read_sidecar(path, overrides=overrides)
            job_id = submit(ictx, path, metadata=metadata, original_filename=path.name, profile=profile)
        except RcmediaError as exc:
            console.print(f"[red]✗ {path.name}: {exc}")
            continue
        progress.add(job_id, path.name)
        job_ids.append(job_id)
    runner = JobRunner(ictx, on_progress=progress.update, on_finished=progress.finish)
    with progress.bars:
        return runner.run_jobs(job_ids)


def report(jobs: list[Job], expected: int) -> bool:
    ok = True
    for job in jobs:
        if job.state is JobState.PUBLISHED:
            console.print(f"[green]✓[/] {job.original_filename}: published as asset {job.asset_id}")
        else:
            ok = False
            console.print(f"[red]✗[/] {job.original_filename}: {job.failure_reason}")
    return ok and len(jobs) == expected


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="rcmedia")
@click.pass_context
def main(ctx: click.Context) -> None:
    """rcmedia: ingest, schedule and play out education channels."""
    try:
        settings = load_settings()
    except RcmediaError as exc:
        raise click.ClickException(str(exc)) from exc
    configure_logging(settings.log_level, console)
    ctx.obj = {"settings": settings}


def _guard(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn rcmedia errors into a one-line message and exit status 1."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except RcmediaError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper


@main.command()
def settings() -> None:
    """Print every setting, its environment variable, default and meaning."""
    click.echo(settings_markdown(), nl=False)


@main.group()
def db() -> None:
    """Catalog database."""


@db.command("upgrade")
@click.pass_context
@_guard
def db_upgrade(ctx: click.Context) -> None:
    """Create or migrate the catalog schema to the latest revision."""
    settings = _settings(ctx)
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    console.print("catalog schema is up to date")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--title", help="Title (default: the sidecar's, else the file name).")
@click.option("--series", help="Series (programme) the asset belongs to.")
@click.option("--episode", type=click.IntRange(min=0), help="Episode number in the series.")
@click.option("--source", type=click.Choice([s.value for s in Source]), help="Who supplied it.")
@click.option("--language", help="Language code (default zh).")
@click.option("--profile", help="Transcode profile (default: the `profile` setting).")
@click.pass_context
@_guard
def ingest(
    ctx: click.Context,
    paths: tuple[Path, ...],
    title: str | None,
    series: str | None,
    episode: int | None,
    source: str | None,
    language: str | None,
    profile: str | None,
) -> None:
    """Ingest files: probe, condition, transcode once into the ladder, verify, publish.

    A NAME.toml next to a file gives its metadata (see ingest/README.md); flags override it.
    Exits non-zero if any file failed, with each reason.
    """
    if len(paths) > 1 and (title or episode is not None):
        raise click.UsageError("--title and --episode name one file; give one path, or use sidecar files")
    overrides = {"title": title, "series": series, "episode": episode, "source": source, "language": language}
    with open_context(_settings(ctx)) as ictx:
        jobs = ingest_files(ictx, [(p, overrides) for p in paths], profile=profile)
    if not report(jobs, len(paths)):
        sys.exit(1)


@main.command()
@click.option("--state", type=click.Choice([s.value for s in JobState]))
@click.option("--limit", default=50, show_default=True)
@click.pass_context
@_guard
def jobs(ctx: click.Context, state: str | None, limit: int) -> None:
    """List ingest jobs, newest first."""
    with open_context(_settings(ctx)) as ictx:
        page = ictx.catalog.find_jobs(state=JobState(state) if state else None, limit=limit)
    table = Table("job", "asset", "file", "state", "attempts", "progress", "reason")
    for job in page.items:
        table.add_row(
            str(job.id),
            str(job.asset_id),
            job.original_filename,
            job.state.value,
            f"{job.attempts}/{job.max_attempts}",
            f"{job.progress:.0%}",
            job.failure_reason or "",
        )
    Console().print(table)


@main.command()
@click.option("--search", "text", help="Part of the title or file name.")
@click.option("--limit", default=50, show_default=True)
@click.pass_context
@_guard
def assets(ctx: click.Context, text: str | None, limit: int) -> None:
    """List assets in the catalog."""
    with open_context(_settings(ctx)) as ictx:
        page = ictx.catalog.find_assets(AssetQuery(text=text, limit=limit))
    table = Table("asset", "title", "series", "file", "status", "duration", "renditions")
    for asset in page.items:
        table.add_row(
            str(asset.id),
            asset.metadata.title,
            asset.metadata.series or "",
            asset.original_filename,
            asset.status.value,
            f"{asset.duration:.1f} s" if asset.duration else "",
            " ".join(r.name for r in asset.renditions),
        )
    Console().print(table)


@main.command()
@click.pass_context
@_guard
def worker(ctx: click.Context) -> None:
    """Run queued ingest jobs until stopped (Ctrl-C or SIGTERM)."""
    settings = _settings(ctx)
    with open_context(settings) as ictx:
        runner = JobRunner(ictx)
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        runner.start()
        console.print(f"ingest worker running {runner.slots} transcode(s) at a time; Ctrl-C stops it")
        stop.wait()
        runner.stop()


@main.group()
def channels() -> None:
    """Channels and their programme grids (TOML files in playlists/)."""


@channels.command("apply")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--no-build", is_flag=True, help="Store the channels without building their EPG.")
@click.pass_context
@_guard
def channels_apply(ctx: click.Context, files: tuple[Path, ...], no_build: bool) -> None:
    """Validate channel files (default: every playlists/*.toml) and load them all, or none.

    Every error names the file, the line or key, and what is wrong. Afterwards the EPG of the
    applied channels is rebuilt from today for `schedule_days` days (unless --no-build).
    """
    from rcmedia.scheduling.epg import InvalidChannelFiles, apply_channel_files, build_all

    settings = _settings(ctx)
    paths = list(files) or sorted(settings.playlists_dir.glob("*.toml"))
    with open_context(settings) as ictx:
        store = ScheduleStore(ictx.catalog.engine)
        now = ictx.clock.now()
        try:
            versions = apply_channel_files(store, paths, now=now)
        except InvalidChannelFiles as exc:
            for error in exc.errors:
                console.print(f"[red]✗[/] {error}")
            console.print(f"[red]nothing was applied[/] ({len(exc.errors)} error(s))")
            sys.exit(1)
        for channel_id, version in sorted(versions.items()):
            console.print(f"[green]✓[/] channel {channel_id} applied (version {version})")
        if not no_build:
            built = build_all(
                store,
                first_day=None,
                days=settings.schedule_days,
                now=now,
                channel_ids=list(versions),
                freeze=_freeze(settings),
            )
            _report_builds(built)


def _freeze(settings: Settings) -> timedelta:
    return timedelta(seconds=settings.freeze_seconds)


def _report_builds(built: dict[str, dict[Any, list[Any]]]) -> None:
    for channel_id, outputs in sorted(built.items()):
        for output, days in outputs.items():
            events = sum(len(d.events) for d in days)
            console.print(
                f"  {channel_id}/{output.value}: {len(days)} day(s) from {days[0].day}, {events} events"
            )


@main.group()
def schedule() -> None:
    """The EPG: build days ahead."""


@schedule.command("build")
@click.option("--channel", "channel_ids", multiple=True, help="Channel id (default: every channel).")
@click.option(
    "--date", "first_day", type=click.DateTime(formats=["%Y-%m-%d"]), help="First day (default today)."
)
@click.option("--days", type=click.IntRange(1, 60), help="Days to build (default: schedule_days).")
@click.pass_context
@_guard
def schedule_build(
    ctx: click.Context, channel_ids: tuple[str, ...], first_day: datetime | None, days: int | None
) -> None:
    """Build (or rebuild) the EPG; events before the freeze horizon and locked edits are kept."""
    from rcmedia.scheduling.epg import build_all

    settings = _settings(ctx)
    with open_context(settings) as ictx:
        store = ScheduleStore(ictx.catalog.engine)
        built = build_all(
            store,
            first_day=first_day.date() if first_day else None,
            days=days or settings.schedule_days,
            now=ictx.clock.now(),
            channel_ids=list(channel_ids),
            freeze=_freeze(settings),
        )
    _report_builds(built)


@main.group()
def epg() -> None:
    """EPG exports."""


@epg.command("export")
@click.option(
    "--output", "output_name", type=click.Choice([o.value for o in Output]), default="iptv", show_default=True
)
@click.option("--days", type=click.IntRange(1, 60), default=7, show_default=True)
@click.pass_context
@_guard
def epg_export(ctx: click.Context, output_name: str, days: int) -> None:
    """Write the XMLTV of every channel on an output to stdout (catch-up days included)."""
    from rcmedia.scheduling.epg import xmltv_document

    with open_context(_settings(ctx)) as ictx:
        store = ScheduleStore(ictx.catalog.engine)
        for chunk in xmltv_document(store, output=Output(output_name), days=days, now=ictx.clock.now()):
            sys.stdout.write(chunk)


def _serve(
    ictx: IngestContext,
    host: str,
    port: int,
    on_ready: Callable[[Any], None] | None = None,
    *,
    jobs: bool = True,
) -> None:
    from rcmedia.scheduling.jobs import start_jobs
    from rcmedia.web.app import create_app, serve

    settings = ictx.settings
    runner = JobRunner(ictx)
    runner.start()
    scheduler = start_jobs(
        settings, schedule=jobs, hot_folder=HotFolder(ictx, settings.hot_folder), runner=runner
    )
    app = create_app(
        settings=settings,
        catalog=ictx.catalog,
        storage=ictx.storage,
        profiles=ictx.profiles,
        clock=ictx.clock,
    )
    try:
        asyncio.run(serve(app, host=host, port=port, on_ready=on_ready))
    except KeyboardInterrupt:
        pass
    finally:
        scheduler.shutdown(wait=False)
        runner.stop()


@main.command()
@click.option("--host", help="Address to listen on (default: the host setting).")
@click.option("--port", type=int, help="Port to listen on (default: the port setting).")
@click.option("--no-scheduler", is_flag=True, help="Leave the EPG jobs to a separate `rcmedia scheduler`.")
@click.pass_context
@_guard
def serve(ctx: click.Context, host: str | None, port: int | None, no_scheduler: bool) -> None:
    """Serve the origin (VOD, media, EPG, API), run ingest jobs, the hot folder and the EPG jobs."""
    settings = _settings(ctx, host=host, port=port)
    with open_context(settings) as ictx:
        _serve(
            ictx,
            settings.host,
            settings.port,
            on_ready=lambda server: console.print(f"serving on {server.url}"),
            jobs=not no_scheduler,
        )


@main.command()
@click.pass_context
@_guard
def scheduler(ctx: click.Context) -> None:
    """Own the EPG jobs (daily build, rebuild on change) when `serve` runs on several machines."""
    from rcmedia.scheduling.jobs import start_jobs

    settings = _settings(ctx)
    with open_context(settings):  # migrates the catalog and checks the settings
        pass
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    running = start_jobs(settings)
    console.print("scheduler running (daily EPG build, rebuild on change); Ctrl-C stops it")
    stop.wait()
    running.shutdown(wait=False)


@main.command()
@click.option("--host", help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default 8080).")
@click.option(
    "--seconds", type=float, default=12.0, show_default=True, help="Length of each sample programme."
)
@click.option("--no-serve", is_flag=True, help="Prepare everything, print the URLs, and exit.")
@click.pass_context
@_guard
def demo(ctx: click.Context, host: str | None, port: int | None, seconds: float, no_serve: bool) -> None:
    """The whole thing on the embedded defaults: sample courseware for the channels in playlists/
    (if the library is empty) → ingest with progress → apply playlists/ → build today and
    tomorrow → serve, printing the URLs to open."""
    from rcmedia.demo import make_courseware, plan_courseware
    from rcmedia.ingest.intake import submit_slate
    from rcmedia.scheduling.epg import apply_channel_files, build_all, read_channel_files

    settings = _settings(ctx, host=host, port=port)
    paths = sorted(settings.playlists_dir.glob("*.toml"))
    if not paths:
        raise ConfigError(
            f"no channel files (*.toml) in {str(settings.playlists_dir)!r} (setting playlists_dir)"
        )
    with open_context(settings) as ictx:
        store = ScheduleStore(ictx.catalog.engine)
        if ictx.catalog.find_assets(AssetQuery(limit=1)).total == 0:
            channel_list = [f.channel for f in read_channel_files(paths, known_series=None)]
            folder = settings.home / "samples"
            clips = plan_courseware(channel_list, seconds=seconds)
            console.print(
                f"making {len(clips)} sample programmes for {len(channel_list)} channel(s) in {folder} …"
            )
            made = make_courseware(folder, clips, ffmpeg=ictx.ffmpeg)
            console.print(
                "making the house slate (a title card cut so that any gap can be filled to the frame) …"
            )
            (slate,) = JobRunner(ictx).run_jobs([submit_slate(ictx, title="精彩节目 马上回来")])
            report([slate], 1)
            report(ingest_files(ictx, made), len(made))
        else:
            console.print("the catalog already has assets; not making samples (delete var/ to start over)")
        now = ictx.clock.now()
        versions = apply_channel_files(store, paths, now=now)
        console.print(f"applied channel(s): {', '.join(sorted(versions))}")
        _report_builds(build_all(store, first_day=None, days=2, now=now, freeze=_freeze(settings)))

        def ready(server: Any) -> None:
            print_urls(ictx, server.url)

        if no_serve:
            print_urls(ictx, settings.base_url(), serving=False)
            return
        _serve(ictx, settings.host, settings.port, on_ready=ready)


def print_urls(ictx: IngestContext, base: str, *, serving: bool = True) -> None:
    page = ictx.catalog.find_assets(AssetQuery(limit=200))
    if serving:
        console.print(f"\n[bold]rcmedia is serving on {base}[/]")
    else:
        console.print(f"\n[bold]`rcmedia serve` will serve these on {base}[/]")
    console.print(f"  catalog API : {base}/api/v1/assets")
    console.print(f"  ingest jobs : {base}/api/v1/jobs")
    console.print(f"  health      : {base}/healthz")
    console.print(f"  IPTV list   : {base}/channels.m3u?output=iptv   (Kodi IPTV Simple, TiviMate, VLC)")
    console.print(f"  XMLTV guide : {base}/epg.xml?output=iptv")
    console.print(f"  channels    : {base}/api/v1/channels")
    for asset in page.items:
        if asset.status.value == "published":
            console.print(
                f"  asset {asset.id:>3}  : {base}/vod/{asset.id}/master.m3u8  ({asset.metadata.title})"
            )
    console.print("Open a master playlist in VLC, ffplay or Safari.")
    if serving:
        console.print("Ctrl-C stops the server.\n")
