"""Distributed transcodes: real `rcmedia worker` processes (Celery) on the local RabbitMQ and Redis.

A worker SIGKILLed mid-transcode leaves nothing half-published and another worker completes the
job exactly once; duplicated messages never run a job twice; `rcmedia ingest` follows or only
queues; with S3 storage, sources travel through the bucket to the worker.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from rcmedia.config import Settings
from rcmedia.core.models import AssetStatus, JobState
from rcmedia.errors import StorageError
from rcmedia.ingest.celery_tasks import Enqueuer
from rcmedia.ingest.context import IngestContext
from rcmedia.ingest.hotfolder import HotFolder
from rcmedia.ingest.intake import submit
from rcmedia.ingest.sidecar import read_sidecar
from rcmedia.ingest.sources import IN_BUCKET
from rcmedia.media.samples import make_clip
from rcmedia.storage.s3 import S3Storage
from tests.integration.ingest.celery_workers import (
    Workers,
    celery_settings,
    delete_queue,
    running_workers,
    wait_finished,
    worker_env,
)
from tests.integration.web.published import AiohttpClient
from tests.s3_server import S3Server

pytestmark = pytest.mark.slow


@pytest.fixture
def celery_ctx(request: pytest.FixtureRequest, ingest_ctx: IngestContext) -> Iterator[IngestContext]:
    """The test's ingest context with executor celery on the broker named by the test's param."""
    settings = celery_settings(ingest_ctx.settings, request.param)
    enqueuer = Enqueuer(settings)
    yield dataclasses.replace(ingest_ctx, settings=settings, enqueue=enqueuer)
    enqueuer.close()


@pytest.fixture
def workers(celery_ctx: IngestContext, tmp_path: Path) -> Iterator[Workers]:
    with running_workers(celery_ctx.settings, tmp_path) as started:
        yield started


def _submit(ctx: IngestContext, path: Path) -> int:
    return submit(ctx, path, metadata=read_sidecar(path, overrides={}))


@pytest.mark.parametrize("celery_ctx", [pytest.param("rabbitmq", id="rabbitmq")], indirect=True)
def test_a_worker_killed_mid_transcode_leaves_nothing_half_published_and_another_completes_the_job_once(
    tmp_path: Path, celery_ctx: IngestContext, workers: Workers, ffmpeg: str
) -> None:
    ctx = celery_ctx
    workers.start("a")
    first = _submit(ctx, make_clip(tmp_path / "first.mp4", ffmpeg=ffmpeg, duration=4.0))
    (done,) = wait_finished(ctx, [first], workers)
    assert done.state is JobState.PUBLISHED, done.failure_reason
    first_prefix = ctx.catalog.get_asset(done.asset_id).storage_prefix
    assert first_prefix is not None

    long_clip = make_clip(tmp_path / "lecture.mp4", ffmpeg=ffmpeg, duration=40.0, width=640, height=360)
    job_id = _submit(ctx, long_clip)
    deadline = time.monotonic() + 60
    while True:
        job = ctx.catalog.get_job(job_id)
        if job.state is JobState.TRANSCODING and job.progress > 0.05:
            break
        assert not job.state.finished, f"the job ended before it could be killed: {job}"
        assert time.monotonic() < deadline, f"the transcode never got going\n{workers.logs()}"
        time.sleep(0.05)
    assert job.worker is not None
    assert int(job.worker.split(":")[1]) in workers.pids("a"), "worker a runs it"
    # b starts while a transcodes: its start-up re-sends the running job's message, a duplicate it
    # must not act on while a's lease is alive
    workers.start("b")
    time.sleep(1.0)
    workers.kill("a")  # the worker, its pool process and ffmpeg

    # nothing of the killed attempt is visible
    asset = ctx.catalog.get_asset(job.asset_id)
    assert asset.status is AssetStatus.PENDING
    (recovered,) = wait_finished(ctx, [job_id], workers)
    assert recovered.state is JobState.PUBLISHED, recovered.failure_reason
    assert recovered.attempts == 2, "the killed attempt and b's, no other"
    asset = ctx.catalog.get_asset(job.asset_id)
    assert asset.status is AssetStatus.PUBLISHED
    # exactly one package: the published one; the killed attempt's staging is gone
    assert ctx.storage.list_prefixes(f"assets/{job.asset_id}") == [asset.storage_prefix]
    assert list((Path(ctx.settings.storage) / ".staging").iterdir()) == []
    assert f"job {job_id}: attempt 2 of 3" in workers.log("b")
    assert f"job {job_id}: attempt" not in workers.log("a").replace(f"job {job_id}: attempt 1 of 3", "")
    # the other job and its package are untouched
    assert ctx.catalog.get_job(first).attempts == 1
    assert ctx.catalog.get_asset(done.asset_id).storage_prefix == first_prefix
    assert ctx.storage.list_prefixes(f"assets/{done.asset_id}") == [first_prefix]


@pytest.mark.parametrize("celery_ctx", [pytest.param("redis", id="redis")], indirect=True)
def test_duplicate_messages_never_run_a_job_twice_and_the_cli_follows_or_queues(
    tmp_path: Path, celery_ctx: IngestContext, workers: Workers, ffmpeg: str
) -> None:
    ctx = celery_ctx
    workers.start("a", ingest_concurrency=2)  # two pool processes, both free to take a duplicate
    job_id = _submit(ctx, make_clip(tmp_path / "talk.mp4", ffmpeg=ffmpeg, duration=8.0))
    for _ in range(3):
        ctx.enqueue(job_id)  # a broker re-delivery, a retried send, a start-up re-send
    (job,) = wait_finished(ctx, [job_id], workers)
    assert job.state is JobState.PUBLISHED, job.failure_reason
    assert job.attempts == 1, "one claim won; the duplicates found the job held or finished"
    assert len(ctx.storage.list_prefixes(f"assets/{job.asset_id}")) == 1
    time.sleep(1.0)  # the duplicates' retries, if any, come back and find it finished
    assert ctx.catalog.get_job(job_id).attempts == 1

    # `rcmedia ingest --wait`: follows the queued jobs to their outcome; non-zero with the reason
    good = make_clip(tmp_path / "good.mp4", ffmpeg=ffmpeg, duration=2.0)
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video\n", encoding="utf-8")
    env = worker_env(ctx.settings)
    done = subprocess.run(
        [sys.executable, "-m", "rcmedia", "ingest", "--wait", str(good), str(bad)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    said = done.stdout + done.stderr  # the CLI's console writes to stderr
    assert done.returncode == 1, said
    assert "✓ good.mp4: published as asset" in said
    assert "✗ notes.mp4: 'notes.mp4': not a media file" in said

    # without a terminal the default is to queue and print the job ids
    queued = subprocess.run(
        [sys.executable, "-m", "rcmedia", "ingest", str(good)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    said = queued.stdout + queued.stderr
    assert queued.returncode == 0, said
    assert "queued good.mp4 as job" in said
    new_id = int(said.split("queued good.mp4 as job")[1].split()[0])
    (later,) = wait_finished(ctx, [new_id], workers)
    assert later.state is JobState.PUBLISHED, later.failure_reason


@pytest.mark.parametrize("celery_ctx", [pytest.param("rabbitmq", id="rabbitmq")], indirect=True)
def test_sources_for_remote_workers_travel_through_the_bucket(
    tmp_path: Path, celery_ctx: IngestContext, s3_server: S3Server, ffmpeg: str
) -> None:
    settings: Settings = celery_ctx.settings.replace(
        storage=s3_server.new_bucket(), s3_endpoint=s3_server.endpoint
    )
    storage = S3Storage(
        settings.storage, staging_root=settings.work_dir / "s3-staging", endpoint=s3_server.endpoint
    )
    ctx = dataclasses.replace(celery_ctx, settings=settings, storage=storage)
    assert ctx.remote_workers

    # a hot-folder file, a CLI file whose local copy is gone by the time a worker runs it, one
    # whose object is gone from the bucket, and one that is not media: queued before any worker
    hot = HotFolder(ctx, settings.hot_folder)
    make_clip(hot.folders.inbox / "hot.mp4", ffmpeg=ffmpeg, duration=3.0)
    hot.scan()
    (hot_job,) = hot.scan()
    cli_file = make_clip(tmp_path / "cli.mp4", ffmpeg=ffmpeg, duration=3.0)
    cli_job = _submit(ctx, cli_file)
    cli_file.unlink()
    lost_job = _submit(ctx, make_clip(tmp_path / "lost.mp4", ffmpeg=ffmpeg, duration=2.0))
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00garbage" * 1000)
    junk_job = _submit(ctx, junk)
    keys = {j: ctx.catalog.get_job(j).source_path for j in (hot_job, cli_job, lost_job, junk_job)}
    assert all(key.startswith(IN_BUCKET + "sources/") for key in keys.values()), keys
    assert all(storage.exists(key.removeprefix(IN_BUCKET)) for key in keys.values())
    storage.remove(keys[lost_job].removeprefix(IN_BUCKET))

    with running_workers(settings, tmp_path) as workers:
        workers.start("remote")
        jobs = {j.id: j for j in wait_finished(ctx, list(keys), workers)}
        log = workers.log("remote")
    assert jobs[hot_job].state is JobState.PUBLISHED, jobs[hot_job].failure_reason
    assert jobs[cli_job].state is JobState.PUBLISHED, jobs[cli_job].failure_reason
    assert f"job {cli_job}: source downloaded from sources/" in log
    assert jobs[lost_job].state is JobState.FAILED
    assert "no longer in the storage bucket" in (jobs[lost_job].failure_reason or "")
    assert jobs[lost_job].attempts == 1, "a missing source is not retried"
    assert jobs[junk_job].state is JobState.FAILED
    assert "junk.mp4" in (jobs[junk_job].failure_reason or "")
    # finished jobs' sources leave the bucket; the worker's downloads leave its disk
    assert not any(storage.exists(key.removeprefix(IN_BUCKET)) for key in keys.values())
    assert list((settings.work_dir / "sources").iterdir()) == []
    # the hot folder still settles its own file: it finds the job by its bucket reference
    hot.settle()
    assert [p.name for p in hot.folders.done.iterdir()] == ["hot.mp4"]


@pytest.mark.parametrize("celery_ctx", [pytest.param("rabbitmq", id="rabbitmq")], indirect=True)
async def test_the_origin_sends_finished_uploads_and_retries_to_the_broker(
    celery_ctx: IngestContext, aiohttp_client: AiohttpClient
) -> None:
    from kombu import Connection

    from rcmedia.web.app import create_app
    from rcmedia.web.uploads import INGEST_KEY

    ctx = celery_ctx
    app = create_app(settings=ctx.settings, catalog=ctx.catalog, storage=ctx.storage, profiles=ctx.profiles)
    await aiohttp_client(app)  # starts the app's cleanup contexts, closes the enqueuer after
    upload_ctx = app[INGEST_KEY]
    assert isinstance(upload_ctx.enqueue, Enqueuer)
    await asyncio.to_thread(upload_ctx.enqueue, 41)
    try:
        with Connection(ctx.settings.broker_url) as conn:
            declared = conn.default_channel.queue_declare(ctx.settings.broker_queue, passive=True)
        assert declared.message_count == 1
    finally:
        delete_queue(ctx.settings)


@pytest.mark.parametrize("celery_ctx", [pytest.param("rabbitmq", id="rabbitmq")], indirect=True)
def test_a_source_the_bucket_refuses_makes_no_job(
    tmp_path: Path, celery_ctx: IngestContext, s3_server: S3Server, ffmpeg: str
) -> None:
    missing = "s3://rc-no-such-bucket/rcmedia"
    settings = celery_ctx.settings.replace(storage=missing, s3_endpoint=s3_server.endpoint)
    storage = S3Storage(missing, staging_root=settings.work_dir / "s3-staging", endpoint=s3_server.endpoint)
    ctx = dataclasses.replace(celery_ctx, settings=settings, storage=storage)
    with pytest.raises(StorageError, match="rc-no-such-bucket"):
        _submit(ctx, make_clip(tmp_path / "a.mp4", ffmpeg=ffmpeg, duration=1.0))
    assert list(ctx.catalog.find_jobs().items) == []


@pytest.mark.parametrize("celery_ctx", [pytest.param("rabbitmq", id="rabbitmq")], indirect=True)
def test_serve_enqueues_hot_folder_files_and_runs_no_job_itself(
    tmp_path: Path, celery_ctx: IngestContext, workers: Workers, ffmpeg: str, unused_tcp_port: int
) -> None:
    ctx = celery_ctx
    env = worker_env(ctx.settings) | {"RCMEDIA_HOT_FOLDER_POLL_SECONDS": "0.3"}
    base = f"http://127.0.0.1:{unused_tcp_port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "rcmedia", "serve", "--port", str(unused_tcp_port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/readyz", timeout=5) as answer:  # noqa: S310 - loopback
                    ready = json.loads(answer.read())
                break
            except OSError:
                assert server.poll() is None, "serve stopped"
                assert time.monotonic() < deadline, "serve did not start"
                time.sleep(0.2)
        assert ready["checks"]["broker"] == {"ok": True}
        inbox = ctx.settings.hot_folder / "inbox"
        make_clip(inbox / "drop.mp4", ffmpeg=ffmpeg, duration=2.0)
        while not (jobs := ctx.catalog.find_jobs().items):
            assert time.monotonic() < deadline, "the hot folder file was never queued"
            time.sleep(0.2)
        time.sleep(2.0)  # serve runs no transcodes: the job waits for a worker
        assert ctx.catalog.get_job(jobs[0].id).state is JobState.QUEUED
        workers.start("a")
        (job,) = wait_finished(ctx, [jobs[0].id], workers)
        assert job.state is JobState.PUBLISHED, job.failure_reason
        done = ctx.settings.hot_folder / "done" / "drop.mp4"
        while not done.exists():  # settled by serve's hot folder on a later poll
            assert time.monotonic() < deadline + 30, "the file never reached done/"
            time.sleep(0.2)
    finally:
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=30)
    assert server.returncode == 0, output
