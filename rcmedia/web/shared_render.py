"""One render of a large document, shared by every request that wants it at the same time.

Set-top boxes poll ``/epg.xml`` on timers that line up (power-on at 19:00, the top of the hour), and a
week of listings for every channel is megabytes of XML. The first request starts a render in a task
of its own, so a box that hangs up does not stop it for the others; every request, the first one
included, streams the chunks as they come; later requests get the finished bytes until the
document's fingerprint changes or it is older than the time to live.

The render also compresses, once: each batch is kept plain and as the next piece of one gzip
stream (flushed with ``Z_SYNC_FLUSH``, so each piece is decodable as it arrives). No request
compresses anything itself.

The document comes from a synchronous iterator that may block (database reads, rendering); it is
created and pulled in worker threads, a batch at a time, never on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
import zlib
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Hashable, Iterator

log = logging.getLogger(__name__)

Produce = Callable[[], Iterator[str]]
BATCH_BYTES = 256 * 1024  # per worker-thread hop: big enough to amortise it, small enough to stream
GZIP_LEVEL = 6
_GZIP_WBITS = 31  # zlib's way of asking for a gzip header and trailer (RFC 1952)


class Render:
    """A document being produced (or produced): its chunks so far, plain and gzip."""

    def __init__(self, fingerprint: Hashable, *, started: float) -> None:
        self.fingerprint = fingerprint
        self.started = started
        self.plain: list[bytes] = []
        self.packed: list[bytes] = []  # the same batches as one gzip stream
        self.done = False
        self.error: BaseException | None = None
        self._progress = asyncio.Event()

    def _append(self, plain: bytes, packed: bytes) -> None:
        self.plain.append(plain)
        self.packed.append(packed)
        self._notify()

    def _finish(self, error: BaseException | None = None) -> None:
        if error is None:
            # One piece each from now on: later requests send it whole. Readers still streaming
            # hold the old lists and go on from where they are.
            self.plain = [b"".join(self.plain)]
            self.packed = [b"".join(self.packed)]
        self.done, self.error = True, error
        self._notify()

    def _notify(self) -> None:
        progress, self._progress = self._progress, asyncio.Event()
        progress.set()

    async def ready(self) -> None:
        """Wait for the first batch (or the end); raise the render's error if it has failed by then.

        A caller waits for this before it commits to a status line: an error known this early
        can still become a proper error answer.
        """
        while not self.plain and not self.done:
            await self._progress.wait()
        if self.error is not None:
            raise self.error

    def body(self, *, gzip: bool) -> bytes:
        """The finished document, plain or gzip."""
        if not self.done or self.error is not None:
            raise RuntimeError("body() of a render that is unfinished or failed")
        return (self.packed if gzip else self.plain)[0]

    async def chunks(self, *, gzip: bool) -> AsyncIterator[bytes]:
        """Every chunk from the first, as soon as it exists; raises the render's error at the point it failed."""
        source = self.packed if gzip else self.plain
        sent = 0
        while True:
            progress = self._progress  # taken before the checks: no notification can slip between
            if sent < len(source):
                sent += 1
                yield source[sent - 1]
                continue
            if self.error is not None:
                raise self.error
            if self.done:
                return
            await progress.wait()


def _pull(iterator: Iterator[str], compressor: zlib._Compress, limit: int) -> tuple[bytes, bytes, bool]:
    """The next batch of at least ``limit`` bytes (less at the end), plain and compressed."""
    parts: list[bytes] = []
    size = 0
    finished = False
    while size < limit:
        try:
            chunk = next(iterator)
        except StopIteration:
            finished = True
            break
        data = chunk.encode("utf-8")
        parts.append(data)
        size += len(data)
    plain = b"".join(parts)
    packed = compressor.compress(plain) + compressor.flush(zlib.Z_FINISH if finished else zlib.Z_SYNC_FLUSH)
    return plain, packed, finished


class SharedRenders:
    """Renders by key (e.g. output and days), each reused while its fingerprint holds and it is fresh.

    A failed render is never reused; the next request starts another. At most ``max_entries``
    documents are kept (least recently started dropped first).
    """

    def __init__(
        self,
        *,
        ttl: float,
        max_entries: int = 16,
        batch_bytes: int = BATCH_BYTES,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._max_entries = max_entries
        self._batch_bytes = batch_bytes
        self._monotonic = monotonic
        self._renders: OrderedDict[Hashable, Render] = OrderedDict()
        self._running: dict[asyncio.Task[None], Render] = {}

    def get(self, key: Hashable, fingerprint: Hashable, produce: Produce) -> Render:
        """The render for ``key`` at ``fingerprint``: a running or fresh one, else a new one started now."""
        now = self._monotonic()
        render = self._renders.get(key)
        if (
            render is not None
            and render.fingerprint == fingerprint
            and render.error is None
            and (not render.done or now - render.started < self._ttl)
        ):
            return render
        render = Render(fingerprint, started=now)
        self._renders[key] = render
        self._renders.move_to_end(key)
        while len(self._renders) > self._max_entries:
            self._renders.popitem(last=False)
        task = asyncio.create_task(self._run(key, render, produce))
        self._running[task] = render
        task.add_done_callback(self._forget)
        return render

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._running.pop(task, None)

    async def _run(self, key: Hashable, render: Render, produce: Produce) -> None:
        try:
            iterator = await asyncio.to_thread(produce)
            compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, _GZIP_WBITS)
            finished = False
            while not finished:
                plain, packed, finished = await asyncio.to_thread(
                    _pull, iterator, compressor, self._batch_bytes
                )
                render._append(plain, packed)
        except asyncio.CancelledError:
            render._finish(_stopped())
            raise
        except Exception as exc:  # every waiting request re-raises it; the next request retries
            log.debug("render of %r failed: %s", key, exc)
            render._finish(exc)
        else:
            render._finish()

    async def close(self) -> None:
        """Stop renders in progress (their readers get an error) and forget every document."""
        running = dict(self._running)
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        for render in running.values():
            if not render.done:  # cancelled before it ever ran
                render._finish(_stopped())
        self._renders.clear()


def _stopped() -> ConnectionAbortedError:
    return ConnectionAbortedError("the render was stopped (the server is shutting down)")
