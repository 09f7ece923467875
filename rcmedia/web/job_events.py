"""``GET /api/v1/jobs/events``: ingest jobs' state and progress as server-sent events.

One poller per app reads the jobs changed since its last read (about once a second) and hands
each change to every listener's bounded queue: a hundred open job monitors cost one query a
second, not a hundred. A listener whose queue is full (a client that stopped reading) is dropped,
so memory never grows with a slow client; its browser reconnects with ``Last-Event-ID`` and gets
what it missed from the catalog.

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
each is the job's whole latest state, so a repeat changes nothing on a monitor. Keep-alive comments (``: ping``) go out every
``keepalive_seconds`` (aiohttp-sse), which also keeps proxies from closing a quiet stream.

The origin's connection limits (rcmedia.web.connections) leave a stream alone: it is inside a
request, never idle in the keep-alive sense; a client that takes nothing for ``send_timeout``
is cut off by the kernel (TCP_USER_TIMEOUT, set by both).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aiohttp import hdrs, web
from aiohttp_sse import EventSourceResponse

from rcmedia.catalog.repository import Catalog
from rcmedia.core.accounts import Role
from rcmedia.core.assets import Job
from rcmedia.errors import CatalogError, InvalidFieldError
from rcmedia.web.access import require_role
from rcmedia.web.documents import job_document
from rcmedia.web.keys import CATALOG_KEY, SETTINGS_KEY

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


@dataclass(eq=False, slots=True)
class Listener:
    """One client's queue of changes; ``dropped`` once it fell ``queue_size`` behind."""

    queue: asyncio.Queue[Job]
    dropped: asyncio.Event = field(default_factory=asyncio.Event)


class JobEvents:
    """The app's one poller of job changes and the listeners it fans them out to."""

    def __init__(
        self,
        catalog: Catalog,
        *,
        poll_seconds: float = 1.0,
        keepalive_seconds: float = 15.0,
        queue_size: int = 1024,  # over a poll's most changes: only a stalled client fills it
    ) -> None:
        self.catalog = catalog
        self.poll_seconds = poll_seconds
        self.keepalive_seconds = keepalive_seconds
        self.queue_size = queue_size
        self.listeners: set[Listener] = set()
        self._cursor: Cursor | None = None
        self._sent: dict[int, datetime] = {}  # job id → updated_at last published, within LATE_WRITES

    def listen(self) -> Listener:
        listener = Listener(asyncio.Queue(self.queue_size))
        self.listeners.add(listener)
        return listener

    def leave(self, listener: Listener) -> None:
        self.listeners.discard(listener)

    def publish(self, job: Job) -> None:
        """Hand ``job`` to every listener; drop those whose queue is full."""
        for listener in list(self.listeners):
            try:
                listener.queue.put_nowait(job)
            except asyncio.QueueFull:
                log.info("job events: a listener fell %d changes behind; dropping it", self.queue_size)
                self.listeners.discard(listener)
                listener.dropped.set()

    def close(self) -> None:
        """End every stream (the server is shutting down: it would wait for them otherwise)."""
        for listener in self.listeners:
            listener.dropped.set()
        self.listeners.clear()

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

    async def run(self) -> None:
        while True:
            try:
                await self.poll_once()
            except CatalogError:
                log.warning("job events: cannot read the catalog; trying again", exc_info=True)
            await asyncio.sleep(self.poll_seconds)


JOB_EVENTS_KEY = web.AppKey("job_events", JobEvents)


async def run_poller(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: the poller runs while the app does (from the newest change at start-up)."""
    events = app[JOB_EVENTS_KEY]
    with contextlib.suppress(CatalogError):  # run() tries again
        await events.poll_once()
    task = asyncio.create_task(events.run(), name="job-events")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def close_streams(app: web.Application) -> None:
    """on_shutdown: streams end before the server waits for its open requests to finish."""
    app[JOB_EVENTS_KEY].close()


async def job_events(request: web.Request) -> web.StreamResponse:
    """The stream; editors and admins only (401/403 before it starts)."""
    await require_role(request, Role.EDITOR)
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
        stream = EventSourceResponse(
            ping_interval=events.keepalive_seconds, send_timeout=request.app[SETTINGS_KEY].send_timeout
        )
        stream.headers[hdrs.CACHE_CONTROL] = "no-store"  # over the library's no-cache: nothing to revalidate
        await stream.prepare(request)
        async with stream:
            in_backlog = {cursor_of(job) for job in backlog}
            for job in backlog:
                await stream.send(json.dumps(job_document(job)), id=event_id(cursor_of(job)), event="job")
            closed = asyncio.ensure_future(stream.wait())  # the pings stop when the client goes
            try:
                while True:
                    change = await _next(listener, closed)
                    if change is None:
                        break  # gone, or fell behind: the client reconnects with its Last-Event-ID
                    if cursor_of(change) in in_backlog:
                        continue  # the same change was in the backlog
                    await stream.send(
                        json.dumps(job_document(change)), id=event_id(cursor_of(change)), event="job"
                    )
            finally:
                closed.cancel()
        return stream
    finally:
        events.leave(listener)


async def _next(listener: Listener, closed: asyncio.Future[None]) -> Job | None:
    """The next change, or None once the stream closed or the listener was dropped."""
    if listener.dropped.is_set() or closed.done():
        return None
    get = asyncio.ensure_future(listener.queue.get())
    dropped = asyncio.ensure_future(listener.dropped.wait())
    try:
        await asyncio.wait((get, dropped, closed), return_when=asyncio.FIRST_COMPLETED)
    finally:
        dropped.cancel()
        if not get.done():
            get.cancel()
    if listener.dropped.is_set() or closed.done() or not get.done():
        return None
    return get.result()
