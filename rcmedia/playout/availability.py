"""Which scheduled assets cannot be played now: withdrawn or gone from the catalog, or missing from storage.

The EPG is frozen a few minutes ahead (the freeze horizon), so an asset withdrawn or deleted after
that is still in the schedule; the playout and the as-run log replace it with the slate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from rcmedia.catalog.asrun import AssetState
from rcmedia.core.models import AssetStatus
from rcmedia.storage.base import Storage

MASTER = "master.m3u8"  # every published package has one (rcmedia.ingest.pipeline)


def unavailable_assets(
    asset_ids: Iterable[int], states: Mapping[int, AssetState], storage: Storage
) -> dict[int, str]:
    """Asset id → why it cannot air ("withdrawn", "missing from storage", …) for those that cannot."""
    unavailable = {}
    for asset_id in sorted(set(asset_ids)):
        state = states.get(asset_id)
        if state is None:
            unavailable[asset_id] = "deleted from the catalog"
        elif state.status is not AssetStatus.PUBLISHED or not state.storage_prefix:
            unavailable[asset_id] = str(state.status.value)
        # a storage error propagates: "cannot tell now" must not be recorded as "missing"
        elif not storage.exists(f"{state.storage_prefix}/{MASTER}"):
            unavailable[asset_id] = "missing from storage"
    return unavailable
