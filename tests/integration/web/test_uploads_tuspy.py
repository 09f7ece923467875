"""A stock tus client (tuspy, unmodified) uploads a real clip, stopping half-way and resuming."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from tusclient.client import TusClient

from rcmedia.catalog.repository import Catalog
from rcmedia.config import Settings
from rcmedia.core.accounts import Role
from rcmedia.core.models import JobState
from rcmedia.media.ffmpeg import ffmpeg_binary
from rcmedia.media.samples import make_clip
from rcmedia.storage.local import LocalStorage
from rcmedia.web.access import SESSION_COOKIE
from tests.integration.web.accounts import add_accounts, logged_in
from tests.integration.web.published import AiohttpClient
from tests.integration.web.schedules import FixedClock, origin_app


@pytest.fixture(autouse=True)
def accounts(catalog: Catalog) -> dict[Role, str]:
    return add_accounts(catalog)


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    path = tmp_path / "第一课.mp4"
    make_clip(path, ffmpeg=ffmpeg_binary(), duration=2.0)
    return path


async def test_tuspy_uploads_and_resumes(
    aiohttp_client: AiohttpClient,
    app_settings: Settings,
    catalog: Catalog,
    storage: LocalStorage,
    clock: FixedClock,
    clip: Path,
) -> None:
    app: web.Application = origin_app(app_settings, catalog, storage, clock)
    editor = await logged_in(await aiohttp_client(app), "editor")
    token = next(c.value for c in editor.session.cookie_jar if c.key == SESSION_COOKIE)
    endpoint = str(editor.make_url("/api/v1/uploads"))
    tus = TusClient(endpoint, headers={"Cookie": f"{SESSION_COOKIE}={token}"})
    size = (await asyncio.to_thread(clip.stat)).st_size
    metadata = {"filename": clip.name, "title": "第一课", "series": "党史", "episode": "1"}

    # file_stream, not file_path: tuspy leaves a file it opened itself open
    with clip.open("rb") as stream:  # a local file, read by the client's thread
        first = tus.uploader(file_stream=stream, chunk_size=16 * 1024, metadata=metadata)
        half = size // 2
        await asyncio.to_thread(first.upload, stop_at=half)  # then the laptop lid closes
    assert first.url is not None
    assert catalog.find_jobs().total == 0

    with clip.open("rb") as stream:
        resumed = await asyncio.to_thread(
            tus.uploader, file_stream=stream, url=first.url, chunk_size=64 * 1024
        )
        assert size > resumed.offset == first.offset >= half  # asked the server (HEAD) where to go on from
        await asyncio.to_thread(resumed.upload)

    document = await (await editor.get(urlsplit(first.url).path)).json()
    assert (document["offset"], document["length"]) == (size, size)
    job = catalog.get_job(document["job_id"])
    assert job.state is JobState.QUEUED
    asset = catalog.get_asset(job.asset_id)
    assert (asset.metadata.title, asset.metadata.series, asset.metadata.episode) == ("第一课", "党史", 1)
    assert await asyncio.to_thread(Path(job.source_path).read_bytes) == await asyncio.to_thread(
        clip.read_bytes
    )
