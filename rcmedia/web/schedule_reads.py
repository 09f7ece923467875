"""What the viewer-side schedule endpoints read from the catalog. Blocking: run in a worker thread.

Applied channels are kept as TOML text in the catalog; ``parsed_channel`` remembers each parse
by its text, so polling clients cost a query, not a parse.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from rcmedia.catalog.schedules import ScheduleStore
from rcmedia.core.builder import broadcast_day, day_on_air
from rcmedia.core.models import Output
from rcmedia.core.schedule import Channel, Event, EventKind
from rcmedia.errors import NotFoundError
from rcmedia.scheduling.epg import epg_window, parsed_channel

Fingerprint = tuple[tuple[object, ...], ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class ListedChannel:
    channel: Channel
    version: int  # bumped each time a changed file is applied


@dataclass(frozen=True, kw_only=True, slots=True)
class DayListing:
    """One broadcast day of a channel output: its UTC bounds, build version and events."""

    channel: Channel
    output: Output
    day: date
    start: datetime
    end: datetime
    version: int | None  # None: the day is not built
    events: tuple[Event, ...]


def listed_channels(store: ScheduleStore) -> list[ListedChannel]:
    """The applied channels in channel-number order."""
    listed = [
        ListedChannel(channel=parsed_channel(applied.filename, applied.source), version=applied.version)
        for applied in store.applied_channels()
    ]
    return sorted(listed, key=lambda c: (c.channel.number, c.channel.id))


def find_channel(store: ScheduleStore, channel_id: str) -> ListedChannel:
    for listed in listed_channels(store):
        if listed.channel.id == channel_id:
            return listed
    raise NotFoundError("channel", channel_id)


def default_output(channel: Channel) -> Output:
    """IPTV when the channel is on it (it is what the viewer-side lists default to), else its first."""
    return Output.IPTV if Output.IPTV in channel.outputs else channel.outputs[0]


def channel_day(
    store: ScheduleStore, channel_id: str, *, output: Output | None, day: date | None, now: datetime
) -> DayListing:
    """One broadcast day of a channel output; by default the day on air at ``now`` in the channel's zone.

    :class:`NotFoundError` for an unknown channel, or an output the channel is not on.
    """
    channel = find_channel(store, channel_id).channel
    output = output or default_output(channel)
    if output not in channel.outputs:
        raise NotFoundError("output", f"{channel_id}/{output.value}")
    return day_listing(store, channel, output, day or day_on_air(channel, now))


def day_listing(
    store: ScheduleStore,
    channel: Channel,
    output: Output,
    day: date,
    *,
    kinds: Sequence[EventKind] | None = None,
) -> DayListing:
    """The events of a broadcast day (only of ``kinds`` when given: a guide wants the programmes
    of a day that may hold thousands of fillers and idents)."""
    start, end = broadcast_day(channel, day)
    return DayListing(
        channel=channel,
        output=output,
        day=day,
        start=start,
        end=end,
        version=store.built_days(channel.id, output).get(day),
        events=tuple(store.events(channel.id, output, start=start, end=end, kinds=kinds)),
    )


def epg_fingerprint(store: ScheduleStore, *, output: Output, days: int, now: datetime) -> Fingerprint:
    """Everything the XMLTV of ``output`` depends on but the assets' descriptions and categories.

    Per channel on that output: its applied version, its window at ``now`` and the version of every
    built day. Equal fingerprints give the same document (asset texts aside: those are covered by
    the cache's time to live).
    """
    parts = []
    for listed in listed_channels(store):
        channel = listed.channel
        if output not in channel.outputs:
            continue
        start, end = epg_window(channel, now, days)
        built = tuple(sorted(store.built_days(channel.id, output).items()))
        parts.append((channel.id, listed.version, start, end, built))
    return tuple(parts)
