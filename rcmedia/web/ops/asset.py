"""``GET /ops/assets/{id}``: one asset — its metadata, renditions, a preview player, where it aired
and where it is scheduled (per channel output), and, for editors, the forms that change it.

The page's script (``static/ops/asset.js``) writes through the editor API with the asset's
version (``PATCH``, ``PUT …/rights``, ``POST …/withdraw``), so a change another editor saved
since is refused with the reason rather than overwritten; before withdrawing it lists the
scheduled airings the withdrawal affects (``GET /api/v1/assets/{id}/airings?when=scheduled``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web

from rcmedia.catalog.repository import Catalog
from rcmedia.core.accounts import Role
from rcmedia.core.assets import Asset
from rcmedia.core.models import AssetStatus, Output
from rcmedia.service.asset_airings import AssetAirings, asset_airings
from rcmedia.service.channels import listed_channels
from rcmedia.web.documents import asset_document, asset_resource
from rcmedia.web.keys import CATALOG_KEY, CLOCK_KEY, SETTINGS_KEY
from rcmedia.web.ops.pages import ops_html, page_user
from rcmedia.web.writes import etag

AIRINGS_SHOWN = 50  # of each list: the API gives more


@dataclass(frozen=True, kw_only=True, slots=True)
class AssetView:
    asset: Asset
    airings: AssetAirings
    zones: dict[str, str]  # channel id -> its time zone: airings are shown in the channel's time


def asset_view(catalog: Catalog, asset_id: int, *, now: datetime, freeze: timedelta) -> AssetView:
    """Blocking (catalog reads). NotFoundError: no such asset."""
    asset = catalog.get_asset(asset_id)
    airings = asset_airings(catalog, asset_id, now=now, freeze=freeze, limit=AIRINGS_SHOWN)
    zones = {listed.channel.id: listed.channel.timezone for listed in listed_channels(catalog.schedules)}
    return AssetView(asset=asset, airings=airings, zones=zones)


def channel_time(zones: dict[str, str], channel_id: str, moment: datetime) -> str:
    """``2026-03-02 19:00:00`` in the channel's zone (UTC for a channel no longer applied)."""
    zone = ZoneInfo(zones.get(channel_id, "UTC"))
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


async def asset_page(request: web.Request) -> web.Response:
    user = await page_user(request)
    app = request.app
    view = await asyncio.to_thread(
        asset_view,
        app[CATALOG_KEY],
        int(request.match_info["id"]),
        now=app[CLOCK_KEY].now(),
        freeze=timedelta(seconds=app[SETTINGS_KEY].freeze_seconds),
    )
    asset = view.asset
    document = asset_document(asset)
    may_edit = user.role.allows(Role.EDITOR)
    config = {
        "asset": {
            "id": asset.id,
            "version": asset.version,
            "etag": etag(asset_resource(asset.id), asset.version),
            "status": asset.status.value,
            "rights": document["rights"],
        },
        "mayEdit": may_edit,
    }
    published = asset.status is AssetStatus.PUBLISHED
    return await ops_html(
        request,
        "ops/asset.html",
        user=user,
        config=config,
        view=view,
        asset=asset,
        may_edit=may_edit,
        outputs=list(Output),
        rights={r.output: r for r in asset.metadata.rights},
        player={"source": f"/vod/{asset.id}/master.m3u8"} if published else None,
        channel_time=lambda channel_id, moment: channel_time(view.zones, channel_id, moment),
    )
