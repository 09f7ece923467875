"""`rcmedia schedule` (build, edit) and `rcmedia epg export`."""

from __future__ import annotations

import sys
from datetime import datetime
from zoneinfo import ZoneInfo

import click
from rich.console import Console
from rich.table import Table

from rcmedia.bootstrap import open_context
from rcmedia.cli.common import cli_actor, console, freeze_of, guard, report_builds, settings_of
from rcmedia.core.audit import AuditAction, channel_target
from rcmedia.core.edits import Edit, EditKind
from rcmedia.core.models import Output
from rcmedia.errors import ConflictError, ScheduleError
from rcmedia.terminal import shown


@click.group()
def schedule() -> None:
    """The EPG: build days ahead."""


@schedule.command("build")
@click.option("--channel", "channel_ids", multiple=True, help="Channel id (default: every channel).")
@click.option(
    "--date", "first_day", type=click.DateTime(formats=["%Y-%m-%d"]), help="First day (default today)."
)
@click.option("--days", type=click.IntRange(1, 60), help="Days to build (default: schedule_days).")
@click.pass_context
@guard
def schedule_build(
    ctx: click.Context, channel_ids: tuple[str, ...], first_day: datetime | None, days: int | None
) -> None:
    """Build (or rebuild) the EPG; events before the freeze horizon and locked edits are kept."""
    from rcmedia.service.schedules import build_all

    settings = settings_of(ctx)
    with open_context(settings) as ictx:
        store = ictx.catalog.schedules
        now = ictx.clock.now()
        built = build_all(
            store,
            first_day=first_day.date() if first_day else None,
            days=days or settings.schedule_days,
            now=now,
            channel_ids=list(channel_ids),
            freeze=freeze_of(settings),
            clock=ictx.clock,
        )
        # recorded after the build was stored (each channel output in its own transaction)
        for channel_id, outputs in sorted(built.items()):
            ictx.catalog.audit.record(
                cli_actor(),
                AuditAction.SCHEDULE_REBUILD,
                channel_target(channel_id),
                after={
                    output.value: [str(d.day) for d in days_built] for output, days_built in outputs.items()
                },
                now=now,
            )
    report_builds(built)


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
@click.option(
    "--version",
    "version",
    type=click.IntRange(min=1),
    help="Refuse the edit if the day is no longer at this version (what `GET …/schedule` said).",
)
@click.pass_context
@guard
def schedule_edit(
    ctx: click.Context,
    channel_id: str,
    output_name: str,
    day: datetime,
    action: str,
    event_start: str | None,
    asset_id: int | None,
    to: str | None,
    version: int | None,
) -> None:
    """Edit a built day: replace, move, insert, delete, lock or unlock an event.

    The edit is locked (it survives rebuilds) and the day is re-chained from it on. A refused
    edit (inside the freeze horizon, into a fixed slot, an asset without rights) prints the
    reason and exits with status 1.
    """
    from rcmedia.core.changes import EDIT_FIELDS, clock_time_in_day
    from rcmedia.service.channels import channel_on
    from rcmedia.service.schedules import edit_schedule

    kind = EditKind(action)
    given = {"event_start": event_start, "asset_id": asset_id, "to": to}
    flags = {"event_start": "--at", "asset_id": "--asset", "to": "--to"}
    for field, value in given.items():
        if (value is None) == (field in EDIT_FIELDS[kind]):
            needs = "needs" if value is None else "takes no"
            raise click.UsageError(f"a {action} edit {needs} {flags[field]}")
    settings = settings_of(ctx)
    with open_context(settings) as ictx:
        store = ictx.catalog.schedules
        channel = channel_on(store, channel_id, Output(output_name))
        edit = Edit(
            kind=kind,
            event_start=clock_time_in_day(channel, day.date(), event_start) if event_start else None,
            asset_id=asset_id,
            to=clock_time_in_day(channel, day.date(), to) if to else None,
        )
        try:
            edited = edit_schedule(
                store,
                channel.id,
                Output(output_name),
                edit,
                day=day.date(),
                now=ictx.clock.now(),
                freeze=freeze_of(settings),
                expected_version=version,
                actor=cli_actor(),
            )
        except (ScheduleError, ConflictError) as exc:
            console.print(f"[red]✗ refused:[/] {shown(exc)}")
            sys.exit(1)
    zone = ZoneInfo(channel.timezone)
    table = Table("start", "end", "kind", "title", "asset", "locked")
    for event in edited.events:
        table.add_row(
            f"{event.start.astimezone(zone):%H:%M:%S}",
            f"{event.end.astimezone(zone):%H:%M:%S}",
            event.kind.value,
            shown(event.title),
            str(event.asset_id),
            "locked" if event.locked else "",
        )
    Console().print(table)
    console.print(
        f"[green]✓[/] {action} applied to {channel.id}/{output_name} on {day.date()} (version {edited.version})"
    )


@click.group()
def epg() -> None:
    """EPG exports."""


@epg.command("export")
@click.option(
    "--output", "output_name", type=click.Choice([o.value for o in Output]), default="iptv", show_default=True
)
@click.option("--days", type=click.IntRange(1, 60), default=7, show_default=True)
@click.pass_context
@guard
def epg_export(ctx: click.Context, output_name: str, days: int) -> None:
    """Write the XMLTV of every channel on an output to stdout (catch-up days included)."""
    from rcmedia.service.guide import xmltv_document

    settings = settings_of(ctx)
    with open_context(settings) as ictx:
        store = ictx.catalog.schedules
        chunks = xmltv_document(
            store, output=Output(output_name), days=days, now=ictx.clock.now(), site_url=settings.public_url
        )
        for chunk in chunks:
            sys.stdout.write(chunk)
