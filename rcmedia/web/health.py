"""Liveness: the process answers and the catalog answers a trivial query."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import hdrs, web

from rcmedia.errors import CatalogError
from rcmedia.web.json_response import json_response
from rcmedia.web.keys import CATALOG_KEY

log = logging.getLogger(__name__)
NO_STORE = {hdrs.CACHE_CONTROL: "no-store"}


async def healthz(request: web.Request) -> web.Response:
    try:
        await asyncio.to_thread(request.app[CATALOG_KEY].find_jobs, limit=1)
    except CatalogError as exc:
        reason = str(exc).splitlines()[0][:300]
        log.warning("health check failed: %s", reason)
        return json_response({"status": "unavailable", "reason": reason}, status=503, headers=NO_STORE)
    return json_response({"status": "ok"}, headers=NO_STORE)
