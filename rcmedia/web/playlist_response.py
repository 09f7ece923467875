"""How a playlist goes out: its media type, how long caches keep it, gzip when the client takes it."""

from __future__ import annotations

from aiohttp import hdrs, web

# RFC 8216bis §4: the type players and set-top boxes expect, without a charset parameter.
PLAYLIST_TYPE = "application/vnd.apple.mpegurl"


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an ``Accept-Encoding`` value allows gzip (RFC 9110 §12.5.3, q=0 refuses)."""
    weights: dict[str, float] = {}
    for item in accept_encoding.split(","):
        coding, *params = (part.strip() for part in item.split(";"))
        weight = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if coding:
            weights[coding.lower()] = weight
    return weights.get("gzip", weights.get("*", 0.0)) > 0


def playlist_response(request: web.Request, text: str, *, max_age: int) -> web.Response:
    response = web.Response(
        body=text.encode("utf-8"),
        headers={
            hdrs.CONTENT_TYPE: PLAYLIST_TYPE,
            hdrs.CACHE_CONTROL: f"public, max-age={max_age}",
            hdrs.VARY: "Accept-Encoding",  # an edge cache must keep gzip and plain copies apart
        },
    )
    # Forced to gzip: left to choose, aiohttp picks deflate first, whose framing (zlib or raw) clients
    # disagree on; gzip is what every player and nginx's gunzip understand.
    if accepts_gzip(request.headers.get(hdrs.ACCEPT_ENCODING, "")):
        response.enable_compression(web.ContentCoding.gzip)
    return response
