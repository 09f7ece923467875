"""``GET /static/…``: the player pages' own script and style sheet, and hls.js vendored by ``make``.

hls.js is installed from npm at build time (``rcmedia/web/static/package-lock.json`` pins it; the
Makefile copies ``dist/hls.min.js`` to ``static/vendor/``) and never loaded from a CDN: a page
must play on a campus network cut off from the internet. Without npm the file is missing and the
pages say so (:attr:`PageAssets.hls`).

Page URLs carry a hash of the file (``?v=…``), so vendored files may be cached for a year: a new
hls.js gets a new URL. Only what the pages load is served: the ``package*.json`` files and
``node_modules`` stay private.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from aiohttp import hdrs, web

from rcmedia.errors import ConfigError

STATIC_ROOT = Path(__file__).resolve().parent / "static"
HLS_JS = "vendor/hls.min.js"
PLAYER_JS = "player.js"
SITE_CSS = "site.css"

TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
}
SERVED_FOLDERS = ("vendor", "logos", "ops")  # and the top level
VENDOR_CACHE = "public, max-age=31536000, immutable"
# the hash is taken once per process: a file edited under a running server keeps its old URL a while
OWN_CACHE = "public, max-age=300"

_versions: dict[str, str] = {}
_versions_lock = threading.Lock()


@dataclass(frozen=True, kw_only=True, slots=True)
class PageAssets:
    """URLs of what a page loads; ``hls`` is None when hls.js is not installed (no npm at build)."""

    css: str
    player: str
    hls: str | None


def served_path(relative: str) -> Path | None:
    """The file behind ``/static/{relative}``, or None when that is not something pages load."""
    path = PurePosixPath(relative)
    if path.is_absolute() or any(part in ("", ".", "..") or part.startswith(".") for part in path.parts):
        return None
    if str(path.parent) not in (".", *SERVED_FOLDERS) or path.suffix.lower() not in TYPES:
        return None
    return STATIC_ROOT.joinpath(*path.parts)


def static_url(relative: str) -> str | None:
    """``/static/{relative}?v={hash}``, or None if the file is missing. Blocking (reads it once)."""
    version = _versions.get(relative)
    if version is None:
        path = served_path(relative)
        if path is None or not path.is_file():
            return None  # not remembered: ``make`` may install it while the server runs
        version = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        with _versions_lock:
            _versions[relative] = version
    return f"/static/{relative}?v={version}"


def page_assets() -> PageAssets:
    """The URLs every page needs. Blocking: the first call per file reads it."""
    css, player = static_url(SITE_CSS), static_url(PLAYER_JS)
    if css is None or player is None:
        raise ConfigError(f"{STATIC_ROOT} lacks {SITE_CSS} or {PLAYER_JS}: the installation is incomplete")
    return PageAssets(css=css, player=player, hls=static_url(HLS_JS))


async def static_file(request: web.Request) -> web.StreamResponse:
    relative = request.match_info["path"]
    path = served_path(relative)
    if path is None:
        raise web.HTTPNotFound(text="not found\n")
    vendored = relative.startswith("vendor/")
    # FileResponse answers 404 itself when the file is missing (hls.js before ``make``)
    return web.FileResponse(
        path,
        headers={
            hdrs.CONTENT_TYPE: TYPES[path.suffix.lower()],
            hdrs.CACHE_CONTROL: VENDOR_CACHE if vendored else OWN_CACHE,
            "X-Content-Type-Options": "nosniff",
        },
    )
