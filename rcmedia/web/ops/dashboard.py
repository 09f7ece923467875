"""``GET /ops``: the dashboard — every channel and its outputs, failed jobs, links to the rest."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiohttp import web

from rcmedia.catalog.repository import Catalog
from rcmedia.core.assets import Job
from rcmedia.core.models import JobState
from rcmedia.core.schedule import Channel
from rcmedia.service.channels import listed_channels
from rcmedia.web.keys import CATALOG_KEY
from rcmedia.web.ops.pages import ops_html, page_user

FAILED_SHOWN = 20


@dataclass(frozen=True, kw_only=True, slots=True)
class Dashboard:
    channels: tuple[Channel, ...]
    failed_jobs: tuple[Job, ...]
    failed_total: int


def dashboard(catalog: Catalog) -> Dashboard:
    """What the dashboard shows. Blocking (catalog reads)."""
    failed = catalog.find_jobs(state=JobState.FAILED, limit=FAILED_SHOWN)
    return Dashboard(
        channels=tuple(listed.channel for listed in listed_channels(catalog.schedules)),
        failed_jobs=tuple(failed.items),
        failed_total=failed.total,
    )


async def dashboard_page(request: web.Request) -> web.Response:
    user = await page_user(request)
    board = await asyncio.to_thread(dashboard, request.app[CATALOG_KEY])
    return await ops_html(request, "ops/dashboard.html", user=user, board=board)
