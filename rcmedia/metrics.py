"""The origin's Prometheus metrics: the one module that imports prometheus-client.

Counters and histograms are kept where things happen (requests, finished jobs, EPG builds, login
failures) or copied once a second from the plain counters the hot paths keep (the fast lane,
catch-up renders, slate stand-ins: see ``rcmedia.web.metrics``). Gauges that describe the
catalog or the live timelines (jobs by state, slate share) are read when scraped, by whichever
process is scraped. Under ``rcmedia serve`` every process writes to the run's folder
(``rcmedia.metrics_files``) and a scrape sums them all; elsewhere (tests, one process) the
default registry is used. The table of names is in docs/metrics.md.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

from rcmedia.core.assets import Job
from rcmedia.metrics_files import ENV

CONTENT_TYPE = CONTENT_TYPE_LATEST
Inc = Callable[[float], None]
# a gauge read at scrape time: name, help, label names, [(label values, value)]
GaugeRow = tuple[str, str, list[str], list[tuple[list[str], float]]]
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(
    "rcmedia_http_requests",
    "HTTP requests answered, by route family, status class and lane (fast: the fast lane)",
    ["family", "status", "lane"],
)
LATENCY = Histogram(
    "rcmedia_http_request_duration_seconds",
    "Time to answer a request through aiohttp's handlers (the fast lane's answers are not timed)",
    ["family"],
    buckets=LATENCY_BUCKETS,
)
CATCHUP_BUILDS = Counter("rcmedia_catchup_builds", "Catch-up playlists rendered (not served from cache)")
STAND_INS = Counter(
    "rcmedia_missing_segment_stand_ins", "Requests for a missing segment answered with the slate"
)
STAND_IN_SEGMENTS = Counter(
    "rcmedia_missing_segments", "Distinct missing segments the slate stood in for (once per process)"
)
JOBS_FINISHED = Counter("rcmedia_ingest_jobs_finished", "Ingest jobs finished, by outcome", ["state"])
JOB_SECONDS = Histogram(
    "rcmedia_ingest_job_duration_seconds",
    "Ingest jobs' time from start to finish, by outcome",
    ["state"],
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200),
)
TRANSCODE_SPEED = Histogram(
    "rcmedia_transcode_speed_ratio",
    "Transcode speed of published jobs (× real time, as ffmpeg reported it)",
    buckets=(0.25, 0.5, 1, 2, 4, 8, 16, 32, 64),
)
EPG_BUILDS = Counter("rcmedia_epg_builds", "EPG builds of every channel, by outcome", ["outcome"])
EPG_SECONDS = Histogram(
    "rcmedia_epg_build_duration_seconds",
    "Time an EPG build of every channel took",
    buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300),
)
LOGIN_FAILURES = Counter("rcmedia_login_failures", "Logins refused: wrong name or password")
DB_CHECKED_OUT = Gauge(
    "rcmedia_db_pool_checked_out",
    "Catalog connections in use, summed over the live processes",
    multiprocess_mode="livesum",
)
DB_POOL_SIZE = Gauge(
    "rcmedia_db_pool_size",
    "Catalog connection pool sizes, summed over the live processes",
    multiprocess_mode="livesum",
)


def add_latencies(family: str, per_bucket: Sequence[int], total_seconds: float) -> None:
    """Add many observations of ``family``'s request latency at once: ``per_bucket[i]`` fell in
    ``LATENCY_BUCKETS[i]`` (the last, beyond them all: +Inf), together ``total_seconds``.

    Each observation written on its own costs a lock and two writes to the shared files, about
    10 µs a request on aiohttp's path; the middleware tallies plain integers and this adds them
    once a second. It reaches into prometheus-client's histogram child (``_buckets``, ``_sum``:
    pinned in pyproject.toml, checked by tests/integration/web/test_metrics.py); without them it
    observes each bucket's bound instead (right counts, the sum approximate).
    """
    child = LATENCY.labels(family)
    buckets, total = getattr(child, "_buckets", None), getattr(child, "_sum", None)
    if (
        isinstance(buckets, list)
        and len(buckets) == len(per_bucket) == len(LATENCY_BUCKETS) + 1
        and total is not None
        and all(hasattr(value, "inc") for value in buckets)
        and hasattr(total, "inc")
    ):
        for value, count in zip(buckets, per_bucket, strict=True):
            if count:
                value.inc(count)
        total.inc(total_seconds)
        return
    for bound, count in zip((*LATENCY_BUCKETS, LATENCY_BUCKETS[-1] * 2), per_bucket, strict=False):
        for _ in range(count):
            child.observe(bound)


def job_finished(job: Job) -> None:
    """Count ``job``, finished (published or failed), with its duration and transcode speed."""
    JOBS_FINISHED.labels(job.state.value).inc()
    if job.started_at is not None and job.finished_at is not None:
        JOB_SECONDS.labels(job.state.value).observe((job.finished_at - job.started_at).total_seconds())
    if job.speed is not None and job.state.value == "published":
        TRANSCODE_SPEED.observe(job.speed)


def epg_built(seconds: float, *, ok: bool) -> None:
    EPG_BUILDS.labels("ok" if ok else "failed").inc()
    if ok:
        EPG_SECONDS.observe(seconds)


def process_exited(pid: int) -> None:
    """Drop an exited process's live gauges (its counters stay in the sums)."""
    folder = os.environ.get(ENV)
    if folder:
        mark_process_dead(pid, folder)  # type: ignore[no-untyped-call]


class ScrapeTime(Collector):
    """Gauges computed when scraped, as ``read()`` gives them."""

    def __init__(self, read: Callable[[], Iterable[GaugeRow]]) -> None:
        self.read = read

    def collect(self) -> Iterable[Metric]:
        for name, documentation, labels, samples in self.read():
            family = GaugeMetricFamily(name, documentation, labels=labels)
            for values, value in samples:
                family.add_metric(values, value)
            yield family


def exposition(scrape_time: Collector | None = None) -> bytes:
    """The text exposition: every process's metrics (or this one's), then ``scrape_time``'s."""
    if os.environ.get(ENV):
        shared = CollectorRegistry()
        MultiProcessCollector(shared)  # type: ignore[no-untyped-call]
        text = generate_latest(shared)
    else:
        text = generate_latest(REGISTRY)
    if scrape_time is not None:
        extra = CollectorRegistry(auto_describe=False)
        extra.register(scrape_time)
        text += generate_latest(extra)
    return text
