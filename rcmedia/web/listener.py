"""The listening sockets, accepted from here so that accepting can wait.

asyncio's ``create_server`` accepts whenever a listening socket is readable: it cannot stop at a
number of connections, and when the process is out of descriptors it logs "socket.accept() out of
system resource" with a traceback at every retry. Here a task per listening socket asks
:meth:`Connections.slot <rcmedia.web.connections.Connections.slot>` for room, accepts with
``loop.sock_accept`` and hands the socket to ``loop.connect_accepted_socket`` (public event-loop
API, which uvloop has too). While there is no room, nothing is accepted and newcomers wait in the
kernel's backlog (back-pressure, not failure); ``EMFILE`` and its kind close idle connections,
are logged once a minute and retried after a growing pause, never in a tight loop.

:class:`ListeningSite` is an aiohttp site (``web.BaseSite``, the documented base of ``TCPSite``),
so ``AppRunner.cleanup`` stops it before it closes the connections, as it does ``TCPSite``.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
from collections.abc import Callable

from aiohttp import web

from rcmedia.web.connections import Connections, GuardedConnection
from rcmedia.web.workers import http_url

log = logging.getLogger(__name__)

BACKLOG = 511  # nginx's on Linux; the kernel caps it at net.core.somaxconn
FIRST_RETRY_S = 0.05
LAST_RETRY_S = 1.0  # asyncio's own pause after an accept out of resources
OUT_OF_RESOURCES = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


class ListeningSite(web.BaseSite):
    """Serves ``runner``'s app on ``host``:``port``, within ``connections``' limits."""

    __slots__ = ("_connections", "_host", "_port", "_reuse_port", "_serving", "_sockets", "_tasks")

    def __init__(
        self,
        runner: web.BaseRunner,
        connections: Connections,
        *,
        host: str,
        port: int,
        reuse_port: bool = False,
    ) -> None:
        super().__init__(runner, backlog=BACKLOG)
        self._serving = runner
        self._connections = connections
        self._host = host
        self._port = port
        self._reuse_port = reuse_port
        self._sockets: list[socket.socket] = []
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def name(self) -> str:
        return http_url(self._host, self.port)

    @property
    def port(self) -> int:
        """The port bound (the one asked for until started)."""
        return int(self._sockets[0].getsockname()[1]) if self._sockets else self._port

    async def start(self) -> None:
        await super().start()  # registered with the runner, which stops it on cleanup
        self._sockets = listening_sockets(self._host, self._port, reuse_port=self._reuse_port)
        handlers = self._serving.server  # aiohttp's protocol factory (RequestHandler per connection)
        assert handlers is not None
        factory = self._connections.protocol_factory(handlers)
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._accept(sock, factory)) for sock in self._sockets]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        for sock in self._sockets:
            sock.close()
        await super().stop()

    async def _accept(self, sock: socket.socket, factory: Callable[[], GuardedConnection]) -> None:
        loop = asyncio.get_running_loop()
        connections = self._connections
        pause = FIRST_RETRY_S
        while True:
            await connections.slot(sock)
            try:
                client, _ = await loop.sock_accept(sock)
            except ConnectionAbortedError:  # the client left while it waited in the backlog
                continue
            except OSError as exc:
                if exc.errno in OUT_OF_RESOURCES and connections.out_of_descriptors(exc):
                    await asyncio.sleep(FIRST_RETRY_S)  # the idle ones closed free theirs meanwhile
                    continue
                if exc.errno not in OUT_OF_RESOURCES:
                    connections.accept_failed(exc)
                await asyncio.sleep(pause)  # nothing to free: a growing pause, never a tight loop
                pause = min(pause * 2, LAST_RETRY_S)
                continue
            pause = FIRST_RETRY_S
            try:
                connections.prepare(client)
                await loop.connect_accepted_socket(factory, client)
            except OSError as exc:  # reset before it was set up: nothing to serve
                log.debug("dropped a connection while setting it up: %s", exc)
                client.close()


def listening_sockets(host: str, port: int, *, reuse_port: bool) -> list[socket.socket]:
    """Bound, listening, non-blocking sockets for every address ``host`` names (as ``create_server``)."""
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    sockets: list[socket.socket] = []
    seen: set[tuple[int, object]] = set()
    try:
        for family, kind, proto, _, address in infos:
            if (family, address) in seen:
                continue
            seen.add((family, address))
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if reuse_port:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            if family == socket.AF_INET6:  # the IPv4 address gets its own socket
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(BACKLOG)
            sock.setblocking(False)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets
