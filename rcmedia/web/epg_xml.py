"""``GET /epg.xml?output=&days=``: the XMLTV guide of every channel on an output, streamed.

The document is rendered once for all the set-top boxes that ask at the same time
(:mod:`rcmedia.web.shared_render`), and reused while nothing it depends on has changed: the
channels' applied versions, their windows (which move at each broadcast day's start) and the
versions of the built days. Asset texts (descriptions, categories) are not in that fingerprint; a
document is therefore never reused for longer than ``RENDER_TTL``.
"""

from __future__ import annotations

import asyncio
import functools
import logging

from aiohttp import hdrs, web

from rcmedia.core.models import Output
from rcmedia.service.guide import epg_fingerprint, xmltv_document
from rcmedia.web.keys import CLOCK_KEY, EPG_RENDERS_KEY, SCHEDULES_KEY, SETTINGS_KEY
from rcmedia.web.params import enum_param, int_param
from rcmedia.web.playlist_response import accepts_gzip

log = logging.getLogger(__name__)

XMLTV_TYPE = "application/xml; charset=utf-8"
MAX_DAYS = 14
MAX_AGE = 300  # guides poll every few hours; five minutes of staleness is never noticed
RENDER_TTL = 60.0
DEFAULT_OUTPUT = Output.IPTV


def _headers(*, gzip: bool) -> dict[str, str]:
    headers: dict[str, str] = {
        hdrs.CONTENT_TYPE: XMLTV_TYPE,
        hdrs.CACHE_CONTROL: f"public, max-age={MAX_AGE}",
        hdrs.VARY: "Accept-Encoding",
    }
    if gzip:
        headers[hdrs.CONTENT_ENCODING] = "gzip"
    return headers


async def epg_xml(request: web.Request) -> web.StreamResponse:
    """Past catch-up days included; ``days`` (1–14) counts today as the first day ahead."""
    app = request.app
    output = enum_param(request.query, "output", Output) or DEFAULT_OUTPUT
    default_days = min(app[SETTINGS_KEY].schedule_days, MAX_DAYS)
    days = int_param(request.query, "days", default=default_days, minimum=1, maximum=MAX_DAYS)
    gzip = accepts_gzip(request.headers.get(hdrs.ACCEPT_ENCODING, ""))
    if request.method == hdrs.METH_HEAD:  # nothing to render for headers alone
        return web.Response(headers=_headers(gzip=gzip))

    store, now = app[SCHEDULES_KEY], app[CLOCK_KEY].now()
    fingerprint = await asyncio.to_thread(epg_fingerprint, store, output=output, days=days, now=now)
    render = app[EPG_RENDERS_KEY].get(
        (output, days),
        fingerprint,
        functools.partial(
            xmltv_document, store, output=output, days=days, now=now, site_url=app[SETTINGS_KEY].public_url
        ),
    )
    await render.ready()  # an error before the first byte is still a proper 500
    if render.done:
        return web.Response(body=render.body(gzip=gzip), headers=_headers(gzip=gzip))

    response = web.StreamResponse(headers=_headers(gzip=gzip))
    await response.prepare(request)
    try:
        async for chunk in render.chunks(gzip=gzip):
            await response.write(chunk)
    except Exception as exc:
        if isinstance(exc, OSError):  # the client went away; the render goes on for the others
            raise
        log.error("XMLTV %s/%d days failed after the headers were sent: %s", output, days, exc, exc_info=exc)
        # Not an RcmediaError: the error middleware must not try to answer on a started response.
        # aiohttp closes the connection, so the client sees a cut-off body, never a short document.
        raise ConnectionAbortedError(f"XMLTV render failed: {exc}") from exc
    await response.write_eof()
    return response
