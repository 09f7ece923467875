"""``GET /metrics`` of a running origin: the counters move with real requests, the fast lane's included."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from rcmedia import metrics
from rcmedia.catalog.repository import Catalog
from rcmedia.config import Settings
from rcmedia.profiles import load_profiles
from rcmedia.storage.local import LocalStorage
from rcmedia.web.app import RunningServer, create_app, start_server
from rcmedia.web.fast_lane import FastLaneRunner
from rcmedia.web.metrics import TALLY_KEY, RequestTally, count_requests
from tests.integration.web.accounts import add_accounts
from tests.integration.web.metrics_text import Scrape
from tests.integration.web.published import AiohttpClient
from tests.integration.web.schedules import FixedClock, OnAir

PLAYLIST = "/live/rcxf/iptv/720p.m3u8"


def _app(settings: Settings, catalog: Catalog, storage: LocalStorage, clock: FixedClock) -> web.Application:
    profiles = load_profiles(settings.profiles_dir)
    return create_app(settings=settings, catalog=catalog, storage=storage, profiles=profiles, clock=clock)


@pytest.fixture
async def origin(
    app_settings: Settings, catalog: Catalog, storage: LocalStorage, clock: FixedClock, on_air: OnAir
) -> AsyncIterator[RunningServer]:
    server = await start_server(_app(app_settings, catalog, storage, clock), host="127.0.0.1", port=0)
    try:
        yield server
    finally:
        await server.stop()


async def _scrape(session: aiohttp.ClientSession, server: RunningServer) -> Scrape:
    async with session.get(f"{server.url}/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        assert response.headers["Cache-Control"] == "no-store"
        return Scrape(await response.text())


async def test_requests_are_counted_by_family_status_and_lane(origin: RunningServer) -> None:
    assert isinstance(origin.runner, FastLaneRunner)
    lanes = origin.runner.lanes
    async with aiohttp.ClientSession() as session:
        before = await _scrape(session, origin)
        answered = lanes.answered
        for _ in range(4):  # the first renders (aiohttp's path), the rest come from the lane's cache
            async with session.get(origin.url + PLAYLIST) as response:
                assert response.status == 200
        async with session.get(f"{origin.url}/api/v1/channels") as response:
            assert response.status == 200
        async with session.get(f"{origin.url}/no/such/thing") as response:
            assert response.status == 404
        after = await _scrape(session, origin)

    fast = lanes.answered - answered
    assert fast >= 1, "the fast lane answered some of the playlists"

    def grown(name: str, **labels: str) -> float:
        return after.value(name, **labels) - before.value(name, **labels)

    total = "rcmedia_http_requests_total"
    assert grown(total, family="live_playlist", status="2xx", lane="fast") == fast
    assert grown(total, family="live_playlist", status="2xx", lane="app") == 4 - fast
    assert grown(total, family="api", status="2xx", lane="app") == 1
    assert grown(total, family="other", status="4xx", lane="app") == 1
    assert grown("rcmedia_http_request_duration_seconds_count", family="api") == 1
    assert grown("rcmedia_http_request_duration_seconds_count", family="live_playlist") == 4 - fast
    # read at scrape time
    assert after.value("rcmedia_ingest_jobs", state="published") >= 1
    assert after.value("rcmedia_ingest_queue_depth") == 0
    assert 0 <= after.value("rcmedia_slate_share", channel="rcxf", output="iptv") <= 1
    assert "rcmedia_slate_share" in after.names()
    assert after.value("rcmedia_db_pool_size") >= 1


async def test_login_failures_are_counted(origin: RunningServer, catalog: Catalog) -> None:
    add_accounts(catalog)
    async with aiohttp.ClientSession() as session:
        before = await _scrape(session, origin)
        async with session.post(
            f"{origin.url}/login", json={"name": "editor", "password": "not-the-password"}
        ) as response:
            assert response.status == 401
        after = await _scrape(session, origin)

    assert after.value("rcmedia_login_failures_total") - before.value("rcmedia_login_failures_total") == 1


async def test_event_streams_are_counted_but_not_timed(aiohttp_client: AiohttpClient) -> None:
    async def stream(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(b"data: one\n\n")
        return response

    app = web.Application(middlewares=[count_requests])
    app[TALLY_KEY] = tally = RequestTally()
    app.router.add_get("/api/v1/test-events", stream)
    client = await aiohttp_client(app)
    before = Scrape(metrics.exposition().decode())

    response = await client.get("/api/v1/test-events")
    assert await response.read() == b"data: one\n\n"

    tally.flush()
    after = Scrape(metrics.exposition().decode())
    requests = "rcmedia_http_requests_total"
    timed = "rcmedia_http_request_duration_seconds_count"
    assert after.value(requests, family="api") - before.value(requests, family="api") == 1
    assert after.value(timed, family="api") == before.value(timed, family="api")


@pytest.mark.parametrize(
    "seconds",
    [
        pytest.param([0.0004, 0.003, 0.003, 0.7, 99.0], id="spread"),
        pytest.param([0.001, 0.0025, 10.0], id="on-the-bounds"),
    ],
)
def test_latencies_added_in_bulk_are_what_observing_each_gives(seconds: list[float]) -> None:
    """The tally's bulk add reaches into prometheus-client (metrics.add_latencies): a new version
    that moved its histogram's internals fails here, not silently in production."""
    bulk, observed = f"bulk-{len(seconds)}", f"observed-{len(seconds)}"  # fresh labels per case
    child = metrics.LATENCY.labels(bulk)
    assert isinstance(getattr(child, "_buckets", None), list)
    assert hasattr(child, "_sum")
    tally = RequestTally()
    before = Scrape(metrics.exposition().decode())
    for value in seconds:
        tally.add(bulk, 2, value)
        metrics.LATENCY.labels(observed).observe(value)

    tally.flush()
    tally.flush()  # nothing new: nothing added twice

    after = Scrape(metrics.exposition().decode())
    name = "rcmedia_http_request_duration_seconds"

    def samples(suffix: str, family: str) -> list[tuple[str | None, float]]:
        return [
            (sample.labels.get("le"), sample.value)
            for f in after.families
            for sample in f.samples
            if sample.name == name + suffix and sample.labels["family"] == family
        ]

    assert len(samples("_bucket", bulk)) == len(metrics.LATENCY_BUCKETS) + 1
    for suffix in ("_bucket", "_count"):
        assert samples(suffix, bulk) == samples(suffix, observed)
    assert after.value(name + "_sum", family=bulk) == pytest.approx(sum(seconds))
    assert before.value(name + "_count", family=bulk) == 0
    assert after.value("rcmedia_http_requests_total", family=bulk, status="2xx") == len(seconds)
