"""`rcmedia assets`: list, rights and withdrawal."""

from __future__ import annotations

from datetime import datetime

import click
from rich.console import Console
from rich.table import Table

from rcmedia.bootstrap import open_context
from rcmedia.catalog.repository import AssetQuery
from rcmedia.cli.common import console, guard, settings_of
from rcmedia.core.models import Output
from rcmedia.terminal import shown


@click.group(invoke_without_command=True)
@click.option("--search", "text", help="Words of the title, series, description or file name.")
@click.option("--limit", default=50, show_default=True)
@click.pass_context
@guard
def assets(ctx: click.Context, text: str | None, limit: int) -> None:
    """List assets in the catalog (or change one: see the commands)."""
    if ctx.invoked_subcommand is not None:
        return
    with open_context(settings_of(ctx)) as ictx:
        page = ictx.catalog.find_assets(AssetQuery(text=text, limit=limit))
    table = Table("asset", "title", "series", "file", "status", "duration", "renditions")
    for asset in page.items:
        table.add_row(
            str(asset.id),
            shown(asset.metadata.title),
            shown(asset.metadata.series or ""),
            shown(asset.original_filename),
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
@guard
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
    with open_context(settings_of(ctx)) as ictx:
        current = ictx.catalog.get_asset(asset_id)
        rights = current.metadata.rights
        for name in output_names:
            rights = window_rights(rights, Output(name), start=starts, end=ends, allowed=not remove)
        # on the version read: another editor's change in between is refused, never overwritten
        asset = ictx.catalog.set_rights(
            asset_id, rights, now=ictx.clock.now(), expected_version=current.version
        )
    for output in Output:
        windows = [r for r in asset.metadata.rights if r.output is output]
        spans = ", ".join(f"{_moment(r.start, 'open')} → {_moment(r.end, 'open')}" for r in windows)
        console.print(f"  asset {asset.id} on {output.value}: {spans or 'not allowed'}")


def _moment(moment: datetime | None, default: str) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else default


@assets.command("withdraw")
@click.argument("asset_id", type=click.IntRange(min=1))
@click.pass_context
@guard
def assets_withdraw(ctx: click.Context, asset_id: int) -> None:
    """Take a published asset off VOD and off the channels (from the next EPG rebuild on)."""
    with open_context(settings_of(ctx)) as ictx:
        asset = ictx.catalog.withdraw(asset_id, now=ictx.clock.now())
    console.print(f"[green]✓[/] asset {asset.id} {shown(repr(asset.metadata.title))} is withdrawn")


@assets.command("rerate")
@click.option("--dry-run", is_flag=True, help="Show what would change; store nothing.")
@click.pass_context
@guard
def assets_rerate(ctx: click.Context, dry_run: bool) -> None:
    """Measure every published asset's BANDWIDTH again from its stored segments (RFC 8216bis peak).

    Assets packaged before the peak was measured over runs of segments advertise the rate of their
    shortest segment; this rates them as new packages are. Live masters pick the change up.
    """
    from rcmedia.ingest.rerate import rerate_published

    with open_context(settings_of(ctx)) as ictx:
        changed = 0
        for rerated in rerate_published(ictx.catalog, ictx.storage, now=ictx.clock.now(), dry_run=dry_run):
            if not rerated.changed:
                continue
            changed += 1
            for name, (peak, average) in sorted(rerated.after.items()):
                old_peak, old_average = rerated.before.get(name, (0, 0))
                console.print(
                    f"asset {rerated.asset_id} {name}: BANDWIDTH {old_peak} → {peak}, "
                    f"AVERAGE-BANDWIDTH {old_average} → {average}"
                )
    verb = "would change" if dry_run else "changed"
    console.print(f"[green]✓[/] {changed} asset(s) {verb}")


@assets.command("repackage")
@click.argument("asset_ids", nargs=-1, type=click.IntRange(min=1))
@click.option("--all", "every", is_flag=True, help="Every published MPEG-TS asset.")
@click.pass_context
@guard
def assets_repackage(ctx: click.Context, asset_ids: tuple[int, ...], every: bool) -> None:
    """Re-package published assets so that their audio starts and ends with their pictures.

    No re-encoding: the same segments, the audio re-stamped, verified, then published under a new
    prefix and switched to in one catalog change. fMP4 assets are refused.
    """
    from rcmedia.core.models import AssetStatus
    from rcmedia.ingest.repackage import repackage_asset

    if not asset_ids and not every:
        raise click.UsageError("name the assets to re-package, or give --all")
    with open_context(settings_of(ctx)) as ictx:
        ids = list(asset_ids)
        if every:
            offset = 0
            while True:
                page = ictx.catalog.find_assets(
                    AssetQuery(status=AssetStatus.PUBLISHED, limit=100, offset=offset)
                )
                ids += [a.id for a in page.items if a.segment_type == "mpegts"]
                offset += len(page.items)
                if not page.items or offset >= page.total:
                    break
        for asset_id in ids:
            done = repackage_asset(ictx, asset_id)
            shifts = ", ".join(
                f"{name} {done.before[name][0]:+.1f}/{done.before[name][1]:+.1f} → {start:+.1f}/{end:+.1f} ms"
                for name, (start, end) in done.after.items()
            )
            console.print(
                f"[green]✓[/] asset {asset_id} re-packaged as {shown(done.new_prefix)}: audio {shifts}"
            )
