"""The ``rcmedia`` command: the entry point that wires settings to adapters.

One module per command group; this one makes the root group and adds them.
"""

from __future__ import annotations

import click

from rcmedia import __version__
from rcmedia.cli import assets, audit, channels, db, demo, ingest, init, schedule, serve, storage, users
from rcmedia.cli.common import console
from rcmedia.config import load_settings
from rcmedia.core.text import visible
from rcmedia.errors import RcmediaError
from rcmedia.logs import configure_logging


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="rcmedia")
@click.pass_context
def main(ctx: click.Context) -> None:
    """rcmedia: ingest, schedule and play out education channels."""
    try:
        settings = load_settings()
    except RcmediaError as exc:
        raise click.ClickException(visible(str(exc))) from exc
    configure_logging(settings.log_level, console)
    ctx.obj = {"settings": settings}


for command in (
    init.init,
    db.settings,
    db.db,
    ingest.ingest,
    ingest.jobs,
    ingest.worker,
    assets.assets,
    channels.channels,
    schedule.schedule,
    schedule.epg,
    users.users,
    audit.audit,
    storage.storage,
    serve.serve,
    serve.scheduler,
    demo.demo,
):
    main.add_command(command)
