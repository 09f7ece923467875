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
from rcmedia.core.schedule import Airing, EpisodePolicy, FixedSlot, Grid, Pool, ScheduleAsset

SCAN_LIMIT = 64  # candidates looked at for one pick before giving up on a pool
EVERYWHERE = frozenset(Output)
READ_AHEAD = 256  # pool positions a cursor reads at a time


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
        # each asset's length as a timedelta: events are placed by adding these, not making one each
        self.spans: dict[int, timedelta] = {i: timedelta(0, 0, a.duration_us) for i, a in self.by_id.items()}
        self._pools: dict[Pool, tuple[ScheduleAsset, ...]] = {}
        self._pool_ids: dict[Pool, frozenset[int]] = {}
        self._pool_columns: dict[Pool, tuple[tuple[int, ...], tuple[int, ...], int]] = {}

    def series(self, name: str) -> tuple[ScheduleAsset, ...]:
        return self.by_series.get(name, ())

    def prepare(self, grid: Grid) -> None:
        """Work out now every pool ``grid`` draws from (e.g. before forking workers that share it)."""
        for pool in (*(block.pool for block in grid.blocks), grid.filler, grid.idents):
            if pool is not None:
                self.pool_columns(pool)

    def pool(self, pool: Pool) -> tuple[ScheduleAsset, ...]:
        """The assets matching ``pool``, in (episode, id) order."""
        found = self._pools.get(pool)
        if found is None:
            # a series named twice is still one set of assets (each asset once in the rotation)
            source: Iterable[ScheduleAsset] = (
                (a for name in dict.fromkeys(pool.series) for a in self.series(name))
                if pool.series
                else self.by_id.values()
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


def _least_recent_order(memory: Memory, assets: Sequence[ScheduleAsset]) -> list[ScheduleAsset]:
    """By when they last aired, oldest first (``assets`` have all aired)."""

    def key(asset: ScheduleAsset) -> tuple[float, tuple[int, int]]:
        return (memory.last_aired[asset.id].timestamp(), _episode_key(asset))

    return sorted(assets, key=key)


def slot_candidates(slot: FixedSlot, index: AssetIndex, memory: Memory, when: datetime) -> Iterator[Pick]:
    """The episodes a fixed slot could air at ``when``, best first, per its policy.

    The caller takes the first that has rights on the output and fits; the rest are the
    substitutes ("next eligible episode").
    """
    episodes = index.series(slot.series)
    premieres, last_aired = memory.premieres, memory.last_aired
    if slot.policy is EpisodePolicy.PREMIERE:
        for asset in episodes:
            if asset.id not in premieres:
                yield Pick(asset=asset, premiere=True, previously_shown=None)
    elif slot.policy is EpisodePolicy.RERUN:
        cutoff = when - timedelta(hours=slot.rerun_after_hours)
        premiered = [(premieres[a.id], a) for a in episodes if a.id in premieres]
        premiered.sort(key=lambda pair: (pair[0], _episode_key(pair[1])), reverse=True)
        for aired, asset in premiered:
            if aired <= cutoff:
                yield Pick(asset=asset, premiere=False, previously_shown=aired)
    # least recent: the policy itself, and the fallback when no premiere or rerun is left.
    # Never-aired episodes come first, in episode order (the series' order): most picks end there,
    # before the aired ones need sorting.
    never = False
    for asset in episodes:
        if asset.id not in last_aired:
            never = True
            yield Pick(asset=asset, premiere=True, previously_shown=None)
    seen = [a for a in episodes if a.id in last_aired]
    if slot.no_repeat_hours > 0:
        window = timedelta(hours=slot.no_repeat_hours)
        fresh = [a for a in seen if when - last_aired[a.id] >= window]
        # nothing fresh at all: every episode, least recent first, rather than none
        seen = fresh if fresh or never else seen
    for asset in _least_recent_order(memory, seen):
        yield Pick(asset=asset, premiere=False, previously_shown=last_aired[asset.id])


class RightsLog:
    """The rights questions one build asks on its output, and how many were answered no.

    Only questions whose answer could differ between outputs are kept: an asset allowed on every
    output at any time says yes everywhere (see ``builder.build_outputs``).
    """

    def __init__(self, output: Output) -> None:
        self.output = output
        self.asked: list[tuple[ScheduleAsset, datetime]] = []
        self.refused = 0  # candidates passed over only because of the output's rights

    def allows(self, asset: ScheduleAsset, when: datetime) -> bool:
        """May ``asset`` air on this output at ``when``."""
        if asset.always_on == EVERYWHERE:
            return True
        self.asked.append((asset, when))
        if asset.allowed(self.output, when):
            return True
        self.refused += 1
        return False


class PoolCursor:
    """Least-recently-aired rotation through one pool for one channel output.

    Never-aired assets come first, in the pool's order, read lazily from the shared index tuple
    (nothing is copied or sorted per channel); then the aired ones, oldest airing first.
    """

    def __init__(self, index: AssetIndex, pool: Pool, memory: Memory, rights: RightsLog) -> None:
        self.assets = index.pool(pool)
        self.memory = memory
        self.rights = rights
        self.ids, self.durations, self.shortest = index.pool_columns(pool)
        members = index.pool_ids(pool)
        # aired before this cursor: never read ahead (a pool holds each asset once, so what the
        # cursor takes or rules out later is behind ``tail`` and never read again either)
        self.aired = {asset_id for asset_id in memory.last_aired if asset_id in members}
        aired = sorted(self.aired, key=lambda asset_id: (memory.last_aired[asset_id], asset_id))
        self.recent: deque[ScheduleAsset] = deque(index.by_id[asset_id] for asset_id in aired)
        # The never-aired positions still ahead, in reverse pool order (the next one last, where
        # a pick removes it cheaply), read from the pool READ_AHEAD at a time: a pick looks at
        # the last SCAN_LIMIT of them and no others.
        self.ahead: list[int] = []
        self.ahead_us: list[int] = []  # their durations
        self.tail = 0  # the first pool position not yet read
        self._read_ahead()

    def _read_ahead(self) -> None:
        ids, durations, aired = self.ids, self.durations, self.aired
        while len(self.ahead) < SCAN_LIMIT and self.tail < len(ids):
            start, stop = self.tail, min(self.tail + READ_AHEAD, len(ids))
            if aired.isdisjoint(ids[start:stop]):  # nothing to skip: copy the columns whole
                self.ahead[:0] = range(stop - 1, start - 1, -1)
                self.ahead_us[:0] = durations[start:stop][::-1]
            else:
                fresh = [p for p in range(stop - 1, start - 1, -1) if ids[p] not in aired]
                self.ahead[:0] = fresh
                self.ahead_us[:0] = [durations[p] for p in fresh]
            self.tail = stop

    def take(self, *, when: datetime, room_us: int, no_repeat_hours: float) -> ScheduleAsset | None:
        """The least recently aired asset that fits in ``room_us`` and may air now, or None.

        Looks at no more than SCAN_LIMIT candidates: the never-aired ones in pool order first,
        then the aired ones, oldest airing first.
        """
        ahead, ahead_us = self.ahead, self.ahead_us
        size = len(ahead)
        top = size - 1  # the next never-aired asset
        if size and ahead_us[top] <= room_us:
            # the usual case, in short: the next never-aired asset fits (so it is not too short
            # for the pool either) and may air
            asset = self.assets[ahead[top]]
            if asset.always_on == EVERYWHERE or self.rights.allows(asset, when):
                ahead.pop()
                ahead_us.pop()
                self.recent.append(asset)
                if top < SCAN_LIMIT:
                    self._read_ahead()
                return asset
            if all(r.output is not self.rights.output for r in asset.rights):
                ahead.pop()  # never on this output: not worth asking again
                ahead_us.pop()
            top -= 1  # asked: the scan goes on from the one after it
        elif room_us < self.shortest or not self.ids:
            return None
        scanned = size if size < SCAN_LIMIT else SCAN_LIMIT  # every never-aired candidate is looked at
        found = self._take_never_aired(when, room_us, top, size - scanned)
        if found is not None or scanned >= SCAN_LIMIT:
            return found
        return self._take_aired(when, room_us, no_repeat_hours, scanned)

    def _take_never_aired(self, when: datetime, room_us: int, top: int, lowest: int) -> ScheduleAsset | None:
        """The first never-aired asset from ``ahead[top]`` down to ``ahead[lowest]`` that fits and
        may air."""
        ahead, ahead_us = self.ahead, self.ahead_us
        found = None
        # when none fits, min() says so without a Python loop
        if top >= lowest and room_us >= min(ahead_us[lowest : top + 1]):
            # downwards, so that removing one leaves the positions still to look at in place
            for at in range(top, lowest - 1, -1):
                if ahead_us[at] > room_us:
                    continue
                asset = self.assets[ahead[at]]
                if self.rights.allows(asset, when):
                    del ahead[at], ahead_us[at]
                    self.recent.append(asset)
                    found = asset
                    break
                if all(r.output is not self.rights.output for r in asset.rights):
                    del ahead[at], ahead_us[at]  # never on this output: not worth asking again
        if len(ahead) < SCAN_LIMIT:
            self._read_ahead()  # after the scan: reading ahead moves the positions looked at
        return found

    def _take_aired(
        self, when: datetime, room_us: int, no_repeat_hours: float, scanned: int
    ) -> ScheduleAsset | None:
        """The oldest aired asset that fits, may air and is outside the no-repeat window, looking
        at no more than what is left of SCAN_LIMIT after ``scanned``."""
        recent = self.recent
        no_repeat = timedelta(hours=no_repeat_hours) if no_repeat_hours > 0 else None
        last_aired = self.memory.last_aired
        for position, asset in enumerate(recent):
            scanned += 1
            if scanned > SCAN_LIMIT:
                return None
            if asset.duration_us > room_us:
                continue
            if no_repeat is not None:
                last = last_aired.get(asset.id)
                if last is not None and when - last < no_repeat:
                    continue
            if self.rights.allows(asset, when):
                del recent[position]
                recent.append(asset)  # now the most recently aired
                return asset
        return None
