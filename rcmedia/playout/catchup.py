"""Catch-up and start-over playlists: past stretches of a channel output loaded once, rendered once.

A replay used to load its channel output from the catalog for the exact range asked (events,
assets, availability), then compute the playlist: 0.2 s of CPU on a dense channel, for every
request with a distinct ``utc``, on the loop's shared thread pool. Now:

* the timeline of a six-hour stretch (aligned to UTC, :data:`STRETCH`) is loaded once and shared
  by every replay inside it (an *archive*), as long as the catalog's generation holds, no
  asset's rights on the output start or end, and for at most :data:`ARCHIVE_TTL` (storage may
  lose a package without the catalog moving);
* a replay that has finished airing is rendered once per range aligned to segment boundaries
  (:func:`rcmedia.core.timeline.replay_bounds`) and kept in an LRU: every ``utc`` inside the same
  segment gives the same bytes;
* loads and renders run on :class:`WorkSlots` of their own (a couple of threads, a bounded wait,
  then 503), never on the event loop nor on the thread pool that live playlists and ``/healthz``
  use.

The segments of an archive are those of a load of just the range: unavailable and refused assets
are replaced throughout, numbers are the stored ones, and the stretch only adds events around it.
"""

from __future__ import annotations

import asyncio
import gzip
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from rcmedia.core.live_playlist import no_init, render_replay
from rcmedia.core.models import Output
from rcmedia.core.schedule import Channel, ScheduleAsset
from rcmedia.core.timeline import at_us, range_segments, replay_bounds, us_of
from rcmedia.errors import NotFoundError
from rcmedia.playout.channel_output import ChannelOutput, live_master, load_channel_output
from rcmedia.playout.live import LiveChannels
from rcmedia.playout.work_slots import WorkSlots

STRETCH = timedelta(hours=6)  # archives cover whole UTC stretches of this length
ARCHIVE_TTL = timedelta(minutes=10)
# Archives kept, counted in events (~600 bytes each loaded): a week and a half of a dense channel
# output (~10,000 events a day), or hundreds of stretches of ordinary ones
ARCHIVE_EVENTS_KEPT = 100_000
PLAYLIST_BYTES_KEPT = 32 << 20  # a one-hour playlist is ~70 KB (~8 KB gzipped)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(frozen=True, kw_only=True, slots=True, eq=False)
class Archive:
    """A channel output loaded for catch-up over ``span``; good until ``valid_until``."""

    loaded: ChannelOutput
    span: tuple[datetime, datetime]
    valid_until: datetime  # the first rights change on the output after the load, or the TTL


@dataclass(frozen=True, kw_only=True, slots=True)
class Replay:
    """A rendered replay playlist; ``ended``: a VOD playlist (else an EVENT playlist, start-over)."""

    body: bytes
    gzipped: bytes | None
    ended: bool
    generation: tuple[object, ...]
    valid_until: datetime


def stretch_of(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The whole :data:`STRETCH` s covering [start, end)."""
    first = _EPOCH + (start - _EPOCH) // STRETCH * STRETCH
    last = _EPOCH + -((_EPOCH - end) // STRETCH) * STRETCH
    return first, last


def refusals(output: Output, now: datetime) -> tuple[Callable[[ScheduleAsset], str | None], list[datetime]]:
    """Why an asset may not be replayed on ``output`` now (its rights), and the list the checked
    assets' next rights changes are gathered into (after then, the answer may differ)."""
    changes: list[datetime] = []

    def refused(asset: ScheduleAsset) -> str | None:
        for rights in asset.rights:
            if rights.output is output:
                changes.extend(t for t in (rights.start, rights.end) if t is not None and t > now)
        return None if asset.allowed(output, now) else f"has no rights on {output.value} now"

    return refused, changes


class _Lru(OrderedDict[K, V]):
    """Least recently used entries dropped while their summed ``weight`` is over ``budget``."""

    def __init__(self, budget: int, weight: Callable[[V], int]) -> None:
        super().__init__()
        self.budget = budget
        self.weight = weight
        self.total = 0

    def keep(self, key: K, value: V) -> None:
        before = self.pop(key, None)
        if before is not None:
            self.total -= self.weight(before)
        self[key] = value
        self.total += self.weight(value)
        while self.total > self.budget and len(self) > 1:
            _, dropped = self.popitem(last=False)
            self.total -= self.weight(dropped)

    def fresh(self, key: K) -> V | None:
        found = self.get(key)
        if found is not None:
            self.move_to_end(key)
        return found


class CatchupPlaylists:
    """Replays of every channel output the origin serves; ask it from the event loop."""

    def __init__(self, live: LiveChannels, *, builds: int = 2, queue: int = 32) -> None:
        self.live = live
        self.slots = WorkSlots("catch-up playlists", slots=builds, queue=queue)
        self._archives: _Lru[tuple[str, Output, datetime, datetime], Archive] = _Lru(
            ARCHIVE_EVENTS_KEPT, lambda archive: 1 + len(archive.loaded.timeline.events)
        )
        self._playlists: _Lru[tuple[object, ...], Replay] = _Lru(
            PLAYLIST_BYTES_KEPT, lambda replay: len(replay.body) + len(replay.gzipped or b"")
        )
        self._in_flight: dict[Hashable, asyncio.Future[Any]] = {}
        self.loads = 0  # archives loaded (tests and the benchmark read it)
        self.renders = 0  # playlists rendered

    def close(self) -> None:
        self.slots.close()

    # --- archives ------------------------------------------------------------------------------

    async def archive(
        self, channel: Channel, output: Output, start: datetime, end: datetime, now: datetime
    ) -> Archive:
        """The loaded stretch covering [start, end), loading it (once, however many ask) if needed."""
        span = stretch_of(start, end)
        key = (channel.id, output, *span)
        found = self._archives.fresh(key)
        if found is not None and self._valid(found.loaded.generation, found.valid_until, now):
            return found
        archive: Archive = await self._once(("archive", *key), lambda: self._load(channel, output, span, now))
        self._archives.keep(key, archive)
        return archive

    def _valid(self, generation: tuple[object, ...], valid_until: datetime, now: datetime) -> bool:
        return generation == (self.live.generation or ()) and now < valid_until

    async def _load(
        self, channel: Channel, output: Output, span: tuple[datetime, datetime], now: datetime
    ) -> Archive:
        live = self.live
        generation = live.generation or ()
        reads = live.shared_reads(generation)
        refused, changes = refusals(output, now)

        def load() -> ChannelOutput:
            return load_channel_output(
                live.store,
                reads,
                live.asrun,
                live.storage,
                channel,
                output,
                profile=live.profile,
                now=now,
                generation=generation,
                replaced_before=None,
                epoch=now,
                span=span,
                refused=refused,
            )

        loaded = await self.slots.run(load)
        self.loads += 1
        return Archive(loaded=loaded, span=span, valid_until=min([now + ARCHIVE_TTL, *changes]))

    # --- playlists -----------------------------------------------------------------------------

    async def media_playlist(
        self,
        archive: Archive,
        rung: str,
        start: datetime,
        end: datetime,
        now: datetime,
        *,
        gzipped: bool,
        continuous: bool = False,
    ) -> Replay:
        """The replay of [start, end) in ``rung`` (``continuous``: without EXT-X-DISCONTINUITY);
        NotFoundError when no segment of it has aired."""
        loaded = archive.loaded
        timeline = loaded.timeline
        first_us, end_us = replay_bounds(timeline, us_of(start), us_of(end))
        now_us = us_of(now)
        # A start-over (the range reaches past now) grows by a segment at each boundary and is the
        # same in between: it is kept under the end of its last finished segment, as live
        # playlists are, so that its viewers cost one render per segment, not one per reload.
        upto_us = end_us if end_us <= now_us else replay_bounds(timeline, now_us, now_us + 1)[0]
        key = (loaded.channel.id, loaded.output, rung, first_us, end_us, upto_us, continuous)
        found = self._playlists.fresh(key)
        if found is not None and self._valid(found.generation, found.valid_until, now):
            if not gzipped or found.gzipped is not None:
                return found
            plain = found
            replay = await self._once(("gzip", *key), lambda: self.slots.run(lambda: _with_gzip(plain)))
        else:

            def render() -> Replay:
                return self._render(archive, rung, first_us, end_us, upto_us, gzipped, continuous)

            replay = await self._once(("render", *key), lambda: self.slots.run(render))
        self._playlists.keep(key, replay)
        return replay

    def _render(
        self,
        archive: Archive,
        rung: str,
        start_us: int,
        end_us: int,
        now_us: int,
        gzipped: bool,
        continuous: bool,
    ) -> Replay:
        loaded = archive.loaded
        segments = range_segments(loaded.timeline, start_us, end_us, now_us=now_us)
        if not segments:
            raise NotFoundError(
                "a finished segment of the replay (try the live stream) from",
                f"{at_us(start_us):%H:%M:%S} UTC",
            )
        ended = end_us <= now_us or segments[-1].end_us >= end_us
        text = render_replay(
            segments,
            target_duration=loaded.target_duration,
            uri=loaded.uri(rung),
            init_uri=loaded.init_uri(rung) if loaded.fmp4 else no_init,
            ended=ended,
            continuous=continuous,
        )
        self.renders += 1
        body = text.encode()
        return Replay(
            body=body,
            gzipped=_gzip(body) if gzipped else None,
            ended=ended,
            generation=loaded.generation,
            valid_until=archive.valid_until,
        )

    async def master_playlist(self, archive: Archive, start: datetime, end: datetime, now: datetime) -> str:
        """The master of the replay of [start, end): the rungs, rated for what airs in the range."""
        loaded = archive.loaded
        first_us, end_us = replay_bounds(loaded.timeline, us_of(start), us_of(end))
        key = (loaded.channel.id, loaded.output, "master", first_us, end_us)
        found = self._playlists.fresh(key)
        if found is not None and self._valid(found.generation, found.valid_until, now):
            return found.body.decode()

        def render() -> Replay:
            first, last = at_us(first_us), at_us(end_us)
            airing = {e.asset_id for e in loaded.timeline.events if e.start < last and e.end > first}
            airing.add(loaded.timeline.slate.asset_id)
            media = (loaded.media[i] for i in sorted(airing) if loaded.media.get(i))
            text = live_master(self.live.profile, loaded.rungs, media)
            return Replay(
                body=text.encode(),
                gzipped=None,
                ended=end_us <= us_of(now),
                generation=loaded.generation,
                valid_until=archive.valid_until,
            )

        replay = await self._once(("render", *key), lambda: self.slots.run(render))
        self._playlists.keep(key, replay)
        return replay.body.decode()

    # --- sharing work in flight ----------------------------------------------------------------

    async def _once(self, key: Hashable, work: Callable[[], Awaitable[V]]) -> V:
        """``work()``, shared by every caller asking for ``key`` while it runs."""
        running = self._in_flight.get(key)
        if running is None:
            running = asyncio.ensure_future(work())
            self._in_flight[key] = running
            running.add_done_callback(lambda _: self._in_flight.pop(key, None))
        result: V = await asyncio.shield(running)
        return result


def _gzip(body: bytes) -> bytes:
    # mtime=0: the same playlist gives the same bytes in every process (ETags, edge caches)
    return gzip.compress(body, compresslevel=6, mtime=0)


def _with_gzip(replay: Replay) -> Replay:
    return Replay(
        body=replay.body,
        gzipped=_gzip(replay.body),
        ended=replay.ended,
        generation=replay.generation,
        valid_until=replay.valid_until,
    )
