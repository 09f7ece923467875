"""The shipped nginx edge (deploy/nginx/) in front of a live origin: Debian's nginx, run as this user
under a temporary prefix with the shipped files themselves (symlinked), only the upstream list and
the listen address written here.

What reaches the origin is counted in the origin's own access log (aiohttp's, which also turns the
fast lane off so that every request is logged), never from nginx's side. The channel (快频道, see
conftest) airs on the "tiny" ladder: 2 s segments, three rungs on its IPTV output.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pwd
import random
import re
import signal
import socket
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import m3u8
import pytest
from aiohttp import ClientSession, ClientTimeout, TCPConnector

from rcmedia.catalog.repository import Catalog
from rcmedia.config import Settings
from rcmedia.ingest.context import IngestContext
from rcmedia.storage.local import LocalStorage
from rcmedia.web.app import RunningServer
from tests.acceptance.conftest import put_short_channel_on_air, start_origin
from tests.conftest import PROJECT, require_system

pytestmark = pytest.mark.slow

NGINX = Path("/usr/sbin/nginx")
SHIPPED = PROJECT / "deploy" / "nginx"
LIVE = "/live/kuai/iptv"
RUNGS = ("360p", "180p", "144p")
TARGET_S = 2  # the tiny ladder's segments
STALE_IF_ERROR_S = 3 * TARGET_S  # rcmedia.web.live.STALE_IF_ERROR_TARGETS
VIEWERS = 200
POLL_S = 20.0
REQUEST_LINE = re.compile(r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/1\.[01]"')


class AccessLog(logging.Handler):
    """The paths the origin answered, from aiohttp's access log."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.paths: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if match := REQUEST_LINE.search(record.getMessage()):
            self.paths.append(match["path"])

    def count(self, path: str) -> int:
        return self.paths.count(path)


@contextlib.contextmanager
def access_log() -> Iterator[AccessLog]:
    """aiohttp's access log on (before the origin starts: connections read it once), collected."""
    logger = logging.getLogger("aiohttp.access")
    handler = AccessLog()
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def edge(prefix: Path, origin_port: int) -> Iterator[str]:
    """Debian's nginx with deploy/nginx/ in front of 127.0.0.1:``origin_port``; its base URL."""
    conf = prefix / "conf"
    for folder in (conf, prefix / "logs", prefix / "cache", prefix / "temp"):
        folder.mkdir(parents=True)
    for name in ("nginx.conf", "rcmedia-edge.conf"):
        (conf / name).symlink_to(SHIPPED / name)  # the shipped files, not copies
    (conf / "rcmedia-origins.conf").write_text(f"server 127.0.0.1:{origin_port};\n")
    port = free_port()
    (conf / "rcmedia-listen.conf").write_text(f"listen 127.0.0.1:{port};\n")
    argv = [
        str(NGINX),
        "-p",
        f"{prefix}/",
        "-c",
        str(conf / "nginx.conf"),
        "-e",
        str(prefix / "logs" / "error.log"),
    ]
    subprocess.run([*argv, "-t", "-q"], check=True, capture_output=True)
    # nginx started by root hands its workers to Debian's www-data, which cannot write this prefix
    user = f" user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    process = subprocess.Popen([*argv, "-g", f"daemon off;{user}"], start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while True:
            assert process.poll() is None, (prefix / "logs" / "error.log").read_text()
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
            assert time.monotonic() < deadline, "nginx did not listen"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


def require_nginx() -> None:
    require_system(f"nginx ({NGINX})", NGINX.is_file() and os.access(NGINX, os.X_OK), "apt-get install nginx")


@pytest.fixture
async def live_origin(
    ingest_ctx: IngestContext, catalog: Catalog, storage: LocalStorage, settings: Settings, tmp_path: Path
) -> AsyncIterator[tuple[RunningServer, AccessLog]]:
    require_nginx()
    await asyncio.to_thread(put_short_channel_on_air, ingest_ctx, catalog, tmp_path, datetime.now(UTC))
    with access_log() as log:
        server = await start_origin(settings, catalog, storage, "tiny")
        try:
            yield server, log
        finally:
            await server.stop()  # a second stop (after the test's) is a no-op


async def poll(
    session: ClientSession, url: str, until: float, seen: Counter[str], sequences: list[int]
) -> None:
    """A viewer reloading one rung's playlist about twice a second (players reload once a target
    duration; this is four times as eager), its media sequence never going backwards."""
    await asyncio.sleep(random.uniform(0, 0.5))  # spreading the viewers
    while time.monotonic() < until:
        async with session.get(url) as response:
            body = await response.text()
            seen[f"{response.status} {response.headers.get('X-Cache-Status')}"] += 1
        if response.status == 200:
            sequence = m3u8.loads(body).media_sequence
            assert not sequences or sequence >= sequences[-1], "the media sequence went backwards"
            sequences.append(sequence)
        await asyncio.sleep(random.uniform(0.3, 0.7))


async def test_the_edge_shields_the_origin_and_outlives_it_for_a_bounded_time(
    live_origin: tuple[RunningServer, AccessLog], tmp_path: Path
) -> None:
    origin, log = live_origin
    with edge(tmp_path / "edge", origin.port) as base:
        connector = TCPConnector(limit=0)
        async with ClientSession(connector=connector, timeout=ClientTimeout(total=10)) as session:
            # (a) 200 viewers polling for 20 s: about one origin request per segment per rung
            before = {rung: log.count(f"{LIVE}/{rung}.m3u8") for rung in RUNGS}
            seen: Counter[str] = Counter()
            until = time.monotonic() + POLL_S
            await asyncio.gather(
                *(
                    poll(session, f"{base}{LIVE}/{RUNGS[n % len(RUNGS)]}.m3u8", until, seen, [])
                    for n in range(VIEWERS)
                )
            )
            asked = {rung: log.count(f"{LIVE}/{rung}.m3u8") - before[rung] for rung in RUNGS}
            served = sum(seen.values())
            assert set(seen) <= {"200 HIT", "200 UPDATING", "200 STALE", "200 MISS", "200 EXPIRED"}, seen
            assert served > 10 * VIEWERS, seen  # the viewers did poll (~40 each), and the edge answered all
            segments = POLL_S / TARGET_S
            for rung in RUNGS:
                # one per segment (the edge keeps each playlist to its boundary, rounded up to the
                # second), plus the first miss and one for the boundary the run straddles
                assert segments - 2 <= asked[rung] <= segments + 2, (asked, seen)

            # (b) segments come from the cache: a second fetch is a HIT and the origin is not asked
            async with session.get(f"{base}{LIVE}/360p.m3u8") as response:
                playlist = m3u8.loads(await response.text())
                # viewers get the boundary (Expires), not the max-age the edge got seconds ago
                assert "Cache-Control" not in response.headers
                expires = parsedate_to_datetime(response.headers["Expires"])
                date = parsedate_to_datetime(response.headers["Date"])
                assert 0 <= (expires - date).total_seconds() <= TARGET_S
            listed = [segment.uri for segment in playlist.segments]
            assert all(uri.startswith("/air/") for uri in listed), listed
            newest = listed[-1]
            statuses = []
            for _ in range(2):
                async with session.get(f"{base}{newest}") as response:
                    body = await response.read()
                    statuses.append((response.status, response.headers["X-Cache-Status"]))
            assert body[0] == 0x47  # MPEG-TS
            assert statuses[1] == (200, "HIT"), statuses
            assert log.count(newest) <= 1  # asked once, or not at all (a viewer's fetch filled the cache)

            # (c) the API and the operator pages are never cached
            for path in ("/api/v1/channels", "/ops"):
                asked_before = log.count(path)
                for _ in range(2):
                    async with session.get(f"{base}{path}", allow_redirects=False) as response:
                        await response.read()
                        assert "X-Cache-Status" not in response.headers, (path, response.headers)
                assert log.count(path) == asked_before + 2, path

            # (d) the origin stops: viewers keep the last playlist, whose segments the edge has, for
            # stale-if-error (3 target durations) past its boundary, then get an error
            async with session.get(f"{base}{LIVE}/360p.m3u8") as response:
                last = await response.text()
            for uri in m3u8.loads(last).segments.uri:  # as a viewer's player does
                async with session.get(f"{base}{uri}") as response:
                    await response.read()
            await origin.stop()
            stopped = time.monotonic()
            stale: list[float] = []
            while True:
                async with session.get(f"{base}{LIVE}/360p.m3u8") as response:
                    body_text = await response.text()
                    state = response.headers.get("X-Cache-Status")
                now = time.monotonic() - stopped
                if response.status != 200:
                    break
                if state == "STALE":
                    stale.append(now)
                    # valid: the very last playlist, and every segment it lists still served (cached)
                    assert body_text == last
                    for uri in m3u8.loads(body_text).segments.uri:
                        async with session.get(f"{base}{uri}") as segment:
                            assert segment.status == 200, uri
                            await segment.read()
                else:
                    assert state in ("HIT", "UPDATING"), state  # still fresh (to the boundary)
                assert now < TARGET_S + STALE_IF_ERROR_S + 3, "the stale playlist outlived its bound"
                await asyncio.sleep(0.2)
            assert response.status in (502, 504), response.status
            assert stale, "no stale answer once the origin was gone"
            # served stale from the boundary (≤ one target + a second after the stop) for the bound
            assert stale[-1] - stale[0] >= STALE_IF_ERROR_S - 2, stale
