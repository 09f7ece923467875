"""`rcmedia audit`: who changed what, newest first (the log ``GET /api/v1/audit`` reads)."""

from __future__ import annotations

import json
from datetime import datetime

import click
from rich.console import Console
from rich.table import Table

from rcmedia.bootstrap import open_catalog
from rcmedia.catalog.audit import MAX_ENTRIES
from rcmedia.cli.common import guard, settings_of
from rcmedia.core.changes import parse_instant
from rcmedia.terminal import shown


def _change(before: object, after: object) -> str:
    text = json.dumps({"before": before, "after": after}, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 200 else f"{text[:199]}…"


@click.command("audit")
@click.option("--since", help="Only entries at or after this instant (ISO 8601 with its offset).")
@click.option("--actor", help="Only this account's entries (or cli:<os user>).")
@click.option("--action", help="Only this action, e.g. schedule.edit, asset.update, user.token.")
@click.option("--limit", type=click.IntRange(1, MAX_ENTRIES), default=100, show_default=True)
@click.option(
    "--json", "as_json", is_flag=True, help="One JSON object per line, with before and after in full."
)
@click.pass_context
@guard
def audit(
    ctx: click.Context, since: str | None, actor: str | None, action: str | None, limit: int, as_json: bool
) -> None:
    """The audit log: schedule edits, asset changes, uploads, account changes, grid applies."""
    since_at: datetime | None = parse_instant(since, "--since") if since else None
    with open_catalog(settings_of(ctx)) as catalog:
        entries = catalog.audit.entries(since=since_at, actor=actor, action=action, limit=limit)
    if as_json:
        for e in entries:
            line = {
                "id": e.id,
                "at": e.at.isoformat(),
                "actor": e.actor,
                "action": e.action,
                "target": e.target,
                "before": e.before,
                "after": e.after,
            }
            click.echo(json.dumps(line, ensure_ascii=False))
        return
    table = Table("at (UTC)", "actor", "action", "target", "change")
    for e in entries:
        table.add_row(
            f"{e.at:%Y-%m-%d %H:%M:%S}",
            shown(e.actor),
            shown(e.action),
            shown(e.target),
            shown(_change(e.before, e.after)),
        )
    Console().print(table)
