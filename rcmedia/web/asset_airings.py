"""``GET /api/v1/assets/{id}/airings``: an asset's scheduled and past airings, per channel output.

``?when=scheduled`` (what withdrawing it would affect) or ``?when=aired`` for one list only;
``?limit=`` caps each list (``*_total`` says how many there are). Reads are anonymous, as the
schedule and the as-run log are. See :mod:`rcmedia.service.asset_airings`.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from enum import StrEnum

from aiohttp import web

from rcmedia.core.airings import AssetAiring
from rcmedia.service.asset_airings import AssetAirings, asset_airings
from rcmedia.web.documents import iso_utc
from rcmedia.web.json_response import json_response
from rcmedia.web.keys import CATALOG_KEY, CLOCK_KEY, SETTINGS_KEY
from rcmedia.web.params import enum_param, int_param

DEFAULT_LIMIT = 100
MAX_LIMIT = 500


class When(StrEnum):
    SCHEDULED = "scheduled"
    AIRED = "aired"


def airing_document(airing: AssetAiring, *, freeze_until: datetime | None = None) -> dict[str, object]:
    document: dict[str, object] = {
        "channel": airing.channel_id,
        "output": airing.output.value,
        "start": iso_utc(airing.start),
        "end": iso_utc(airing.end),
        "title": airing.title,
        "kind": airing.kind.value,
        "locked": airing.locked,
        "substitution": airing.substitution,
        # scheduled: whether it starts inside the freeze horizon (airs as built whatever changes)
        "frozen": None if freeze_until is None else airing.start < freeze_until,
    }
    return document


def airings_document(found: AssetAirings) -> dict[str, object]:
    return {
        "asset": found.asset_id,
        "now": iso_utc(found.now),
        "freeze_until": iso_utc(found.freeze_until),
        "scheduled": [airing_document(a, freeze_until=found.freeze_until) for a in found.scheduled],
        "scheduled_total": found.scheduled_total,
        "aired": [airing_document(a) for a in found.aired],
        "aired_total": found.aired_total,
    }


async def asset_airings_api(request: web.Request) -> web.Response:
    when = enum_param(request.query, "when", When)
    limit = int_param(request.query, "limit", default=DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)
    app = request.app
    found = await asyncio.to_thread(
        asset_airings,
        app[CATALOG_KEY],
        int(request.match_info["id"]),
        now=app[CLOCK_KEY].now(),
        freeze=timedelta(seconds=app[SETTINGS_KEY].freeze_seconds),
        scheduled=when in (None, When.SCHEDULED),
        aired=when in (None, When.AIRED),
        limit=limit,
    )
    return json_response(airings_document(found))
