"""The origin application: ``create_app`` wires handlers to the collaborators it is given.

Nothing here chooses a database or a storage backend; the caller (the CLI, a test) opens them and
keeps owning them. ``start_server``/``serve`` run the app on a TCP port.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field

from aiohttp import web

from rcmedia.catalog.repository import Catalog
from rcmedia.catalog.schedules import ScheduleStore
from rcmedia.clock import SystemClock
from rcmedia.config import Settings
from rcmedia.core.clock import Clock
from rcmedia.core.profile import Profile
from rcmedia.errors import ConfigError
from rcmedia.storage.base import Storage
from rcmedia.web import api, channel_list, channels_api, epg_xml, health, media, vod
from rcmedia.web.cors import add_cors_headers, preflight
from rcmedia.web.errors import error_middleware
from rcmedia.web.keys import (
    CATALOG_KEY,
    CLOCK_KEY,
    EPG_RENDERS_KEY,
    PROFILES_KEY,
    SCHEDULES_KEY,
    SETTINGS_KEY,
    STORAGE_KEY,
)
from rcmedia.web.shared_render import SharedRenders

log = logging.getLogger(__name__)

ID = r"{id:\d{1,18}}"  # bounded: a 30-digit id would overflow the database's integer
ASSET = r"{asset:\d{1,18}}"
CHANNEL = r"{channel:[a-z0-9-]{1,64}}"


def _add_routes(router: web.UrlDispatcher) -> None:
    # Viewer routes are read-only: GET, HEAD and the CORS preflight.
    # The master route comes first: "master" must never be taken for a rendition name.
    for path, handler in (
        (f"/vod/{ASSET}/master.m3u8", vod.master_playlist),
        (f"/vod/{ASSET}/{{rendition}}.m3u8", vod.rendition_playlist),
        ("/media/{key:.+}", media.media_file),
        ("/epg.xml", epg_xml.epg_xml),
        ("/channels.m3u", channel_list.channels_m3u),
    ):
        resource = router.add_resource(path)
        resource.add_route("GET", handler)
        resource.add_route("HEAD", handler)
        resource.add_route("OPTIONS", preflight)
    router.add_get("/api/v1/assets", api.list_assets)
    router.add_get(f"/api/v1/assets/{ID}", api.get_asset)
    router.add_get("/api/v1/jobs", api.list_jobs)
    router.add_get(f"/api/v1/jobs/{ID}", api.get_job)
    router.add_get("/api/v1/channels", channels_api.list_channels)
    router.add_get(f"/api/v1/channels/{CHANNEL}", channels_api.get_channel)
    router.add_get(f"/api/v1/channels/{CHANNEL}/schedule", channels_api.channel_schedule)
    router.add_get(f"/api/v1/channels/{CHANNEL}/asrun", channels_api.channel_asrun)
    router.add_get("/healthz", health.healthz)


async def _close_epg_renders(app: web.Application) -> AsyncIterator[None]:
    yield
    await app[EPG_RENDERS_KEY].close()


def create_app(
    *,
    settings: Settings,
    catalog: Catalog,
    storage: Storage,
    profiles: Mapping[str, Profile],
    clock: Clock | None = None,
) -> web.Application:
    """The origin's aiohttp application, serving from ``catalog`` and ``storage``.

    ``clock`` (default: the system's) is what the schedule endpoints take as now.
    """
    app = web.Application(middlewares=[error_middleware])
    app[SETTINGS_KEY] = settings
    app[CATALOG_KEY] = catalog
    app[SCHEDULES_KEY] = ScheduleStore(catalog.engine)
    app[STORAGE_KEY] = storage
    app[PROFILES_KEY] = dict(profiles)
    app[CLOCK_KEY] = clock or SystemClock()
    app[EPG_RENDERS_KEY] = SharedRenders(ttl=epg_xml.RENDER_TTL)
    app.cleanup_ctx.append(_close_epg_renders)
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
