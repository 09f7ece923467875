"""`rcmedia demo`: the whole thing on the embedded defaults, and the URLs to open."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import click

from rcmedia.bootstrap import open_context
from rcmedia.catalog.repository import AssetQuery
from rcmedia.catalog.schedules import ScheduleStore
from rcmedia.cli.common import console, freeze_of, guard, report_builds, settings_of
from rcmedia.cli.progress import IngestProgress, report
from rcmedia.cli.serve import serve_until_stopped
from rcmedia.core.models import Output
from rcmedia.errors import ConfigError
from rcmedia.ingest.context import IngestContext
from rcmedia.ingest.runner import JobRunner
from rcmedia.terminal import shown


@click.command()
@click.option("--host", help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default 8080).")
@click.option(
    "--seconds",
    type=click.FloatRange(min=1.0),
    help="Make every sample clip this long (default: programmes 20-90 s, filler 10-20 s, idents 3-5 s).",
)
@click.option("--no-serve", is_flag=True, help="Prepare everything, print the URLs, and exit.")
@click.pass_context
@guard
def demo(
    ctx: click.Context, host: str | None, port: int | None, seconds: float | None, no_serve: bool
) -> None:
    """The whole thing on the embedded defaults: sample courseware for the channels in playlists/
    (if the library is empty) → ingest with progress → apply playlists/ → build today and
    tomorrow → serve, printing the URLs to open."""
    import os

    from rcmedia.demo import ingest_samples, plan_courseware
    from rcmedia.service.channels import apply_channel_files, read_channel_files
    from rcmedia.service.schedules import build_all

    settings = settings_of(ctx, host=host, port=port)
    paths = sorted(settings.playlists_dir.glob("*.toml"))
    if not paths:
        raise ConfigError(
            f"no channel files (*.toml) in {str(settings.playlists_dir)!r} (setting playlists_dir)"
        )
    with open_context(settings) as ictx:
        store = ictx.catalog.schedules
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
        report_builds(build_all(store, first_day=None, days=2, now=now, freeze=freeze_of(settings)))

        def ready(server: Any) -> None:
            print_urls(ictx, store, server.url)

        if no_serve:
            print_urls(ictx, store, settings.base_url(), serving=False)
            return
        serve_until_stopped(ictx, settings.host, settings.port, on_ready=ready)


def print_urls(ictx: IngestContext, store: ScheduleStore, base: str, *, serving: bool = True) -> None:
    """What to open: the player, each channel's page and live stream, the IPTV list, the guide."""
    import math

    from rcmedia.core.models import AssetStatus
    from rcmedia.demo import last_programme, on_air
    from rcmedia.service.channels import load_channels

    if serving:
        console.print(f"\n[bold]rcmedia is serving on {base}[/]")
    else:
        console.print(f"\n[bold]`rcmedia serve` will serve these on {base}[/]")
    console.print(f"  player, TV guide : {base}/watch")
    now = ictx.clock.now()
    for channel in load_channels(store):
        output = Output.IPTV if Output.IPTV in channel.outputs else channel.outputs[0]
        console.print(f"  {shown(channel.name)} ({channel.id}) : {base}/watch/{channel.id}")
        console.print(
            f"      live stream  : {base}/live/{channel.id}/{output.value}/master.m3u8  (VLC, ffplay, Safari)"
        )
        console.print(f"      on air       : {shown(on_air(store, channel, output, now))}")
        aired = last_programme(store, channel, output, now)
        if aired is not None:
            utc = int(aired.start.timestamp())
            duration = math.ceil(aired.end.timestamp()) - utc
            console.print(
                f"      replay       : {base}/watch/{channel.id}?utc={utc}&duration={duration}  "
                f"({shown(aired.title)}, {aired.start.astimezone(ZoneInfo(channel.timezone)):%H:%M})"
            )
    console.print(f"  IPTV list        : {base}/channels.m3u?output=iptv  (VLC, Kodi IPTV Simple, TiviMate)")
    console.print(f"  XMLTV guide      : {base}/epg.xml?output=iptv")
    published = ictx.catalog.find_assets(AssetQuery(status=AssetStatus.PUBLISHED, limit=100))
    example = next((a for a in published.items if a.metadata.episode is not None), None)
    if example is not None:
        console.print(
            f"  on demand        : {published.total} assets, e.g. {base}/watch/vod/{example.id} "
            f"({shown(example.metadata.title)}); HLS {base}/vod/{example.id}/master.m3u8"
        )
    console.print(f"  API              : {base}/api/v1/channels  {base}/api/v1/assets  {base}/api/v1/jobs")
    console.print(f"  health           : {base}/healthz")
    console.print(
        f"  operations       : {base}/ops  (rundowns, uploads, jobs, catalog; first make an account:"
        " rcmedia users add NAME --role admin)"
    )
    if serving:
        console.print("Ctrl-C stops the server.\n")
