"""The ``rcmedia`` command: the entry point that wires settings to adapters."""

from __future__ import annotations

import functools
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Table

from rcmedia import __version__
from rcmedia.bootstrap import open_context
from rcmedia.catalog.accounts import Accounts
from rcmedia.catalog.db import make_engine, upgrade
from rcmedia.catalog.repository import AssetQuery
from rcmedia.catalog.schedules import ScheduleStore
from rcmedia.clock import SystemClock
from rcmedia.config import Settings, load_settings, settings_markdown
from rcmedia.core.accounts import Role, check_password
from rcmedia.core.assets import Job
from rcmedia.core.edits import Edit, EditKind
from rcmedia.core.models import JobState, Output, Source
from rcmedia.errors import ConfigError, RcmediaError, ScheduleError
from rcmedia.ingest.context import IngestContext
from rcmedia.ingest.hotfolder import HotFolder
from rcmedia.ingest.intake import submit
from rcmedia.ingest.runner import JobRunner
from rcmedia.ingest.sidecar import read_sidecar
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


@main.group(invoke_without_command=True)
@click.option("--search", "text", help="Part of the title or file name.")
@click.option("--limit", default=50, show_default=True)
@click.pass_context
@_guard
def assets(ctx: click.Context, text: str | None, limit: int) -> None:
    """List assets in the catalog (or change one: see the commands)."""
    if ctx.invoked_subcommand is not None:
        return
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


@assets.command("rights")
@click.argument("asset_id", type=click.IntRange(min=1))
@click.option(
    "--output",
    "output_names",
    multiple=True,
    required=True,
    type=click.Choice([o.value for o in Output]),
    help="Output to set (repeat for several).",
)
@click.option("--from", "start", help="Allowed from: YYYY-MM-DD or a date-time (default: open).")
@click.option("--until", "end", help="Allowed until, exclusive: YYYY-MM-DD or a date-time (default: open).")
@click.option("--none", "remove", is_flag=True, help="Not allowed on these outputs at all.")
@click.pass_context
@_guard
def assets_rights(
    ctx: click.Context,
    asset_id: int,
    output_names: tuple[str, ...],
    start: str | None,
    end: str | None,
    remove: bool,
) -> None:
    """Set where and when an asset may air: one window per output, or none.

    Dates and date-times without an offset are in Asia/Shanghai, as in sidecar files. Running
    schedulers rebuild the EPG after the freeze horizon within a minute.
    """
    from rcmedia.core.changes import rights_bound, window_rights
    from rcmedia.core.metadata import SHANGHAI

    if remove and (start or end):
        raise click.UsageError("--none takes no --from or --until")
    starts = rights_bound(start, "--from", SHANGHAI) if start else None
    ends = rights_bound(end, "--until", SHANGHAI) if end else None
    with open_context(_settings(ctx)) as ictx:
        rights = ictx.catalog.get_asset(asset_id).metadata.rights
        for name in output_names:
            rights = window_rights(rights, Output(name), start=starts, end=ends, allowed=not remove)
        asset = ictx.catalog.set_rights(asset_id, rights, now=ictx.clock.now())
    for output in Output:
        windows = [r for r in asset.metadata.rights if r.output is output]
        shown = ", ".join(f"{_moment(r.start, 'open')} → {_moment(r.end, 'open')}" for r in windows)
        console.print(f"  asset {asset.id} on {output.value}: {shown or 'not allowed'}")


def _moment(moment: datetime | None, default: str) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else default


@assets.command("withdraw")
@click.argument("asset_id", type=click.IntRange(min=1))
@click.pass_context
@_guard
def assets_withdraw(ctx: click.Context, asset_id: int) -> None:
    """Take a published asset off VOD and off the channels (from the next EPG rebuild on)."""
    with open_context(_settings(ctx)) as ictx:
        asset = ictx.catalog.withdraw(asset_id, now=ictx.clock.now())
    console.print(f"[green]✓[/] asset {asset.id} {asset.metadata.title!r} is withdrawn")


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


@schedule.command("edit")
@click.option("--channel", "channel_id", required=True, help="Channel id.")
@click.option("--output", "output_name", required=True, type=click.Choice([o.value for o in Output]))
@click.option(
    "--date", "day", required=True, type=click.DateTime(formats=["%Y-%m-%d"]), help="Broadcast day."
)
@click.argument("action", type=click.Choice([k.value for k in EditKind]))
@click.option(
    "--at",
    "event_start",
    help="Start of the event to edit (replace, move, delete, lock, unlock): HH:MM[:SS] on the "
    "channel's clock within the broadcast day, or a date-time.",
)
@click.option("--asset", "asset_id", type=click.IntRange(min=1), help="Asset to put in (replace, insert).")
@click.option("--to", "to", help="Where to place it (move, insert), written as --at.")
@click.pass_context
@_guard
def schedule_edit(
    ctx: click.Context,
    channel_id: str,
    output_name: str,
    day: datetime,
    action: str,
    event_start: str | None,
    asset_id: int | None,
    to: str | None,
) -> None:
    """Edit a built day: replace, move, insert, delete, lock or unlock an event.

    The edit is locked (it survives rebuilds) and the day is re-chained from it on. A refused
    edit (inside the freeze horizon, into a fixed slot, an asset without rights) prints the
    reason and exits with status 1.
    """
    from rcmedia.core.changes import EDIT_FIELDS, clock_time_in_day
    from rcmedia.scheduling.epg import edit_schedule, load_channels

    kind = EditKind(action)
    given = {"event_start": event_start, "asset_id": asset_id, "to": to}
    flags = {"event_start": "--at", "asset_id": "--asset", "to": "--to"}
    for field, value in given.items():
        if (value is None) == (field in EDIT_FIELDS[kind]):
            needs = "needs" if value is None else "takes no"
            raise click.UsageError(f"a {action} edit {needs} {flags[field]}")
    settings = _settings(ctx)
    with open_context(settings) as ictx:
        store = ScheduleStore(ictx.catalog.engine)
        channel = next((c for c in load_channels(store) if c.id == channel_id), None)
        if channel is None:
            raise ConfigError(f"unknown channel {channel_id!r}; apply it first")
        edit = Edit(
            kind=kind,
            event_start=clock_time_in_day(channel, day.date(), event_start) if event_start else None,
            asset_id=asset_id,
            to=clock_time_in_day(channel, day.date(), to) if to else None,
        )
        try:
            edited = edit_schedule(
                store,
                channel,
                Output(output_name),
                edit,
                day=day.date(),
                now=ictx.clock.now(),
                freeze=_freeze(settings),
            )
        except ScheduleError as exc:
            console.print(f"[red]✗ refused:[/] {exc}")
            sys.exit(1)
    zone = ZoneInfo(channel.timezone)
    table = Table("start", "end", "kind", "title", "asset", "locked")
    for event in edited.events:
        table.add_row(
            f"{event.start.astimezone(zone):%H:%M:%S}",
            f"{event.end.astimezone(zone):%H:%M:%S}",
            event.kind.value,
            event.title,
            str(event.asset_id),
            "locked" if event.locked else "",
        )
    Console().print(table)
    console.print(f"[green]✓[/] {action} applied to {channel.id}/{output_name} on {day.date()}")


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


@main.group()
def users() -> None:
    """Accounts for the operator and editor actions (web API and pages)."""


@contextmanager
def _accounts(settings: Settings) -> Iterator[Accounts]:
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        yield Accounts(engine)
    finally:
        engine.dispose()


def _new_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    check_password(password)
    return password


PASSWORD_STDIN = click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of standard input."
)


@users.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@PASSWORD_STDIN
@click.pass_context
@_guard
def users_add(ctx: click.Context, name: str, role: str, password_stdin: bool) -> None:
    """Add an account: admin (everything), operator (schedule edits) or editor (assets)."""
    password = _new_password(password_stdin)
    with _accounts(_settings(ctx)) as accounts:
        user = accounts.add_user(name, Role(role), password, now=SystemClock().now())
    console.print(f"[green]✓[/] account {user.name!r} ({user.role.value}) added")


@users.command("list")
@click.pass_context
@_guard
def users_list(ctx: click.Context) -> None:
    """List the accounts."""
    with _accounts(_settings(ctx)) as accounts:
        table = Table("name", "role", "created", "state")
        for user in accounts.users():
            table.add_row(
                user.name,
                user.role.value,
                f"{user.created_at:%Y-%m-%d %H:%M} UTC",
                "disabled" if user.disabled else "enabled",
            )
    Console().print(table)


@users.command("passwd")
@click.argument("name")
@PASSWORD_STDIN
@click.pass_context
@_guard
def users_passwd(ctx: click.Context, name: str, password_stdin: bool) -> None:
    """Set an account's password (it is logged out everywhere)."""
    password = _new_password(password_stdin)
    with _accounts(_settings(ctx)) as accounts:
        accounts.set_password(name, password)
    console.print(f"[green]✓[/] password of {name!r} changed")


@users.command("disable")
@click.argument("name")
@click.pass_context
@_guard
def users_disable(ctx: click.Context, name: str) -> None:
    """Disable an account (it is logged out everywhere and can no longer log in)."""
    with _accounts(_settings(ctx)) as accounts:
        accounts.set_disabled(name, disabled=True)
    console.print(f"[green]✓[/] account {name!r} disabled")


@users.command("enable")
@click.argument("name")
@click.pass_context
@_guard
def users_enable(ctx: click.Context, name: str) -> None:
    """Enable a disabled account again."""
    with _accounts(_settings(ctx)) as accounts:
        accounts.set_disabled(name, disabled=False)
    console.print(f"[green]✓[/] account {name!r} enabled")


def _serve(
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
    runner = JobRunner(ictx)
    runner.start()
    scheduler = start_jobs(
        settings, schedule=jobs, hot_folder=HotFolder(ictx, settings.hot_folder), runner=runner
    )
    status = 0
    try:
        if workers > 1:
            worker = functools.partial(_serve_worker, settings, host, port, access_log)
            status = run_workers(workers, worker, host=host, port=port, on_ready=on_ready)
        else:
            app = _origin_app(ictx)
            run_event_loop(serve(app, host=host, port=port, on_ready=on_ready, stop_on=(signal.SIGTERM,)))
    except KeyboardInterrupt:
        pass
    finally:
        stop_jobs(scheduler)
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


@main.command()
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
@_guard
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
    settings = _settings(ctx, host=host, port=port, workers=workers)
    count = worker_count(settings.workers)
    with open_context(settings) as ictx:
        _serve(
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


@main.command()
@click.pass_context
@_guard
def scheduler(ctx: click.Context) -> None:
    """Own the EPG jobs (daily build, rebuild on change) when `serve` runs on several machines."""
    from rcmedia.scheduling.jobs import start_jobs, stop_jobs

    settings = _settings(ctx)
    with open_context(settings):  # migrates the catalog and checks the settings
        pass
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    running = start_jobs(settings)
    console.print("scheduler running (daily EPG build, rebuild on change); Ctrl-C stops it")
    stop.wait()
    stop_jobs(running)


@main.command()
@click.option("--host", help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default 8080).")
@click.option(
    "--seconds",
    type=click.FloatRange(min=1.0),
    help="Make every sample clip this long (default: programmes 20-90 s, filler 10-20 s, idents 3-5 s).",
)
@click.option("--no-serve", is_flag=True, help="Prepare everything, print the URLs, and exit.")
@click.pass_context
@_guard
def demo(
    ctx: click.Context, host: str | None, port: int | None, seconds: float | None, no_serve: bool
) -> None:
    """The whole thing on the embedded defaults: sample courseware for the channels in playlists/
    (if the library is empty) → ingest with progress → apply playlists/ → build today and
    tomorrow → serve, printing the URLs to open."""
    import os

    from rcmedia.demo import ingest_samples, plan_courseware
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
                f"making {len(clips)} sample programmes for {len(channel_list)} channel(s) in {folder}, "
                "and the house slate (a title card cut so that any gap can be filled to the frame); "
                "each is ingested as soon as it is made …"
            )
            progress = IngestProgress()
            runner = JobRunner(
                ictx, slots=os.cpu_count() or 2, on_progress=progress.update, on_finished=progress.finish
            )
            with progress.bars:
                jobs = ingest_samples(ictx, clips, folder, runner=runner, on_queued=progress.add)
            report(jobs, len(clips) + 1)
        else:
            console.print("the catalog already has assets; not making samples (delete var/ to start over)")
        now = ictx.clock.now()
        versions = apply_channel_files(store, paths, now=now)
        console.print(f"applied channel(s): {', '.join(sorted(versions))}")
        _report_builds(build_all(store, first_day=None, days=2, now=now, freeze=_freeze(settings)))

        def ready(server: Any) -> None:
            print_urls(ictx, store, server.url)

        if no_serve:
            print_urls(ictx, store, settings.base_url(), serving=False)
            return
        _serve(ictx, settings.host, settings.port, on_ready=ready)


def print_urls(ictx: IngestContext, store: ScheduleStore, base: str, *, serving: bool = True) -> None:
    """What to open: the player, each channel's page and live stream, the IPTV list, the guide."""
    import math
    from zoneinfo import ZoneInfo

    from rcmedia.core.models import AssetStatus
    from rcmedia.demo import last_programme, on_air
    from rcmedia.scheduling.epg import load_channels

    if serving:
        console.print(f"\n[bold]rcmedia is serving on {base}[/]")
    else:
        console.print(f"\n[bold]`rcmedia serve` will serve these on {base}[/]")
    console.print(f"  player, TV guide : {base}/watch")
    now = ictx.clock.now()
    for channel in load_channels(store):
        output = Output.IPTV if Output.IPTV in channel.outputs else channel.outputs[0]
        console.print(f"  {channel.name} ({channel.id}) : {base}/watch/{channel.id}")
        console.print(
            f"      live stream  : {base}/live/{channel.id}/{output.value}/master.m3u8  (VLC, ffplay, Safari)"
        )
        console.print(f"      on air       : {on_air(store, channel, output, now)}")
        aired = last_programme(store, channel, output, now)
        if aired is not None:
            utc = int(aired.start.timestamp())
            duration = math.ceil(aired.end.timestamp()) - utc
            console.print(
                f"      replay       : {base}/watch/{channel.id}?utc={utc}&duration={duration}  "
                f"({aired.title}, {aired.start.astimezone(ZoneInfo(channel.timezone)):%H:%M})"
            )
    console.print(f"  IPTV list        : {base}/channels.m3u?output=iptv  (VLC, Kodi IPTV Simple, TiviMate)")
    console.print(f"  XMLTV guide      : {base}/epg.xml?output=iptv")
    published = ictx.catalog.find_assets(AssetQuery(status=AssetStatus.PUBLISHED, limit=100))
    example = next((a for a in published.items if a.metadata.episode is not None), None)
    if example is not None:
        console.print(
            f"  on demand        : {published.total} assets, e.g. {base}/watch/vod/{example.id} "
            f"({example.metadata.title}); HLS {base}/vod/{example.id}/master.m3u8"
        )
    console.print(f"  API              : {base}/api/v1/channels  {base}/api/v1/assets  {base}/api/v1/jobs")
    console.print(f"  health           : {base}/healthz")
    if serving:
        console.print("Ctrl-C stops the server.\n")
