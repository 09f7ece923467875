"""``rcmedia serve --workers N``: N processes on one port (SO_REUSEPORT), supervised by the parent.

Each worker keeps its own timelines; a live media playlist is a pure function of (catalog, clock),
so whichever worker answers, the bytes are the same for the same window.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from rcmedia.catalog.repository import Catalog
from rcmedia.config import Settings
from rcmedia.errors import ConfigError
from rcmedia.storage.local import LocalStorage
from rcmedia.web.workers import WORKER_HEADER, check_address, run_workers
from tests.integration.web.schedules import put_on_air

LIVE = "/live/rcxf/iptv/720p.m3u8"


def _env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RCMEDIA_")}
    env.update(
        RCMEDIA_HOME=str(settings.home),
        RCMEDIA_PROFILES_DIR=str(settings.profiles_dir),
        RCMEDIA_HOT_FOLDER=str(settings.hot_folder),
        COLUMNS="200",
    )
    return env


def _get(url: str) -> tuple[bytes, dict[str, str]]:
    # a new connection per request: the kernel picks a worker per connection
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback test server
        return bytes(response.read()), dict(response.headers)


def _wait_for(url: str, process: subprocess.Popen[str], seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while True:
        assert process.poll() is None, process.communicate()[0]
        try:
            _get(url)
            return
        except OSError:
            assert time.monotonic() < deadline, f"{url} did not answer in {seconds} s"
            time.sleep(0.2)


def _worker_pids(parent: int) -> list[int]:
    """The parent's children that run a worker (not multiprocessing's resource tracker)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == parent and b"spawn_main" in cmdline:
            pids.append(int(stat.parent.name))
    return pids


def _start(settings: Settings, folder: Path, port: int, workers: int) -> subprocess.Popen[str]:
    argv = ["serve", "--port", str(port), "--workers", str(workers), "--no-scheduler"]
    return subprocess.Popen(
        [sys.executable, "-m", "rcmedia", *argv],
        cwd=folder,
        env=_env(settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.fixture
def on_air_now(settings: Settings, catalog: Catalog, storage: LocalStorage, tmp_path: Path) -> None:
    """The two test channels, rebuilt around the real clock (``serve`` runs on the system's)."""
    on_air = put_on_air(catalog, storage, tmp_path / "playlists")
    now = datetime.now(UTC)
    on_air.rebuild(first_day=(now - timedelta(days=1)).date(), days=3, now=now)


@contextmanager
def serving_workers(
    settings: Settings, folder: Path, port: int, *, ready: str, workers: int = 2
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``rcmedia serve --workers N`` on ``port``, once ``ready`` answers; stopped with SIGTERM."""
    process = _start(settings, folder, port, workers=workers)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{base}{ready}", process)
        # ready when every worker answers: the second may start listening a moment later, and a
        # test that spreads connections over both must not run before it does
        seen: set[str] = set()
        deadline = time.monotonic() + 30
        while len(seen) < workers:
            assert time.monotonic() < deadline, f"only worker(s) {seen} of {workers} answered"
            seen.add(_get(f"{base}{ready}")[1][WORKER_HEADER])
        yield process, base
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()


@pytest.fixture
def serving(
    settings: Settings, on_air_now: None, tmp_path: Path, unused_tcp_port: int
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``rcmedia serve --workers 2`` over the two test channels."""
    with serving_workers(settings, tmp_path, unused_tcp_port, ready=LIVE) as running:
        yield running


def test_every_worker_answers_with_the_same_live_playlist(serving: tuple[subprocess.Popen[str], str]) -> None:
    process, base = serving
    by_sequence: dict[int, set[bytes]] = defaultdict(set)
    expires: dict[int, set[str]] = defaultdict(set)
    workers = set()
    for _ in range(120):
        body, headers = _get(base + LIVE)
        # a window is named by its media sequence; a request may land on either side of a
        # segment boundary, so bytes are compared within a window, never across
        sequence = int(re.search(rb"#EXT-X-MEDIA-SEQUENCE:(\d+)", body)[1])  # type: ignore[index]
        by_sequence[sequence].add(body)
        expires[sequence].add(headers["Expires"])
        workers.add(headers[WORKER_HEADER])

    assert workers == {"1", "2"}, "the kernel spread the connections over both workers"
    for sequence, bodies in by_sequence.items():
        assert len(bodies) == 1, f"window {sequence} differs between workers"
        assert len(expires[sequence]) == 1
        assert b"#EXTINF:" in next(iter(bodies))

    process.send_signal(signal.SIGTERM)  # as systemd stops it
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert "with 2 worker processes" in output


def test_a_dead_worker_stops_the_origin_with_an_error(serving: tuple[subprocess.Popen[str], str]) -> None:
    process, _ = serving
    pids = _worker_pids(process.pid)
    assert len(pids) == 2

    os.kill(pids[0], signal.SIGKILL)
    output, _ = process.communicate(timeout=60)

    assert process.returncode == 1, output
    assert "rcmedia-worker-" in output
    assert "exited with status -9" in output
    assert not Path(f"/proc/{pids[1]}").exists(), "the other worker was stopped"


def test_sigterm_stops_a_single_process_origin_cleanly(
    settings: Settings, on_air_now: None, tmp_path: Path, unused_tcp_port: int
) -> None:
    process = _start(settings, tmp_path, unused_tcp_port, workers=1)
    try:
        base = f"http://127.0.0.1:{unused_tcp_port}"
        _wait_for(f"{base}{LIVE}", process)
        _, headers = _get(base + LIVE)
        assert WORKER_HEADER not in headers  # one process: nothing to tell apart
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, output


def test_a_taken_port_is_refused_before_any_worker_starts() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        with pytest.raises(ConfigError, match=rf"127\.0\.0\.1:{port}.*--port"):
            check_address("127.0.0.1", port)


def test_several_workers_need_a_fixed_port() -> None:
    with pytest.raises(ConfigError, match="fixed port"):
        run_workers(2, print, host="127.0.0.1", port=0)
