"""``rcmedia storage``: the stored packages.

``rcmedia storage check [--json]`` audits every published package against the catalog
(rcmedia.storage.audit) and exits 1 when it finds a missing, truncated or orphaned file.
``rcmedia storage cors [--origin URL] [--check]`` lets the web player's pages read an S3 bucket
(after the origin's redirect, the browser fetches segments from the bucket itself).
``rcmedia storage sweep [--grace-hours 24]`` deletes the packages of assets withdrawn longer than
``withdrawn_grace_days`` ago (rcmedia.service.withdrawn), then the orphaned packages nothing
changed in for ``--grace-hours`` (a crashed ingest's upload that no attempt came back for), and on
S3 the multipart uploads a killed publish left unfinished that long ago, and the job sources
(``sources/``, for remote workers) that no queued or running job needs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import click

from rcmedia.bootstrap import open_catalog
from rcmedia.catalog.withdrawn import WithdrawnPackage
from rcmedia.cli.common import guard, settings_of
from rcmedia.config import Settings
from rcmedia.core.models import AssetStatus
from rcmedia.core.text import visible
from rcmedia.ingest.sources import sweep_sources
from rcmedia.service.withdrawn import delete_withdrawn_packages
from rcmedia.storage.audit import ASSETS, AuditReport, ProblemKind, audit_packages, sweep_orphans
from rcmedia.storage.base import BucketCors, UnfinishedUploads
from rcmedia.storage.factory import open_storage


def sweep_storage(settings: Settings, *, grace: timedelta, now: datetime) -> list[str]:
    """Delete the orphaned packages of the storage ``settings`` name, unchanged for ``grace``."""
    with open_catalog(settings, migrate=False) as catalog:
        asrun = catalog.asrun

        def states(asset_ids: Iterable[int]) -> Mapping[int, tuple[AssetStatus, str | None]]:
            return {i: (s.status, s.storage_prefix) for i, s in asrun.asset_states(asset_ids).items()}

        return sweep_orphans(open_storage(settings), states, now=now, grace=grace)


def abort_unfinished_uploads(settings: Settings, *, grace: timedelta, now: datetime) -> list[str]:
    """Abort the package uploads (S3 multipart) a killed publish left unfinished ``grace`` ago."""
    store = open_storage(settings)
    if not isinstance(store, UnfinishedUploads):
        return []  # local disk: a killed copy leaves files, which the orphan sweep deletes
    return store.abort_stale_uploads(ASSETS, before=now - grace)


def sweep_unneeded_sources(settings: Settings, *, grace: timedelta, now: datetime) -> list[str]:
    """Delete the job sources in the bucket that no queued or running job needs (rcmedia.ingest.sources)."""
    with open_catalog(settings, migrate=False) as catalog:
        return sweep_sources(catalog, open_storage(settings), now=now, grace=grace)


def sweep_withdrawn(settings: Settings, *, now: datetime) -> list[WithdrawnPackage]:
    """Delete the packages of assets withdrawn ``withdrawn_grace_days`` or longer before ``now``."""
    with open_catalog(settings, migrate=False) as catalog:
        return delete_withdrawn_packages(
            catalog,
            open_storage(settings),
            now=now,
            grace=timedelta(days=settings.withdrawn_grace_days),
        )


def check_storage(settings: Settings) -> AuditReport:
    """Audit the packages in the storage ``settings`` name against their catalog."""
    with open_catalog(settings, migrate=False) as catalog:  # an audit changes nothing
        reads, asrun = catalog.playout, catalog.asrun
        published = reads.assets(reads.published_prefixes().values())

        def states(asset_ids: Iterable[int]) -> Mapping[int, tuple[AssetStatus, str | None]]:
            return {i: (s.status, s.storage_prefix) for i, s in asrun.asset_states(asset_ids).items()}

        return audit_packages(open_storage(settings), [published[i] for i in sorted(published)], states)


@click.group()
def storage() -> None:
    """The stored packages."""


@storage.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
@guard
def check(ctx: click.Context, as_json: bool) -> None:
    """Audit published packages: missing, truncated and orphaned files. Exit status 1 if any."""
    report = check_storage(settings_of(ctx))
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        _print(report)
        if warning := _cors_warning(settings_of(ctx)):
            click.echo(warning, err=True)
    if not report.ok:
        ctx.exit(1)


@storage.command()
@click.option(
    "--grace-hours",
    type=click.FloatRange(min=1),
    default=24.0,
    show_default=True,
    help="Leave packages changed more recently than this (an ingest or repackaging may be finishing).",
)
@click.pass_context
@guard
def sweep(ctx: click.Context, grace_hours: float) -> None:
    """Delete withdrawn assets' packages after `withdrawn_grace_days`, orphaned packages
    (uploads of crashed ingests that no catalog row refers to), and job sources in the bucket
    that no queued or running job needs."""
    settings, now = settings_of(ctx), datetime.now(UTC)
    withdrawn = sweep_withdrawn(settings, now=now)
    for package in withdrawn:
        click.echo(f"deleted {visible(package.storage_prefix)} (asset {package.asset_id}, withdrawn)")
    click.echo(
        f"{len(withdrawn)} withdrawn package(s) deleted "
        f"(withdrawn more than {settings.withdrawn_grace_days:g} day(s) ago)"
    )
    removed = sweep_storage(settings, grace=timedelta(hours=grace_hours), now=now)
    aborted = abort_unfinished_uploads(settings, grace=timedelta(hours=grace_hours), now=now)
    for key in aborted:
        click.echo(f"aborted the unfinished upload of {visible(key)}")
    for key in removed:
        click.echo(f"deleted {visible(key)}")
    click.echo(f"{len(removed)} orphaned package(s) deleted")
    if aborted:
        click.echo(f"{len(aborted)} unfinished upload(s) aborted")
    sources = sweep_unneeded_sources(settings, grace=timedelta(hours=grace_hours), now=now)
    for key in sources:
        click.echo(f"deleted {visible(key)} (a source no job needs)")
    if sources:
        click.echo(f"{len(sources)} job source(s) deleted")


def web_origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url`` (a page's origin, as a browser sends it in ``Origin``)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise click.BadParameter(f"{url!r} is not an http(s) URL", param_hint="origin/public_url")
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _player_origin(settings: Settings, origin: str | None) -> str:
    if origin:
        return web_origin(origin)
    if not settings.public_url:
        raise click.UsageError("no origin: pass --origin https://tv.example.org or set public_url")
    return web_origin(settings.public_url)


@storage.command()
@click.option("--origin", help="The player pages' origin (default: public_url's scheme, host and port).")
@click.option("--check", "only_check", is_flag=True, help="Only check; exit status 1 if GET is not allowed.")
@click.pass_context
@guard
def cors(ctx: click.Context, origin: str | None, only_check: bool) -> None:
    """Allow the web player's pages to GET media from the S3 bucket (its CORS rules)."""
    settings = settings_of(ctx)
    store = open_storage(settings)
    if not isinstance(store, BucketCors):
        click.echo("storage is local: the origin serves media itself, no CORS rule is needed")
        return
    allowed = _player_origin(settings, origin)
    if only_check:
        if store.cors_allows(allowed):
            click.echo(f"the bucket's CORS rules let pages on {allowed} GET media")
            return
        click.echo(
            f"the bucket's CORS rules do not let pages on {allowed} GET media: run rcmedia storage cors"
        )
        ctx.exit(1)
    store.allow_cors(allowed)
    click.echo(f"the bucket's CORS rules now let pages on {allowed} GET and HEAD media")


def _cors_warning(settings: Settings) -> str | None:
    """Why browsers cannot play from the bucket after a redirect, if the settings tell; else None."""
    if settings.s3_media != "redirect" or not settings.public_url:
        return None
    store = open_storage(settings)
    if not isinstance(store, BucketCors):
        return None
    origin = web_origin(settings.public_url)
    if store.cors_allows(origin):
        return None
    return (
        f"warning: the bucket's CORS rules do not let pages on {origin} GET media; the web player "
        "cannot follow s3_media redirects (run rcmedia storage cors)"
    )


def _print(report: AuditReport) -> None:
    """A plain table (keys never wrapped or cut: operators copy and grep them), then the counts."""
    counts = ", ".join(f"{report.count(kind)} {kind.value}" for kind in ProblemKind)
    if report.problems:
        rows = [("problem", "asset", "key", "detail")] + [
            (p.kind.value, "" if p.asset_id is None else str(p.asset_id), visible(p.key), visible(p.detail))
            for p in report.problems
        ]
        widths = [max(len(row[column]) for row in rows) for column in range(3)]
        for row in rows:
            click.echo(
                "  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[3]])
            )
    click.echo(f"{report.assets} published asset(s), {report.files} file(s) checked: {counts}")
