"""The origin application: ``create_app`` wires handlers to the collaborators it is given.

Nothing here chooses a database or a storage backend; the caller (the CLI, a test) opens them and
keeps owning them. ``start_server``/``serve`` run the app on a TCP port.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from aiohttp import web

from rcmedia.catalog.repository import Catalog
from rcmedia.config import Settings
from rcmedia.core.profile import Profile
from rcmedia.errors import ConfigError
from rcmedia.storage.base import Storage
from rcmedia.web import api, health, media, vod
from rcmedia.web.cors import add_cors_headers, preflight
from rcmedia.web.errors import error_middleware
from rcmedia.web.keys import CATALOG_KEY, PROFILES_KEY, SETTINGS_KEY, STORAGE_KEY

log = logging.getLogger(__name__)

ID = r"{id:\d{1,18}}"  # bounded: a 30-digit id would overflow the database's integer
ASSET = r"{asset:\d{1,18}}"


def _add_routes(router: web.UrlDispatcher) -> None:
    # Viewer routes are read-only: GET, HEAD and the CORS preflight.
    # The master route comes first: "master" must never be taken for a rendition name.
    for path, handler in (
        (f"/vod/{ASSET}/master.m3u8", vod.master_playlist),
        (f"/vod/{ASSET}/{{rendition}}.m3u8", vod.rendition_playlist),
        ("/media/{key:.+}", media.media_file),
    ):
        resource = router.add_resource(path)
        resource.add_route("GET", handler)
        resource.add_route("HEAD", handler)
        resource.add_route("OPTIONS", preflight)
    router.add_get("/api/v1/assets", api.list_assets)
    router.add_get(f"/api/v1/assets/{ID}", api.get_asset)
    router.add_get("/api/v1/jobs", api.list_jobs)
    router.add_get(f"/api/v1/jobs/{ID}", api.get_job)
    router.add_get("/healthz", health.healthz)


def create_app(
    *, settings: Settings, catalog: Catalog, storage: Storage, profiles: Mapping[str, Profile]
) -> web.Application:
    """The origin's aiohttp application, serving from ``catalog`` and ``storage``."""
    app = web.Application(middlewares=[error_middleware])
    app[SETTINGS_KEY] = settings
    app[CATALOG_KEY] = catalog
    app[STORAGE_KEY] = storage
    app[PROFILES_KEY] = dict(profiles)
    app.on_response_prepare.append(add_cors_headers)
    _add_routes(app.router)
    return app


@dataclass(frozen=True, kw_only=True, slots=True)
class RunningServer:
    """An app listening on ``host``:``port`` (the port actually bound, when 0 was asked for)."""

    runner: web.AppRunner = field(repr=False)
    host: str
    port: int

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("", "0.0.0.0", "::") else self.host  # noqa: S104
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    async def stop(self) -> None:
        """Stop listening, finish requests in flight, run the app's cleanup."""
        await self.runner.cleanup()


async def start_server(app: web.Application, *, host: str, port: int) -> RunningServer:
    """Start serving ``app``; ``port=0`` picks a free port (see ``RunningServer.port``)."""
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        raise ConfigError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; choose another --port"
        ) from exc
    bound = runner.addresses[0][1] if runner.addresses else port
    server = RunningServer(runner=runner, host=host, port=bound)
    log.info("serving on %s", server.url)
    return server


async def serve(
    app: web.Application,
    *,
    host: str,
    port: int,
    on_ready: Callable[[RunningServer], None] | None = None,
) -> None:
    """Serve until cancelled (Ctrl-C under ``asyncio.run``), then stop cleanly."""
    server = await start_server(app, host=host, port=port)
    try:
        if on_ready is not None:
            on_ready(server)
        await asyncio.Event().wait()
    finally:
        await server.stop()
