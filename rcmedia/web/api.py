"""The read-only JSON API: assets (search, filter, paginate) and ingest jobs."""

from __future__ import annotations

import asyncio

from aiohttp import hdrs, web

from rcmedia.catalog.repository import AssetQuery
from rcmedia.core.assets import Asset
from rcmedia.core.models import AssetStatus, JobState, Source
from rcmedia.web.documents import asset_document, asset_resource, job_document, page_document
from rcmedia.web.json_response import json_response
from rcmedia.web.keys import CATALOG_KEY
from rcmedia.web.params import enum_param, int_param, text_param
from rcmedia.web.writes import etag

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_OFFSET = 1_000_000_000  # far past any catalog, far below the database's integers


def _limit(request: web.Request) -> int:
    return int_param(request.query, "limit", default=DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)


def _offset(request: web.Request) -> int:
    return int_param(request.query, "offset", default=0, minimum=0, maximum=MAX_OFFSET)


async def list_assets(request: web.Request) -> web.Response:
    """``?q=`` searches title, series, description and file name (rcmedia.catalog.search), best first."""
    query = AssetQuery(
        text=text_param(request.query, "q"),
        series=text_param(request.query, "series"),
        source=enum_param(request.query, "source", Source),
        status=enum_param(request.query, "status", AssetStatus),
        limit=_limit(request),
        offset=_offset(request),
    )
    page = await asyncio.to_thread(request.app[CATALOG_KEY].find_assets, query)
    return json_response(page_document(page, asset_document))


async def get_asset(request: web.Request) -> web.Response:
    asset = await asyncio.to_thread(request.app[CATALOG_KEY].get_asset, int(request.match_info["id"]))
    return asset_answer(asset)


def asset_answer(asset: Asset) -> web.Response:
    """The asset's document with its ETag (what an editor's write sends back as If-Match)."""
    response = json_response(asset_document(asset))
    response.headers[hdrs.ETAG] = etag(asset_resource(asset.id), asset.version)
    return response


async def list_jobs(request: web.Request) -> web.Response:
    """Newest first."""
    page = await asyncio.to_thread(
        request.app[CATALOG_KEY].find_jobs,
        state=enum_param(request.query, "state", JobState),
        limit=_limit(request),
        offset=_offset(request),
    )
    return json_response(page_document(page, job_document))


async def get_job(request: web.Request) -> web.Response:
    job = await asyncio.to_thread(request.app[CATALOG_KEY].get_job, int(request.match_info["id"]))
    return json_response(job_document(job))
