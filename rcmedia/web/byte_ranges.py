"""One ``bytes=`` range of a body held in memory (aired, shifted and stand-in segments)."""

from __future__ import annotations

import re

from aiohttp import hdrs, web

# ASCII digits, few enough for any body: int() takes other scripts' digits and refuses 4,300 of them
_RANGE = re.compile(r"bytes=([0-9]{0,18})-([0-9]{0,18})$")


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """One ``bytes=`` range (RFC 9110 §14.2) as inclusive offsets; None for the whole body."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None:
        return None  # several ranges or another unit: the whole body is a valid answer (§14.2)
    start, end = match.groups()
    if not start and not end:
        return None
    if not start:  # the last N bytes
        first, last = max(size - int(end), 0), size - 1
    else:
        first, last = int(start), min(int(end), size - 1) if end else size - 1
    if first >= size or first > last:
        raise web.HTTPRequestRangeNotSatisfiable(headers={hdrs.CONTENT_RANGE: f"bytes */{size}"})
    return first, last


def bytes_response(request: web.Request, data: bytes, headers: dict[str, str]) -> web.Response:
    """``data`` with ``headers``: whole, or the one range the request asks for (206)."""
    headers[hdrs.ACCEPT_RANGES] = "bytes"
    wanted = byte_range(request.headers.get(hdrs.RANGE), len(data))
    if wanted is None:
        return web.Response(body=data, headers=headers)
    first, last = wanted
    headers[hdrs.CONTENT_RANGE] = f"bytes {first}-{last}/{len(data)}"
    return web.Response(status=206, body=data[first : last + 1], headers=headers)
