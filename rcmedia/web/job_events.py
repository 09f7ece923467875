"""``GET /api/v1/jobs/events``: ingest jobs' state and progress as server-sent events.

One poller per app reads the jobs changed since its last read (about once a second) and hands
each change to every listener (rcmedia.web.sse_fanout): a hundred open job monitors cost one query
a second, not a hundred.

Each event is ``event: job``, ``data:`` the document of ``GET /api/v1/jobs/{id}`` and ``id:`` the
change's cursor, ``<updated_at in µs since the epoch>-<job id>``, which survives a restart of the
server. A reconnect with ``Last-Event-ID`` first gets the jobs changed since that cursor.

``updated_at`` is taken when a write starts, and writes commit in their own order: a write stamped
T1 may become visible after one stamped T2 > T1 was read (two workers, a slow commit, a worker's
clock a little behind). Reading strictly after the last cursor would lose it for good, and no
sequence fixes that (PostgreSQL hands out sequence numbers before commit too). So every read looks
back ``LATE_WRITES`` before its cursor and skips what it already sent (the same job at the same
``updated_at``): a change is lost only if it commits more than ``LATE_WRITES`` after its stamp, or
its writer's clock is that far behind. A resumed stream may repeat a few changes from that window;
each is the job's whole latest state, so a repeat changes nothing on a monitor.

The origin's connection limits (rcmedia.web.connections) leave a stream alone: it is inside a
request, never idle in the keep-alive sense; a client that takes nothing for ``send_timeout``
is cut off by the kernel (TCP_USER_TIMEOUT, set by both).
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta

from aiohttp import web
from aiohttp_sse import EventSourceResponse

from rcmedia.catalog.repository import Catalog
from rcmedia.core.assets import Job
from rcmedia.errors import InvalidFieldError
from rcmedia.web.access import current_user
from rcmedia.web.documents import job_document
from rcmedia.web.keys import CATALOG_KEY
from rcmedia.web.sse_fanout import Fanout, Listener, poller, send_changes, stream_closer

log = logging.getLogger(__name__)

EVENTS_PATH = "/api/v1/jobs/events"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)

POLL_LIMIT = 500  # changes read at a time
LATE_WRITES = timedelta(seconds=10)  # how late a write may become visible and still be sent (above)
Cursor = tuple[datetime, int]


def cursor_of(job: Job) -> Cursor:
    return job.updated_at, job.id


def looking_back(cursor: Cursor) -> Cursor:
    """Where a read after ``cursor`` starts: ``LATE_WRITES`` before it (see the module)."""
    when, _ = cursor
    return max(when - LATE_WRITES, EPOCH), 0


def event_id(cursor: Cursor) -> str:
    when, job_id = cursor
    return f"{(when - EPOCH) // MICROSECOND}-{job_id}"


def parse_event_id(text: str) -> Cursor:
    """The cursor of an ``id:`` this stream sent; 400 (InvalidFieldError) for anything else."""
    micros, _, job_id = text.strip().partition("-")
    if not (micros.isascii() and micros.isdigit() and job_id.isascii() and job_id.isdigit()):
        raise InvalidFieldError("Last-Event-ID", f"expected an id this stream sent, got {text!r}")
    if len(micros) > 18 or len(job_id) > 18:
        raise InvalidFieldError("Last-Event-ID", f"out of range: {text!r}")
    try:
        return EPOCH + int(micros) * MICROSECOND, int(job_id)
    except OverflowError:
        raise InvalidFieldError("Last-Event-ID", f"out of range: {text!r}") from None


class JobEvents(Fanout[Job]):
    """The app's one poller of job changes and the listeners it fans them out to."""

    name = "job events"

    def __init__(
        self,
        catalog: Catalog,
        *,
        poll_seconds: float = 1.0,
        keepalive_seconds: float = 15.0,
        queue_size: int = 1024,  # over a poll's most changes: only a stalled client fills it
    ) -> None:
        super().__init__(
            poll_seconds=poll_seconds, keepalive_seconds=keepalive_seconds, queue_size=queue_size
        )
        self.catalog = catalog
        self._cursor: Cursor | None = None
        self._sent: dict[int, datetime] = {}  # job id → updated_at last published, within LATE_WRITES

    def listen(self) -> Listener[Job]:
        return self.listen_for()

    async def poll_once(self) -> None:
        if self._cursor is None:  # start at the newest change: listeners get what changes from now
            newest = await asyncio.to_thread(self.catalog.jobs_changed_since, None)
            # what the look-back will find again is old news: remembered as sent, not published
            self._cursor = await self._read_on(cursor_of(newest[0]) if newest else (EPOCH, 0), publish=False)
            return
        self._cursor = await self._read_on(self._cursor, publish=True)

    async def _read_on(self, cursor: Cursor, *, publish: bool) -> Cursor:
        """Read from ``LATE_WRITES`` before ``cursor``, publish what was not sent; the new cursor."""
        start = looking_back(cursor)
        while True:
            batch = await asyncio.to_thread(self.catalog.jobs_changed_since, start, limit=POLL_LIMIT)
            for job in batch:
                cursor = max(cursor, cursor_of(job))
                if self._sent.get(job.id) != job.updated_at:
                    self._sent[job.id] = job.updated_at
                    if publish:
                        self.publish(job)
            if len(batch) < POLL_LIMIT:
                break
            start = cursor_of(batch[-1])  # a burst of changes: read on rather than wait a poll
        horizon = cursor[0] - LATE_WRITES
        self._sent = {job_id: when for job_id, when in self._sent.items() if when >= horizon}
        return cursor


JOB_EVENTS_KEY = web.AppKey("job_events", JobEvents)


run_poller = poller(JOB_EVENTS_KEY)
close_streams = stream_closer(JOB_EVENTS_KEY)


async def job_events(request: web.Request) -> web.StreamResponse:
    """The stream; any signed-in account (401 before it starts): the job list itself is public,
    and operators watch it too."""
    if await current_user(request) is None:
        raise web.HTTPUnauthorized(text="log in first (POST /login) or send an API token")
    header = request.headers.get("Last-Event-ID")
    resume = parse_event_id(header) if header else None
    events = request.app[JOB_EVENTS_KEY]
    listener = events.listen()  # before the backlog is read, so nothing falls in between
    try:
        backlog: list[Job] = []
        if resume is not None:
            backlog = await asyncio.to_thread(
                request.app[CATALOG_KEY].jobs_changed_since, looking_back(resume)
            )
        in_backlog = {cursor_of(job) for job in backlog}
        return await send_changes(
            request,
            events,
            listener,
            backlog,
            _send,
            sent_already=lambda job: cursor_of(job) in in_backlog,  # the same change was in the backlog
        )
    finally:
        events.leave(listener)


async def _send(stream: EventSourceResponse, job: Job) -> None:
    await stream.send(json.dumps(job_document(job)), id=event_id(cursor_of(job)), event="job")
