"""The fast lane: the origin's two hot requests answered as soon as they are parsed.

Every viewer reloads its rung's live playlist once a segment and then fetches the segment, so on
a busy origin almost every request is one of two kinds: a few hundred bytes of playlist, cached
until the next segment boundary (``playout.live``), or a published segment file. Through
aiohttp's full request cycle (a task per request, the request object, routing, middlewares,
response signals; for files, thread hand-offs to stat, open and close) a cached playlist cost
66 µs of CPU and a 700 KB segment 528 µs, against nginx's 8 and 211 (bench/origin.py). Here the
connection's protocol answers them itself, from ``data_received``:

* ``GET /live/{channel}/{output}/{rung}.m3u8`` whose playlist is cached and fresh: bytes prepared
  once a second (:class:`LiveLane`);
* ``GET /media/{key}`` of a file in local storage, without ``Range`` or conditional headers: the
  headers, then ``os.sendfile`` from the event loop (:class:`MediaLane`); likewise
  ``GET /air/{start_us}/{cut}/{key}`` once the aired segment is kept on disk (:class:`AiredLane`). What the socket does not
  take at once goes on with ``loop.sendfile`` while later requests wait their turn.

aiohttp's own HTTP parser still reads every request, and anything else (another path, a query
string, ``HEAD``, HTTP/1.0, ``Connection: close``, a stale playlist, a byte range, the access log
on) takes the usual path, answered by the usual handlers (``web.live``, ``web.media``) with the
same headers.

Order is kept: the lane answers only while aiohttp's handler is idle, waiting for the next
request, with nothing queued; from the first request it does not answer, the rest of what
arrived goes to aiohttp, in order, and while a segment is still being sent, new requests wait.
Writes are bounded: a client that does not read its answers (``WRITE_LIMIT``) is left to aiohttp,
which waits for the socket to drain.

This reaches into ``aiohttp.web_protocol.RequestHandler``'s internals (its parser, message queue
and keep-alive timer), so ``pyproject.toml`` pins aiohttp's minor version, and
``tests/integration/web/test_fast_lane.py`` checks the lane against the usual path, byte for byte
but the ``Date``. ``runner_for`` falls back to the usual path (with a warning) when the internals
it needs are not there; the ``live_fast_lane`` setting turns it off.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from aiohttp import hdrs, web, web_protocol, web_server
from aiohttp.helpers import rfc822_formatted_time
from aiohttp.http import SERVER_SOFTWARE, HttpVersion11
from aiohttp.http_parser import RawRequestMessage
from multidict import CIMultiDictProxy

from rcmedia.core.clock import Clock
from rcmedia.core.timeline import us_of
from rcmedia.errors import NotFoundError, UnsafePathError
from rcmedia.playout.aired import CUT_ENDS, AiredSegments, etag_of
from rcmedia.playout.live import LiveChannels
from rcmedia.storage.base import Storage, safe_key
from rcmedia.web.cors import cors_headers
from rcmedia.web.live import media_playlist_headers, playlist_answer, takes_gzip
from rcmedia.web.media import IMMUTABLE, MEDIA_TYPES, media_path
from rcmedia.web.workers import WORKER_HEADER

log = logging.getLogger(__name__)

PATHS_KEPT = 65536  # media paths remembered (about 10 MB); all forgotten when full
WRITE_LIMIT = 64 * 1024  # answers not yet read by the client, beyond which the lane waits
KEEP_OPEN_S = 10**9  # the keep-alive deadline while a segment is being sent: never
# what the media lane leaves to aiohttp: byte ranges and conditional requests
_NOT_PLAIN = ("Range", "If-Range", "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since")
_NEEDED = (
    "_messages",
    "_waiter",
    "_parser",
    "_keepalive_handle",
    "_next_keepalive_close_time",
    "_keepalive_timeout",
    "_logging_enabled",
    "_payload_parser",
    "_msg_queue_resume_size",
    "_manager",
)


@dataclass(frozen=True, slots=True)
class FileAnswer:
    """A file to send after ``head``: ``size`` bytes of the open ``fd`` from its start."""

    head: bytes
    fd: int
    size: int


Answer = bytes | FileAnswer


class LiveLane:
    """Answers ``GET /live/{channel}/{output}/{rung}.m3u8`` when the playlist is cached and fresh."""

    def __init__(self, live: LiveChannels, clock: Clock, tail: str) -> None:
        self.live = live
        self.clock = clock
        self.tail = tail

    def answer(self, parts: list[str], headers: CIMultiDictProxy[str]) -> bytes | None:
        # "", "live", channel, output, ["continuous",] "{rung}.m3u8"
        continuous = len(parts) == 6 and parts[4] == "continuous"
        if (len(parts) != 5 and not continuous) or not parts[-1].endswith(".m3u8"):
            return None
        now = self.clock.now()
        now_us = us_of(now)
        gzipped = takes_gzip(headers.get("Accept-Encoding", ""))
        rendered = self.live.cached_playlist(
            parts[2], parts[3], parts[-1][:-5], now, now_us, gzipped=gzipped, continuous=continuous
        )
        if rendered is None:
            return None
        body, cache_control, gzipped = playlist_answer(rendered, now_us, gzipped=gzipped)
        date = rfc822_formatted_time()
        head = _playlist_head(rendered.valid_until_us, cache_control, gzipped, len(body), date, self.tail)
        return head + body


@functools.lru_cache(maxsize=4096)  # a few per playlist per second
def _playlist_head(
    until_us: int, cache_control: str, gzipped: bool, length: int, date: str, tail: str
) -> bytes:
    fields = [
        *media_playlist_headers(until_us, cache_control, gzipped).items(),
        ("Content-Length", str(length)),
    ]
    return _head(fields, date, tail)


def _head(fields: list[tuple[str, str]], date: str, tail: str) -> bytes:
    lines = ["HTTP/1.1 200 OK", *(f"{name}: {value}" for name, value in fields), f"Date: {date}"]
    return ("\r\n".join(lines) + "\r\n" + tail + "\r\n").encode("latin-1")


class MediaLane:
    """Answers a plain ``GET /media/{key}`` of a file in local storage, as ``web.media`` would."""

    def __init__(self, storage: Storage, tail: str) -> None:
        self.storage = storage
        self.tail = tail
        # key → the file's checked path and media type: a key never names other bytes (each publish
        # takes a new prefix), so only a deleted file makes an entry wrong, and opening it then fails
        self._paths: dict[str, tuple[str, str]] = {}

    def answer(self, target: str, headers: CIMultiDictProxy[str]) -> FileAnswer | None:
        if any(name in headers for name in _NOT_PLAIN):
            return None
        key = target[len("/media/") :]
        found = self._paths.get(key) or self._path(key)
        if found is None:
            return None
        path, media_type = found
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            self._paths.pop(key, None)
            return None
        st = os.fstat(fd)
        head = _file_head(media_type, st.st_mtime_ns, st.st_size, rfc822_formatted_time(), self.tail)
        return FileAnswer(head=head, fd=fd, size=st.st_size)

    def _path(self, key: str) -> tuple[str, str] | None:
        """The file at ``key`` and its media type, checked as ``web.media`` checks them; else None."""
        try:
            path, media_type = media_path(self.storage, key)
        except (NotFoundError, UnsafePathError):
            return None  # the usual path says 404
        if len(self._paths) >= PATHS_KEPT:
            self._paths.clear()
        self._paths[key] = found = (str(path), media_type)
        return found


class AiredLane:
    """Answers a plain ``GET /air/{start_us}/{cut}/{key}`` whose rewrite is already kept on disk,
    as ``web.aired_media`` would (the first request for a segment goes the usual way and makes it)."""

    def __init__(self, aired: AiredSegments, tail: str) -> None:
        self.aired = aired
        self.tail = tail
        # target → its kept file's path, media type and ETag: a name never names other bytes
        self._files: dict[str, tuple[str, str, str]] = {}

    def answer(self, target: str, headers: CIMultiDictProxy[str]) -> FileAnswer | None:
        if any(name in headers for name in _NOT_PLAIN):
            return None
        found = self._files.get(target) or self._file(target)
        if found is None:
            return None
        path, media_type, etag = found
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            self._files.pop(target, None)
            return None  # not made yet (or swept): the usual path makes it
        size = os.fstat(fd).st_size
        head = _aired_head(media_type, etag, size, rfc822_formatted_time(), self.tail)
        return FileAnswer(head=head, fd=fd, size=size)

    def _file(self, target: str) -> tuple[str, str, str] | None:
        """Where the kept file of ``target`` would be, its media type and ETag; None for anything
        the usual path must answer (it says 404 to what is malformed)."""
        parts = target.split("/", 4)  # "", "air", start, cut, key
        if len(parts) != 5 or not (parts[2].isascii() and parts[2].isdigit() and len(parts[2]) <= 19):
            return None
        media_type = MEDIA_TYPES.get(PurePosixPath(parts[4]).suffix.lower())
        if media_type is None or parts[3] not in CUT_ENDS:
            return None
        try:
            path = self.aired.path(safe_key(parts[4]), int(parts[2]), parts[3])
        except UnsafePathError:
            return None
        if path is None:
            return None
        if len(self._files) >= PATHS_KEPT:
            self._files.clear()
        self._files[target] = found = (str(path), media_type, etag_of(path.name))
        return found


@functools.lru_cache(maxsize=4096)  # a few per segment being watched, per second
def _aired_head(media_type: str, etag: str, size: int, date: str, tail: str) -> bytes:
    # as web.aired_media words them
    fields = [
        ("Content-Type", media_type),
        ("Cache-Control", IMMUTABLE),
        (str(hdrs.ETAG), etag),  # spelt as aiohttp spells it
        ("Accept-Ranges", "bytes"),
        ("Content-Length", str(size)),
    ]
    return _head(fields, date, tail)


@functools.lru_cache(maxsize=4096)  # a few per segment being watched, per second
def _file_head(media_type: str, mtime_ns: int, size: int, date: str, tail: str) -> bytes:
    # as web.FileResponse words them (its ETag and Last-Modified, from the same stat)
    validators = web.StreamResponse()
    validators.etag = f"{mtime_ns:x}-{size:x}"
    validators.last_modified = mtime_ns / 1e9
    fields = [
        ("Content-Type", media_type),
        ("Cache-Control", IMMUTABLE),
        *validators.headers.items(),  # spelt as aiohttp spells them
        ("Content-Length", str(size)),
        ("Accept-Ranges", "bytes"),
    ]
    return _head(fields, date, tail)


class Lanes:
    """Both lanes, and what they add to every answer (CORS, the worker's name, ``Server``)."""

    def __init__(
        self,
        live: LiveChannels,
        clock: Clock,
        storage: Storage,
        *,
        cors_origin: str,
        worker: str | None,
        aired: AiredSegments | None = None,
        counts: dict[str, int] | None = None,
    ) -> None:
        # as web.cors.add_cors_headers and web.app's worker header add them on /live/ and /media/
        extra = cors_headers(cors_origin)
        if worker is not None:
            extra[WORKER_HEADER] = worker
        extra["Server"] = SERVER_SOFTWARE
        tail = "".join(f"{name}: {value}\r\n" for name, value in extra.items())
        self.live = LiveLane(live, clock, tail)
        # the media lane finishes long sends with loop.sendfile, which uvloop lacks (uvloop#228)
        sendfile = isinstance(asyncio.get_running_loop(), asyncio.BaseEventLoop)
        self.media = MediaLane(storage, tail) if sendfile else None
        self.aired = AiredLane(aired, tail) if sendfile and aired is not None else None
        self.answered = 0  # requests the lanes answered (tests and benchmarks read it)
        # by route family, for the metrics (rcmedia.web.metrics copies them once a second)
        self.counts = counts if counts is not None else {}
        for family in ("live_playlist", "air_segment", "media"):
            self.counts.setdefault(family, 0)

    def answer(self, message: RawRequestMessage) -> Answer | None:
        """The answer to ``message``, or None for the usual path."""
        target = message.path
        if "?" in target or "%" in target:  # a query or an escape: the router's business
            return None
        answer: Answer | None = None
        if target.startswith("/live/"):
            answer, family = self.live.answer(target.split("/"), message.headers), "live_playlist"
        elif target.startswith("/air/") and self.aired is not None:
            answer, family = self.aired.answer(target, message.headers), "air_segment"
        elif target.startswith("/media/") and self.media is not None:
            answer, family = self.media.answer(target, message.headers), "media"
        if answer is not None:
            self.answered += 1
            self.counts[family] += 1
        return answer


class FastLaneHandler(web_protocol.RequestHandler):
    """aiohttp's connection protocol, answering what the lanes can before aiohttp sees it."""

    __slots__ = ("_sending", "lanes")

    lanes: Lanes
    _sending: asyncio.Task[None] | None

    @property
    def sending(self) -> bool:
        """A segment is going out (aiohttp's handler looks idle meanwhile: ``web.connections``)."""
        return self._sending is not None

    def data_received(self, data: bytes) -> None:
        waiter = self._waiter
        if self._sending is not None:  # a segment is going out: what arrives waits its turn
            self._queue(data)
            return
        # idle: start() waits for a request, none is queued, nothing is being answered or read
        if waiter is None or waiter.done() or self._messages or self._logging_enabled or self._payload_parser:
            super().data_received(data)
            return
        self._queue(data)
        self._serve_queue()

    def _queue(self, data: bytes) -> None:
        """Parse ``data`` into the message queue without waking aiohttp's handler."""
        waiter, self._waiter = self._waiter, None
        try:
            super().data_received(data)
        finally:
            self._waiter = waiter

    def _serve_queue(self) -> None:
        """Answer queued requests from the front while the lanes can; wake aiohttp for the rest."""
        waiter, messages, transport = self._waiter, self._messages, self.transport
        if waiter is None:
            return
        while (
            messages
            and transport is not None
            and not waiter.done()
            and not (self._close or self._force_close)
        ):
            message, payload = messages[0]
            if (
                type(message) is not RawRequestMessage
                or message.method != "GET"
                or message.version != HttpVersion11
                or message.should_close
                or message.upgrade
                or not payload.is_eof()
                or transport.get_write_buffer_size() > WRITE_LIMIT
            ):
                break
            answer = self.lanes.answer(message)
            if answer is None:
                break
            messages.popleft()
            self._answered()
            if isinstance(answer, bytes):
                transport.write(answer)
            elif not self._send_file(transport, answer):
                return  # the rest of the file goes on in a task, which serves the queue after
        if messages and not waiter.done():
            waiter.set_result(None)  # the rest is aiohttp's, in order

    def _send_file(self, transport: asyncio.Transport, answer: FileAnswer) -> bool:
        """Send ``answer``; False if it goes on in the background (``_sending``)."""
        transport.write(answer.head)
        sent = 0
        if transport.get_write_buffer_size() == 0:  # the head is out: the file may follow directly
            socket = transport.get_extra_info("socket")
            try:
                while sent < answer.size:
                    count = os.sendfile(socket.fileno(), answer.fd, sent, answer.size - sent)
                    if count == 0:  # the file shrank since its stat (storage never rewrites one)
                        raise EOFError(answer.size - sent)
                    sent += count
            except BlockingIOError:
                pass
            except (OSError, EOFError):  # the client went away, or the answer cannot be whole
                os.close(answer.fd)
                transport.abort()
                return True
        if sent >= answer.size:
            os.close(answer.fd)
            return True
        self._next_keepalive_close_time = self._loop.time() + KEEP_OPEN_S
        self._sending = asyncio.ensure_future(self._send_rest(transport, answer, sent))
        return False

    async def _send_rest(self, transport: asyncio.Transport, answer: FileAnswer, offset: int) -> None:
        try:
            with os.fdopen(answer.fd, "rb", buffering=0) as file:  # closes the fd
                await self._loop.sendfile(transport, file, offset, answer.size - offset)
        except (ConnectionError, RuntimeError, OSError):  # the client went away, or the origin stops
            transport.abort()
            return
        finally:
            self._sending = None
        self._keep_alive_from_now()
        self._serve_queue()

    def _answered(self) -> None:
        """What aiohttp does after answering a request: a parser slot freed, keep-alive renewed."""
        if self._parser is not None:
            self._parser.message_consumed()
        if self._manager is not None:
            self._manager.requests_count += 1
        if self._buffer_paused and len(self._messages) <= self._msg_queue_resume_size:
            self._resume_reading_if_drained()
        self._keep_alive_from_now()

    def _keep_alive_from_now(self) -> None:
        if self._keepalive_timeout > 0:
            loop = self._loop
            close_time = loop.time() + self._keepalive_timeout
            self._next_keepalive_close_time = close_time
            if self._keepalive_handle is None:
                self._keepalive_handle = loop.call_at(close_time, self._process_keepalive)

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._sending is not None:
            self._sending.cancel()
        super().connection_lost(exc)


class FastLaneServer(web_server.Server):
    """aiohttp's server, whose connections take the fast lane."""

    lanes: Lanes

    def __call__(self) -> web_protocol.RequestHandler:
        handler = FastLaneHandler(self, loop=self._loop, **self._kwargs)
        handler.lanes = self.lanes
        handler._sending = None
        return handler


class FastLaneRunner(web.AppRunner):
    """``web.AppRunner`` serving with :class:`FastLaneServer`."""

    def __init__(self, app: web.Application, lanes: Lanes, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.lanes = lanes

    async def _make_server(self) -> web_server.Server:
        server = await super()._make_server()
        server.__class__ = FastLaneServer
        assert isinstance(server, FastLaneServer)
        server.lanes = self.lanes
        return server


def supported() -> bool:
    """Whether this aiohttp has the internals the lanes reach into."""
    names = set(web_protocol.RequestHandler.__slots__) | set(dir(web_protocol.RequestHandler))
    return all(name in names for name in _NEEDED)


def runner_for(
    app: web.Application, lanes_of: Callable[[web.Application], Lanes] | None, *, keepalive_timeout: float
) -> web.AppRunner:
    """The runner ``app`` is served with: the fast lane when asked and this aiohttp allows it."""
    if lanes_of is None:
        return web.AppRunner(app, keepalive_timeout=keepalive_timeout)
    if not supported():
        log.warning("%s lacks what the fast lane needs: every request goes the usual way", SERVER_SOFTWARE)
        return web.AppRunner(app, keepalive_timeout=keepalive_timeout)
    return FastLaneRunner(app, lanes_of(app), keepalive_timeout=keepalive_timeout)
