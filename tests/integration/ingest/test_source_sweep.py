"""`rcmedia storage sweep` deletes job sources in the bucket that no queued or running job needs
(a job cancelled while queued keeps its source otherwise; an intake may die after the upload)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rcmedia.core.models import AssetMetadata
from rcmedia.ingest.context import IngestContext
from rcmedia.ingest.intake import submit
from rcmedia.ingest.sources import IN_BUCKET, sweep_sources
from rcmedia.media.samples import make_clip
from rcmedia.storage.s3 import S3Storage
from tests.s3_server import S3Server


def test_the_sweep_deletes_the_sources_no_unfinished_job_needs(
    tmp_path: Path, ingest_ctx: IngestContext, s3_server: S3Server, ffmpeg: str
) -> None:
    settings = ingest_ctx.settings.replace(
        executor="celery",
        broker_url="amqp://guest:guest@127.0.0.1:5672//",
        storage=s3_server.new_bucket(),
        s3_endpoint=s3_server.endpoint,
    )
    storage = S3Storage(settings.storage, staging_root=settings.work_dir / "s3", endpoint=s3_server.endpoint)
    sent: list[int] = []
    ctx = dataclasses.replace(ingest_ctx, settings=settings, storage=storage, enqueue=sent.append)
    assert ctx.remote_workers
    clip = make_clip(tmp_path / "a.mp4", ffmpeg=ffmpeg, duration=1.0)
    waiting = submit(ctx, clip, metadata=AssetMetadata(title="等待"))
    other = make_clip(tmp_path / "b.mp4", ffmpeg=ffmpeg, duration=1.0)
    cancelled = submit(ctx, other, metadata=AssetMetadata(title="取消"))
    assert sent == [waiting, cancelled]
    now = datetime.now(UTC)
    ctx.catalog.cancel_job(cancelled, reason="test", now=now)
    storage.put_file(clip, "sources/left-by-a-dead-intake/source.mp4")
    keys = {j: ctx.catalog.get_job(j).source_path.removeprefix(IN_BUCKET) for j in (waiting, cancelled)}
    folders = {j: key.rpartition("/")[0] for j, key in keys.items()}

    # inside the grace nothing goes: an intake uploads first and writes its job row after
    assert sweep_sources(ctx.catalog, storage, now=now, grace=timedelta(hours=1)) == []
    later = now + timedelta(hours=2)
    removed = sweep_sources(ctx.catalog, storage, now=later, grace=timedelta(hours=1))
    assert sorted(removed) == sorted([folders[cancelled], "sources/left-by-a-dead-intake"])
    assert storage.exists(keys[waiting]), "a queued job's source stays"
    assert not storage.exists(keys[cancelled])
    assert sweep_sources(ctx.catalog, storage, now=later, grace=timedelta(hours=1)) == []


def test_local_storage_has_no_sources_to_sweep(ingest_ctx: IngestContext) -> None:
    now = datetime.now(UTC)
    assert sweep_sources(ingest_ctx.catalog, ingest_ctx.storage, now=now, grace=timedelta(0)) == []
