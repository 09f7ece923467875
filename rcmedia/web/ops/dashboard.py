"""``GET /ops``: the dashboard — every channel with what is on now and next per output and how much
of the next 24 hours is slate (or not built yet), failed jobs, storage problems (segments found
missing while they were asked for), and links to everything else."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web

from rcmedia.catalog.repository import Catalog
from rcmedia.core.asrun import StoodIn
from rcmedia.core.assets import Job
from rcmedia.core.models import JobState, Output
from rcmedia.core.schedule import Channel
from rcmedia.core.slate_share import SlateShare, slate_share
from rcmedia.service.channels import listed_channels
from rcmedia.web.keys import CATALOG_KEY, CLOCK_KEY
from rcmedia.web.ops.pages import ops_html, page_user
from rcmedia.web.watch_guide import Programme, now_and_next

FAILED_SHOWN = 20
STAND_INS_SHOWN = 20
AHEAD = timedelta(hours=24)
SLATE_WARNING = 0.05  # a share of slate above this is flagged


@dataclass(frozen=True, kw_only=True, slots=True)
class OutputNow:
    output: Output
    now: Programme | None  # None: nothing built now
    next: Programme | None
    ahead: SlateShare  # the next 24 hours


@dataclass(frozen=True, kw_only=True, slots=True)
class ChannelNow:
    channel: Channel
    outputs: tuple[OutputNow, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class Dashboard:
    channels: tuple[ChannelNow, ...]
    failed_jobs: tuple[Job, ...]
    failed_total: int
    stand_ins: tuple[StoodIn, ...]  # newest first
    stand_ins_total: int


def channel_now(catalog: Catalog, channel: Channel, now: datetime) -> ChannelNow:
    store = catalog.schedules
    outputs = []
    for output in channel.outputs:
        on_now, upcoming = now_and_next(store, channel, output, now)
        events = store.events(channel.id, output, start=now, end=now + AHEAD)
        ahead = slate_share(events, start=now, end=now + AHEAD)
        outputs.append(OutputNow(output=output, now=on_now, next=upcoming, ahead=ahead))
    return ChannelNow(channel=channel, outputs=tuple(outputs))


def dashboard(catalog: Catalog, now: datetime) -> Dashboard:
    """What the dashboard shows. Blocking (catalog reads)."""
    failed = catalog.find_jobs(state=JobState.FAILED, limit=FAILED_SHOWN)
    stand_ins, stand_ins_total = catalog.asrun.recent_stand_ins(limit=STAND_INS_SHOWN)
    return Dashboard(
        channels=tuple(channel_now(catalog, c.channel, now) for c in listed_channels(catalog.schedules)),
        failed_jobs=tuple(failed.items),
        failed_total=failed.total,
        stand_ins=tuple(stand_ins),
        stand_ins_total=stand_ins_total,
    )


async def dashboard_page(request: web.Request) -> web.Response:
    user = await page_user(request)
    board = await asyncio.to_thread(dashboard, request.app[CATALOG_KEY], request.app[CLOCK_KEY].now())
    return await ops_html(request, "ops/dashboard.html", user=user, board=board, slate_warning=SLATE_WARNING)
