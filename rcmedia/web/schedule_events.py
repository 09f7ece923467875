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
instead, which a client compares with what it shows. The fan-out, queues and keep-alives are those of
rcmedia.web.sse_fanout, as for the job events.
"""

from __future__ import annotations

import asyncio
import collections
import json
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from aiohttp import web
from aiohttp_sse import EventSourceResponse

from rcmedia.catalog.schedules import ScheduleStore
from rcmedia.core.accounts import Role
from rcmedia.core.clock import Clock
from rcmedia.core.models import Output
from rcmedia.errors import InvalidFieldError
from rcmedia.service.channels import channel_and_output, find_channel
from rcmedia.web.access import require_channel
from rcmedia.web.keys import SCHEDULES_KEY
from rcmedia.web.params import enum_param
from rcmedia.web.sse_fanout import Fanout, Listener, poller, send_changes, stream_closer

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


class ScheduleEvents(Fanout[DayChange]):
    """The app's one poller of day versions and the listeners it fans changes out to."""

    name = "schedule events"

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
        super().__init__(
            poll_seconds=poll_seconds, keepalive_seconds=keepalive_seconds, queue_size=queue_size
        )
        self.store = store
        self.clock = clock
        self.boot = secrets.token_hex(4)
        self.history: collections.deque[DayChange] = collections.deque(maxlen=history)
        self.seq = 0
        self._versions: dict[Key, int] | None = None

    def event_id(self, seq: int) -> str:
        return f"{self.boot}-{seq}"

    def listen(self, channel: str, output: Output | None) -> Listener[DayChange]:
        return self.listen_for(lambda change: change.channel == channel and output in (None, change.output))

    def publish(self, change: DayChange) -> None:
        self.history.append(change)
        super().publish(change)

    def missed(self, last_event_id: str, listener: Listener[DayChange]) -> list[DayChange] | None:
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

    def current(self, listener: Listener[DayChange]) -> list[DayChange]:
        """Every watched day of the listener's channel at its current version (numbered as now)."""
        days = [
            DayChange(seq=self.seq, channel=channel, output=output, day=day, version=version)
            for (channel, output, day), version in sorted(
                (self._versions or {}).items(), key=lambda kv: (kv[0][1].value, kv[0][2])
            )
        ]
        return [change for change in days if listener.wants(change)]

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


SCHEDULE_EVENTS_KEY = web.AppKey("schedule_events", ScheduleEvents)


run_poller = poller(SCHEDULE_EVENTS_KEY)
close_streams = stream_closer(SCHEDULE_EVENTS_KEY)


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
        sent = max((c.seq for c in backlog), default=0)

        async def send(stream: EventSourceResponse, change: DayChange) -> None:
            await stream.send(json.dumps(change.document()), id=events.event_id(change.seq), event="day")

        return await send_changes(
            request, events, listener, backlog, send, sent_already=lambda change: change.seq <= sent
        )
    finally:
        events.leave(listener)
