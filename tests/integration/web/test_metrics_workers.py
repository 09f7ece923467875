"""``rcmedia serve --workers 2``: a scrape of either worker counts both workers' requests."""

from __future__ import annotations

import http.client
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from rcmedia.config import Settings
from rcmedia.web.workers import WORKER_HEADER
from tests.integration.web.metrics_text import Scrape
from tests.integration.web.test_workers import LIVE, _get, on_air_now, serving_workers

__all__ = ["on_air_now"]  # the fixture, shared with test_workers

REQUESTS = 40
LIVE_PER_CONNECTION = 3  # on one keep-alive connection: the fast lane answers the cached ones


def _keep_alive_gets(base: str, path: str, count: int) -> None:
    host, port = urlsplit(base).hostname, urlsplit(base).port
    connection = http.client.HTTPConnection(host or "", port, timeout=10)
    try:
        for _ in range(count):
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            assert response.status == 200
    finally:
        connection.close()


@pytest.fixture
def serving(
    settings: Settings, on_air_now: None, tmp_path: Path, unused_tcp_port: int
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """Ready once ``/healthz`` answers: no live playlist is asked for before the test counts."""
    with serving_workers(settings, tmp_path, unused_tcp_port, ready="/healthz") as running:
        yield running


def _scrape(base: str) -> Scrape:
    body, _ = _get(f"{base}/metrics")
    return Scrape(body.decode())


def test_a_scrape_sums_every_worker(settings: Settings, serving: tuple[subprocess.Popen[str], str]) -> None:
    process, base = serving
    folder = settings.home / "metrics" / str(process.pid)
    assert folder.is_dir(), "the run's metrics folder"
    workers: list[str] = []
    deadline = time.monotonic() + 30
    # a connection each: the kernel picks a worker per connection (the second may start listening later)
    while len(workers) < REQUESTS or len(set(workers)) < 2:
        assert time.monotonic() < deadline, f"only worker(s) {set(workers)} answered"
        _, headers = _get(f"{base}/api/v1/channels")
        workers.append(headers[WORKER_HEADER])
        _keep_alive_gets(base, LIVE, LIVE_PER_CONNECTION)
    time.sleep(1.5)  # the fast lane's counts reach the shared files once a second

    scrape = _scrape(base)

    api = scrape.value("rcmedia_http_requests_total", family="api", status="2xx")
    assert api == len(workers), "both workers' requests, whichever answered the scrape"
    assert scrape.value("rcmedia_http_request_duration_seconds_count", family="api") == len(workers)
    live = scrape.value("rcmedia_http_requests_total", family="live_playlist", status="2xx")
    assert live == len(workers) * LIVE_PER_CONNECTION, "every live playlist, through the lane or not"
    fast = scrape.value("rcmedia_http_requests_total", family="live_playlist", lane="fast")
    assert 0 < fast < live

    process.terminate()
    process.communicate(timeout=60)
    assert not folder.parent.exists(), "removed when the origin stops"
