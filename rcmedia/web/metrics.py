"""``GET /metrics`` and what feeds it from the web layer: a middleware timing every request
aiohttp handles, the fast lane's counts, and the gauges read at scrape time.

The hot paths keep plain integers (:class:`RequestTally` for the middleware,
``fast_lane.Lanes.counts``, ``CatchupPlaylists.renders``, ``MissingSegments.count``): no lock, no
shared file per request (written one by one, a request's count and latency cost ~10 µs under
``serve``'s multiprocess files). :class:`Sync` adds their growth to the Prometheus metrics once a
second and before each scrape, so a scrape of one worker sees the others' counts at most a
second late.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from rcmedia import metrics
from rcmedia.core.models import JobState
from rcmedia.core.slate_on_air import slate_on_air
from rcmedia.core.timeline import us_of
from rcmedia.errors import CatalogError
from rcmedia.web import health
from rcmedia.web.keys import CATALOG_KEY, CATCHUP_KEY, CLOCK_KEY, LIVE_KEY, MISSING_KEY

log = logging.getLogger(__name__)

SYNC_SECONDS = 1.0
SLATE_WINDOW = timedelta(hours=1)  # the slate share is of the hour from now
# path prefix → route family (the first that matches; the rest is "other")
FAMILIES = (
    ("/live/", "live_playlist"),
    ("/air/", "air_segment"),
    ("/shifted/", "live_segment"),
    ("/catchup/", "catchup"),
    ("/vod/", "vod"),
    ("/media/", "media"),
    ("/api/", "api"),
    ("/ops", "ops"),
    ("/watch", "pages"),
    ("/login", "pages"),
    ("/logout", "pages"),
    ("/static/", "pages"),
    ("/epg.xml", "pages"),
    ("/channels.m3u", "pages"),
)
FAST_FAMILIES = ("live_playlist", "air_segment", "media")  # what the fast lane answers
NO_STORE = {hdrs.CACHE_CONTROL: "no-store"}
EVENT_STREAM = "text/event-stream"


def family_of(path: str) -> str:
    for prefix, family in FAMILIES:
        if path.startswith(prefix):
            return family
    return "other"


def new_lane_counts() -> dict[str, int]:
    """The fast lane's answers by family (``fast_lane.Lanes`` adds to it)."""
    return dict.fromkeys(FAST_FAMILIES, 0)


LANE_COUNTS_KEY = web.AppKey("fast_lane_counts", dict)


class RequestTally:
    """Requests aiohttp answered, as plain integers (see the module): counts by (family, status
    class) and latencies by family, per bucket of ``metrics.LATENCY_BUCKETS`` then +Inf."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, int], int] = {}
        self.latencies: dict[str, list[int]] = {}
        self.seconds: dict[str, float] = {}
        self._flushed: dict[tuple[str, int], int] = {}
        self._flushed_latencies: dict[str, list[int]] = {}
        self._flushed_seconds: dict[str, float] = {}

    def add(self, family: str, status_class: int, seconds: float | None) -> None:
        key = (family, status_class)
        self.counts[key] = self.counts.get(key, 0) + 1
        if seconds is not None:
            buckets = self.latencies.get(family)
            if buckets is None:
                buckets = self.latencies[family] = [0] * (len(metrics.LATENCY_BUCKETS) + 1)
            buckets[bisect.bisect_left(metrics.LATENCY_BUCKETS, seconds)] += 1
            self.seconds[family] = self.seconds.get(family, 0.0) + seconds

    def flush(self) -> None:
        """Add what was tallied since the last flush to the Prometheus metrics."""
        for (family, status_class), count in list(self.counts.items()):
            grown = count - self._flushed.get((family, status_class), 0)
            if grown:
                metrics.REQUESTS.labels(family, f"{status_class}xx", "app").inc(grown)
                self._flushed[(family, status_class)] = count
        for family, buckets in list(self.latencies.items()):
            before = self._flushed_latencies.get(family) or [0] * len(buckets)
            grown_buckets = [now - then for now, then in zip(buckets, before, strict=True)]
            if any(grown_buckets):
                seconds = self.seconds[family]
                metrics.add_latencies(family, grown_buckets, seconds - self._flushed_seconds.get(family, 0.0))
                self._flushed_latencies[family] = list(buckets)
                self._flushed_seconds[family] = seconds


TALLY_KEY = web.AppKey("request_tally", RequestTally)


@web.middleware
async def count_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count and time every request aiohttp answers (the outermost middleware: the final status)."""
    started = time.perf_counter()
    status, timed = 500, True
    try:
        response = await handler(request)
        status = response.status
        # an event stream (jobs, schedule edits) lasts as long as its viewer: no answer time
        timed = response.content_type != EVENT_STREAM
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        request.app[TALLY_KEY].add(
            family_of(request.path), status // 100, time.perf_counter() - started if timed else None
        )


class Sync:
    """Copies the hot paths' plain counters into the Prometheus counters (see the module)."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.seen: dict[str, int] = {}

    def __call__(self) -> None:
        app = self.app
        app[TALLY_KEY].flush()
        for family, count in app[LANE_COUNTS_KEY].items():
            self._add(f"lane:{family}", count, metrics.REQUESTS.labels(family, "2xx", "fast").inc)
        self._add("catchup", app[CATCHUP_KEY].renders, metrics.CATCHUP_BUILDS.inc)
        stand_ins = app[MISSING_KEY].count
        self._add("stand_ins", stand_ins.requests, metrics.STAND_INS.inc)
        self._add("stand_in_segments", stand_ins.segments, metrics.STAND_IN_SEGMENTS.inc)
        checked_out, size = app[CATALOG_KEY].pool_usage()
        metrics.DB_CHECKED_OUT.set(checked_out)
        metrics.DB_POOL_SIZE.set(size)

    def _add(self, name: str, now: int, inc: metrics.Inc) -> None:
        grown = now - self.seen.get(name, 0)
        if grown > 0:
            inc(grown)
        self.seen[name] = now


SYNC_KEY = web.AppKey("metrics_sync", Sync)


async def run_sync(app: web.Application) -> AsyncIterator[None]:
    """Sync once a second while the app runs, and once more at the end."""
    sync = app[SYNC_KEY]

    async def loop() -> None:
        while True:
            await asyncio.sleep(SYNC_SECONDS)
            try:
                sync()
            except Exception:  # a metric must never stop the origin
                log.exception("metrics: syncing the counters failed")

    task = asyncio.create_task(loop())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    sync()


def _scrape_time(app: web.Application, ready: dict[str, bool]) -> Iterator[metrics.GaugeRow]:
    catalog, live = app[CATALOG_KEY], app[LIVE_KEY]
    yield (
        "rcmedia_ready",
        "Readiness checks of the scraped process (1: passes), as GET /readyz runs them",
        ["check"],
        [([name], float(ok)) for name, ok in ready.items()],
    )
    if ready["catalog"]:
        try:
            counts = catalog.job_counts()
        except CatalogError:
            log.warning("metrics: cannot count the jobs", exc_info=True)
        else:
            yield (
                "rcmedia_ingest_jobs",
                "Ingest jobs in the catalog, by state",
                ["state"],
                [([state.value], float(count)) for state, count in counts.items()],
            )
            yield (
                "rcmedia_ingest_queue_depth",
                "Ingest jobs waiting for a worker",
                [],
                [([], float(counts[JobState.QUEUED]))],
            )
    now_us = us_of(app[CLOCK_KEY].now())
    window_us = int(SLATE_WINDOW.total_seconds() * 1_000_000)
    yield (
        "rcmedia_slate_share",
        "Share of the next hour the house slate fills, per channel output this process has loaded",
        ["channel", "output"],
        [
            (
                [loaded.channel.id, loaded.output.value],
                slate_on_air(loaded.timeline, now_us, now_us + window_us),
            )
            for loaded in live.loaded()
        ],
    )


async def metrics_page(request: web.Request) -> web.Response:
    app = request.app
    app[SYNC_KEY]()
    ready = await health.readiness(app)  # each check within its time limit

    def render() -> bytes:
        samples = list(_scrape_time(app, ready))  # the catalog query, off the event loop
        return metrics.exposition(metrics.ScrapeTime(lambda: samples))

    body = await asyncio.to_thread(render)
    return web.Response(body=body, headers={**NO_STORE, hdrs.CONTENT_TYPE: metrics.CONTENT_TYPE})
