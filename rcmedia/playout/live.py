"""The origin's live channels: each channel output's timeline in memory, refreshed when its schedule changes.

A request costs no database query: the catalog's ``generation`` (a handful of aggregates) is
polled every couple of seconds, and a channel output whose generation moved is reloaded in a
worker thread while requests go on being answered from the timeline already loaded. That is safe
because nothing before the freeze horizon (now + 2 minutes) ever changes: the old timeline and the
new one agree on every segment a player can be given until the reload lands. Each rendered media
playlist is kept until its next segment boundary (when it changes), so thousands of viewers of a
channel cost one rendering per segment.
"""

from __future__ import annotations

import asyncio
import gzip
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from rcmedia.catalog.playout import GenerationReads
from rcmedia.catalog.repository import Catalog
from rcmedia.core.live_playlist import no_init, render_live
from rcmedia.core.models import Output
from rcmedia.core.profile import Profile
from rcmedia.core.schedule import Channel
from rcmedia.core.timeline import live_window
from rcmedia.errors import NotFoundError
from rcmedia.playout.channel_output import ChannelOutput, load_channel_output
from rcmedia.service.channels import load_channels
from rcmedia.storage.base import Storage

log = logging.getLogger(__name__)

RELOAD_EVERY = timedelta(minutes=30)  # also without changes: the look-back moves, storage may lose files
WATCH_SECONDS = 2.0  # below a segment's length: a withdrawal is seen before its next segment is listed


@dataclass(frozen=True, kw_only=True, slots=True)
class RenderedPlaylist:
    body: bytes
    gzipped: bytes | None
    valid_until_us: int  # the next segment boundary: the playlist changes then
    source: ChannelOutput  # rendered from this load


class LiveChannels:
    """Every channel output the origin serves live; ask it from the event loop."""

    def __init__(self, catalog: Catalog, storage: Storage, profile: Profile) -> None:
        self.store = catalog.schedules
        self.reads = catalog.playout
        self._shared_reads = self.reads.for_generation(None)
        self.asrun = catalog.asrun
        self.storage = storage
        self.profile = profile
        self.generation: tuple[object, ...] | None = None
        self._channels: dict[str, Channel] = {}
        self._epochs: dict[str, datetime] = {}
        self._loaded: dict[tuple[str, Output], ChannelOutput] = {}
        self._loading: dict[tuple[str, Output], asyncio.Task[ChannelOutput]] = {}
        self._playlists: dict[tuple[str, Output, str, bool], RenderedPlaylist] = {}

    # --- keeping up with the catalog ---------------------------------------------------------

    async def refresh(self) -> bool:
        """Read the catalog's generation; on a change, re-read the channels. True if it moved."""
        generation = await asyncio.to_thread(self.reads.generation)
        if generation == self.generation:
            return False
        channels = await asyncio.to_thread(load_channels, self.store)
        self._epochs = await asyncio.to_thread(self.reads.channel_epochs)
        self._channels = {c.id: c for c in channels}
        self.generation = generation
        return True

    async def watch(self) -> None:
        """Poll the generation for ever (run as a background task)."""
        while True:
            try:
                await self.refresh()
            except Exception:  # a database hiccup must not stop the watch; the next poll retries
                log.exception("live channels: reading the catalog's generation failed")
            await asyncio.sleep(WATCH_SECONDS)

    def channels(self) -> list[Channel]:
        """The applied channels, as last read."""
        return list(self._channels.values())

    def channel(self, channel_id: str, output: Output) -> Channel:
        channel = self._channels.get(channel_id)
        if channel is None:
            raise NotFoundError("channel", channel_id)
        if output not in channel.outputs:
            raise NotFoundError("output", f"{channel_id}/{output.value}")
        return channel

    # --- timelines ---------------------------------------------------------------------------

    async def channel_output(self, channel_id: str, output: Output, now: datetime) -> ChannelOutput:
        """The loaded channel output, reloading it when its generation moved (or it is old)."""
        if self.generation is None:
            await self.refresh()
        channel = self.channel(channel_id, output)
        key = (channel_id, output)
        loaded = self._loaded.get(key)
        if (
            loaded is not None
            and loaded.generation == self.generation
            and now - loaded.loaded_at < RELOAD_EVERY
        ):
            return loaded
        task = self._loading.get(key)
        if task is None:
            task = asyncio.create_task(self._load(channel, output, now, loaded))
            self._loading[key] = task
            task.add_done_callback(lambda _: self._loading.pop(key, None))
        # serve what is loaded while the reload runs (see the module's docstring) unless the
        # look-back has run out
        if loaded is not None and now - loaded.loaded_at < RELOAD_EVERY * 2:
            return loaded
        return await asyncio.shield(task)

    def loaded(self) -> list[ChannelOutput]:
        """The channel outputs loaded so far (those viewers asked for), as last loaded."""
        return list(self._loaded.values())

    async def settle(self) -> None:
        """Wait for the reloads in flight (tests, shutdown)."""
        while self._loading:
            await asyncio.gather(*self._loading.values(), return_exceptions=True)

    def shared_reads(self, generation: tuple[object, ...]) -> GenerationReads:
        """The catalog reads of ``generation``, shared by every load of it (live and catch-up alike:
        each asset decoded and kept once, see GenerationReads)."""
        if self._shared_reads.of_generation != generation:
            self._shared_reads = self.reads.for_generation(generation)
        return self._shared_reads

    async def _load(
        self, channel: Channel, output: Output, now: datetime, previous: ChannelOutput | None
    ) -> ChannelOutput:
        generation = self.generation or ()
        loaded = await asyncio.to_thread(
            load_channel_output,
            self.store,
            self.shared_reads(generation),
            self.asrun,
            self.storage,
            channel,
            output,
            profile=self.profile,
            now=now,
            generation=generation,
            replaced_before=None if previous is None else previous.timeline.unavailable,
            epoch=self._epochs.get(channel.id, now),
        )
        self._loaded[(channel.id, output)] = loaded
        return loaded

    # --- playlists ---------------------------------------------------------------------------

    def cached_playlist(
        self,
        channel_id: str,
        output: str,
        rung: str,
        now: datetime,
        now_us: int,
        *,
        gzipped: bool,
        continuous: bool = False,
    ) -> RenderedPlaylist | None:
        """The playlist :meth:`media_playlist` would give, when it is cached and nothing needs
        a look at the catalog; else None (then ask :meth:`channel_output` and :meth:`media_playlist`).

        The fast path of every viewer's reload: no await, no enum, no loading. ``output`` is the
        name from the URL (``Output`` is a ``StrEnum``: the name finds the cache entry).
        """
        cached = self._playlists.get((channel_id, output, rung, continuous))  # type: ignore[arg-type]
        if cached is None or now_us >= cached.valid_until_us or (gzipped and cached.gzipped is None):
            return None
        source = cached.source
        if (
            source.generation != self.generation
            or self._loaded.get((channel_id, source.output)) is not source
            or now - source.loaded_at >= RELOAD_EVERY
        ):
            return None
        return cached

    def media_playlist(
        self, loaded: ChannelOutput, rung: str, now_us: int, *, gzipped: bool, continuous: bool = False
    ) -> RenderedPlaylist:
        """The live media playlist of ``rung`` at ``now_us``, rendered once per segment boundary
        (``continuous``: without EXT-X-DISCONTINUITY, see rcmedia.core.live_playlist)."""
        key = (loaded.channel.id, loaded.output, rung, continuous)
        cached = self._playlists.get(key)
        if cached is None or cached.source is not loaded or not now_us < cached.valid_until_us:
            window = live_window(loaded.timeline, now_us, target_duration_s=loaded.target_duration)
            text = render_live(
                window,
                target_duration=loaded.target_duration,
                uri=loaded.uri(rung),
                init_uri=loaded.init_uri(rung) if loaded.fmp4 else no_init,
                continuous=continuous,
            )
            cached = RenderedPlaylist(
                body=text.encode(), gzipped=None, valid_until_us=window.next_change_us, source=loaded
            )
            self._playlists[key] = cached
        if gzipped and cached.gzipped is None:
            # mtime=0: the same playlist gives the same bytes in every process (ETags, edge caches)
            cached = RenderedPlaylist(
                body=cached.body,
                gzipped=gzip.compress(cached.body, compresslevel=6, mtime=0),
                valid_until_us=cached.valid_until_us,
                source=loaded,
            )
            self._playlists[key] = cached
        return cached
