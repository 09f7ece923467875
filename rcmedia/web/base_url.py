"""The absolute address viewers reach the origin at, and what it means for caching the response.

Most of what the origin serves uses paths only; a few documents must carry absolute URLs
(``/channels.m3u``: IPTV players resolve nothing). Their base is ``public_url`` when it is set, and
nothing from the request is used then. Without it the base is the scheme and ``Host`` the request
came in on, so the list works on whatever address the viewer used (a LAN address, a forwarded
port); but then the response depends on a header anyone can set, and a shared cache that keys on
the path (nginx's default ``proxy_cache_key`` holds the upstream's host, not the client's) would
hand one client's ``Host: evil.example`` to every viewer. Such a response is therefore marked
``private`` and varies on ``Host``: browsers and players may keep it, shared caches may not.

Every handler that puts an absolute URL in a response asks :func:`viewer_base` for it and takes
its headers from :meth:`ViewerBase.cache_headers`, so the two can never disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aiohttp import hdrs, web

from rcmedia.web.keys import SETTINGS_KEY

# what a Host header may hold to be echoed into URLs: a name or address, an optional port
_HOST = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")


@dataclass(frozen=True, kw_only=True, slots=True)
class ViewerBase:
    """``url`` (no trailing slash) and whether the request chose it (then no shared cache may keep it)."""

    url: str
    from_request: bool

    def cache_headers(self, max_age: int, vary: tuple[str, ...] = (hdrs.ACCEPT_ENCODING,)) -> dict[str, str]:
        """``Cache-Control`` and ``Vary`` for a response that embeds :attr:`url`."""
        if not self.from_request:
            return {hdrs.CACHE_CONTROL: f"public, max-age={max_age}", hdrs.VARY: ", ".join(vary)}
        return {hdrs.CACHE_CONTROL: f"private, max-age={max_age}", hdrs.VARY: ", ".join((*vary, hdrs.HOST))}


def viewer_base(request: web.Request) -> ViewerBase:
    """``public_url`` when set; else the request's own ``scheme://host`` (or, for a ``Host`` unfit
    for a URL, the configured host and port), which only that client may cache."""
    settings = request.app[SETTINGS_KEY]
    if settings.public_url:
        return ViewerBase(url=settings.base_url(), from_request=False)
    host = request.host
    # even the fallback was chosen by the request's Host: another client's list would differ
    url = f"{request.scheme}://{host}" if _HOST.fullmatch(host) else settings.base_url()
    return ViewerBase(url=url, from_request=True)
