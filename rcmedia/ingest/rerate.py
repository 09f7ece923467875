"""Rate the renditions of published assets again from their stored segments (a one-shot repair).

Assets published before BANDWIDTH followed RFC 8216bis §4.4.6.2 carry a peak set by their
densest single segment: a one-frame tail segment claimed megabits on every rung (issue 10). The
segment sizes are not in the catalog, so they are read from storage (a stat on local disk, a read
on S3) and both rates are computed again as the ingest now computes them.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from rcmedia.catalog.repository import Catalog
from rcmedia.core.assets import Asset, Rendition
from rcmedia.core.bitrate import playlist_rates
from rcmedia.storage.base import Storage

Rates = tuple[int, int]  # (BANDWIDTH, AVERAGE-BANDWIDTH), bit/s


@dataclass(frozen=True, kw_only=True, slots=True)
class Rerated:
    """One asset's rates per rendition name, as stored before and as measured now."""

    asset_id: int
    before: dict[str, Rates]
    after: dict[str, Rates]

    @property
    def changed(self) -> bool:
        return self.before != self.after


def rendition_rates(rendition: Rendition, sizes: Sequence[int], *, target_duration: int) -> Rates:
    """The rates of one rendition from its segments' sizes (bytes, in playlist order)."""
    return playlist_rates(sizes, rendition.segment_durations, target_duration)


def rerate_asset(
    catalog: Catalog, storage: Storage, asset_id: int, *, now: datetime, dry_run: bool = False
) -> Rerated:
    """Measure one published asset's renditions again; store the rates unless ``dry_run``."""
    asset = catalog.get_asset(asset_id)
    target = _target_duration(asset)
    before = {r.name: (r.bandwidth, r.average_bandwidth) for r in asset.renditions}
    after = {
        r.name: rendition_rates(
            r,
            [_size(storage, f"{asset.storage_prefix}/{r.name}/{s}") for s in r.segments],
            target_duration=target,
        )
        for r in asset.renditions
        if r.segments
    }
    if not dry_run and after != before:
        catalog.set_rendition_rates(asset_id, after, now=now)
    return Rerated(asset_id=asset_id, before=before, after=after)


def rerate_published(
    catalog: Catalog, storage: Storage, *, now: datetime, dry_run: bool = False
) -> Iterator[Rerated]:
    """:func:`rerate_asset` for every published asset, in id order (one transaction each)."""
    for asset_id in sorted(set(catalog.playout.published_prefixes().values())):
        yield rerate_asset(catalog, storage, asset_id, now=now, dry_run=dry_run)


def _target_duration(asset: Asset) -> int:
    """The asset's EXT-X-TARGETDURATION (what its media playlists say)."""
    if asset.target_duration:
        return asset.target_duration
    durations = [d for r in asset.renditions for d in r.segment_durations]
    return max(math.ceil(max(durations, default=1.0)), 1)


def _size(storage: Storage, key: str) -> int:
    path = storage.local_path(key)
    if path is not None:
        return path.stat().st_size
    return len(storage.read_bytes(key))  # object stores: no size in the Storage protocol yet
