"""SharedRenders on its own: reuse while fresh and unchanged, never after a failure, bounded."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator

import pytest

from rcmedia.web.shared_render import SharedRenders


class Ticker:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Document:
    """A produce function that counts its renders and can be held back or made to fail."""

    def __init__(self, *parts: str) -> None:
        self.parts = parts
        self.calls = 0
        self.fail = False
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self) -> Iterator[str]:
        self.calls += 1
        if self.fail:
            raise LookupError("no such table")
        return self._chunks()

    def _chunks(self) -> Iterator[str]:
        for part in self.parts:
            self.gate.wait(timeout=10)
            yield part


async def finished(renders: SharedRenders, key: str, fingerprint: object, produce: Document) -> bytes:
    render = renders.get(key, fingerprint, produce)
    chunks = [chunk async for chunk in render.chunks(gzip=False)]
    packed = b"".join([chunk async for chunk in render.chunks(gzip=True)])
    assert gzip.decompress(packed) == b"".join(chunks)
    return b"".join(chunks)


async def test_reused_while_fresh_and_the_fingerprint_holds() -> None:
    ticker, document = Ticker(), Document("<tv>", "中文", "</tv>")
    renders = SharedRenders(ttl=60, batch_bytes=4, monotonic=ticker)

    assert await finished(renders, "iptv", 1, document) == "<tv>中文</tv>".encode()
    ticker.now += 59
    await finished(renders, "iptv", 1, document)
    assert document.calls == 1

    await finished(renders, "iptv", 2, document)  # the schedule changed
    assert document.calls == 2
    await finished(renders, "tv", 2, document)  # another key
    assert document.calls == 3

    ticker.now += 61  # too old, even unchanged
    await finished(renders, "iptv", 2, document)
    assert document.calls == 4
    await renders.close()


async def test_a_running_render_is_joined_not_repeated() -> None:
    ticker, document = Ticker(), Document("a" * 10, "b" * 10, "c" * 10)
    renders = SharedRenders(ttl=60, batch_bytes=8, monotonic=ticker)
    document.gate.clear()
    first = renders.get("k", 1, document)
    ticker.now += 1000  # however long it takes, a render in progress is shared
    second = renders.get("k", 1, document)
    document.gate.set()

    assert second is first
    assert b"".join([c async for c in second.chunks(gzip=False)]) == b"a" * 10 + b"b" * 10 + b"c" * 10
    assert document.calls == 1
    await renders.close()


async def test_a_failure_reaches_every_reader_and_is_not_kept() -> None:
    document = Document("<tv/>")
    document.fail = True
    renders = SharedRenders(ttl=60)

    render = renders.get("k", 1, document)
    with pytest.raises(LookupError, match="no such table"):
        await render.ready()

    document.fail = False
    assert await finished(renders, "k", 1, document) == b"<tv/>"
    assert document.calls == 2
    await renders.close()


async def test_at_most_max_entries_are_kept() -> None:
    document = Document("x")
    renders = SharedRenders(ttl=60, max_entries=2)
    for key in ("a", "b", "c"):
        await finished(renders, key, 1, document)
    await finished(renders, "c", 1, document)
    await finished(renders, "b", 1, document)
    assert document.calls == 3
    await finished(renders, "a", 1, document)  # dropped first
    assert document.calls == 4
    await renders.close()


async def test_close_stops_a_render_and_tells_its_readers() -> None:
    document = Document("a" * 10, "b" * 10)
    renders = SharedRenders(ttl=60, batch_bytes=8)
    document.gate.clear()
    render = renders.get("k", 1, document)

    await renders.close()
    document.gate.set()

    with pytest.raises(ConnectionAbortedError):
        await render.ready()
