"""The origin application: ``create_app`` wires handlers to the collaborators it is given.

Nothing here chooses a database or a storage backend; the caller (the CLI, a test) opens them and
keeps owning them. ``start_server``/``serve`` run the app on a TCP port.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from aiohttp import web

from rcmedia.bootstrap import celery_enqueuer
from rcmedia.catalog.repository import Catalog
from rcmedia.clock import SystemClock
from rcmedia.config import Settings
from rcmedia.core.clock import Clock
from rcmedia.core.profile import Profile
from rcmedia.errors import ConfigError
from rcmedia.ingest.context import IngestContext
from rcmedia.ingest.uploads import UploadStaging
from rcmedia.playout.aired import AiredFront, AiredSegments
from rcmedia.playout.catchup import CatchupPlaylists
from rcmedia.playout.live import LiveChannels
from rcmedia.playout.missing_segments import MissingSegments
from rcmedia.playout.shifted import ShiftedSegments
from rcmedia.storage.base import Storage
from rcmedia.web import (
    accounts_api,
    aired_media,
    api,
    asset_airings,
    audit_api,
    auth,
    catchup,
    channel_list,
    channels_api,
    day_actions_api,
    editor_api,
    epg_xml,
    fast_lane,
    grid_api,
    health,
    job_actions,
    job_events,
    live,
    media,
    metrics,
    open_files,
    openapi,
    operator_api,
    pages,
    schedule_events,
    shifted_media,
    static_files,
    uploads,
    vod,
)
from rcmedia.web.access import ACCOUNTS_KEY, LOGIN_LIMITS_KEY, PASSWORD_CHECKS_KEY, write_guard
from rcmedia.web.connections import ConnectionLimits, Connections
from rcmedia.web.cors import add_cors_headers, preflight
from rcmedia.web.errors import error_middleware
from rcmedia.web.keys import (
    AIRED_KEY,
    CATALOG_KEY,
    CATCHUP_KEY,
    CLOCK_KEY,
    EPG_RENDERS_KEY,
    LIVE_KEY,
    MISSING_KEY,
    PROFILES_KEY,
    SCHEDULES_KEY,
    SETTINGS_KEY,
    SHIFTED_KEY,
    STORAGE_KEY,
)
from rcmedia.web.listener import ListeningSite
from rcmedia.web.ops.routes import add_ops_routes
from rcmedia.web.password_checks import PasswordChecks
from rcmedia.web.shared_render import SharedRenders
from rcmedia.web.workers import WORKER_HEADER, http_url

log = logging.getLogger(__name__)

# ASCII digits ("\d" also takes other scripts' digits), bounded: a 30-digit id would overflow the
# database's integer
ID = r"{id:[0-9]{1,18}}"
ASSET = r"{asset:[0-9]{1,18}}"
CHANNEL = r"{channel:[a-z0-9-]{1,64}}"
OUTPUT = r"{output:[a-z]{1,16}}"
RUNG = r"{rendition:[A-Za-z0-9_-]{1,32}}"
UPLOAD = r"{id:[A-Za-z0-9_-]{1,64}}"
# an account name (at most 64 characters): aiohttp matches the path decoded but for %2F, so a "/"
# in a name is sent as %2F (three characters here)
USER = r"{name:[^/]{1,192}}"  # the staging folder refuses any but its own 24-character ids


def _add_routes(router: web.UrlDispatcher) -> None:
    # Viewer routes are read-only: GET, HEAD and the CORS preflight.
    # The master route comes first: "master" must never be taken for a rendition name.
    for path, handler in (
        (f"/vod/{ASSET}/master.m3u8", vod.master_playlist),
        (f"/vod/{ASSET}/{{rendition}}.m3u8", vod.rendition_playlist),
        ("/media/{key:.+}", media.media_file),
        (f"/live/{CHANNEL}/{OUTPUT}/master.m3u8", live.live_master),
        (f"/live/{CHANNEL}/{OUTPUT}/{RUNG}.m3u8", live.live_media_playlist),
        (f"/live/{CHANNEL}/{OUTPUT}/continuous/master.m3u8", live.live_master),
        (f"/live/{CHANNEL}/{OUTPUT}/continuous/{RUNG}.m3u8", live.live_continuous_media_playlist),
        (f"/catchup/{CHANNEL}/{OUTPUT}/master.m3u8", catchup.catchup_master),
        (f"/catchup/{CHANNEL}/{OUTPUT}/{RUNG}.m3u8", catchup.catchup_media_playlist),
        (f"/catchup/{CHANNEL}/{OUTPUT}/continuous/master.m3u8", catchup.catchup_master),
        (f"/catchup/{CHANNEL}/{OUTPUT}/continuous/{RUNG}.m3u8", catchup.catchup_continuous_media_playlist),
        ("/air/{start:[0-9]{1,19}}/{cut:join|in|out|inout}/{key:.+}", aired_media.aired_segment),
        ("/shifted/{shift:-?[0-9]{1,15}}/{key:.+}", shifted_media.shifted_segment),
        ("/epg.xml", epg_xml.epg_xml),
        ("/channels.m3u", channel_list.channels_m3u),
    ):
        resource = router.add_resource(path)
        resource.add_route("GET", handler)
        resource.add_route("HEAD", handler)
        resource.add_route("OPTIONS", preflight)
    router.add_get("/api/v1/assets", api.list_assets)
    router.add_get(f"/api/v1/assets/{ID}", api.get_asset)
    router.add_get(f"/api/v1/assets/{ID}/airings", asset_airings.asset_airings_api)
    router.add_get("/api/v1/jobs", api.list_jobs)
    router.add_get(job_events.EVENTS_PATH, job_events.job_events)
    router.add_get(f"/api/v1/jobs/{ID}", api.get_job)
    router.add_post(f"/api/v1/jobs/{ID}/retry", job_actions.retry_job)
    router.add_post(f"/api/v1/jobs/{ID}/cancel", job_actions.cancel_job)
    router.add_get("/api/v1/channels", channels_api.list_channels)
    router.add_get(f"/api/v1/channels/{CHANNEL}", channels_api.get_channel)
    router.add_get(f"/api/v1/channels/{CHANNEL}/schedule", channels_api.channel_schedule)
    router.add_get(f"/api/v1/channels/{CHANNEL}/guide", channels_api.channel_guide)
    router.add_get(f"/api/v1/channels/{CHANNEL}/asrun", channels_api.channel_asrun)
    router.add_get(openapi.OPENAPI_PATH, openapi.openapi_json)  # every /api/v1 route is described there
    router.add_get("/healthz", health.healthz)
    router.add_get("/readyz", health.readyz)
    router.add_get("/metrics", metrics.metrics_page)
    # Viewer pages (add_get answers HEAD too); any other /watch/… address gets the friendly 404.
    router.add_get("/watch", pages.watch_index)
    router.add_get("/watch/vod/{asset}", pages.watch_vod)
    router.add_get(f"/watch/{CHANNEL}", pages.watch_channel)
    router.add_get("/watch/{rest:.*}", pages.watch_missing)
    router.add_get("/static/{path:.+}", static_files.static_file)
    _add_account_routes(router)
    add_ops_routes(router)  # the operators' and editors' pages (rcmedia.web.ops)


def _add_account_routes(router: web.UrlDispatcher) -> None:
    """Accounts and the operator/editor/admin API (rcmedia.web.access: sessions, roles, CSRF checks)."""
    router.add_get("/login", auth.login_page)
    router.add_post("/login", auth.login)
    router.add_post("/logout", auth.logout)
    router.add_get("/api/v1/me", auth.me)
    router.add_post(f"/api/v1/channels/{CHANNEL}/schedule/edits", operator_api.schedule_edit)
    router.add_post(f"/api/v1/channels/{CHANNEL}/grid", grid_api.apply_channel_grid)
    router.add_post(f"/api/v1/channels/{CHANNEL}/schedule/rebuild", day_actions_api.schedule_rebuild)
    router.add_post(f"/api/v1/channels/{CHANNEL}/schedule/copy-locks", day_actions_api.schedule_copy_locks)
    router.add_get(f"/api/v1/channels/{CHANNEL}/schedule/events", schedule_events.schedule_events)
    router.add_patch(f"/api/v1/assets/{ID}", editor_api.update_asset)
    router.add_put(f"/api/v1/assets/{ID}/rights", editor_api.set_rights)
    router.add_post(f"/api/v1/assets/{ID}/withdraw", editor_api.withdraw)
    # account admin and the audit log (admins only)
    router.add_get("/api/v1/users", accounts_api.list_users)
    router.add_post("/api/v1/users", accounts_api.add_user)
    router.add_patch(f"/api/v1/users/{USER}", accounts_api.update_user)
    router.add_post(f"/api/v1/users/{USER}/password", accounts_api.reset_password)
    router.add_get(f"/api/v1/users/{USER}/tokens", accounts_api.list_tokens)
    router.add_post(f"/api/v1/users/{USER}/tokens", accounts_api.create_token)
    router.add_delete(f"/api/v1/users/{USER}/tokens/{ID}", accounts_api.revoke_token)
    router.add_get("/api/v1/audit", audit_api.audit_entries)
    # tus resumable uploads (rcmedia.web.uploads); add_get would add a HEAD that is not tus's
    router.add_route("OPTIONS", uploads.UPLOADS_PATH, uploads.options)
    router.add_post(uploads.UPLOADS_PATH, uploads.create)
    upload = router.add_resource(f"{uploads.UPLOADS_PATH}/{UPLOAD}")
    upload.add_route("GET", uploads.get)
    upload.add_route("HEAD", uploads.head)
    upload.add_route("PATCH", uploads.patch)
    upload.add_route("DELETE", uploads.delete)


async def _close_epg_renders(app: web.Application) -> AsyncIterator[None]:
    yield
    await app[EPG_RENDERS_KEY].close()


async def _close_catchup(app: web.Application) -> AsyncIterator[None]:
    yield
    app[CATCHUP_KEY].close()
    app[AIRED_KEY].close()


async def _watch_live_channels(app: web.Application) -> AsyncIterator[None]:
    """Keep the live timelines in step with the catalog while the app runs."""
    task = asyncio.create_task(app[LIVE_KEY].watch())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _enqueuer(app: web.Application, settings: Settings) -> Callable[[int], None]:
    """How a finished upload or a retried job reaches the workers: nothing in-process (the runner
    polls the catalog), a broker message with ``executor = "celery"`` (closed with the app)."""
    if settings.executor != "celery":
        return lambda _job_id: None
    enqueuer = celery_enqueuer(settings)

    async def close(_app: web.Application) -> AsyncIterator[None]:
        yield
        enqueuer.close()

    app.cleanup_ctx.append(close)
    return enqueuer


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
    app = web.Application(middlewares=[metrics.count_requests, error_middleware, write_guard])
    app[SETTINGS_KEY] = settings
    app[CATALOG_KEY] = catalog
    app[SCHEDULES_KEY] = catalog.schedules
    app[STORAGE_KEY] = storage
    app[PROFILES_KEY] = dict(profiles)
    app[CLOCK_KEY] = clock or SystemClock()
    app[EPG_RENDERS_KEY] = SharedRenders(ttl=epg_xml.RENDER_TTL)
    app[ACCOUNTS_KEY] = catalog.accounts
    app[LOGIN_LIMITS_KEY] = auth.login_limits(settings)
    app[PASSWORD_CHECKS_KEY] = PasswordChecks(threads=settings.login_threads, queue=settings.login_queue)
    app[LIVE_KEY] = LiveChannels(catalog, storage, _house_profile(settings, profiles))
    app[CATCHUP_KEY] = CatchupPlaylists(
        app[LIVE_KEY], builds=settings.catchup_builds, queue=settings.catchup_queue
    )
    app[SHIFTED_KEY] = ShiftedSegments()
    app[AIRED_KEY] = AiredFront(
        AiredSegments(
            storage,
            settings.aired_cache_dir if settings.aired_cache_bytes else None,
            disk_bytes=settings.aired_cache_bytes,
        )
    )
    app[MISSING_KEY] = MissingSegments(app[LIVE_KEY], app[SHIFTED_KEY])
    app[metrics.TALLY_KEY] = metrics.RequestTally()
    app[metrics.LANE_COUNTS_KEY] = metrics.new_lane_counts()
    app[metrics.SYNC_KEY] = metrics.Sync(app)
    app.cleanup_ctx.append(metrics.run_sync)
    app[uploads.STAGING_KEY] = UploadStaging(
        settings.uploads_dir, expiry=timedelta(hours=settings.upload_expiry_hours)
    )
    # what a finished upload is queued with; intake never runs ffmpeg (the job runner resolves its own)
    app[uploads.INGEST_KEY] = IngestContext(
        settings=settings,
        catalog=catalog,
        storage=storage,
        profiles=dict(profiles),
        ffmpeg=settings.ffmpeg,
        clock=app[CLOCK_KEY],
        enqueue=_enqueuer(app, settings),
    )
    app.cleanup_ctx.append(_close_epg_renders)
    app.cleanup_ctx.append(_watch_live_channels)
    app.cleanup_ctx.append(_close_catchup)
    app.cleanup_ctx.append(auth.close_password_checks)
    app.cleanup_ctx.append(uploads.sweep_expired)
    app[job_events.JOB_EVENTS_KEY] = job_events.JobEvents(catalog)  # a test may swap in quicker timings
    app.cleanup_ctx.append(job_events.run_poller)
    app.on_shutdown.append(job_events.close_streams)
    app[schedule_events.SCHEDULE_EVENTS_KEY] = schedule_events.ScheduleEvents(
        catalog.schedules, app[CLOCK_KEY]
    )
    app.cleanup_ctx.append(schedule_events.run_poller)
    app.on_shutdown.append(schedule_events.close_streams)
    app.on_response_prepare.append(add_cors_headers)
    app.on_response_prepare.append(uploads.add_tus_resumable)
    _add_routes(app.router)
    return app


def _house_profile(settings: Settings, profiles: Mapping[str, Profile]) -> Profile:
    """The profile live channels are assembled in: every asset on the air shares its rungs."""
    profile = profiles.get(settings.profile)
    if profile is None:
        raise ConfigError(
            f"the house transcode profile {settings.profile!r} is not in {settings.profiles_dir}; "
            f"loaded: {', '.join(sorted(profiles)) or 'none'}"
        )
    return profile


@dataclass(frozen=True, kw_only=True, slots=True)
class RunningServer:
    """An app listening on ``host``:``port`` (the port actually bound, when 0 was asked for)."""

    runner: web.AppRunner = field(repr=False)
    connections: Connections = field(repr=False)
    host: str
    port: int

    @property
    def url(self) -> str:
        return http_url(self.host, self.port)

    async def stop(self) -> None:
        """Stop listening, finish requests in flight, run the app's cleanup."""
        await self.runner.cleanup()


async def start_server(
    app: web.Application, *, host: str, port: int, reuse_port: bool = False, worker: int | None = None
) -> RunningServer:
    """Start serving ``app``; ``port=0`` picks a free port (see ``RunningServer.port``).

    ``reuse_port`` shares the port with the other workers of ``rcmedia serve --workers N``
    (``SO_REUSEPORT``); ``worker`` (1…N) is then named on every response (``X-Rcmedia-Worker``).
    """
    if worker is not None:
        app.on_response_prepare.append(_worker_header(str(worker)))
    # The access log stays off unless its logger is at INFO (`serve --access-log`): aiohttp then
    # skips the per-request timing and formatting, half again a cached playlist's CPU.
    settings = app[SETTINGS_KEY]
    limits = ConnectionLimits.from_settings(settings)
    runner = fast_lane.runner_for(
        app,
        _lanes(worker) if settings.live_fast_lane else None,
        keepalive_timeout=limits.keepalive_timeout,
    )
    await runner.setup()
    connections = Connections(limits)
    site = ListeningSite(runner, connections, host=host, port=port, reuse_port=reuse_port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise ConfigError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; choose another --port"
        ) from exc
    server = RunningServer(runner=runner, connections=connections, host=host, port=site.port)
    log.info(
        "serving on %s%s, up to %d connections",
        server.url,
        f" (worker {worker})" if worker is not None else "",
        limits.max_connections,
    )
    return server


def _lanes(worker: int | None) -> Callable[[web.Application], fast_lane.Lanes]:
    def lanes(app: web.Application) -> fast_lane.Lanes:
        return fast_lane.Lanes(
            app[LIVE_KEY],
            app[CLOCK_KEY],
            app[STORAGE_KEY],
            cors_origin=app[SETTINGS_KEY].cors_origin,
            worker=str(worker) if worker is not None else None,
            aired=app[AIRED_KEY].segments,
            counts=app[metrics.LANE_COUNTS_KEY],
        )

    return lanes


def _worker_header(worker: str) -> Callable[[web.Request, web.StreamResponse], Awaitable[None]]:
    async def name_worker(_request: web.Request, response: web.StreamResponse) -> None:
        response.headers[WORKER_HEADER] = worker

    return name_worker


async def serve(
    app: web.Application,
    *,
    host: str,
    port: int,
    on_ready: Callable[[RunningServer], None] | None = None,
    reuse_port: bool = False,
    worker: int | None = None,
    stop_on: tuple[signal.Signals, ...] = (),
) -> None:
    """Serve until cancelled (Ctrl-C under ``asyncio.run``) or one of ``stop_on`` arrives, then stop cleanly.

    First the process's soft open-files limit is raised to its hard limit (``web.open_files``):
    every process ``rcmedia serve`` runs HTTP in comes through here.

    ``stop_on`` signals (e.g. SIGTERM from systemd or the workers' parent) end serving the way a
    cancellation does: requests in flight finish and the app's cleanup runs. Only from the main
    thread (asyncio's signal handling).
    """
    before, after = open_files.raise_limit()
    if after != before:
        log.info("open-files limit raised from %d to %d", before, after)
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in stop_on:
        loop.add_signal_handler(sig, stopped.set)
    try:
        server = await start_server(app, host=host, port=port, reuse_port=reuse_port, worker=worker)
        try:
            if on_ready is not None:
                on_ready(server)
            await stopped.wait()
        finally:
            await server.stop()
    finally:
        for sig in stop_on:
            loop.remove_signal_handler(sig)
