"""``GET /ops/assets``: the catalog, searched (title, series, description or file name, Chinese
included; series, source, status) and paged, each asset linking to its page. Rendered on the
server: a plain GET form, so the search works, and can be bookmarked, without a script."""

from __future__ import annotations

import asyncio

from aiohttp import web

from rcmedia.catalog.repository import AssetQuery
from rcmedia.core.models import AssetStatus, Source
from rcmedia.web.keys import CATALOG_KEY
from rcmedia.web.ops.pages import ops_html, page_user
from rcmedia.web.params import enum_param, int_param, text_param

PAGE_SIZE = 50
MAX_OFFSET = 1_000_000_000


def asset_query(request: web.Request) -> AssetQuery:
    """The search the page's form sent (its fields are the JSON API's: ``GET /api/v1/assets``)."""
    params = request.query
    return AssetQuery(
        text=text_param(params, "q"),
        series=text_param(params, "series"),
        source=enum_param(params, "source", Source),
        status=enum_param(params, "status", AssetStatus),
        limit=PAGE_SIZE,
        offset=int_param(params, "offset", default=0, minimum=0, maximum=MAX_OFFSET),
    )


async def assets_page(request: web.Request) -> web.Response:
    user = await page_user(request)
    query = asset_query(request)
    found = await asyncio.to_thread(request.app[CATALOG_KEY].find_assets, query)

    def page_url(offset: int) -> str:
        return str(request.rel_url.update_query({"offset": str(offset)}))

    previous = page_url(max(0, query.offset - PAGE_SIZE)) if query.offset > 0 else None
    following = page_url(query.offset + PAGE_SIZE) if query.offset + PAGE_SIZE < found.total else None
    return await ops_html(
        request,
        "ops/assets.html",
        user=user,
        query=query,
        found=found,
        sources=list(Source),
        statuses=list(AssetStatus),
        previous=previous,
        following=following,
    )
