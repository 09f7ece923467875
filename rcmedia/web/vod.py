"""On-demand playlists: an asset's master for one output, and one rendition's VOD media playlist.

Only published assets are served; a pending, failed or withdrawn asset answers 404 like a missing one.
"""

from __future__ import annotations

import asyncio
import math

from aiohttp import web

from rcmedia.core.assets import Asset
from rcmedia.core.ladder import output_rungs
from rcmedia.core.models import AssetStatus, Output
from rcmedia.core.profile import Profile
from rcmedia.errors import ConfigError, NotFoundError
from rcmedia.hls.playlists import render_master, render_vod
from rcmedia.web.keys import CATALOG_KEY, PROFILES_KEY
from rcmedia.web.params import enum_param
from rcmedia.web.playlist_response import playlist_response

# A VOD playlist never changes once published, but a withdrawn asset should stop playing soon.
VOD_MAX_AGE = 60
DEFAULT_OUTPUT = Output.IPTV


def offered_renditions(asset: Asset, profile: Profile, output: Output) -> list[str]:
    """The names of the asset's renditions that ``output`` lists, highest first."""
    return list(output_rungs(profile, tuple(r.name for r in asset.renditions), output))


async def _published_asset(request: web.Request) -> Asset:
    asset_id = int(request.match_info["asset"])
    asset = await asyncio.to_thread(request.app[CATALOG_KEY].get_asset, asset_id)
    if asset.status is not AssetStatus.PUBLISHED or not asset.storage_prefix:
        raise web.HTTPNotFound(text=f"asset {asset_id!r} is not published (status: {asset.status})\n")
    return asset


def _profile(request: web.Request, asset: Asset) -> Profile:
    profile = request.app[PROFILES_KEY].get(asset.profile)
    if profile is None:
        raise ConfigError(
            f"asset {asset.id!r} uses transcode profile {asset.profile!r}, which is not loaded; "
            "restore it in profiles_dir"
        )
    return profile


async def master_playlist(request: web.Request) -> web.Response:
    output = enum_param(request.query, "output", Output) or DEFAULT_OUTPUT
    asset = await _published_asset(request)
    names = offered_renditions(asset, _profile(request, asset), output)
    renditions = [r for r in asset.renditions if r.name in names]
    text = render_master(
        renditions, uri_of={name: f"{name}.m3u8" for name in names}, segment_type=asset.segment_type
    )
    return playlist_response(request, text, max_age=VOD_MAX_AGE)


async def rendition_playlist(request: web.Request) -> web.Response:
    asset = await _published_asset(request)
    name = request.match_info["rendition"]
    rendition = asset.rendition(name)
    if rendition is None:
        raise NotFoundError("rendition", f"{asset.id}/{name}")
    target = asset.target_duration or math.ceil(max(rendition.segment_durations, default=1.0))
    text = render_vod(
        rendition,
        base_uri=f"/media/{asset.storage_prefix}/{rendition.name}/",
        target_duration=target,
        segment_type=asset.segment_type,
    )
    return playlist_response(request, text, max_age=VOD_MAX_AGE)
