"""What the viewer pages show: now and next on every channel, a channel's broadcast day with replay
links, an on-demand asset. Blocking (catalog reads): run in a worker thread.

The guide is the one ``/epg.xml`` lists (:mod:`rcmedia.core.guide`): gapless, with idents,
filler and slate folded into the programme before them (or, on a ``guide_filler = "list"``
channel, as interludes), so "now" always names something. A replay link still plays exactly the
programme it names: its range is the programme's own, not its guide entry's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from rcmedia.catalog.repository import Catalog
from rcmedia.catalog.schedules import ScheduleStore
from rcmedia.core.builder import broadcast_day, day_on_air
from rcmedia.core.guide import GuideEntry
from rcmedia.core.models import AssetStatus, Output
from rcmedia.core.schedule import Channel, Event
from rcmedia.errors import NotFoundError
from rcmedia.service.channels import default_output, find_channel, listed_channels
from rcmedia.service.guide import channel_guide, epg_window
from rcmedia.web.schedule_documents import live_url

# how far ahead "next" is looked for: a grid may leave half a day between two programmes
LOOKAHEAD = timedelta(days=1)
VOD_OUTPUT = Output.IPTV  # what browsers get: the output made for screens of every size
# The page's player (hls.js) takes the continuous playlists: it ignores fMP4 edit lists, so at each
# EXT-X-DISCONTINUITY it would leave an 80 ms hole to seek over (hls.js #2468); one stream has none.
PAGE_VARIANT = "continuous/"
WEEKDAYS = "一二三四五六日"


def watch_url(channel_id: str, **query: str | int) -> str:
    return f"/watch/{channel_id}" + (f"?{urlencode(query)}" if query else "")


def catchup_url(channel_id: str, output: Output, *, utc: int, duration: int) -> str:
    query = urlencode({"utc": utc, "duration": duration})
    return f"/catchup/{channel_id}/{output.value}/{PAGE_VARIANT}master.m3u8?{query}"


def vod_url(asset_id: int) -> str:
    return f"/vod/{asset_id}/master.m3u8?output={VOD_OUTPUT.value}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Replay:
    """A past range of a channel: whole seconds covering it, as catch-up URLs take them."""

    utc: int
    duration: int

    @classmethod
    def of(cls, event: Event) -> Replay:
        # floor the start and ceil the end: a programme starting at a fraction of a second is whole
        start = math.floor(event.start.timestamp())
        return cls(utc=start, duration=math.ceil(event.end.timestamp()) - start)


@dataclass(frozen=True, kw_only=True, slots=True)
class Programme:
    """A line of the guide: a programme (with what folds into it) or an interlude."""

    start: datetime  # UTC
    end: datetime  # where the next line starts
    title: str
    interlude: bool
    series: str | None
    episode: int | None
    local_start: str  # HH:MM in the channel's zone
    local_end: str
    on_now: bool
    replay: Replay | None  # set when the programme itself ended within the catch-up days

    @property
    def unix_start(self) -> float:
        return self.start.timestamp()

    @property
    def unix_end(self) -> float:
        return self.end.timestamp()


@dataclass(frozen=True, kw_only=True, slots=True)
class ChannelSummary:
    """A channel on the ``/watch`` list: the guide's line on now and the next one."""

    channel: Channel
    output: Output
    now: Programme | None  # None: nothing built now
    next: Programme | None


@dataclass(frozen=True, kw_only=True, slots=True)
class ChannelPage:
    channel: Channel
    output: Output
    day: date
    today: date
    built: bool  # False: the day is not scheduled yet
    programmes: tuple[Programme, ...]
    now: Programme | None
    next: Programme | None
    live_url: str
    replay: Replay | None  # what the page opens with instead of live, if asked
    previous_day: date | None  # navigation, within the catch-up days and the built days
    next_day: date | None
    server_now: datetime

    def watch_url(self, **query: str | int) -> str:
        return watch_url(self.channel.id, **query)

    def catchup_url(self, replay: Replay) -> str:
        return catchup_url(self.channel.id, self.output, utc=replay.utc, duration=replay.duration)

    @property
    def replaying(self) -> Programme | None:
        """The listed programme the page opens a replay of."""
        return next((p for p in self.programmes if p.replay is not None and p.replay == self.replay), None)

    @property
    def source_url(self) -> str:
        """What the player opens: the replay asked for, else live."""
        return self.live_url if self.replay is None else self.catchup_url(self.replay)


@dataclass(frozen=True, kw_only=True, slots=True)
class VodPage:
    asset_id: int
    title: str
    series: str | None
    episode: int | None
    description: str
    duration: float | None
    master_url: str


def local_time(channel: Channel, moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(channel.timezone)).strftime("%H:%M")


def day_label(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日 星期{WEEKDAYS[day.weekday()]}"


def catchup_start(channel: Channel, now: datetime) -> datetime | None:
    """The oldest moment a replay may start at; None when the channel keeps no catch-up."""
    if channel.catchup_days <= 0:
        return None
    return epg_window(channel, now, 1)[0]


def programme(channel: Channel, entry: GuideEntry, *, now: datetime) -> Programme:
    event = entry.programme
    oldest = catchup_start(channel, now)
    replayable = event is not None and oldest is not None and oldest <= event.start and event.end <= now
    return Programme(
        start=entry.start,
        end=entry.stop,
        title=entry.title,
        interlude=event is None,
        series=event.series if event else None,
        episode=event.episode if event else None,
        local_start=local_time(channel, entry.start),
        local_end=local_time(channel, entry.stop),
        on_now=entry.start <= now < entry.stop,
        replay=Replay.of(event) if event is not None and replayable else None,
    )


def now_and_next(
    store: ScheduleStore, channel: Channel, output: Output, now: datetime
) -> tuple[Programme | None, Programme | None]:
    """The guide's line on now (None when nothing is built now) and the next one, within a day."""
    entries = channel_guide(store, channel, output, start=now, end=now + LOOKAHEAD)
    programmes = [programme(channel, e, now=now) for e in entries]
    on_now = next((p for p in programmes if p.on_now), None)
    upcoming = next((p for p in programmes if p.start > now), None)
    return on_now, upcoming


def channel_summaries(store: ScheduleStore, now: datetime) -> list[ChannelSummary]:
    """Every applied channel, in number order, on its default output (iptv, else its first)."""
    summaries = []
    for listed in listed_channels(store):
        channel = listed.channel
        output = default_output(channel)
        on_now, upcoming = now_and_next(store, channel, output, now)
        summaries.append(ChannelSummary(channel=channel, output=output, now=on_now, next=upcoming))
    return summaries


def channel_page(
    store: ScheduleStore, channel_id: str, *, day: date | None, replay: Replay | None, now: datetime
) -> ChannelPage:
    """A broadcast day of a channel (default: the one on air) on its default output.

    :class:`NotFoundError` for an unknown channel, or a replay asked of a channel without catch-up.
    """
    channel = find_channel(store, channel_id).channel
    if replay is not None and channel.catchup_days <= 0:
        raise NotFoundError("catch-up of channel", channel_id)
    output = default_output(channel)
    today = day_on_air(channel, now)
    if day is None and replay is not None:  # the guide of the day the replay comes from
        day = day_on_air(channel, datetime.fromtimestamp(replay.utc, UTC))
    shown = day or today
    start, end = broadcast_day(channel, shown)
    built = store.built_days(channel.id, output)
    entries = channel_guide(store, channel, output, start=start, end=end) if shown in built else []
    programmes = tuple(programme(channel, e, now=now) for e in entries)
    on_now, upcoming = now_and_next(store, channel, output, now)
    oldest = today - timedelta(days=channel.catchup_days)
    previous_day = shown - timedelta(days=1)
    next_day = shown + timedelta(days=1)
    return ChannelPage(
        channel=channel,
        output=output,
        day=shown,
        today=today,
        built=shown in built,
        programmes=programmes,
        now=on_now,
        next=upcoming,
        live_url=live_url(channel.id, output.value).replace("/master.m3u8", f"/{PAGE_VARIANT}master.m3u8"),
        replay=replay,
        previous_day=previous_day if previous_day >= oldest and previous_day in built else None,
        next_day=next_day if next_day in built else None,
        server_now=now,
    )


def vod_page(catalog: Catalog, asset_id: int) -> VodPage:
    """A published asset; :class:`NotFoundError` for a missing one or one not (or no longer) published."""
    asset = catalog.get_asset(asset_id)
    if asset.status is not AssetStatus.PUBLISHED or not asset.storage_prefix:
        raise NotFoundError("asset", asset_id)
    metadata = asset.metadata
    return VodPage(
        asset_id=asset.id,
        title=metadata.title,
        series=metadata.series,
        episode=metadata.episode,
        description=metadata.description,
        duration=asset.duration,
        master_url=vod_url(asset.id),
    )
