"""Shifted copies of stored segments, kept in a small LRU (see rcmedia.web.shifted_media).

The slate's loop is a handful of segments that every viewer of a substituted event asks for, so
a few MB of memory save re-reading and re-shifting them on every request.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import PurePosixPath

from rcmedia.media.timeshift import shift_fmp4, shift_ts, shift_us_to_90khz, track_timescales
from rcmedia.storage.base import Storage

FMP4_INIT = "init.mp4"  # what ingest names an fMP4 rendition's init segment (rcmedia.media.command)


class ShiftedSegments:
    """An LRU of shifted segments, bounded by bytes."""

    def __init__(self, max_bytes: int = 64 << 20) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple[str, int], bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()  # asked from worker threads

    def get(self, storage: Storage, key: str, shift_us: int) -> bytes:
        """The segment at ``key`` shifted by ``shift_us`` (blocking: reads storage on a miss)."""
        with self._lock:
            found = self._items.get((key, shift_us))
            if found is not None:
                self._items.move_to_end((key, shift_us))
                return found
        data = _shift(storage, key, shift_us)
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
    init = storage.read_bytes(str(PurePosixPath(key).with_name(FMP4_INIT)))
    return shift_fmp4(data, ticks, track_timescales(init))
