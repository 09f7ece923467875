"""Shifted copies of stored segments, kept in a small LRU (see rcmedia.web.shifted_media).

The slate's loop is a handful of segments that every viewer of a substituted event asks for, so
a few MB of memory save re-reading and re-shifting them on every request.

An MPEG-TS loop segment shifted by whole passes of its loop (a stand-in from a splice on, see
rcmedia.core.slate_stand_in) also has its continuity counters moved on by what those passes
counted, so that the stream's counters run on where the loop wraps. The loop is found as the
playout finds it, the longest run of full-length segments in its rendition's playlist.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import PurePosixPath

from rcmedia.core.slate_pieces import loop_run
from rcmedia.errors import NotFoundError, StorageError, VerificationError
from rcmedia.hls.playlists import parse_media_playlist
from rcmedia.media.timeshift import (
    advance_continuity,
    continuity_increments,
    shift_fmp4,
    shift_ts,
    shift_us_to_90khz,
    track_timescales,
)
from rcmedia.storage.base import Storage

FMP4_INIT = "init.mp4"  # what ingest names an fMP4 rendition's init segment (rcmedia.media.command)
RENDITION_PLAYLIST = "index.m3u8"  # and its media playlist
PASS_TOLERANCE_US = 1_000  # a shift this close to whole passes of the loop is whole passes


MAX_LOOP_SEGMENTS = 64  # a longer run of full segments is no slate loop (and not worth reading)
LOOPS_KEPT = 256  # rendition folders remembered


@dataclass(slots=True)
class TsLoop:
    """A rendition's loop: its segments' names and length, and (read when first needed) by how
    much each PID's continuity counter advances over one pass."""

    folder: str
    names: tuple[str, ...]
    duration_us: int
    increments: dict[int, int] | None = None

    def steps(self, storage: Storage, name: str, shift_us: int) -> dict[int, int]:
        """Per PID, how far the counters of segment ``name`` shifted by ``shift_us`` move on."""
        passes = round(shift_us / self.duration_us)
        if (
            name not in self.names
            or passes <= 0
            or abs(shift_us - passes * self.duration_us) > PASS_TOLERANCE_US
        ):
            return {}  # not a loop segment by whole passes (a stand-in continuing an asset's own stream)
        if self.increments is None:
            increments: dict[int, int] = {}
            for loop_name in self.names:
                for pid, count in continuity_increments(
                    storage.read_bytes(f"{self.folder}/{loop_name}")
                ).items():
                    increments[pid] = increments.get(pid, 0) + count
            self.increments = increments
        return {pid: passes * count for pid, count in self.increments.items()}


def ts_loop(storage: Storage, folder: str) -> TsLoop | None:
    """The loop of the MPEG-TS rendition in ``folder``, or None (no playlist, or no loop there)."""
    key = f"{folder}/{RENDITION_PLAYLIST}"
    try:
        listed = parse_media_playlist(storage.read_bytes(key).decode("utf-8"), where=key)
    except (StorageError, UnicodeDecodeError, VerificationError):
        return None
    durations = [round(duration * 1_000_000) for duration in listed.durations]
    start, length = loop_run(durations)
    if not 0 < length <= MAX_LOOP_SEGMENTS or durations[start] <= 0:
        return None
    return TsLoop(
        folder=folder, names=listed.segments[start : start + length], duration_us=durations[start] * length
    )


class ShiftedSegments:
    """An LRU of shifted segments, bounded by bytes."""

    def __init__(self, max_bytes: int = 64 << 20) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple[str, int], bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()  # asked from worker threads
        self._loops: dict[str, TsLoop | None] = {}  # by rendition folder

    def get(self, storage: Storage, key: str, shift_us: int) -> bytes:
        """The segment at ``key`` shifted by ``shift_us`` (blocking: reads storage on a miss).

        :class:`InvalidFieldError` unless ``shift_us`` is whole 90 kHz ticks; :class:`MediaFormatError`
        when the stored bytes are not a segment that can be shifted.
        """
        with self._lock:
            found = self._items.get((key, shift_us))
            if found is not None:
                self._items.move_to_end((key, shift_us))
                return found
        data = _shift(storage, key, shift_us)
        if key.endswith(".ts") and shift_us > 0:
            folder, _, name = key.rpartition("/")
            if folder not in self._loops:
                if len(self._loops) >= LOOPS_KEPT:
                    self._loops.clear()
                self._loops[folder] = ts_loop(storage, folder)  # two threads may both read it: same result
            loop = self._loops[folder]
            if loop is not None:
                data = advance_continuity(data, loop.steps(storage, name, shift_us))
        with self._lock:
            if (key, shift_us) not in self._items:
                self._items[(key, shift_us)] = data
                self._size += len(data)
            while self._size > self.max_bytes and len(self._items) > 1:
                _, dropped = self._items.popitem(last=False)
                self._size -= len(dropped)
        return data


def _shift(storage: Storage, key: str, shift_us: int) -> bytes:
    ticks = shift_us_to_90khz(shift_us)
    data = storage.read_bytes(key)
    if key.endswith(".ts"):
        return shift_ts(data, ticks)
    init_key = str(PurePosixPath(key).with_name(FMP4_INIT))
    if not storage.exists(init_key):  # an .m4s outside an fMP4 rendition: nothing to shift it with
        raise NotFoundError("fMP4 init segment", init_key)
    init = storage.read_bytes(init_key)
    return shift_fmp4(data, ticks, track_timescales(init))
