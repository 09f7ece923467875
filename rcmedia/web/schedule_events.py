"""``GET /api/v1/channels/{id}/schedule/events``: day versions changing, as server-sent events.

What the rundown editor listens to, so that another operator's save shows up without a reload.
One poller per app reads every channel's built-day versions in one query (about twice a second)
and compares them with the last read; each (channel, output, day) whose version changed is a
change, numbered in order, kept in a bounded history and handed to the listeners of that channel
(bounded queues: a client that stops reading is dropped, and reconnects). Polling the versions
catches every write — an edit, a rebuild, a copy, the nightly build, the CLI — whoever made it.

Each event is ``event: day``, ``data: {"channel", "output", "day", "version"}`` and ``id:``
``<boot>-<n>``: ``boot`` names this server process, ``n`` the change. A reconnect with a
``Last-Event-ID`` of this process whose change is still in the history gets the changes after it;
any other (a restart, too far behind) gets the current version of every built day of the channel
instead, which a client compares with what it shows. Keep-alive comments as the job events send.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from aiohttp import hdrs, web
from aiohttp_sse import EventSourceResponse

from rcmedia.catalog.schedules import ScheduleStore
from rcmedia.core.accounts import Role
from rcmedia.core.clock import Clock
from rcmedia.core.models import Output
from rcmedia.errors import CatalogError, InvalidFieldError
from rcmedia.service.channels import channel_and_output, find_channel
from rcmedia.web.access import require_channel
from rcmedia.web.keys import SCHEDULES_KEY, SETTINGS_KEY
from rcmedia.web.params import enum_param

log = logging.getLogger(__name__)

PAST_DAYS = 2  # days before today (UTC) that are still watched: a broadcast day may run past midnight
Key = tuple[str, Output, date]


@dataclass(frozen=True, kw_only=True, slots=True)
class DayChange:
    seq: int
    channel: str
    output: Output
    day: date
    version: int

    def document(self) -> dict[str, object]:
        return {
            "channel": self.channel,
            "output": self.output.value,
            "day": self.day.isoformat(),
            "version": self.version,
        }


@dataclass(eq=False, slots=True)
class Listener:
    channel: str
    output: Output | None
    queue: asyncio.Queue[DayChange]
    dropped: asyncio.Event = field(default_factory=asyncio.Event)

    def wants(self, change: DayChange) -> bool:
        return change.channel == self.channel and self.output in (None, change.output)


class ScheduleEvents:
    """The app's one poller of day versions and the listeners it fans changes out to."""

    def __init__(
        self,
        store: ScheduleStore,
        clock: Clock,
        *,
        poll_seconds: float = 0.5,
        keepalive_seconds: float = 15.0,
        queue_size: int = 1024,
        history: int = 4096,
    ) -> None:
        self.store = store
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.keepalive_seconds = keepalive_seconds
        self.queue_size = queue_size
        self.boot = secrets.token_hex(4)
        self.listeners: set[Listener] = set()
        self.history: collections.deque[DayChange] = collections.deque(maxlen=history)
        self.seq = 0
        self._versions: dict[Key, int] | None = None

    def event_id(self, seq: int) -> str:
        return f"{self.boot}-{seq}"

    def listen(self, channel: str, output: Output | None) -> Listener:
        listener = Listener(channel, output, asyncio.Queue(self.queue_size))
        self.listeners.add(listener)
        return listener

    def leave(self, listener: Listener) -> None:
        self.listeners.discard(listener)

    def close(self) -> None:
        """End every stream (the server is shutting down: it would wait for them otherwise)."""
        for listener in self.listeners:
            listener.dropped.set()
        self.listeners.clear()

    def publish(self, change: DayChange) -> None:
        self.history.append(change)
        for listener in list(self.listeners):
            if not listener.wants(change):
                continue
            try:
                listener.queue.put_nowait(change)
            except asyncio.QueueFull:
                log.info("schedule events: a listener fell %d changes behind; dropping it", self.queue_size)
                self.listeners.discard(listener)
                listener.dropped.set()

    def missed(self, last_event_id: str, listener: Listener) -> list[DayChange] | None:
        """The changes after ``last_event_id`` for ``listener``; None when the history cannot say
        (another process's id, or changes since then fell out of it)."""
        boot, _, number = last_event_id.strip().partition("-")
        if not (number.isascii() and number.isdigit() and len(number) < 19):
            raise InvalidFieldError(
                "Last-Event-ID", f"expected an id this stream sent, got {last_event_id!r}"
            )
        seq = int(number)
        if boot != self.boot or seq > self.seq:
            return None
        if seq < self.seq and (not self.history or self.history[0].seq > seq + 1):
            return None
        return [c for c in self.history if c.seq > seq and listener.wants(c)]

    def current(self, listener: Listener) -> list[DayChange]:
        """Every watched day of the listener's channel at its current version (numbered as now)."""
        return [
            DayChange(seq=self.seq, channel=channel, output=output, day=day, version=version)
            for (channel, output, day), version in sorted(
                (self._versions or {}).items(), key=lambda kv: (kv[0][1].value, kv[0][2])
            )
            if channel == listener.channel and listener.output in (None, output)
        ]

    async def poll_once(self) -> None:
        since = (self.clock.now() - timedelta(days=PAST_DAYS)).date()
        versions = await asyncio.to_thread(self.store.day_versions, since=since)
        previous, self._versions = self._versions, versions
        if previous is None:
            return  # the first read: listeners get what changes from now
        for key, version in sorted(versions.items(), key=lambda kv: (kv[0][0], kv[0][1].value, kv[0][2])):
            if previous.get(key) != version:
                self.seq += 1
                channel, output, day = key
                self.publish(
                    DayChange(seq=self.seq, channel=channel, output=output, day=day, version=version)
                )

    async def run(self) -> None:
        while True:
            try:
                await self.poll_once()
            except CatalogError:
                log.warning("schedule events: cannot read the catalog; trying again", exc_info=True)
            await asyncio.sleep(self.poll_seconds)


SCHEDULE_EVENTS_KEY = web.AppKey("schedule_events", ScheduleEvents)


async def run_poller(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: the poller runs while the app does."""
    events = app[SCHEDULE_EVENTS_KEY]
    with contextlib.suppress(CatalogError):  # run() tries again
        await events.poll_once()
    task = asyncio.create_task(events.run(), name="schedule-events")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def close_streams(app: web.Application) -> None:
    """on_shutdown: streams end before the server waits for its open requests to finish."""
    app[SCHEDULE_EVENTS_KEY].close()


async def schedule_events(request: web.Request) -> web.StreamResponse:
    """The stream of one channel (``?output=``: of one output); operators and admins only: it
    tells of plans not yet published. 404 for an unknown channel (or an output it is not on)."""
    channel_id = request.match_info["channel"]
    await require_channel(request, Role.OPERATOR, channel_id)
    output = enum_param(request.query, "output", Output)
    store = request.app[SCHEDULES_KEY]
    if output is None:
        await asyncio.to_thread(find_channel, store, channel_id)
    else:
        await asyncio.to_thread(channel_and_output, store, channel_id, output)
    events = request.app[SCHEDULE_EVENTS_KEY]
    listener = events.listen(channel_id, output)  # before the backlog is read: nothing falls in between
    try:
        header = request.headers.get("Last-Event-ID")
        backlog: list[DayChange] = []
        if header:
            since = events.missed(header, listener)
            backlog = events.current(listener) if since is None else since
        stream = EventSourceResponse(
            ping_interval=events.keepalive_seconds, send_timeout=request.app[SETTINGS_KEY].send_timeout
        )
        stream.headers[hdrs.CACHE_CONTROL] = "no-store"
        await stream.prepare(request)
        async with stream:
            sent = max((c.seq for c in backlog), default=0)
            for missed in backlog:
                await stream.send(json.dumps(missed.document()), id=events.event_id(missed.seq), event="day")
            closed = asyncio.ensure_future(stream.wait())
            try:
                while True:
                    change = await _next(listener, closed)
                    if change is None:
                        break  # gone, or fell behind: the client reconnects with its Last-Event-ID
                    if change.seq <= sent:
                        continue  # already in the backlog
                    await stream.send(
                        json.dumps(change.document()), id=events.event_id(change.seq), event="day"
                    )
                    sent = change.seq
            finally:
                closed.cancel()
        return stream
    finally:
        events.leave(listener)


async def _next(listener: Listener, closed: asyncio.Future[None]) -> DayChange | None:
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
