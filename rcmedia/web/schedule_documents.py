"""What the JSON API says about channels and their schedules. Times are ISO 8601 in UTC.

URLs are paths on this origin, as in the asset documents; ``/channels.m3u`` is where absolute
ones are needed.
"""

from __future__ import annotations

from rcmedia.core.schedule import US, Channel, Event
from rcmedia.service.channels import ListedChannel
from rcmedia.service.schedules import DayListing
from rcmedia.web.documents import Document, iso_utc


def live_url(channel_id: str, output: str) -> str:
    return f"/live/{channel_id}/{output}/master.m3u8"


def channel_urls(channel: Channel) -> Document:
    outputs = [output.value for output in channel.outputs]
    return {
        "m3u": {output: f"/channels.m3u?output={output}" for output in outputs},
        "epg": {output: f"/epg.xml?output={output}" for output in outputs},
        "live": {output: live_url(channel.id, output) for output in outputs},
        "schedule": {output: f"/api/v1/channels/{channel.id}/schedule?output={output}" for output in outputs},
    }


def channel_document(listed: ListedChannel) -> Document:
    channel = listed.channel
    return {
        "id": channel.id,
        "xmltv_id": channel.xmltv_id,
        "name": channel.name,
        "number": channel.number,
        "timezone": channel.timezone,
        "outputs": [output.value for output in channel.outputs],
        "catchup_days": channel.catchup_days,
        "day_start": channel.day_start.strftime("%H:%M"),
        "logo": channel.logo,
        "group": channel.group,
        "description": channel.description,
        "version": listed.version,
        "urls": channel_urls(channel),
    }


def seconds(duration_us: int) -> float:
    return duration_us / US


def event_document(event: Event) -> Document:
    return {
        "start": iso_utc(event.start),
        "end": iso_utc(event.end),
        "duration": seconds(event.duration_us),
        "asset_id": event.asset_id,
        "title": event.title,
        "series": event.series,
        "episode": event.episode,
        "kind": event.kind.value,
        "slot_id": event.slot_id,
        "premiere": event.premiere,
        "previously_shown": iso_utc(event.previously_shown),
        "substitution": event.substitution,
        "locked": event.locked,
        "first_segment": event.first_segment,
        "last_segment": event.last_segment,
        "seq0": event.seq0,
        "disc0": event.disc0,
    }


def day_document(listing: DayListing) -> Document:
    """A broadcast day; ``version`` is null (and ``events`` empty) when the day is not built."""
    return {
        "channel": listing.channel.id,
        "output": listing.output.value,
        "timezone": listing.channel.timezone,
        "day": listing.day.isoformat(),
        "start": iso_utc(listing.start),
        "end": iso_utc(listing.end),
        "version": listing.version,
        "events": [event_document(e) for e in listing.events],
    }


def day_etag(listing: DayListing) -> str:
    """The ETag of a built day: its version (strong: equal versions are equal days)."""
    return f'"{listing.channel.id}/{listing.output.value}/{listing.day.isoformat()}/v{listing.version}"'


def version_of_etag(tag: str) -> int | None:
    """The version an ``If-Match`` names (as :func:`day_etag` made it), or None when it names none."""
    tag = tag.strip().removeprefix("W/")
    if not (len(tag) > 2 and tag[0] == tag[-1] == '"'):
        return None
    _, _, version = tag[1:-1].rpartition("/v")
    return int(version) if version.isdigit() and len(version) < 19 else None
