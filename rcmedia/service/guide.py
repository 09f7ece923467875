"""The guide as viewers' tools read it: the XMLTV document and what it depends on."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from rcmedia.catalog.schedules import ScheduleStore
from rcmedia.core.builder import broadcast_day, day_on_air
from rcmedia.core.models import Output, Source
from rcmedia.core.schedule import Channel, EventKind
from rcmedia.core.xmltv import ProgrammeInfo, render_xmltv
from rcmedia.service.channels import listed_channels, load_channels

Fingerprint = tuple[tuple[object, ...], ...]


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
    programmes = {}
    for channel in channels:
        start, end = epg_window(channel, now, days)
        # the guide lists programmes only (see rcmedia.core.xmltv): filler and slate stay in the database
        programmes[channel.id] = store.events(
            channel.id, output, start=start, end=end, kinds=[EventKind.PROGRAMME]
        )
    extra = {
        a.id: ProgrammeInfo(
            description=a.description,
            categories=a.categories,
            language=a.language,
            first_run=a.source is Source.OWN,
        )
        for a in store.schedule_assets()
    }
    return render_xmltv(channels, programmes, extra=extra, site_url=site_url)


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
