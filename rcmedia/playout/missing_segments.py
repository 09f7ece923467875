"""The slate in place of one published segment missing from storage (or unreadable).

An asset on air may lose a single segment file (a disk error, a careless clean-up) while its
package and catalog row are fine, so the timeline keeps listing it. Answering its ``/media/`` URL
with 404 makes players stall or skip; the README promises the slate stands in for missing media.
So the origin answers it with the house slate's piece of the same duration, its timestamps moved
to the missing segment's place in the asset's stream (the same choice as
:mod:`rcmedia.core.slate_stand_in` makes for an asset that goes missing while on air), so the
stream plays on without a discontinuity.

Only the failure path pays: the key is looked up (storage prefix → published asset → rendition →
segment index) when the file could not be opened, from an index read once per catalog generation.
A key that names no segment of a published asset's rendition stays a 404: no stand-ins (and no
answer that tells anything) for made-up paths. Each segment is logged once per process, counted
(:class:`StandInCount`, for metrics), and noted in the catalog for the as-run log
(``AsRunLog.record_stand_in``).
"""

from __future__ import annotations

import itertools
import logging
import threading
from dataclasses import dataclass
from datetime import datetime

from rcmedia.catalog.asrun import AsRunLog
from rcmedia.catalog.playout import PlayoutReads
from rcmedia.core.asrun import StoodIn
from rcmedia.core.assets import Asset, Rendition
from rcmedia.core.schedule import to_us
from rcmedia.core.slate_stand_in import SlateStandIn
from rcmedia.errors import CatalogError, RcmediaError
from rcmedia.playout.channel_output import schedule_asset
from rcmedia.playout.live import LiveChannels
from rcmedia.playout.shifted import ShiftedSegments
from rcmedia.storage.base import Storage

log = logging.getLogger(__name__)

SEGMENT_SUFFIXES = (".ts", ".m4s")
DEFAULT_SLATE_SERIES = "slate"
KEYS_KEPT = 65536  # segments remembered as logged (all forgotten when full)


@dataclass(slots=True)
class StandInCount:
    """What the origin answered with the slate, since it started (a metric to expose)."""

    requests: int = 0  # answers given with a stand-in
    segments: int = 0  # distinct missing segments among them


@dataclass(frozen=True, kw_only=True, slots=True)
class StandIn:
    """The slate's piece for one missing segment, shifted to its place."""

    data: bytes
    asset_id: int
    rendition: str
    index: int
    duration_us: int
    slate_key: str  # the slate segment it was made from
    shift_us: int


@dataclass(frozen=True, kw_only=True, slots=True)
class _Found:
    asset: Asset
    rendition: Rendition
    index: int


class MissingSegments:
    """Stand-ins for missing segments of published assets; ask :meth:`stand_in` from a worker thread."""

    def __init__(
        self, live: LiveChannels, shifted: ShiftedSegments, *, reads: PlayoutReads | None = None
    ) -> None:
        self.live = live
        self.storage: Storage = live.storage
        self.shifted = shifted
        self.reads = reads or live.reads
        self.asrun: AsRunLog = live.asrun
        self.count = StandInCount()
        self._lock = threading.Lock()
        self._generation: tuple[object, ...] | None = None
        self._prefixes: dict[str, int] = {}
        self._assets: dict[int, Asset | None] = {}
        self._slate: tuple[Asset, SlateStandIn] | None = None
        self._logged: set[str] = set()

    def stand_in(self, key: str, now: datetime) -> StandIn | None:
        """The slate in place of the segment at ``key`` (which could not be read), shifted to its
        place in the asset's stream, or None when ``key`` is no segment of a published asset's
        rendition (blocking: reads the catalog and storage)."""
        piece = self._piece(key)
        if piece is None:
            return None
        found, slate_key, shift, duration = piece
        try:
            data = self.shifted.get(self.storage, slate_key, shift)
        except RcmediaError:  # unreadable, not a segment, a shift off the 90 kHz grid: a 404, logged
            log.exception("the slate cannot stand in for %s: its segment %s cannot be used", key, slate_key)
            return None
        self._note(key, found, now)
        return StandIn(
            data=data,
            asset_id=found.asset.id,
            rendition=found.rendition.name,
            index=found.index,
            duration_us=duration,
            slate_key=slate_key,
            shift_us=shift,
        )

    def stand_in_key(self, key: str, now: datetime) -> str | None:
        """The slate segment that stands in for the one at ``key``, as stored (an aired segment
        is rewritten onto the clock anyway: rcmedia.playout.aired), noted as :meth:`stand_in`
        notes it; None as :meth:`stand_in` (blocking: reads the catalog)."""
        piece = self._piece(key)
        if piece is None:
            return None
        self._note(key, piece[0], now)
        return piece[1]

    def _piece(self, key: str) -> tuple[_Found, str, int, int] | None:
        """The missing segment, the slate segment for it, its shift and the segment's duration."""
        if not key.endswith(SEGMENT_SUFFIXES):
            return None
        self._follow_generation()
        found = self._find(key)
        if found is None:
            return None
        slate = self._house_slate()
        if slate is None:
            return None
        slate_asset, layout = slate
        durations = [to_us(d) for d in found.rendition.segment_durations]
        at, duration = sum(durations[: found.index]), durations[found.index]
        piece, shift = layout.stand_in(found.index, at, duration, from_start=False)
        rendition = _nearest(slate_asset, found.rendition)
        slate_key = f"{slate_asset.storage_prefix}/{rendition.name}/{rendition.segments[piece]}"
        if not slate_key.endswith(key[key.rfind(".") :]):
            return None  # an fMP4 asset and an MPEG-TS slate (or the reverse): nothing fits
        return found, slate_key, shift, duration

    # --- the index ---------------------------------------------------------------------------

    def _follow_generation(self) -> None:
        generation = self.live.generation
        if generation is not None and generation == self._generation:
            return
        prefixes = self.reads.published_prefixes()
        with self._lock:
            self._generation = generation
            self._prefixes = prefixes
            self._assets = {}
            self._slate = None

    def _find(self, key: str) -> _Found | None:
        prefix, _, rest = key.rpartition("/")
        prefix, _, rung = prefix.rpartition("/")
        asset_id = self._prefixes.get(prefix)
        if asset_id is None:
            return None
        asset = self._asset(asset_id)
        rendition = None if asset is None else asset.rendition(rung)
        if asset is None or rendition is None or rest not in rendition.segments:
            return None
        return _Found(asset=asset, rendition=rendition, index=rendition.segments.index(rest))

    def _asset(self, asset_id: int) -> Asset | None:
        if asset_id not in self._assets:
            self._assets[asset_id] = self.reads.assets([asset_id]).get(asset_id)
        return self._assets[asset_id]

    def _house_slate(self) -> tuple[Asset, SlateStandIn] | None:
        """The house slate: the first published asset of the channels' slate series."""
        if self._slate is None:
            series = sorted({c.grid.slate_series for c in self.live.channels()}) or [DEFAULT_SLATE_SERIES]
            for name in series:
                published = self.asrun.series_assets(name)
                slate = self._asset(published[0][0]) if published else None
                if slate is not None and slate.renditions and slate.storage_prefix:
                    self._slate = (slate, SlateStandIn.of(schedule_asset(slate)))
                    break
            else:
                log.error("no published house slate (series %s) to stand in for missing segments", series)
                return None
        return self._slate

    # --- once per segment ----------------------------------------------------------------------

    def _note(self, key: str, found: _Found, now: datetime) -> None:
        with self._lock:
            self.count.requests += 1
            if key in self._logged:
                return
            if len(self._logged) >= KEYS_KEPT:
                self._logged.clear()
            self._logged.add(key)
            self.count.segments += 1
        log.warning(
            "segment %d (%s) of asset %d is missing from storage or unreadable (%s): the slate stands in",
            found.index,
            found.rendition.name,
            found.asset.id,
            key,
        )
        stood_in = StoodIn(
            asset_id=found.asset.id, index=found.index, rendition=found.rendition.name, since=now
        )
        try:
            self.asrun.record_stand_in(key, stood_in)
        except CatalogError:  # the viewer is answered all the same; the next process start notes it
            log.exception("cannot note the stand-in for %s in the catalog", key)


def _nearest(slate: Asset, rendition: Rendition) -> Rendition:
    """The slate's rendition of the same name, else the tallest not taller, else its lowest."""
    own = slate.rendition(rendition.name)
    if own is not None:
        return own
    by_height = sorted(slate.renditions, key=lambda r: r.height)
    lower = list(itertools.takewhile(lambda r: r.height <= rendition.height, by_height))
    return lower[-1] if lower else by_height[0]
