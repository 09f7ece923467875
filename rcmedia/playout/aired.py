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

import contextlib
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
from rcmedia.storage.base import Storage

log = logging.getLogger(__name__)

CUTS = {(False, False): "join", (True, False): "in", (False, True): "out", (True, True): "inout"}
CUT_ENDS = {token: ends for ends, token in CUTS.items()}
FMP4_INIT = "init.mp4"  # what ingest names an fMP4 rendition's init segment (rcmedia.media.command)
FORMAT = "aired-1"  # part of every cached name: a changed rewrite must not serve old files
MEMORY_BYTES = 64 << 20
SWEEP_TO = 0.8  # a sweep leaves the folder at this share of its bound
INITS_KEPT = 1024
COMPLAIN_EVERY_S = 60.0


def aired_uri(key: str, segment: SegmentRef) -> str:
    """The URI a playlist lists for ``segment``, stored at ``key``."""
    return f"/air/{segment.start_us}/{CUTS[segment.cut_in, segment.cut_out]}/{key}"


@dataclass(frozen=True, slots=True)
class Aired:
    """A rewritten segment: its file in the cache folder, or (not written there) its bytes."""

    path: Path | None
    data: bytes | None


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

    def path(self, key: str, start_us: int, cut: str) -> Path | None:
        """Where the cached file of this segment is (or would be); None without a cache folder."""
        if self.cache_dir is None:
            return None
        name = _name(key, start_us, cut)
        return self.cache_dir / name[:2] / name

    def get(self, key: str, start_us: int, cut: str) -> Aired:
        """The segment at ``key`` aired at ``start_us`` with ``cut`` (blocking: may read storage).

        :class:`StorageError`/:class:`NotFoundError` when the stored segment cannot be read,
        :class:`MediaFormatError` when it cannot be rewritten.
        """
        name = _name(key, start_us, cut)
        path = self.path(key, start_us, cut)
        if path is not None and path.is_file():
            return Aired(path=path, data=None)
        with self._lock:
            kept = self._memory.get(name)
            if kept is not None:
                self._memory.move_to_end(name)
                return Aired(path=None, data=kept)
        data = self.rewrite(self.storage.read_bytes(key), key, start_us, cut)
        if path is not None and self._store(path, data):
            return Aired(path=path, data=None)
        self._remember(name, data)
        return Aired(path=None, data=data)

    def rewrite(self, data: bytes, key: str, start_us: int, cut: str) -> bytes:
        """``data``, stored at ``key`` (or standing in for it), as aired at ``start_us``."""
        cut_in, cut_out = CUT_ENDS[cut]
        self.rewrites += 1
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
            if self._disk_size is not None:
                self._disk_size += len(data)
            over = self._disk_size is None or self._disk_size > self.disk_bytes
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
            files = []
            total = 0
            for folder, _, names in os.walk(self.cache_dir):
                for name in names:
                    try:
                        stat = os.stat(os.path.join(folder, name))
                    except OSError:
                        continue  # another process swept it
                    files.append((stat.st_mtime, stat.st_size, os.path.join(folder, name)))
                    total += stat.st_size
            if total > self.disk_bytes:
                files.sort()
                for _, size, name in files:
                    if total <= self.disk_bytes * SWEEP_TO:
                        break
                    try:
                        os.unlink(name)  # a reader holding it open still sends it whole
                    except OSError:
                        continue
                    total -= size
            with self._lock:
                self._disk_size = total
            return total
        finally:
            with self._lock:
                self._sweeping = False


def _name(key: str, start_us: int, cut: str) -> str:
    digest = hashlib.blake2b(f"{FORMAT}\0{key}\0{start_us}\0{cut}".encode(), digest_size=20).hexdigest()
    return digest + PurePosixPath(key).suffix.lower()
