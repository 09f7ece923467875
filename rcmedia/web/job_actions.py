"""Editor actions on ingest jobs: ``POST /api/v1/jobs/{id}/retry`` and ``/cancel``.

Retry queues a failed job again with all its attempts; cancel fails a queued or running job
with "cancelled by <user>" (a running attempt stops at its next progress report or lease
renewal, and its ffmpeg with it). The state is checked and changed in one transaction under the
job's row lock, so a stale action (a job retried, taken or finished meanwhile) is refused with
409 and the reason, never applied over the newer state. Both answer with the job's document, and
both are in the audit log (``job.retry``, ``job.cancel``), written in the action's transaction.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from rcmedia.core.accounts import Role
from rcmedia.errors import BrokerError
from rcmedia.web.access import require_role
from rcmedia.web.documents import job_document
from rcmedia.web.json_response import json_response
from rcmedia.web.keys import CATALOG_KEY, CLOCK_KEY
from rcmedia.web.uploads import INGEST_KEY

log = logging.getLogger(__name__)


async def retry_job(request: web.Request) -> web.Response:
    user = await require_role(request, Role.EDITOR)
    catalog, now = request.app[CATALOG_KEY], request.app[CLOCK_KEY].now()
    job = await asyncio.to_thread(catalog.retry_job, int(request.match_info["id"]), now=now, actor=user.name)
    log.info("job %d retried by %r", job.id, user.name)
    if INGEST_KEY in request.app:  # executor "celery": a broker message to the workers
        try:
            await asyncio.to_thread(request.app[INGEST_KEY].enqueue, job.id)
        except BrokerError as exc:
            log.error("job %d is queued in the catalog, but the broker did not take it: %s", job.id, exc)
    return json_response(job_document(job))


async def cancel_job(request: web.Request) -> web.Response:
    user = await require_role(request, Role.EDITOR)
    catalog, now = request.app[CATALOG_KEY], request.app[CLOCK_KEY].now()
    job = await asyncio.to_thread(
        catalog.cancel_job,
        int(request.match_info["id"]),
        reason=f"cancelled by {user.name}",
        now=now,
        actor=user.name,
    )
    log.info("job %d cancelled by %r", job.id, user.name)
    return json_response(job_document(job))
