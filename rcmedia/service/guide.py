"""The guide as viewers' tools read it: gapless entries of a channel output (for XMLTV, the JSON
guide and the watch pages), the XMLTV document and what it depends on."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from rcmedia.catalog.schedules import ScheduleStore
from rcmedia.core.builder import broadcast_day, day_on_air
from rcmedia.core.guide import GuideEntry, guide_entries
from rcmedia.core.models import Output, Source
from rcmedia.core.schedule import Channel, EventKind
from rcmedia.core.xmltv import ProgrammeInfo, render_xmltv
from rcmedia.service.channels import channel_and_output, listed_channels, load_channels

Fingerprint = tuple[tuple[object, ...], ...]
# How far around a window the programmes its first and last entries reach to are looked for:
# filler after a programme a week ago is an interlude, not a week-long programme.
REACH = timedelta(days=1)


@dataclass(frozen=True, kw_only=True, slots=True)
class GuideDay:
    """One broadcast day of a channel output's guide: the entries overlapping ``[start, end)``."""

    channel: Channel
    output: Output
    day: date
    start: datetime
    end: datetime
    version: int | None  # None: the day is not built
    entries: tuple[GuideEntry, ...]


def channel_guide(
    store: ScheduleStore, channel: Channel, output: Output, *, start: datetime, end: datetime
) -> list[GuideEntry]:
    """The gapless guide of ``[start, end)`` (:func:`rcmedia.core.guide.guide_entries`).

    Read from the last programme that starts within ``REACH`` before ``start``, so the idents and
    filler at the window's start fold into it (its entry keeps its real start, before ``start``),
    and up to the first programme that starts within ``REACH`` after ``end``, so the last entry
    stops where it would in a later window (at that programme's start). Every event of the range
    is read, not only programmes: where the events have a hole, or no programme before them, is
    known only from them.
    """
    with store.reading(channel.id, output) as tx:
        before = tx.start_of(EventKind.PROGRAMME, since=start - REACH, before=start, last=True)
        after = tx.start_of(EventKind.PROGRAMME, since=end, before=end + REACH, last=False)
        events = tx.events(start=before or start, end=after or end)
    return guide_entries(channel, events, start=start, end=end)


def guide_day(
    store: ScheduleStore, channel_id: str, *, output: Output | None, day: date | None, now: datetime
) -> GuideDay:
    """A broadcast day of a channel's guide, as ``channel_day`` reads its schedule: by default on
    the channel's default output, the day on air at ``now`` in its zone.

    :class:`NotFoundError` for an unknown channel, or an output the channel is not on.
    """
    channel, chosen = channel_and_output(store, channel_id, output)
    wanted = day or day_on_air(channel, now)
    start, end = broadcast_day(channel, wanted)
    version = store.built_days(channel.id, chosen).get(wanted)
    entries = channel_guide(store, channel, chosen, start=start, end=end)
    return GuideDay(
        channel=channel,
        output=chosen,
        day=wanted,
        start=start,
        end=end,
        version=version,
        entries=tuple(entries),
    )


def epg_window(channel: Channel, now: datetime, days: int) -> tuple[datetime, datetime]:
    """From the start of the oldest catch-up day to the end of the ``days``-th day ahead."""
    today = day_on_air(channel, now)
    start, _ = broadcast_day(channel, today - timedelta(days=channel.catchup_days))
    _, end = broadcast_day(channel, today + timedelta(days=max(days, 1) - 1))
    return start, end


def xmltv_document(
    store: ScheduleStore, *, output: Output, days: int, now: datetime, site_url: str = ""
) -> Iterator[str]:
    """The XMLTV of every channel on ``output``: catch-up days past, ``days`` ahead (streamed).

    ``site_url`` (the ``public_url`` setting) makes logos full URLs and adds each channel's watch
    page; without it the document has no absolute URL (nothing is taken from a request).
    """
    channels = [c for c in load_channels(store) if output in c.outputs]
    guides = {}
    for channel in channels:
        start, end = epg_window(channel, now, days)
        guides[channel.id] = channel_guide(store, channel, output, start=start, end=end)
    extra = {
        a.id: ProgrammeInfo(
            description=a.description,
            categories=a.categories,
            language=a.language,
            first_run=a.source is Source.OWN,
        )
        for a in store.schedule_assets()
    }
    return render_xmltv(channels, guides, extra=extra, site_url=site_url)


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
