"""Where an asset airs: its scheduled events on every channel output and how it aired (as-run).

What an editor reads before withdrawing an asset or changing its rights: the built events from now
on are what the change affects. Those that start before the freeze horizon air as built (the
horizon protects what is about to go out); the later ones are substituted at the next rebuild.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from rcmedia.catalog.repository import Catalog
from rcmedia.core.airings import AssetAiring

SCHEDULED_DAYS = 60  # further than any channel is built
AIRED_DAYS = 90


@dataclass(frozen=True, kw_only=True, slots=True)
class AssetAirings:
    asset_id: int
    now: datetime
    freeze_until: datetime  # scheduled airings starting before this air as built
    scheduled: tuple[AssetAiring, ...]  # by start
    aired: tuple[AssetAiring, ...]  # newest first
    scheduled_total: int
    aired_total: int


def asset_airings(
    catalog: Catalog,
    asset_id: int,
    *,
    now: datetime,
    freeze: timedelta,
    scheduled: bool = True,
    aired: bool = True,
    limit: int,
) -> AssetAirings:
    """The first ``limit`` of each list. NotFoundError: no such asset. Blocking (catalog reads)."""
    catalog.get_asset(asset_id)
    coming = (
        catalog.schedules.airings_of(asset_id, since=now, until=now + timedelta(days=SCHEDULED_DAYS))
        if scheduled
        else []
    )
    past = (
        catalog.asrun.airings_of(asset_id, since=now - timedelta(days=AIRED_DAYS), until=now) if aired else []
    )
    return AssetAirings(
        asset_id=asset_id,
        now=now,
        freeze_until=now + freeze,
        scheduled=tuple(coming[:limit]),
        aired=tuple(past[:limit]),
        scheduled_total=len(coming),
        aired_total=len(past),
    )
