"""Client connections (rcmedia.web.connections, rcmedia.web.listener) over real sockets.

Idle connections, half-sent requests and clients that stop reading are closed after the
timeouts of the settings; at ``max_connections`` the longest-idle connections make room, and with
none idle, newcomers wait instead of failing (issue 9, item 2). The origin runs in the test's
event loop with short timeouts; the cases that need a low open-files limit run ``rcmedia serve``
in a child process with that limit.
"""

from __future__ import annotations

import asyncio
import os
import resource
import select
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web_protocol

from rcmedia.catalog.repository import Catalog
from rcmedia.config import Settings
from rcmedia.profiles import load_profiles
from rcmedia.storage.local import LocalStorage
from rcmedia.web import connections
from rcmedia.web.app import RunningServer, create_app, start_server
from tests.integration.web.schedules import FixedClock, OnAir, put_on_air

PLAYLIST = "/live/rcxf/iptv/720p.m3u8"
BIG = "assets/990/conn/1080p/seg_00001.ts"
BIG_SIZE = 24 * 1024 * 1024  # far more than the sockets on both sides hold


async def _origin(
    settings: Settings, catalog: Catalog, storage: LocalStorage, clock: FixedClock, **limits: Any
) -> RunningServer:
    settings = settings.replace(**limits)
    profiles = load_profiles(settings.profiles_dir)
    app = create_app(settings=settings, catalog=catalog, storage=storage, profiles=profiles, clock=clock)
    return await start_server(app, host="127.0.0.1", port=0)


@pytest.fixture
async def origin(
    request: pytest.FixtureRequest,
    app_settings: Settings,
    catalog: Catalog,
    storage: LocalStorage,
    clock: FixedClock,
    on_air: OnAir,
) -> AsyncIterator[RunningServer]:
    """An origin with the limits the test is marked with (``@pytest.mark.parametrize`` of ``limits``)."""
    limits = getattr(request, "param", {})
    server = await _origin(app_settings, catalog, storage, clock, **limits)
    try:
        yield server
    finally:
        await server.stop()


def limits(**values: Any) -> Any:
    return pytest.mark.parametrize("origin", [values], indirect=True, ids=[""])


async def _connect(
    server: RunningServer, *, receive_buffer: int | None = None
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    sock = socket.socket()
    if receive_buffer is not None:  # set before connecting: it sizes the window the client offers
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (server.host, server.port))
    return await asyncio.open_connection(sock=sock)


def _request(path: str, *extra: str) -> bytes:
    return "".join(
        [f"GET {path} HTTP/1.1\r\nHost: origin\r\n", *(f"{h}\r\n" for h in extra), "\r\n"]
    ).encode()


async def _answer(reader: asyncio.StreamReader) -> tuple[str, bytes]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    length = next(
        int(line.split(":")[1]) for line in head.split("\r\n") if line.lower().startswith("content-length:")
    )
    return head.split("\r\n")[0], await reader.readexactly(length)


async def _seconds_until_closed(reader: asyncio.StreamReader, *, most: float) -> float:
    """How long until the origin closes the connection (EOF or a reset); fails after ``most``."""
    started = time.monotonic()
    try:
        async with asyncio.timeout(most):
            while await reader.read(65536):
                pass
    except ConnectionResetError:
        pass
    except TimeoutError:
        pytest.fail(f"the connection was still open after {most} s")
    return time.monotonic() - started


def test_the_aiohttp_internals_the_guard_reads_are_there() -> None:
    """Fails on an aiohttp without them: then idle connections are told from busy ones no more."""
    assert connections.supported(), [
        name for name in connections._NEEDED if not hasattr(web_protocol.RequestHandler, name)
    ]


# -- timeouts ---------------------------------------------------------------------------------


@limits(request_header_timeout=0.5, keepalive_timeout=30.0)
async def test_a_connection_that_sends_nothing_is_closed_after_the_header_timeout(
    origin: RunningServer,
) -> None:
    reader, writer = await _connect(origin)
    assert 0.4 < await _seconds_until_closed(reader, most=5) < 2
    writer.close()


@pytest.mark.parametrize("answered_by", ["aiohttp", "fast lane"])
@limits(request_header_timeout=30.0, keepalive_timeout=0.5)
async def test_an_idle_kept_alive_connection_is_closed_after_the_keepalive_timeout(
    origin: RunningServer, answered_by: str
) -> None:
    reader, writer = await _connect(origin)
    for _ in range(1 if answered_by == "aiohttp" else 2):  # aiohttp answers a connection's first
        writer.write(_request(PLAYLIST))
        assert (await _answer(reader))[0] == "HTTP/1.1 200 OK"
    assert 0.4 < await _seconds_until_closed(reader, most=5) < 2
    writer.close()


@pytest.mark.parametrize("kept_alive", [False, True], ids=["first request", "after an answer"])
@limits(request_header_timeout=0.5, keepalive_timeout=30.0)
async def test_a_request_whose_headers_trickle_in_is_closed_after_the_header_timeout(
    origin: RunningServer, kept_alive: bool
) -> None:
    reader, writer = await _connect(origin)
    if kept_alive:
        writer.write(_request("/healthz"))
        await _answer(reader)
        await asyncio.sleep(1)  # idle longer than the header timeout: keep-alive's time, not its
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: origin\r\n")

    async def trickle() -> None:  # a header line every 0.2 s, never the blank line that ends them
        for n in range(100):
            await asyncio.sleep(0.2)
            writer.write(f"X-Slow-{n}: 1\r\n".encode())

    dripping = asyncio.create_task(trickle())
    try:
        assert await _seconds_until_closed(reader, most=5) < 1.5
    finally:
        dripping.cancel()
        writer.close()


@pytest.fixture
def big_segment(storage: LocalStorage) -> bytes:
    data = os.urandom(BIG_SIZE)
    path = storage.root / BIG
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


@pytest.mark.parametrize(
    ("origin", "answered_by"),
    [
        pytest.param({"send_timeout": 1.0}, "aiohttp", id="aiohttp-sendfile"),
        pytest.param({"send_timeout": 1.0}, "fast lane", id="fast-lane"),
        pytest.param({"send_timeout": 1.0, "live_fast_lane": False}, "aiohttp", id="no-fast-lane"),
    ],
    indirect=["origin"],
)
async def test_a_client_that_stops_reading_is_cut_off_after_the_send_timeout(
    origin: RunningServer, big_segment: bytes, answered_by: str
) -> None:
    reader, writer = await _connect(origin, receive_buffer=16 * 1024)
    if answered_by == "fast lane":
        writer.write(_request("/healthz"))
        await _answer(reader)
    writer.write(_request(f"/media/{BIG}"))
    await reader.readuntil(b"\r\n\r\n")
    # the client reads no more: its window closes and the origin's send buffers fill
    await asyncio.sleep(4)
    received = 0
    try:
        async with asyncio.timeout(10):
            while chunk := await reader.read(1 << 20):
                received += len(chunk)
    except ConnectionResetError:
        pass
    writer.close()
    assert received < BIG_SIZE // 2, "the origin waited for the client instead of cutting it off"
    async with asyncio.timeout(5):  # and the origin let go of it
        while len(origin.connections):  # noqa: ASYNC110 - polling the origin's count
            await asyncio.sleep(0.05)


async def test_a_client_reading_slowly_is_not_cut_off(
    app_settings: Settings, catalog: Catalog, storage: LocalStorage, clock: FixedClock, on_air: OnAir
) -> None:
    path = storage.root / "assets/990/conn/360p/seg_00001.ts"
    path.parent.mkdir(parents=True)
    data = os.urandom(3 * 1024 * 1024)
    path.write_bytes(data)
    server = await _origin(app_settings, catalog, storage, clock, send_timeout=1.0)
    try:
        reader, writer = await _connect(server, receive_buffer=16 * 1024)
        writer.write(_request("/media/assets/990/conn/360p/seg_00001.ts"))
        await reader.readuntil(b"\r\n\r\n")
        received = b""
        started = time.monotonic()
        while len(received) < len(data):  # about 1 MB/s: over two send timeouts in all
            received += await reader.read(64 * 1024)
            await asyncio.sleep(0.05)
        assert received == data
        assert time.monotonic() - started > 2
        writer.close()
    finally:
        await server.stop()


# -- the cap ----------------------------------------------------------------------------------


@limits(max_connections=5, request_header_timeout=30.0, keepalive_timeout=30.0)
async def test_at_the_cap_the_longest_idle_connection_makes_room(origin: RunningServer) -> None:
    held = []
    for _ in range(5):
        held.append(await _connect(origin))
        await asyncio.sleep(0.05)
    reader, writer = await _connect(origin)
    writer.write(_request("/healthz"))
    async with asyncio.timeout(1):
        assert (await _answer(reader))[0] == "HTTP/1.1 200 OK"

    oldest = held[0][0]
    assert await _seconds_until_closed(oldest, most=1) < 1, "the longest idle went first"
    for other, _ in held[-2:]:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):
                await other.read(1)
    assert origin.connections.shed >= 1
    for _, held_writer in held:
        held_writer.close()
    writer.close()


@limits(max_connections=3, send_timeout=2.0, keepalive_timeout=30.0)
async def test_at_the_cap_with_none_idle_a_newcomer_waits_for_a_slot(
    origin: RunningServer, big_segment: bytes
) -> None:
    stalled = []
    for _ in range(3):  # each busy sending a segment nobody reads
        reader, writer = await _connect(origin, receive_buffer=16 * 1024)
        writer.write(_request(f"/media/{BIG}"))
        await reader.readuntil(b"\r\n\r\n")
        stalled.append(writer)
    started = time.monotonic()
    reader, writer = await _connect(origin)  # the kernel completes it; the origin accepts it later
    writer.write(_request("/healthz"))
    async with asyncio.timeout(10):
        status, _ = await _answer(reader)
    waited = time.monotonic() - started
    assert status == "HTTP/1.1 200 OK"
    assert 1.5 < waited < 8, "answered once the stalled ones were cut off, not before"
    for each in (*stalled, writer):
        each.close()


# -- with the open-files limit of a systemd unit ----------------------------------------------


@pytest.fixture
def on_air_now(catalog: Catalog, storage: LocalStorage, tmp_path: Path) -> None:
    """The two test channels, rebuilt around the real clock (``serve`` runs on the system's)."""
    on_air = put_on_air(catalog, storage, tmp_path / "playlists")
    now = datetime.now(UTC)
    on_air.rebuild(first_day=(now - timedelta(days=1)).date(), days=3, now=now)


def _serve_limited(
    settings: Settings, folder: Path, port: int, open_files: int, **env: str
) -> subprocess.Popen[str]:
    """``rcmedia serve`` with soft and hard open-files limits of ``open_files`` (nothing to raise)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("RCMEDIA_")}
    environ.update(
        RCMEDIA_HOME=str(settings.home),
        RCMEDIA_PROFILES_DIR=str(settings.profiles_dir),
        RCMEDIA_HOT_FOLDER=str(settings.hot_folder),
        COLUMNS="200",
        **env,
    )

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))

    argv = [sys.executable, "-m", "rcmedia", "serve", "--port", str(port), "--no-scheduler"]
    return subprocess.Popen(
        argv,
        cwd=folder,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=limit,  # noqa: PLW1509 - only setrlimit, in a test
    )


def _get_seconds(url: str, timeout: float = 5) -> float:
    started = time.monotonic()
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback test server
        response.read()
        assert response.status == 200
    return time.monotonic() - started


def _wait_for(url: str, process: subprocess.Popen[str], seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while True:
        assert process.poll() is None, process.communicate()[0]
        try:
            _get_seconds(url)
            return
        except OSError:
            assert time.monotonic() < deadline, f"{url} did not answer in {seconds} s"
            time.sleep(0.2)


def _hold_idle(port: int, count: int, seconds: float = 10) -> list[socket.socket]:
    """``count`` connections that send nothing, once the kernel has completed each (or ``seconds``)."""
    held: list[socket.socket] = []
    try:
        poller = select.poll()  # not select(): this process's descriptors may be past 1024
        for _ in range(count):
            sock = socket.socket()
            held.append(sock)
            sock.setblocking(False)
            sock.connect_ex(("127.0.0.1", port))
            poller.register(sock, select.POLLOUT)
        pending = {sock.fileno() for sock in held}
        deadline = time.monotonic() + seconds
        while pending and time.monotonic() < deadline:
            for fd, _ in poller.poll(200):
                if fd in pending:
                    pending.discard(fd)
                    poller.unregister(fd)
    except BaseException:
        for sock in held:
            sock.close()
        raise
    return held


@pytest.fixture
def limited_origin(
    request: pytest.FixtureRequest, settings: Settings, on_air_now: None, tmp_path: Path, unused_tcp_port: int
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``rcmedia serve`` with an open-files limit of 512 (and the environment the test gives)."""
    env: dict[str, str] = getattr(request, "param", {})
    process = _serve_limited(settings, tmp_path, unused_tcp_port, 512, **env)
    try:
        _wait_for(f"http://127.0.0.1:{unused_tcp_port}{PLAYLIST}", process)
        yield process, f"http://127.0.0.1:{unused_tcp_port}"
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def _stop(process: subprocess.Popen[str]) -> str:
    """Stop the origin as systemd does; what it printed."""
    process.terminate()
    return process.communicate(timeout=30)[0]


def _answers_within_a_second(base: str, paths: tuple[str, ...], rounds: int) -> None:
    for _ in range(rounds):
        for path in paths:
            assert _get_seconds(base + path, timeout=5) < 1, path


def test_with_the_open_files_limit_of_a_unit_idle_connections_leave_healthz_and_playlists_answering(
    limited_origin: tuple[subprocess.Popen[str], str],
) -> None:
    process, base = limited_origin
    held = _hold_idle(int(base.rsplit(":", 1)[1]), 1000)  # twice the limit
    try:
        _answers_within_a_second(base, ("/healthz", PLAYLIST), rounds=10)
    finally:
        for sock in held:
            sock.close()
    output = _stop(process)
    assert "Too many open files" not in output, output[-3000:]


@pytest.mark.parametrize("limited_origin", [{"RCMEDIA_MAX_CONNECTIONS": "2000"}], indirect=True, ids=[""])
def test_out_of_descriptors_accepting_backs_off_frees_idle_ones_and_says_so_once(
    limited_origin: tuple[subprocess.Popen[str], str],
) -> None:
    process, base = limited_origin
    held = _hold_idle(int(base.rsplit(":", 1)[1]), 1000)  # past the limit: accept fails
    try:
        time.sleep(3)
        _answers_within_a_second(base, ("/healthz", PLAYLIST), rounds=5)
    finally:
        for sock in held:
            sock.close()
    text = _stop(process)
    lines = [line for line in text.splitlines() if "Too many open files" in line]
    assert len(lines) == 1, text[-3000:]
    assert "cannot accept a connection" in lines[0]
