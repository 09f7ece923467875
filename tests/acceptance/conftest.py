"""Fixtures for whole flows in a real browser: Debian's chromium, driven by Playwright.

Playwright's Python package brings its own driver but no browser here: it launches
``/usr/bin/chromium`` (``apt-get install chromium``) and never downloads one. Without it the browser
tests skip with the reason; under ``RCMEDIA_REQUIRE_SYSTEM_TOOLS=1`` (CI) they fail instead.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from playwright.async_api import Page, async_playwright

from rcmedia.catalog.repository import Catalog
from rcmedia.catalog.schedules import ScheduleStore
from rcmedia.clock import SystemClock
from rcmedia.config import Settings
from rcmedia.core.clock import Clock
from rcmedia.core.models import AssetMetadata, JobState
from rcmedia.ingest.context import IngestContext
from rcmedia.ingest.intake import submit, submit_slate
from rcmedia.ingest.runner import JobRunner
from rcmedia.media.ffmpeg import ffmpeg_binary
from rcmedia.media.samples import make_clip
from rcmedia.profiles import load_profiles
from rcmedia.service.channels import apply_channel_files
from rcmedia.service.schedules import build_all
from rcmedia.storage.local import LocalStorage
from rcmedia.web.app import RunningServer, create_app, start_server
from tests.conftest import require_system

Serve = Callable[..., Awaitable[str]]


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--no-sandbox",  # tests run as root in containers, where chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-background-networking",  # no update checks or safe-browsing lists: nothing leaves the host
    "--autoplay-policy=no-user-gesture-required",
)


def require_chromium() -> None:
    require_system(
        f"chromium ({CHROMIUM})",
        CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK),
        "apt-get install chromium",
    )


@pytest.fixture
async def chromium_page() -> AsyncIterator[Page]:
    """A fresh page in headless chromium; the browser is closed after the test."""
    require_chromium()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=list(CHROMIUM_ARGS)
        )
        try:
            context = await browser.new_context(locale="zh-CN", viewport={"width": 1024, "height": 768})
            yield await context.new_page()
        finally:
            await browser.close()


# a channel of 4-second programmes around the clock: a splice every other 2 s segment
SHORT_CHANNEL = """\
slate_series = "slate"

[channel]
id = "kuai"
name = "快频道"
number = 9
timezone = "UTC"
outputs = ["iptv"]
catchup_days = 1
day_start = "00:00"

[filler]
series = ["短片"]

[[block]]
id = "all-day"
start = "00:00"
end = "23:59"
series = ["短片"]
"""


@pytest.fixture
def house_profile() -> str:
    """The ladder the media is made in and served from: "tiny" (MPEG-TS, 2 s segments); a test
    module overrides it, or parametrizes it indirectly, for "tiny_fmp4"."""
    return "tiny"


@pytest.fixture
def ingest_ctx(
    settings: Settings, catalog: Catalog, storage: LocalStorage, house_profile: str
) -> IngestContext:
    """Real ffmpeg on a test ladder (2 s segments), as the integration tests use it."""
    return make_ingest_ctx(settings, catalog, storage, house_profile)


def make_ingest_ctx(
    settings: Settings, catalog: Catalog, storage: LocalStorage, profile: str
) -> IngestContext:
    """What ``ingest_ctx`` gives, for fixtures wider than one test."""
    return IngestContext(
        settings=settings.replace(profile=profile),
        catalog=catalog,
        storage=storage,
        profiles=load_profiles(settings.profiles_dir),
        ffmpeg=ffmpeg_binary(),
        clock=SystemClock(),
    )


def ingest(ctx: IngestContext, job_ids: list[int]) -> list[int]:
    """Run queued jobs to the end; the published assets' ids."""
    jobs = JobRunner(ctx).run_jobs(job_ids)
    for job in jobs:
        assert job.state is JobState.PUBLISHED, job.failure_reason
    return [job.asset_id for job in jobs]


def ingest_clip(ctx: IngestContext, path: Path, *, seconds: float, **metadata: Any) -> int:
    make_clip(path, ffmpeg=ctx.ffmpeg, duration=seconds, label=str(metadata["title"]))
    (asset_id,) = ingest(ctx, [submit(ctx, path, metadata=AssetMetadata(**metadata))])
    return asset_id


@pytest.fixture
async def serve(
    settings: Settings, catalog: Catalog, storage: LocalStorage, house_profile: str
) -> AsyncIterator[Serve]:
    """Start the origin on a free port (``serve(clock=…)``); returns its base URL."""
    async with origin(settings, catalog, storage, house_profile) as start:
        yield start


@contextlib.asynccontextmanager
async def origin(
    settings: Settings, catalog: Catalog, storage: LocalStorage, profile: str
) -> AsyncIterator[Serve]:
    """``serve`` for any settings, catalog and storage (those of a module-wide fixture too)."""
    servers = []

    async def start(clock: Clock | None = None) -> str:
        server = await start_origin(settings, catalog, storage, profile, clock=clock)
        servers.append(server)
        return server.url

    try:
        yield start
    finally:
        for server in servers:
            await server.stop()


async def start_origin(
    settings: Settings, catalog: Catalog, storage: LocalStorage, profile: str, *, clock: Clock | None = None
) -> RunningServer:
    """The origin on a free port, for a test that stops it itself (``origin`` stops what it started)."""
    app: web.Application = create_app(
        settings=settings.replace(profile=profile),  # the house ladder the media was made in
        catalog=catalog,
        storage=storage,
        profiles=load_profiles(settings.profiles_dir),
        clock=clock,
    )
    return await start_server(app, host="127.0.0.1", port=0)


def put_short_channel_on_air(ctx: IngestContext, catalog: Catalog, folder: Path, now: datetime) -> None:
    """快频道: the house slate and three 4-second programmes, applied and built for two days from ``now``."""
    jobs = [submit_slate(ctx, title="快频道 · 马上回来")]
    for n in (1, 2, 3):
        path = make_clip(
            folder / f"short-{n}.mp4",
            ffmpeg=ctx.ffmpeg,
            duration=4.0,
            label=f"短片 {n}",
            tone_hz=300 + 100 * n,
        )
        metadata = AssetMetadata(title=f"短片 第{n}集", series="短片", episode=n)
        jobs.append(submit(ctx, path, metadata=metadata))
    ingest(ctx, jobs)
    channel_file = folder / "playlists" / "kuai.toml"
    channel_file.parent.mkdir(exist_ok=True)
    channel_file.write_text(SHORT_CHANNEL, encoding="utf-8")
    store = ScheduleStore(catalog.engine)
    apply_channel_files(store, [channel_file], now=now)
    build_all(store, first_day=None, days=2, now=now)
