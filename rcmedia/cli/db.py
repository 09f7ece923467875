"""`rcmedia db` and `rcmedia settings`: the catalog schema and the settings table."""

from __future__ import annotations

import click

from rcmedia.bootstrap import open_catalog
from rcmedia.cli.common import console, guard, settings_of
from rcmedia.config import settings_markdown


@click.command()
def settings() -> None:
    """Print every setting, its environment variable, default and meaning."""
    click.echo(settings_markdown(), nl=False)


@click.group()
def db() -> None:
    """Catalog database."""


@db.command("upgrade")
@click.pass_context
@guard
def db_upgrade(ctx: click.Context) -> None:
    """Create or migrate the catalog schema to the latest revision."""
    with open_catalog(settings_of(ctx)):  # migrates
        pass
    console.print("catalog schema is up to date")
