"""Client connections: how long each may wait or stall, and how many one process keeps open.

aiohttp by itself closes only a connection that stays idle ``keepalive_timeout`` after its last
answer (given to the runner: ``keepalive_timeout``); an ``AppRunner`` left at its default waits an
hour. Nothing bounds a request whose headers trickle in, a client that stops reading, or the
number of connections, so 2,000 idle connections ran the origin out of file descriptors and
``/healthz`` timed out (issue 9). Here, as in nginx:

* ``request_header_timeout`` (nginx ``client_header_timeout``): a request's headers must be
  complete that long after the connection opened, or after the first byte of a later request on a
  kept-alive connection; otherwise the connection is closed.
* ``keepalive_timeout``: aiohttp's own, between requests.
* ``send_timeout``: a client that takes none of what it is sent for that long is cut off. On Linux
  the kernel does it for every write, ``sendfile`` included (``TCP_USER_TIMEOUT``, which counts a
  zero receive window since Linux 5.11); everywhere, a transport whose writing stays paused that
  long without its buffer shrinking is aborted.
* ``max_connections``: :class:`Connections` counts them; the listener (``web.listener``) asks
  :meth:`Connections.slot` before each ``accept``. At the cap the longest-idle connections are
  closed to make room (as nginx does with keep-alive connections when its worker_connections run
  out), and when none is idle, accepting waits: newcomers queue in the kernel's backlog.

Each connection's protocol is aiohttp's (``RequestHandler``, or the fast lane's) inside a
:class:`GuardedConnection`, which sees every byte in and every flow-control signal. Telling a
connection that waits for a request from one being answered needs three of ``RequestHandler``'s
internals (:data:`_NEEDED`: the parsed-request count, the idle waiter that aiohttp's own
keep-alive close tests, the queue of parsed requests); ``pyproject.toml`` pins aiohttp's minor
version and ``tests/integration/web/test_connections.py`` fails when they go. Without them the
header timeout and the closing of idle connections at the cap are off (with a warning); the rest
uses public API only.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import select
import socket
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web_protocol

from rcmedia.config import Settings
from rcmedia.web import open_files
from rcmedia.web.recurring_log import RecurringLog

log = logging.getLogger(__name__)

_NEEDED = ("_request_count", "_waiter", "_messages")
SHED_AT_ONCE = 32  # idle connections closed per look at the cap (nginx drains 32 too)
RECHECK_S = 0.05  # at the cap: how often to look for a newcomer, or for a connection gone idle


@dataclass(frozen=True, kw_only=True, slots=True)
class ConnectionLimits:
    """The limits on one process's client connections (see the settings of the same names)."""

    request_header_timeout: float
    keepalive_timeout: float
    send_timeout: float
    max_connections: int  # resolved: always > 0

    @classmethod
    def from_settings(cls, settings: Settings) -> ConnectionLimits:
        return cls(
            request_header_timeout=settings.request_header_timeout,
            keepalive_timeout=settings.keepalive_timeout,
            send_timeout=settings.send_timeout,
            max_connections=open_files.connection_cap(settings.max_connections),
        )


def supported() -> bool:
    """Whether this aiohttp has the internals that tell a connection waiting for a request."""
    names = set(web_protocol.RequestHandler.__slots__) | set(dir(web_protocol.RequestHandler))
    return all(name in names for name in _NEEDED)


class Connections:
    """The open client connections of one process, and the slots for new ones."""

    def __init__(self, limits: ConnectionLimits) -> None:
        self.limits = limits
        self.inspects = supported()
        if not self.inspects:
            log.warning(
                "this aiohttp lacks what tells an idle connection: no request header timeout, "
                "and at max_connections new connections wait without idle ones being closed"
            )
        self._open: set[GuardedConnection] = set()
        self._closing = 0  # closed to make room, not gone yet
        self._freed: asyncio.Event | None = None
        self._warnings = RecurringLog(log)
        self.shed = 0  # connections closed to make room (tests and the benchmark read it)
        needed = open_files.descriptors_needed(limits.max_connections)
        if needed > open_files.soft_limit():
            log.warning(
                "max_connections %d needs an open-files limit of about %d, this process has %d: "
                "descriptors may run out first",
                limits.max_connections,
                needed,
                open_files.soft_limit(),
            )

    def __len__(self) -> int:
        return len(self._open)

    def protocol_factory(
        self, handler_factory: Callable[[], web_protocol.RequestHandler]
    ) -> Callable[[], GuardedConnection]:
        """What makes each accepted connection's protocol: aiohttp's handler, guarded."""

        def guarded() -> GuardedConnection:
            return GuardedConnection(self, handler_factory())

        return guarded

    def prepare(self, sock: socket.socket) -> None:
        """Socket options for an accepted connection: the kernel's send timeout where there is one."""
        user_timeout = getattr(socket, "TCP_USER_TIMEOUT", None)
        if user_timeout is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, user_timeout, max(1, int(self.limits.send_timeout * 1000)))

    async def slot(self, listening: socket.socket) -> None:
        """Return when one more connection may be accepted on ``listening``.

        At the cap, idle connections are closed once a newcomer waits in ``listening``'s backlog
        (not before: a connection that just opened looks idle until its request arrives); with
        none idle, this waits for a connection to end, and the newcomers wait in the backlog.
        """
        cap = self.limits.max_connections
        if len(self._open) < cap:
            return
        newcomers = select.poll()
        newcomers.register(listening, select.POLLIN)
        while len(self._open) >= cap:
            if self._closing == 0 and newcomers.poll(0) and not self.shed_idle():
                self._warnings.warning(
                    "cap",
                    "%d client connections open (max_connections), none idle: "
                    "new ones wait in the listen backlog",
                    cap,
                )
            if self._freed is None:
                self._freed = asyncio.Event()
            self._freed.clear()
            try:
                async with asyncio.timeout(RECHECK_S):
                    await self._freed.wait()
            except TimeoutError:
                pass

    def shed_idle(self, most: int | None = None) -> int:
        """Close up to ``most`` connections waiting for a request, the longest idle first; how many.

        Connections that never sent a byte go with kept-alive ones; one in the middle of sending
        its request's headers goes only after every idle one.
        """
        if not self.inspects:
            return 0
        count = most if most is not None else min(SHED_AT_ONCE, max(1, self.limits.max_connections // 16))
        idle = [connection for connection in self._open if connection.idle()]
        for connection in heapq.nsmallest(count, idle, key=GuardedConnection.shed_order):
            connection.close_idle()
            self._closing += 1
            self.shed += 1
        return min(count, len(idle))

    def out_of_descriptors(self, exc: OSError) -> int:
        """``accept`` failed for want of descriptors or memory: say so once in a while, and close
        idle connections to free some; how many were closed."""
        shed = self.shed_idle()
        self._warnings.warning(
            "descriptors",
            "cannot accept a connection: %s (%d connections open; closed %d idle ones); "
            "raise LimitNOFILE or lower max_connections",
            exc.strerror or exc,
            len(self._open),
            shed,
        )
        return shed

    def accept_failed(self, exc: BaseException) -> None:
        self._warnings.warning("accept", "accepting a connection failed: %r", exc)

    def _opened(self, connection: GuardedConnection) -> None:
        self._open.add(connection)

    def _closed(self, connection: GuardedConnection) -> None:
        self._open.discard(connection)
        if connection.shed:
            self._closing -= 1
        if self._freed is not None:
            self._freed.set()


class GuardedConnection(asyncio.Protocol):
    """aiohttp's protocol for one connection, with the header and send timeouts around it."""

    __slots__ = (
        "_connections",
        "_handler",
        "_header_timer",
        "_loop",
        "_paused_at_size",
        "_transport",
        "_write_timer",
        "last_active",
        "reading",
        "shed",
    )

    def __init__(self, connections: Connections, handler: web_protocol.RequestHandler) -> None:
        self._connections = connections
        self._handler = handler
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._header_timer: asyncio.TimerHandle | None = None
        self._write_timer: asyncio.TimerHandle | None = None
        self._paused_at_size = 0
        self.last_active = self._loop.time()
        self.reading = False  # part of a request's headers has come, not all of them
        self.shed = False

    @property
    def handler(self) -> web_protocol.RequestHandler:
        return self._handler

    # -- asyncio.Protocol ------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._connections._opened(self)
        if self._connections.inspects:  # the first request's headers are due from now
            self._arm_header_timer()
        self._handler.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        handler = self._handler
        if not self._connections.inspects:
            handler.data_received(data)
            return
        parsed = handler._request_count
        handler.data_received(data)
        self.last_active = self._loop.time()
        if handler._request_count != parsed:  # a request's headers are complete
            self.reading = False
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None
        elif data and not self.reading:  # the first bytes of a request (or of a body: see below)
            self.reading = True
            if self._header_timer is None:
                self._arm_header_timer()

    def eof_received(self) -> None:
        self._handler.eof_received()  # None: the transport closes once the client half-closed

    def pause_writing(self) -> None:
        self._handler.pause_writing()
        if self._transport is not None and self._write_timer is None:
            self._paused_at_size = self._transport.get_write_buffer_size()
            self._write_timer = self._loop.call_later(
                self._connections.limits.send_timeout, self._write_stalled
            )

    def resume_writing(self) -> None:
        if self._write_timer is not None:
            self._write_timer.cancel()
            self._write_timer = None
        self._handler.resume_writing()

    def connection_lost(self, exc: BaseException | None) -> None:
        for timer in (self._header_timer, self._write_timer):
            if timer is not None:
                timer.cancel()
        self._header_timer = self._write_timer = None
        self._connections._closed(self)
        self._handler.connection_lost(exc)

    # -- the limits ------------------------------------------------------------------------------

    def idle(self) -> bool:
        """Waiting for a request: aiohttp's own test before its keep-alive close (its waiter is
        pending), nothing parsed and queued, no file going out from the fast lane, nothing unsent."""
        handler = self._handler
        waiter = handler._waiter
        return (
            waiter is not None
            and not waiter.done()
            and not handler._messages
            and not getattr(handler, "sending", False)  # fast_lane.FastLaneHandler.sending
            and self._transport is not None
            and self._transport.get_write_buffer_size() == 0
        )

    def shed_order(self) -> tuple[bool, float]:
        return self.reading, self.last_active

    def close_idle(self) -> None:
        """Close this idle connection as aiohttp closes one after its keep-alive timeout."""
        self.shed = True
        self._handler.force_close()

    def _arm_header_timer(self) -> None:
        self._header_timer = self._loop.call_later(
            self._connections.limits.request_header_timeout, self._header_timeout
        )

    def _header_timeout(self) -> None:
        self._header_timer = None
        self.reading = False
        # Bytes that came while a request was being answered were its body or the next request,
        # pipelined: not this timer's business (aiohttp's keep-alive close follows the answer).
        if self.idle():
            log.debug("closing %s: the request's headers did not come in time", self._peer())
            self._handler.force_close()

    def _write_stalled(self) -> None:
        self._write_timer = None
        transport = self._transport
        if transport is None:
            return
        size = transport.get_write_buffer_size()
        if size < self._paused_at_size:  # the client took some: another interval
            self._paused_at_size = size
            self._write_timer = self._loop.call_later(
                self._connections.limits.send_timeout, self._write_stalled
            )
            return
        log.debug("aborting %s: the client took nothing for send_timeout", self._peer())
        transport.abort()

    def _peer(self) -> object:
        return self._transport.get_extra_info("peername") if self._transport is not None else None
