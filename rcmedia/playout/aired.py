"""Aired segments: each stored segment as the channel airs it, rewritten once and kept.

Live and catch-up playlists list every segment as ``/air/{start_us}/{cut}/{key}``: the stored
segment at ``key``, at its air time ``start_us`` on the channel's one clock, its audio cut to its
pictures at the ends named by ``cut`` (``in``, ``out``, ``inout``, or ``join``: neither). The
rewrite (rcmedia.media.continuous, rcmedia.media.continuous_fmp4) depends on nothing else, so the
same URL always gives the same bytes, in every process and for every rung's viewers alike, and a
replay of a programme fetches the very files its live viewers did.

Each segment is rewritten once per airing and rung, then kept as a file in ``cache_dir``
(bounded by ``aired_cache_bytes``, the oldest files going first), from which the origin sends it
with ``sendfile`` like any stored segment (rcmedia.web.fast_lane), the kernel's page cache
keeping the ones being watched in memory; and in a memory LRU of its own (bounded by bytes) for
those it cannot write there (no cache folder, a full disk). A file is written under a temporary name and renamed, so a reader never
sees half of one; its name is a digest of what made it, so every process may serve any.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import logging
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from rcmedia.core.timeline import SegmentRef
from rcmedia.errors import MediaFormatError
from rcmedia.media.continuous import air_ticks, continuous_ts
from rcmedia.media.continuous_fmp4 import Fmp4Tracks, continuous_fmp4
from rcmedia.playout.shifted import FMP4_INIT
from rcmedia.playout.work_slots import WorkSlots
from rcmedia.storage.base import Storage

log = logging.getLogger(__name__)

CUTS = {(False, False): "join", (True, False): "in", (False, True): "out", (True, True): "inout"}
CUT_ENDS = {token: ends for ends, token in CUTS.items()}
FORMAT = "aired-1"  # part of every cached name: a changed rewrite must not serve old files
MEMORY_BYTES = 64 << 20
SWEEP_TO = 0.8  # a sweep leaves the folder at this share of its bound
INITS_KEPT = 1024
RECOUNT_EVERY = 256  # writes between counts of what the folder holds (other workers write too)
SWEEP_LOCK = ".sweep.lock"
COMPLAIN_EVERY_S = 60.0


def aired_uri(key: str, segment: SegmentRef) -> str:
    """The URI a playlist lists for ``segment``, stored at ``key``."""
    return f"/air/{segment.start_us}/{CUTS[segment.cut_in, segment.cut_out]}/{key}"


@dataclass(frozen=True, slots=True)
class Aired:
    """A rewritten segment: its bytes, and an entity tag for them that every process gives alike."""

    data: bytes
    etag: str


class AiredSegments:
    """Rewritten segments, made on demand and kept; ask :meth:`get` from a worker thread."""

    def __init__(
        self, storage: Storage, cache_dir: Path | None, *, disk_bytes: int, memory_bytes: int = MEMORY_BYTES
    ) -> None:
        self.storage = storage
        self.cache_dir = cache_dir
        self.disk_bytes = disk_bytes
        self.memory_bytes = memory_bytes
        self.rewrites = 0  # segments rewritten since start (tests and benchmarks read it)
        self._memory: OrderedDict[str, bytes] = OrderedDict()
        self._memory_size = 0
        self._disk_size: int | None = None  # what the folder holds, once counted
        self._inits: dict[str, Fmp4Tracks] = {}
        self._lock = threading.Lock()
        self._sweeping = False
        self._complained = -COMPLAIN_EVERY_S
        self._writes = 0

    def path(self, key: str, start_us: int, cut: str) -> Path | None:
        """Where the cached file of this segment is (or would be); None without a cache folder."""
        if self.cache_dir is None:
            return None
        name = _name(key, start_us, cut)
        return self.cache_dir / name[:2] / name

    def kept(self, key: str, start_us: int, cut: str) -> Aired | None:
        """The segment as aired if it was made already (blocking: reads the kept file), else None."""
        name = _name(key, start_us, cut)
        path = self.path(key, start_us, cut)
        if path is not None:
            with contextlib.suppress(OSError):  # not made yet, or swept: made (again) on demand
                return Aired(data=path.read_bytes(), etag=etag_of(name))
        with self._lock:
            data = self._memory.get(name)
            if data is not None:
                self._memory.move_to_end(name)
        return None if data is None else Aired(data=data, etag=etag_of(name))

    def make(self, key: str, start_us: int, cut: str) -> Aired:
        """The segment at ``key`` aired at ``start_us`` with ``cut``, rewritten and kept (blocking).

        :class:`StorageError`/:class:`NotFoundError` when the stored segment cannot be read,
        :class:`MediaFormatError` when it cannot be rewritten.
        """
        name = _name(key, start_us, cut)
        data = self.rewrite(self.storage.read_bytes(key), key, start_us, cut)
        path = self.path(key, start_us, cut)
        if path is None or not self._store(path, data):
            self._remember(name, data)
        return Aired(data=data, etag=etag_of(name))

    def rewrite(self, data: bytes, key: str, start_us: int, cut: str) -> bytes:
        """``data``, stored at ``key``, as aired at ``start_us``.

        Audio the cut cannot read (not ADTS AAC, an fMP4 layout it does not rebuild) is left as it
        is: the segment is still moved onto the clock, rather than lost to the slate.
        """
        cut_in, cut_out = CUT_ENDS[cut]
        with self._lock:
            self.rewrites += 1
        try:
            return self._rewrite(data, key, start_us, cut_in=cut_in, cut_out=cut_out)
        except MediaFormatError as exc:
            if not (cut_in or cut_out):
                raise
            log.warning("aired segment %r at %d: audio not cut to the pictures (%s)", key, start_us, exc)
            return self._rewrite(data, key, start_us, cut_in=False, cut_out=False)

    def _rewrite(self, data: bytes, key: str, start_us: int, *, cut_in: bool, cut_out: bool) -> bytes:
        suffix = PurePosixPath(key).suffix.lower()
        if suffix == ".ts":
            return continuous_ts(data, at_ticks=air_ticks(start_us), cut_in=cut_in, cut_out=cut_out)
        if suffix == ".m4s":
            return continuous_fmp4(data, self._tracks(key), at_us=start_us, cut_in=cut_in, cut_out=cut_out)
        raise MediaFormatError("media segment", f"{key!r} is neither MPEG-TS (.ts) nor fMP4 (.m4s)")

    def _tracks(self, key: str) -> Fmp4Tracks:
        init_key = str(PurePosixPath(key).with_name(FMP4_INIT))
        tracks = self._inits.get(init_key)
        if tracks is None:
            tracks = Fmp4Tracks.of(self.storage.read_bytes(init_key))
            with self._lock:
                if len(self._inits) >= INITS_KEPT:
                    self._inits.clear()
                self._inits[init_key] = tracks
        return tracks

    def _remember(self, name: str, data: bytes) -> None:
        with self._lock:
            if name in self._memory:
                return
            self._memory[name] = data
            self._memory_size += len(data)
            while self._memory_size > self.memory_bytes and len(self._memory) > 1:
                _, dropped = self._memory.popitem(last=False)
                self._memory_size -= len(dropped)

    def _store(self, path: Path, data: bytes) -> bool:
        """Write ``data`` to ``path`` whole (temporary name, then rename); False when it cannot be."""
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_bytes(data)
            os.replace(temporary, path)
        except OSError as exc:  # a full or read-only disk: serve from memory, say so once in a while
            now = time.monotonic()
            if now - self._complained >= COMPLAIN_EVERY_S:
                self._complained = now
                log.warning("cannot keep aired segments in %s (kept in memory): %s", self.cache_dir, exc)
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
            return False
        with self._lock:
            self._writes += 1
            if self._disk_size is not None:
                self._disk_size += len(data)
            # the other processes' writes are seen only by a count: one now and then
            over = (
                self._disk_size is None
                or self._disk_size > self.disk_bytes
                or not self._writes % RECOUNT_EVERY
            )
        if over:
            self.sweep()
        return True

    def sweep(self) -> int:
        """Delete the oldest cached files until the folder holds at most ``SWEEP_TO`` of its
        bound (blocking); the bytes it then holds. One sweep at a time; others return at once."""
        with self._lock:
            if self._sweeping or self.cache_dir is None:
                return self._disk_size or 0
            self._sweeping = True
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            with open(self.cache_dir / SWEEP_LOCK, "a+b") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)  # one sweep at a time across the workers too
                total = self._sweep_locked(self.cache_dir)
            with self._lock:
                self._disk_size = total
            return total
        except OSError as exc:
            log.warning("cannot sweep the aired segments in %s: %s", self.cache_dir, exc)
            return self._disk_size or 0
        finally:
            with self._lock:
                self._sweeping = False

    def _sweep_locked(self, cache_dir: Path) -> int:
        """Count the folder; past the bound, delete the oldest files to ``SWEEP_TO`` of it."""
        files = []
        total = 0
        for folder, _, names in os.walk(cache_dir):
            for name in names:
                path = os.path.join(folder, name)
                try:
                    stat = os.stat(path)
                except OSError:
                    continue  # renamed or deleted meanwhile
                if name != SWEEP_LOCK:
                    files.append((stat.st_mtime, stat.st_size, path))
                    total += stat.st_size
        if total > self.disk_bytes:
            files.sort()
            for _, size, path in files:
                if total <= self.disk_bytes * SWEEP_TO:
                    break
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)  # a reader that opened it still reads it whole
                total -= size
        return total


def etag_of(name: str) -> str:
    """The entity tag of the aired segment kept under ``name``: its digest (the same bytes always)."""
    return '"' + name.partition(".")[0] + '"'


def _name(key: str, start_us: int, cut: str) -> str:
    digest = hashlib.blake2b(f"{FORMAT}\0{key}\0{start_us}\0{cut}".encode(), digest_size=20).hexdigest()
    return digest + PurePosixPath(key).suffix.lower()


class AiredFront:
    """How the origin asks for aired segments, from its event loop: a kept one is read in a thread;
    one not made yet is made once for everyone asking for it at that moment (the viewers of a new
    segment all ask within a second), on threads of its own, so that rewrites never take the
    threads live playlists and health checks need, and a flood of made-up airings is refused
    (503) rather than queued without end (:class:`~rcmedia.playout.work_slots.WorkSlots`)."""

    def __init__(self, segments: AiredSegments, *, slots: int = 2, queue: int = 64) -> None:
        self.segments = segments
        self.slots = WorkSlots("aired segment rewrites", slots=slots, queue=queue)
        self._in_flight: dict[str, asyncio.Future[Aired]] = {}

    async def get(self, key: str, start_us: int, cut: str) -> Aired:
        """The segment at ``key`` as aired (errors as :meth:`AiredSegments.make`, or BusyError)."""
        segments = self.segments
        kept = await asyncio.to_thread(segments.kept, key, start_us, cut)
        if kept is not None:
            return kept
        name = _name(key, start_us, cut)
        running = self._in_flight.get(name)
        if running is None:
            running = asyncio.ensure_future(self.slots.run(lambda: segments.make(key, start_us, cut)))
            self._in_flight[name] = running
            running.add_done_callback(lambda _: self._in_flight.pop(name, None))
        return await asyncio.shield(running)

    def close(self) -> None:
        self.slots.close()
