"""The read-only JSON API of channels: the list, a broadcast day's schedule and guide, the as-run log."""

from __future__ import annotations

import asyncio
from datetime import datetime
from enum import StrEnum

from aiohttp import hdrs, web

from rcmedia.core.models import Output
from rcmedia.playout.asrun import asrun_between
from rcmedia.service.channels import find_channel, listed_channels
from rcmedia.service.guide import guide_day
from rcmedia.service.schedules import DayListing, channel_day
from rcmedia.web.asrun import asrun_csv, asrun_document, csv_filename
from rcmedia.web.json_response import json_response
from rcmedia.web.keys import CATALOG_KEY, CLOCK_KEY, SCHEDULES_KEY, STORAGE_KEY
from rcmedia.web.params import date_param, enum_param
from rcmedia.web.schedule_documents import channel_document, day_document, day_resource, guide_document
from rcmedia.web.writes import etag

CSV_TYPE = "text/csv; charset=utf-8"


class AsRunFormat(StrEnum):
    JSON = "json"
    CSV = "csv"


async def list_channels(request: web.Request) -> web.Response:
    """Every applied channel, in channel-number order."""
    listed = await asyncio.to_thread(listed_channels, request.app[SCHEDULES_KEY])
    return json_response({"items": [channel_document(c) for c in listed], "total": len(listed)})


async def get_channel(request: web.Request) -> web.Response:
    listed = await asyncio.to_thread(find_channel, request.app[SCHEDULES_KEY], request.match_info["channel"])
    return json_response(channel_document(listed))


async def _day(request: web.Request, now: datetime) -> DayListing:
    # the query is checked first: a bad parameter is a 400 whether or not the channel exists
    output = enum_param(request.query, "output", Output)
    day = date_param(request.query, "date")
    return await asyncio.to_thread(
        channel_day,
        request.app[SCHEDULES_KEY],
        request.match_info["channel"],
        output=output,
        day=day,
        now=now,
    )


async def channel_schedule(request: web.Request) -> web.Response:
    """``?output=`` (default iptv, else the channel's first output), ``?date=YYYY-MM-DD`` (default:
    the broadcast day on air now in the channel's zone)."""
    return day_answer(await _day(request, request.app[CLOCK_KEY].now()))


def day_answer(listing: DayListing) -> web.Response:
    """A day's document with its ETag, when built (what an edit sends back as If-Match)."""
    response = json_response(day_document(listing))
    if listing.version is not None:
        resource = day_resource(listing.channel.id, listing.output, listing.day)
        response.headers[hdrs.ETAG] = etag(resource, listing.version)
    return response


async def channel_guide(request: web.Request) -> web.Response:
    """The gapless guide of a broadcast day (what ``/epg.xml`` lists), with the same parameters
    as the schedule."""
    output = enum_param(request.query, "output", Output)
    day = date_param(request.query, "date")
    guide = await asyncio.to_thread(
        guide_day,
        request.app[SCHEDULES_KEY],
        request.match_info["channel"],
        output=output,
        day=day,
        now=request.app[CLOCK_KEY].now(),
    )
    return json_response(guide_document(guide))


async def channel_asrun(request: web.Request) -> web.Response:
    """What aired on a broadcast day, up to now; ``?format=csv`` for a spreadsheet download."""
    file_format = enum_param(request.query, "format", AsRunFormat) or AsRunFormat.JSON
    now = request.app[CLOCK_KEY].now()
    listing = await _day(request, now)
    rows = await asyncio.to_thread(
        asrun_between,
        request.app[CATALOG_KEY].asrun,
        request.app[STORAGE_KEY],
        listing.channel,
        listing.output,
        list(listing.events),
        start=listing.start,
        end=listing.end,
        now=now,
    )
    if file_format is AsRunFormat.JSON:
        return json_response(asrun_document(listing, rows, now=now))
    return web.Response(
        body=asrun_csv(rows).encode("utf-8"),
        headers={
            hdrs.CONTENT_TYPE: CSV_TYPE,
            hdrs.CONTENT_DISPOSITION: f'attachment; filename="{csv_filename(listing)}"',
        },
    )
