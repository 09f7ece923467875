"""The scheduler's ``ingest-resend``: queued jobs whose broker message was lost (a send that failed
after the job row was committed) get another, on the real RabbitMQ; a full queue gets none."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rcmedia.core.models import AssetMetadata
from rcmedia.ingest.celery_tasks import LostMessages
from rcmedia.ingest.context import IngestContext
from rcmedia.ingest.intake import submit
from rcmedia.ingest.runner import LOST_AFTER
from rcmedia.media.samples import make_clip
from tests.integration.ingest.celery_workers import celery_settings, delete_queue


def test_queued_jobs_without_a_message_are_sent_again(
    tmp_path: Path, ingest_ctx: IngestContext, ffmpeg: str
) -> None:
    settings = celery_settings(ingest_ctx.settings, "rabbitmq")
    ctx = dataclasses.replace(ingest_ctx, settings=settings)  # sends nothing: every message is "lost"
    clip = make_clip(tmp_path / "a.mp4", ffmpeg=ffmpeg, duration=1.0)
    jobs = [submit(ctx, clip, metadata=AssetMetadata(title=f"节目{n}")) for n in range(3)]
    resend = LostMessages(settings, ctx.catalog)
    try:
        later = datetime.now(UTC) + LOST_AFTER + timedelta(seconds=1)
        assert resend(later) == [], "no queue yet: the first worker to start re-sends every job"
        resend.enqueue(jobs[2])  # one message did get through
        assert resend.enqueue.waiting() == 1

        assert resend(datetime.now(UTC)) == [], "jobs queued just now are not suspected"
        sent = resend(later)
        assert len(sent) == 2, "as many as the messages missing, the longest-waiting first"
        assert sent == jobs[:2]
        assert resend.enqueue.waiting() == 3
        assert resend(later) == [], "a queue holding a message per queued job gets no more"
    finally:
        resend.close()
        delete_queue(settings)
