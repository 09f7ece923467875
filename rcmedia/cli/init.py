"""`rcmedia init`: an editable rcmedia.toml, transcode profile and channel files in a folder."""

from __future__ import annotations

from pathlib import Path

import click

from rcmedia import defaults
from rcmedia.cli.common import console, guard


@click.command()
@click.argument("folder", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace files that exist with the packaged ones.")
@guard
def init(folder: Path, force: bool) -> None:
    """Write an editable rcmedia.toml, transcode_profiles/ and playlists/ into FOLDER (default: here).

    Without them rcmedia uses the house profile and the demo channels shipped in the package.
    """
    written = defaults.write_site(folder, force=force)
    for path in written:
        console.print(f"[green]✓[/] {path}")
    settings_file = folder / defaults.SETTINGS_FILE
    console.print(
        f"run rcmedia in {folder} (or set RCMEDIA_CONFIG={settings_file.resolve()}) to use them; "
        "`rcmedia settings` lists every setting"
    )
