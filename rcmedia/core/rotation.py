"""Which asset airs next: the episode policies and the floating pools, over an asset index.

Everything here is deterministic: ties are broken by episode number, then asset id. The index is
built once per catalog snapshot and shared by every channel, output and day of a build, so that
a week of a hundred channels over a 20 000-asset catalog stays fast.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from rcmedia.core.models import Output
from rcmedia.core.schedule import Airing, EpisodePolicy, FixedSlot, Pool, ScheduleAsset

SCAN_LIMIT = 64  # candidates looked at for one pick before giving up on a pool


def _episode_key(asset: ScheduleAsset) -> tuple[int, int]:
    return (asset.episode if asset.episode is not None else 1 << 30, asset.id)


class AssetIndex:
    """Published assets by id and series, and pool matches (memoised per pool)."""

    def __init__(self, assets: Iterable[ScheduleAsset]) -> None:
        self.by_id: dict[int, ScheduleAsset] = {}
        by_series: dict[str, list[ScheduleAsset]] = {}
        for asset in assets:
            if not asset.segment_us:
                continue
            self.by_id[asset.id] = asset
            if asset.series is not None:
                by_series.setdefault(asset.series, []).append(asset)
        self.by_series: dict[str, tuple[ScheduleAsset, ...]] = {
            name: tuple(sorted(items, key=_episode_key)) for name, items in by_series.items()
        }
        self._pools: dict[Pool, tuple[ScheduleAsset, ...]] = {}
        self._pool_ids: dict[Pool, frozenset[int]] = {}
        self._pool_columns: dict[Pool, tuple[tuple[int, ...], tuple[int, ...], int]] = {}

    def series(self, name: str) -> tuple[ScheduleAsset, ...]:
        return self.by_series.get(name, ())

    def pool(self, pool: Pool) -> tuple[ScheduleAsset, ...]:
        """The assets matching ``pool``, in (episode, id) order."""
        found = self._pools.get(pool)
        if found is None:
            source: Iterable[ScheduleAsset] = (
                (a for name in pool.series for a in self.series(name)) if pool.series else self.by_id.values()
            )
            found = tuple(sorted((a for a in source if pool.matches(a)), key=_episode_key))
            self._pools[pool] = found
            self._pool_ids[pool] = frozenset(a.id for a in found)
        return found

    def pool_ids(self, pool: Pool) -> frozenset[int]:
        self.pool(pool)
        return self._pool_ids[pool]

    def pool_columns(self, pool: Pool) -> tuple[tuple[int, ...], tuple[int, ...], int]:
        """The pool's ids and durations (for tight scans), and its shortest duration."""
        columns = self._pool_columns.get(pool)
        if columns is None:
            assets = self.pool(pool)
            durations = tuple(a.duration_us for a in assets)
            columns = (tuple(a.id for a in assets), durations, min(durations, default=0))
            self._pool_columns[pool] = columns
        return columns


@dataclass(slots=True)
class Memory:
    """What has aired on one channel output: last airing per asset, premieres per series."""

    last_aired: dict[int, datetime] = field(default_factory=dict)
    premieres: dict[int, datetime] = field(default_factory=dict)  # asset id → its premiere

    @classmethod
    def of(cls, history: Iterable[Airing]) -> Memory:
        memory = cls()
        for airing in sorted(history, key=lambda a: a.start):
            memory.record(airing)
        return memory

    def record(self, airing: Airing) -> None:
        self.last_aired[airing.asset_id] = airing.start
        if airing.premiere and airing.asset_id not in self.premieres:
            self.premieres[airing.asset_id] = airing.start


@dataclass(frozen=True, kw_only=True, slots=True)
class Pick:
    asset: ScheduleAsset
    premiere: bool
    previously_shown: datetime | None


def _aired_recently(memory: Memory, asset: ScheduleAsset, when: datetime, hours: float) -> bool:
    last = memory.last_aired.get(asset.id)
    return last is not None and hours > 0 and when - last < timedelta(hours=hours)


def _least_recent_order(memory: Memory, assets: Sequence[ScheduleAsset]) -> list[ScheduleAsset]:
    """Never aired first (in episode order), then by when they last aired."""

    def key(asset: ScheduleAsset) -> tuple[float, tuple[int, int]]:
        last = memory.last_aired.get(asset.id)
        return (last.timestamp() if last is not None else float("-inf"), _episode_key(asset))

    return sorted(assets, key=key)


def slot_candidates(slot: FixedSlot, index: AssetIndex, memory: Memory, when: datetime) -> Iterator[Pick]:
    """The episodes a fixed slot could air at ``when``, best first, per its policy.

    The caller takes the first that has rights on the output and fits; the rest are the
    substitutes ("next eligible episode").
    """
    episodes = index.series(slot.series)
    if slot.policy is EpisodePolicy.PREMIERE:
        for asset in episodes:
            if asset.id not in memory.premieres:
                yield Pick(asset=asset, premiere=True, previously_shown=None)
    elif slot.policy is EpisodePolicy.RERUN:
        cutoff = when - timedelta(hours=slot.rerun_after_hours)
        premiered = sorted(
            ((memory.premieres[a.id], a) for a in episodes if a.id in memory.premieres),
            key=lambda pair: (pair[0], _episode_key(pair[1])),
            reverse=True,
        )
        for aired, asset in premiered:
            if aired <= cutoff:
                yield Pick(asset=asset, premiere=False, previously_shown=aired)
    # least recent: the policy itself, and the fallback when no premiere or rerun is left
    fresh = [a for a in episodes if not _aired_recently(memory, a, when, slot.no_repeat_hours)]
    for asset in _least_recent_order(memory, fresh or list(episodes)):
        last = memory.last_aired.get(asset.id)
        yield Pick(asset=asset, premiere=last is None, previously_shown=last)


class PoolCursor:
    """Least-recently-aired rotation through one pool for one channel output.

    Never-aired assets come first, in the pool's order, read lazily from the shared index tuple
    (nothing is copied or sorted per channel); then the aired ones, oldest airing first.
    """

    def __init__(self, index: AssetIndex, pool: Pool, memory: Memory) -> None:
        self.assets = index.pool(pool)
        self.ids, self.durations, self.shortest = index.pool_columns(pool)
        members = index.pool_ids(pool)
        self.used = {asset_id for asset_id in memory.last_aired if asset_id in members}
        self.pointer = 0
        self.refused_for_rights = 0  # candidates passed over only because of the output's rights
        self.checked: list[tuple[ScheduleAsset, datetime]] = []  # every rights question asked
        aired = sorted(self.used, key=lambda asset_id: (memory.last_aired[asset_id], asset_id))
        self.recent: deque[ScheduleAsset] = deque(index.by_id[asset_id] for asset_id in aired)

    def take(
        self,
        *,
        memory: Memory,
        when: datetime,
        room_us: int,
        output: Output,
        no_repeat_hours: float,
    ) -> ScheduleAsset | None:
        """The least recently aired asset that fits in ``room_us`` and may air now, or None."""
        if room_us < self.shortest or not self.ids:
            return None
        ids, durations, used = self.ids, self.durations, self.used
        count = len(ids)
        while self.pointer < count and ids[self.pointer] in used:
            self.pointer += 1
        scanned = 0
        for position in range(self.pointer, count):
            if ids[position] in used:
                continue
            scanned += 1
            if scanned > SCAN_LIMIT:
                return None
            if durations[position] <= room_us:
                asset = self.assets[position]
                self.checked.append((asset, when))
                if asset.allowed(output, when):
                    used.add(asset.id)
                    self.recent.append(asset)
                    return asset
                self.refused_for_rights += 1
                if all(r.output is not output for r in asset.rights):
                    used.add(asset.id)  # never on this output: not worth asking again
        for position, asset in enumerate(self.recent):
            scanned += 1
            if scanned > SCAN_LIMIT:
                return None
            if asset.duration_us <= room_us and not _aired_recently(memory, asset, when, no_repeat_hours):
                self.checked.append((asset, when))
                if asset.allowed(output, when):
                    del self.recent[position]
                    self.recent.append(asset)  # now the most recently aired
                    return asset
                self.refused_for_rights += 1
        return None
