"""Ingest into S3 (moto's server on loopback) and serve from it: a real clip transcoded by ffmpeg,
uploaded, published in the catalog, then played through the origin's redirect; and a crash between
the upload and the catalog's publish, which leaves nothing published and whose objects are swept."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from urllib.parse import urljoin

import aiohttp
import m3u8
import pytest

from rcmedia.config import Settings
from rcmedia.core.models import AssetStatus, JobState
from rcmedia.ingest.context import IngestContext
from rcmedia.ingest.intake import submit
from rcmedia.ingest.runner import JobRunner
from rcmedia.ingest.sidecar import read_sidecar
from rcmedia.media.samples import make_clip
from rcmedia.profiles import load_profiles
from rcmedia.storage.s3 import S3Storage
from rcmedia.web.app import create_app
from tests.integration.ingest.test_crash_recovery import LaterClock, _visible
from tests.integration.web.published import AiohttpClient
from tests.s3_server import S3Server


@pytest.fixture
def storage(s3_server: S3Server, settings: Settings) -> S3Storage:  # type: ignore[override]
    """The ingest context of this module publishes to S3."""
    return S3Storage(
        s3_server.new_bucket(), staging_root=settings.work_dir / "s3-staging", endpoint=s3_server.endpoint
    )


async def test_a_clip_ingested_into_s3_plays_through_the_origin(
    tmp_path: Path, ingest_ctx: IngestContext, storage: S3Storage, ffmpeg: str, aiohttp_client: AiohttpClient
) -> None:
    source = make_clip(tmp_path / "lecture.mp4", ffmpeg=ffmpeg, duration=4.0)
    (job,) = JobRunner(ingest_ctx).run_jobs([submit(ingest_ctx, source, metadata=read_sidecar(source))])
    assert job.state is JobState.PUBLISHED, job.failure_reason
    asset = ingest_ctx.catalog.get_asset(job.asset_id)
    assert asset.status is AssetStatus.PUBLISHED
    assert storage.list_prefixes(f"assets/{asset.id}") == [asset.storage_prefix]
    assert list(storage.staging_root.iterdir()) == []  # the local staging folder is gone

    settings = ingest_ctx.settings
    app = create_app(
        settings=settings,
        catalog=ingest_ctx.catalog,
        storage=storage,
        profiles=load_profiles(settings.profiles_dir),
    )
    client = await aiohttp_client(app)
    master_path = f"/vod/{asset.id}/master.m3u8"
    master = m3u8.loads(await (await client.get(master_path)).text())
    rendition_path = urljoin(master_path, master.playlists[0].uri)
    rendition = m3u8.loads(await (await client.get(rendition_path)).text())
    assert rendition.segments
    async with aiohttp.ClientSession() as viewer:
        for segment in rendition.segments:
            path = urljoin(rendition_path, segment.uri)
            redirect = await client.get(path, allow_redirects=False)
            assert redirect.status == 307, path
            async with viewer.get(redirect.headers["Location"]) as stored:
                assert stored.status == 200
                data = await stored.read()
            assert data == storage.read_bytes(path.removeprefix("/media/"))
            assert data[0] == 0x47  # MPEG-TS as transcoded


def test_a_crash_between_upload_and_publish_leaves_nothing_published_and_is_swept(
    tmp_path: Path, ingest_ctx: IngestContext, storage: S3Storage, ffmpeg: str
) -> None:
    source = make_clip(tmp_path / "talk.mp4", ffmpeg=ffmpeg, duration=2.0)
    job_id = submit(ingest_ctx, source, metadata=read_sidecar(source))
    claimed = ingest_ctx.catalog.claim_job(worker="crashed", lease_seconds=1, now=ingest_ctx.clock.now())
    assert claimed is not None
    # the crashed worker had uploaded its package but never committed the catalog's switch
    staging = storage.staging_dir("job-crashed")
    (staging / "720p").mkdir()
    (staging / "720p" / "seg_00000.ts").write_bytes(b"\x47" * 188)
    (staging / "master.m3u8").write_text("#EXTM3U\n")
    orphan = f"assets/{claimed.asset_id}/{job_id}-1-deadbeef"
    storage.publish(staging, orphan)
    assert storage.exists(f"{orphan}/master.m3u8")
    assert _visible(ingest_ctx) == []  # nothing published

    later = dataclasses.replace(ingest_ctx, clock=LaterClock(timedelta(seconds=5)))
    (job,) = JobRunner(later).run_jobs([job_id])  # another worker takes the job over

    assert job.state is JobState.PUBLISHED, job.failure_reason
    asset = ingest_ctx.catalog.get_asset(job.asset_id)
    assert storage.list_prefixes(f"assets/{asset.id}") == [asset.storage_prefix]
    assert asset.storage_prefix != orphan
    assert not storage.exists(f"{orphan}/master.m3u8")  # the abandoned objects are deleted
