"""What the JSON API says about channels and their schedules. Times are ISO 8601 in UTC.

URLs are paths on this origin, as in the asset documents; ``/channels.m3u`` is where absolute
ones are needed.
"""

from __future__ import annotations

from datetime import date

from rcmedia.core.guide import GuideEntry, GuideKind
from rcmedia.core.models import Output
from rcmedia.core.schedule import US, Channel, Event, EventKind, GuideFiller
from rcmedia.service.channels import ListedChannel
from rcmedia.service.guide import GuideDay
from rcmedia.service.schedules import DayListing
from rcmedia.web.documents import ID, INSTANT, Document, closed, enum_of, iso_utc, nullable


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


def guide_entry_document(entry: GuideEntry) -> Document:
    programme = entry.programme
    return {
        "start": iso_utc(entry.start),
        "stop": iso_utc(entry.stop),
        "title": entry.title,
        "kind": entry.kind.value,
        "series": programme.series if programme else None,
        "episode": programme.episode if programme else None,
        "asset_id": programme.asset_id if programme else None,
        "content_duration": seconds(entry.content_us),
    }


def guide_document(guide: GuideDay) -> Document:
    """A broadcast day of the gapless guide (:mod:`rcmedia.core.guide`); ``entries`` empty when nothing
    is built; the first entry may start before ``start`` (a programme whose filler runs into the day)."""
    return {
        "channel": guide.channel.id,
        "output": guide.output.value,
        "timezone": guide.channel.timezone,
        "day": guide.day.isoformat(),
        "start": iso_utc(guide.start),
        "end": iso_utc(guide.end),
        "version": guide.version,
        "interlude_title": guide.channel.interlude_title,
        "guide_filler": guide.channel.guide_filler.value,
        "entries": [guide_entry_document(e) for e in guide.entries],
    }


def day_resource(channel_id: str, output: Output, day: date) -> str:
    """What a built day's ETag names (rcmedia.web.writes.etag): equal versions are equal days."""
    return f"{channel_id}/{output.value}/{day.isoformat()}"


# --- JSON Schemas of the documents above (rcmedia.web.openapi) -------------------------------------

_PATHS_BY_OUTPUT: Document = {"type": "object", "additionalProperties": {"type": "string"}}
CHANNEL_SCHEMA = closed(
    {
        "id": {"type": "string"},
        "xmltv_id": {"type": "string"},
        "name": {"type": "string"},
        "number": {"type": "integer"},
        "timezone": {"type": "string", "description": "IANA zone the channel's days and clock are in"},
        "outputs": {"type": "array", "items": enum_of(Output)},
        "catchup_days": {"type": "integer", "minimum": 0},
        "day_start": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
        "logo": {"type": "string"},
        "group": {"type": "string"},
        "description": {"type": "string"},
        "version": {"type": "integer", "description": "bumped each time a changed channel file is applied"},
        "urls": closed(
            dict.fromkeys(("m3u", "epg", "live", "schedule"), _PATHS_BY_OUTPUT),
            description="paths on this origin, per output",
        ),
    }
)
EVENT_SCHEMA = closed(
    {
        "start": INSTANT,
        "end": INSTANT,
        "duration": {"type": "number", "description": "seconds"},
        "asset_id": ID,
        "title": {"type": "string"},
        "series": nullable({"type": "string"}),
        "episode": nullable({"type": "integer"}),
        "kind": enum_of(EventKind),
        "slot_id": nullable({"type": "string"}),
        "premiere": {"type": "boolean"},
        "previously_shown": nullable(INSTANT),
        "substitution": nullable({"type": "string", "description": "why another asset airs here"}),
        "locked": {"type": "boolean"},
        "first_segment": {"type": "integer", "minimum": 0},
        "last_segment": {"type": "integer", "minimum": 0},
        "seq0": {"type": "integer", "minimum": 0},
        "disc0": {"type": "integer", "minimum": 0},
    }
)
DAY_SCHEMA = closed(
    {
        "channel": {"type": "string"},
        "output": enum_of(Output),
        "timezone": {"type": "string"},
        "day": {"type": "string", "format": "date"},
        "start": INSTANT,
        "end": INSTANT,
        "version": nullable(
            {
                "type": "integer",
                "description": "the day's build version: send it back with an edit (null: not built)",
            }
        ),
        "events": {"type": "array", "items": EVENT_SCHEMA},
    },
    description="A broadcast day of a channel output; `version` null and `events` empty when not built.",
)
GUIDE_ENTRY_SCHEMA = closed(
    {
        "start": INSTANT,
        "stop": INSTANT,
        "title": {"type": "string", "description": "the programme's title, or the channel's interlude title"},
        "kind": enum_of(GuideKind),
        "series": nullable({"type": "string"}),
        "episode": nullable({"type": "integer"}),
        "asset_id": nullable(ID),
        "content_duration": {
            "type": "number",
            "minimum": 0,
            "description": "seconds of the programme itself (less than stop - start when filler is folded "
            "into it); for an interlude, its length",
        },
    }
)
GUIDE_SCHEMA = closed(
    {
        "channel": {"type": "string"},
        "output": enum_of(Output),
        "timezone": {"type": "string"},
        "day": {"type": "string", "format": "date"},
        "start": INSTANT,
        "end": INSTANT,
        "version": nullable({"type": "integer", "description": "the day's build version (null: not built)"}),
        "interlude_title": {"type": "string"},
        "guide_filler": enum_of(GuideFiller),
        "entries": {"type": "array", "items": GUIDE_ENTRY_SCHEMA},
    },
    description="A broadcast day of a channel output's guide: no gap, no overlap; idents, filler and slate "
    "fold into the programme before them (or, with guide_filler list, are interludes of their own).",
)
