"""One live channel output, loaded: its timeline, where each rung's segments live, its master playlist.

Loading reads the catalog (blocking: call it in a worker thread); everything after is in memory.
A rung that an asset lacks (rungs above the source are never made) is played from the asset's
nearest lower rendition: the segments line up in every rung, so the numbering is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from rcmedia.catalog.asrun import AsRunLog
from rcmedia.catalog.playout import PlayoutReads
from rcmedia.catalog.schedules import ScheduleStore
from rcmedia.core.assets import Asset, Rendition
from rcmedia.core.codecs import covering_codecs
from rcmedia.core.models import Output
from rcmedia.core.profile import Profile
from rcmedia.core.schedule import Channel, ScheduleAsset, to_us
from rcmedia.core.segment_table import SegmentTable
from rcmedia.core.timeline import ALWAYS, SegmentRef, Timeline, at_us, build_timeline
from rcmedia.errors import ConfigError
from rcmedia.hls.playlists import render_master
from rcmedia.playout.aired import aired_uri
from rcmedia.playout.availability import unavailable_assets
from rcmedia.storage.base import Storage

LOOKBACK = timedelta(hours=3)  # events loaded before now: the window and start-over of a long programme
# Events loaded after now. A live load is used for at most an hour (playout.live reloads it every
# 30 minutes, and awaits a reload after 60), so a few hours ahead is all it ever plays: a week of
# a channel whose filler comes every few seconds is 200,000 events, 25 µs each to load.
LOOKAHEAD = timedelta(hours=6)


@dataclass(frozen=True, kw_only=True, slots=True)
class RungMedia:
    """Where one rung of one asset lives."""

    key_prefix: str  # storage key of the rendition folder, with a trailing "/"
    segments: tuple[str, ...]
    init: str | None
    rendition: Rendition = field(repr=False)  # what plays in the rung (its measured rates)


@dataclass(frozen=True, kw_only=True, slots=True, eq=False)
class ChannelOutput:
    channel: Channel
    output: Output
    timeline: Timeline
    rungs: tuple[str, ...]  # the output's rung names, highest first
    media: Mapping[int, Mapping[str, RungMedia]] = field(repr=False)  # asset → rung → media
    target_duration: int
    fmp4: bool
    master: str  # the live master playlist (relative rung URIs)
    generation: tuple[object, ...]
    loaded_at: datetime

    def uri(self, rung: str) -> Callable[[SegmentRef], str]:
        """Segment → URI in ``rung``: the stored file (or the slate's piece standing in for it) as
        aired, on the channel's clock (:mod:`rcmedia.playout.aired`)."""
        media = self.media

        def of(segment: SegmentRef) -> str:
            found = media[segment.asset_id][rung]
            return aired_uri(found.key_prefix + found.segments[segment.index], segment)

        return of

    def init_uri(self, rung: str) -> Callable[[SegmentRef], str | None]:
        media = self.media

        def of(segment: SegmentRef) -> str | None:
            found = media[segment.asset_id][rung]
            return None if found.init is None else f"/media/{found.key_prefix}{found.init}"

        return of


def rung_media(asset: Asset, profile: Profile, rungs: tuple[str, ...]) -> dict[str, RungMedia]:
    """Each of ``rungs`` for ``asset``: its own rendition, else the nearest lower one (else its lowest)."""
    if not asset.renditions or not asset.storage_prefix:
        return {}
    by_height = sorted(asset.renditions, key=lambda r: r.height)
    chosen = {}
    for name in rungs:
        own = asset.rendition(name)
        if own is None:
            height = profile.rung(name).height
            lower = [r for r in by_height if r.height <= height]
            own = lower[-1] if lower else by_height[0]
        chosen[name] = RungMedia(
            key_prefix=f"{asset.storage_prefix}/{own.name}/",
            segments=own.segments,
            init=own.init_segment,
            rendition=own,
        )
    return chosen


def schedule_asset(asset: Asset) -> ScheduleAsset:
    """What the timeline needs of an asset: its segment durations (equal in every rung)."""
    durations = asset.renditions[0].segment_durations if asset.renditions else ()
    return ScheduleAsset(
        id=asset.id,
        title=asset.metadata.title,
        series=asset.metadata.series,
        episode=asset.metadata.episode,
        source=asset.metadata.source,
        categories=asset.metadata.categories,
        segment_us=tuple(to_us(d) for d in durations),
        rights=asset.metadata.rights,
    )


def live_master(profile: Profile, rungs: tuple[str, ...], media: Iterable[Mapping[str, RungMedia]]) -> str:
    """The output's rungs, highest first, each with attributes that hold for what it really plays.

    ``media``: each asset that can air, its rungs (its own rendition, or the nearest lower one).
    Per rung, over those renditions: BANDWIDTH and AVERAGE-BANDWIDTH the highest measured, so a
    player never stalls on the heaviest programme; RESOLUTION the largest picture served; CODECS a
    profile and level that cover every SPS served (:func:`~rcmedia.core.codecs.covering_codecs`).

    A rung that plays exactly the files of a lower rung for every asset (no asset on the air has
    it, so each plays its nearest lower rendition) is left out, as an encoder would: listed, it
    would repeat the lower rung's bytes under another name and claim a picture it never shows
    (issue 10: four rungs said 1920x1080 down to 640x360 over the same 426x240 segments). Its
    media playlist is still served, for players that kept an earlier master.
    """
    plays = list(media)
    listed: list[Rendition] = []
    seen: set[tuple[str, ...]] = set()
    for name in reversed(rungs):  # lowest first: a duplicate keeps the lower rung's name
        found = [m[name] for m in plays if name in m]
        signature = tuple(f.key_prefix for f in found)
        if not found or signature in seen:
            continue
        seen.add(signature)
        served = [f.rendition for f in found]
        largest = max(served, key=lambda r: (r.width * r.height, r.height))
        listed.append(
            Rendition(
                name=name,
                width=largest.width,
                height=largest.height,
                bandwidth=max(r.bandwidth for r in served),
                average_bandwidth=max(r.average_bandwidth for r in served),
                codecs=covering_codecs(r.codecs for r in served),
                frame_rate=max(r.frame_rate for r in served),
                segments=(),
                segment_durations=(),
            )
        )
    listed.reverse()
    return render_master(listed, {r.name: f"{r.name}.m3u8" for r in listed}, profile.segment_type)


def replaced_since(
    unavailable: Mapping[int, str], before: Mapping[int, int] | None, now: datetime
) -> dict[int, datetime]:
    """From when the slate replaces each unavailable asset's segments.

    On a first load nothing was served by this process yet: every segment of an unavailable asset
    is replaced (an asset left out of the result is replaced throughout). On a reload, an asset that
    was replaced keeps its instant, and one newly found unavailable is replaced from ``now`` on:
    its earlier segments may already be in players' playlists under their own URIs, and a
    sequence number must keep its URI (RFC 8216bis §6.2.1).
    """
    if before is None:
        return {}
    since = {}
    for asset_id in unavailable:
        instant = before.get(asset_id)
        if instant is None:
            since[asset_id] = now
        elif instant != ALWAYS:
            since[asset_id] = at_us(instant)
    return since


def load_channel_output(
    store: ScheduleStore,
    reads: PlayoutReads,
    asrun: AsRunLog,
    storage: Storage,
    channel: Channel,
    output: Output,
    *,
    profile: Profile,
    now: datetime,
    generation: tuple[object, ...],
    replaced_before: Mapping[int, int] | None,
    epoch: datetime,
    span: tuple[datetime, datetime] | None = None,
    refused: Callable[[ScheduleAsset], str | None] | None = None,
) -> ChannelOutput:
    """Load one channel output from the catalog: by default the events from a little before ``now``
    to a few hours ahead (live; its master covers what is built beyond); ``span`` for a replay of
    [start, end).

    ``replaced_before``: the previous load's ``timeline.unavailable`` (None on a first load; see
    :func:`replaced_since`). ``epoch``: where the slate loop of a channel with no schedule at all
    counts from (when it was applied: stable across reloads and server processes). ``refused``:
    why an asset may not be played here although it is available (catch-up rights), or None.
    """
    rungs = tuple(profile.outputs[output])
    start, end = span or (now - LOOKBACK, now + LOOKAHEAD)
    events = store.events(channel.id, output, start=start, end=end)
    # the master holds for everything that can air until the end of what is built (players keep it)
    airing = {e.asset_id for e in events} if span else store.asset_ids(channel.id, output, start=start)
    slates = asrun.series_assets(channel.grid.slate_series)
    if not slates:
        raise ConfigError(
            f"channel {channel.id!r} has no published slate (series {channel.grid.slate_series!r}): "
            "ingest the house slate (rcmedia ingest --slate)"
        )
    slate_id = slates[0][0]
    ids = {e.asset_id for e in events} | {slate_id}
    assets = reads.assets(ids | airing)
    media = {i: rung_media(a, profile, rungs) for i, a in assets.items()}
    if not media.get(slate_id):
        raise ConfigError(f"the slate asset {slate_id} of channel {channel.id!r} has no renditions")
    unavailable = unavailable_assets(ids - {slate_id}, asrun.asset_states(ids), storage)
    unavailable.update((i, "has no renditions") for i in ids if i in media and not media[i])
    schedule_assets = {i: schedule_asset(assets[i]) for i in ids if media.get(i)}
    if refused is not None:
        for asset_id, asset in schedule_assets.items():
            why = refused(asset) if asset_id != slate_id else None
            if why is not None:
                unavailable.setdefault(asset_id, why)
    timeline = build_timeline(
        events,
        segments=SegmentTable({i: a.segment_us for i, a in schedule_assets.items()}),
        slate=schedule_assets[slate_id],
        unavailable=unavailable,
        unavailable_since=replaced_since(unavailable, replaced_before, now),
        epoch=epoch if not events else None,
    )
    return ChannelOutput(
        channel=channel,
        output=output,
        timeline=timeline,
        rungs=rungs,
        media=media,
        target_duration=profile.target_duration,
        fmp4=profile.segment_type == "fmp4",
        master=live_master(profile, rungs, (media[i] for i in airing | {slate_id} if media.get(i))),
        generation=generation,
        loaded_at=now,
    )
