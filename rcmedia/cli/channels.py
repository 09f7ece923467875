"""`rcmedia channels`: apply channel and grid files."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from rcmedia.bootstrap import open_context
from rcmedia.cli.common import cli_actor, console, freeze_of, guard, report_builds, settings_of
from rcmedia.terminal import shown


@click.group()
def channels() -> None:
    """Channels and their programme grids (TOML files in playlists/)."""


@channels.command("apply")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--no-build", is_flag=True, help="Store the channels without building their EPG.")
@click.pass_context
@guard
def channels_apply(ctx: click.Context, files: tuple[Path, ...], no_build: bool) -> None:
    """Validate channel files (default: every playlists/*.toml) and load them all, or none.

    Every error names the file, the line or key, and what is wrong. Afterwards the EPG of the
    applied channels is rebuilt from today for `schedule_days` days (unless --no-build). Each
    changed channel is in the audit log (grid.apply, by cli:<os user>).
    """
    from rcmedia.service.channels import InvalidChannelFiles, apply_channel_files
    from rcmedia.service.schedules import build_all

    settings = settings_of(ctx)
    paths = list(files) or sorted(settings.playlists_dir.glob("*.toml"))
    with open_context(settings) as ictx:
        store = ictx.catalog.schedules
        now = ictx.clock.now()
        try:
            versions = apply_channel_files(store, paths, now=now, actor=cli_actor())
        except InvalidChannelFiles as exc:
            for error in exc.errors:
                console.print(f"[red]✗[/] {shown(error)}")
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
                freeze=freeze_of(settings),
                clock=ictx.clock,
            )
            report_builds(built)
