"""What the server-sent event streams share (job events, schedule events): one poller per app
that hands each change to every listener's bounded queue, and the stream that sends them.

A listener whose queue is full (a client that stopped reading) is dropped, so memory never grows
with a slow client; its browser reconnects with ``Last-Event-ID`` and catches up. Streams end when
the server shuts down (``on_shutdown``: the server would otherwise wait for them). Keep-alive
comments (``: ping``) go out every ``keepalive_seconds`` (aiohttp-sse), which also keeps proxies
from closing a quiet stream; a client that takes nothing for ``send_timeout`` is cut off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from aiohttp import hdrs, web
from aiohttp_sse import EventSourceResponse

from rcmedia.errors import CatalogError
from rcmedia.web.keys import SETTINGS_KEY

log = logging.getLogger(__name__)

T = TypeVar("T")
F = TypeVar("F", bound="Fanout[Any]")


def _everything(_change: object) -> bool:
    return True


@dataclass(eq=False, slots=True)
class Listener(Generic[T]):
    """One client's queue of changes; ``dropped`` once it fell ``queue_size`` behind."""

    queue: asyncio.Queue[T]
    wants: Callable[[T], bool] = _everything
    dropped: asyncio.Event = field(default_factory=asyncio.Event)


class Fanout(Generic[T]):
    """An app's one poller (``poll_once``, run every ``poll_seconds``) and its listeners."""

    name = "events"

    def __init__(self, *, poll_seconds: float, keepalive_seconds: float, queue_size: int) -> None:
        self.poll_seconds = poll_seconds
        self.keepalive_seconds = keepalive_seconds
        self.queue_size = queue_size
        self.listeners: set[Listener[T]] = set()

    async def poll_once(self) -> None:
        raise NotImplementedError

    def listen_for(self, wants: Callable[[T], bool] = _everything) -> Listener[T]:
        listener: Listener[T] = Listener(asyncio.Queue(self.queue_size), wants)
        self.listeners.add(listener)
        return listener

    def leave(self, listener: Listener[T]) -> None:
        self.listeners.discard(listener)

    def publish(self, change: T) -> None:
        """Hand ``change`` to every listener that wants it; drop those whose queue is full."""
        for listener in list(self.listeners):
            if not listener.wants(change):
                continue
            try:
                listener.queue.put_nowait(change)
            except asyncio.QueueFull:
                log.info("%s: a listener fell %d changes behind; dropping it", self.name, self.queue_size)
                self.listeners.discard(listener)
                listener.dropped.set()

    def close(self) -> None:
        """End every stream (the server is shutting down: it would wait for them otherwise)."""
        for listener in self.listeners:
            listener.dropped.set()
        self.listeners.clear()

    async def run(self) -> None:
        while True:
            try:
                await self.poll_once()
            except CatalogError:
                log.warning("%s: cannot read the catalog; trying again", self.name, exc_info=True)
            await asyncio.sleep(self.poll_seconds)


def poller(key: web.AppKey[F]) -> Callable[[web.Application], AsyncIterator[None]]:
    """The ``cleanup_ctx`` that runs the app's ``key`` poller while the app runs (from a first
    read at start-up: listeners get what changes from then on)."""

    async def run_poller(app: web.Application) -> AsyncIterator[None]:
        events = app[key]
        with contextlib.suppress(CatalogError):  # run() tries again
            await events.poll_once()
        task = asyncio.create_task(events.run(), name=events.name)
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return run_poller


def stream_closer(key: web.AppKey[F]) -> Callable[[web.Application], Awaitable[None]]:
    """The ``on_shutdown`` hook that ends the streams of ``key`` before the server waits for them."""

    async def close_streams(app: web.Application) -> None:
        app[key].close()

    return close_streams


async def send_changes(
    request: web.Request,
    events: Fanout[T],
    listener: Listener[T],
    backlog: Iterable[T],
    send: Callable[[EventSourceResponse, T], Awaitable[None]],
    *,
    sent_already: Callable[[T], bool],
) -> EventSourceResponse:
    """The stream: ``backlog`` first, then the listener's changes (``sent_already`` ones skipped:
    the backlog may have had them) until the client goes, falls behind or the server stops."""
    stream = EventSourceResponse(
        ping_interval=events.keepalive_seconds, send_timeout=request.app[SETTINGS_KEY].send_timeout
    )
    stream.headers[hdrs.CACHE_CONTROL] = "no-store"  # over the library's no-cache: nothing to revalidate
    await stream.prepare(request)
    async with stream:
        for missed in backlog:
            await send(stream, missed)
        closed = asyncio.ensure_future(stream.wait())  # the pings stop when the client goes
        try:
            while (change := await _next(listener, closed)) is not None:
                if not sent_already(change):
                    await send(stream, change)
        finally:
            closed.cancel()
    return stream


async def _next(listener: Listener[T], closed: asyncio.Future[None]) -> T | None:
    """The next change, or None once the stream closed or the listener was dropped (the client
    reconnects with its Last-Event-ID)."""
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
