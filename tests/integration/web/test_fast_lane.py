"""The live fast lane (rcmedia.web.fast_lane) against the usual path, over raw keep-alive sockets.

Two origins over the same catalog and clock, one with the lane and one without, are asked the
same requests; their answers must agree byte for byte but the ``Date``, pipelined requests must be
answered in order, and whatever the lane must not answer must reach aiohttp.
"""

from __future__ import annotations

import asyncio
import gzip
import os
import subprocess
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web

from rcmedia.catalog.repository import Catalog
from rcmedia.config import Settings
from rcmedia.media.continuous import air_ticks, continuous_ts
from rcmedia.media.samples import make_clip
from rcmedia.profiles import load_profiles
from rcmedia.storage.local import LocalStorage
from rcmedia.web.app import RunningServer, create_app, start_server
from rcmedia.web.fast_lane import FastLaneRunner, Lanes
from rcmedia.web.keys import AIRED_KEY
from tests.integration.web.schedules import NOW, FixedClock, OnAir

PLAYLIST = "/live/rcxf/iptv/720p.m3u8"

Response = tuple[str, dict[str, str], bytes]  # status line, headers (Date left out), body


def _app(settings: Settings, catalog: Catalog, storage: LocalStorage, clock: FixedClock) -> web.Application:
    profiles = load_profiles(settings.profiles_dir)
    return create_app(settings=settings, catalog=catalog, storage=storage, profiles=profiles, clock=clock)


@pytest.fixture
async def origins(
    app_settings: Settings, catalog: Catalog, storage: LocalStorage, clock: FixedClock, on_air: OnAir
) -> AsyncIterator[tuple[RunningServer, RunningServer]]:
    """(with the lane, without it), both on the fixed clock."""
    fast = await start_server(_app(app_settings, catalog, storage, clock), host="127.0.0.1", port=0, worker=2)
    usual_settings = app_settings.replace(live_fast_lane=False)
    usual = await start_server(
        _app(usual_settings, catalog, storage, clock), host="127.0.0.1", port=0, worker=2
    )
    try:
        yield fast, usual
    finally:
        await fast.stop()
        await usual.stop()


def _lane(server: RunningServer) -> Lanes:
    assert isinstance(server.runner, FastLaneRunner)
    return server.runner.lanes


class Connection:
    """One keep-alive HTTP/1.1 connection, written and read by hand (pipelining included)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def to(cls, server: RunningServer) -> Connection:
        return cls(*await asyncio.open_connection(server.host, server.port))

    def send(self, *requests: str) -> None:
        self.writer.write("".join(requests).encode("latin-1"))

    async def response(self, *, head: bool = False) -> Response:
        lines = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:] if line)
        headers.pop("Date")
        body = b"" if head else await self.reader.readexactly(int(headers.get("Content-Length", "0")))
        return lines[0], headers, body

    async def get(self, path: str, *extra: str) -> Response:
        self.send(request(path, *extra))
        return await self.response()

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


def request(path: str, *extra: str, method: str = "GET", version: str = "1.1") -> str:
    return "".join(
        [f"{method} {path} HTTP/{version}\r\nHost: origin\r\n", *(f"{h}\r\n" for h in extra), "\r\n"]
    )


@pytest.fixture
async def connections(
    origins: tuple[RunningServer, RunningServer],
) -> AsyncIterator[tuple[Connection, Connection]]:
    """A connection to each origin, each past its first request (which aiohttp always answers)."""
    fast, usual = await Connection.to(origins[0]), await Connection.to(origins[1])
    for connection in (fast, usual):
        # rendered with its gzipped copy too: a plain render leaves gzip to the usual path
        assert (await connection.get(PLAYLIST, "Accept-Encoding: gzip"))[0] == "HTTP/1.1 200 OK"
    try:
        yield fast, usual
    finally:
        await fast.close()
        await usual.close()


@pytest.mark.parametrize("encoding", ["gzip", "identity", "gzip;q=0, identity", "br, gzip;q=0.5"])
async def test_the_lane_answers_as_the_usual_path_would(
    app_settings: Settings,
    origins: tuple[RunningServer, RunningServer],
    connections: tuple[Connection, Connection],
    encoding: str,
) -> None:
    fast, usual = connections
    before = _lane(origins[0]).answered
    ours = await fast.get(PLAYLIST, f"Accept-Encoding: {encoding}", "Origin: https://player.example")
    theirs = await usual.get(PLAYLIST, f"Accept-Encoding: {encoding}", "Origin: https://player.example")

    assert _lane(origins[0]).answered == before + 1, "the lane answered it"
    assert ours == theirs
    status, headers, body = ours
    assert status == "HTTP/1.1 200 OK"
    assert headers["Access-Control-Allow-Origin"] == app_settings.cors_origin
    assert headers["X-Rcmedia-Worker"] == "2"
    text = gzip.decompress(body) if headers.get("Content-Encoding") == "gzip" else body
    assert text.startswith(b"#EXTM3U\n")


async def test_max_age_and_expires_count_down_to_the_next_segment(
    origins: tuple[RunningServer, RunningServer],
    connections: tuple[Connection, Connection],
    clock: FixedClock,
) -> None:
    fast, usual = connections
    for seconds in (0, 1, 2, 5, 6, 7, 13):
        clock.current = NOW + timedelta(seconds=seconds)
        # a new segment boundary: the first asks re-render the playlist (the usual path)
        for _ in range(2):
            ours, theirs = await fast.get(PLAYLIST), await usual.get(PLAYLIST)
            assert ours == theirs
        left = 6 - seconds % 6 if seconds % 6 else 6
        assert ours[1]["Cache-Control"] == (
            f"public, max-age={left}, s-maxage={max(1, left - 1)}, stale-while-revalidate=1, stale-if-error=18"
        )
    assert _lane(origins[0]).answered >= 7


async def test_pipelined_requests_are_answered_in_order(
    origins: tuple[RunningServer, RunningServer], connections: tuple[Connection, Connection]
) -> None:
    fast, usual = connections
    sequence = [PLAYLIST, "/api/v1/channels", PLAYLIST, "/live/rcxf/iptv/360p.m3u8", PLAYLIST]
    before = _lane(origins[0]).answered
    for connection in (fast, usual):
        connection.send(*(request(path) for path in sequence))
    ours = [await fast.response() for _ in sequence]
    theirs = [await usual.response() for _ in sequence]

    assert ours == theirs
    assert [r[1]["Content-Type"].split(";")[0] for r in ours] == [
        "application/vnd.apple.mpegurl",
        "application/json",
        "application/vnd.apple.mpegurl",
        "application/vnd.apple.mpegurl",
        "application/vnd.apple.mpegurl",
    ]
    # the first before aiohttp's; everything after the channel list is aiohttp's, in order
    assert _lane(origins[0]).answered == before + 1


@pytest.mark.parametrize(
    ("path", "extra", "method", "version"),
    [
        pytest.param(PLAYLIST, (), "HEAD", "1.1", id="head"),
        pytest.param(PLAYLIST + "?token=1", (), "GET", "1.1", id="query"),
        pytest.param("/live/rcxf/iptv/72%30p.m3u8", (), "GET", "1.1", id="escaped"),
        pytest.param("/live/rcxf/iptv/master.m3u8", (), "GET", "1.1", id="master"),
        pytest.param("/live/rcxf/iptv/4k.m3u8", (), "GET", "1.1", id="no-such-rung"),
        pytest.param("/live/nope/iptv/720p.m3u8", (), "GET", "1.1", id="no-such-channel"),
        pytest.param(PLAYLIST, ("Connection: close",), "GET", "1.1", id="connection-close"),
        pytest.param(PLAYLIST, (), "GET", "1.0", id="http-1.0"),
    ],
)
async def test_what_the_lane_leaves_to_aiohttp(
    origins: tuple[RunningServer, RunningServer],
    connections: tuple[Connection, Connection],
    path: str,
    extra: tuple[str, ...],
    method: str,
    version: str,
) -> None:
    fast, usual = connections
    before = _lane(origins[0]).answered
    for connection in (fast, usual):
        connection.send(request(path, *extra, method=method, version=version))
    ours = await fast.response(head=method == "HEAD")
    theirs = await usual.response(head=method == "HEAD")

    assert _lane(origins[0]).answered == before
    assert ours == theirs


async def test_a_stale_playlist_is_rendered_the_usual_way_then_cached_again(
    origins: tuple[RunningServer, RunningServer],
    connections: tuple[Connection, Connection],
    clock: FixedClock,
) -> None:
    fast, _ = connections
    lane = _lane(origins[0])
    clock.current = NOW + timedelta(seconds=30)
    before = lane.answered
    stale = await fast.get(PLAYLIST)
    assert lane.answered == before  # past the boundary the cache held: aiohttp rendered it
    assert await fast.get(PLAYLIST) == stale
    assert lane.answered == before + 1


async def test_off_when_the_setting_says_so(origins: tuple[RunningServer, RunningServer]) -> None:
    assert not isinstance(origins[1].runner, FastLaneRunner)


# -- segments ---------------------------------------------------------------------------------

SEGMENT = "assets/990/lane/360p/seg_00001.ts"
BIG = "assets/990/lane/1080p/seg_00001.ts"  # more than a loopback socket takes at once


@pytest.fixture
def segments(storage: LocalStorage) -> dict[str, bytes]:
    """Two published files: a small segment and one of 24 MB, of random bytes."""
    files = {SEGMENT: os.urandom(188 * 2000), BIG: os.urandom(24 * 1024 * 1024)}
    for key, data in files.items():
        path = storage.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


async def test_a_segment_is_sent_as_the_usual_path_sends_it(
    origins: tuple[RunningServer, RunningServer],
    connections: tuple[Connection, Connection],
    segments: dict[str, bytes],
) -> None:
    fast, usual = connections
    lanes = _lane(origins[0])
    for key in (SEGMENT, BIG, SEGMENT):
        before = lanes.answered
        ours, theirs = await fast.get(f"/media/{key}"), await usual.get(f"/media/{key}")
        assert lanes.answered == before + 1
        assert ours == theirs
        assert ours[2] == segments[key]
        assert ours[1]["Content-Type"] == "video/mp2t"
        assert ours[1]["Access-Control-Allow-Origin"]


async def test_requests_behind_a_segment_still_being_sent_wait_their_turn(
    origins: tuple[RunningServer, RunningServer],
    connections: tuple[Connection, Connection],
    segments: dict[str, bytes],
) -> None:
    fast, usual = connections
    sequence = [f"/media/{BIG}", PLAYLIST, "/api/v1/channels", f"/media/{BIG}", f"/media/{SEGMENT}", PLAYLIST]
    before = _lane(origins[0]).answered
    for connection in (fast, usual):
        connection.send(*(request(path) for path in sequence))
    await asyncio.sleep(0.2)  # nothing read yet: the first file fills the socket, the rest queue
    ours = [await fast.response() for _ in sequence]
    theirs = [await usual.response() for _ in sequence]

    assert ours == theirs
    assert [r[2] for r in ours if r[1]["Content-Type"] == "video/mp2t"] == [
        segments[BIG],
        segments[BIG],
        segments[SEGMENT],
    ]
    assert _lane(origins[0]).answered == before + 2  # up to the channel list; aiohttp's from there


@pytest.mark.parametrize(
    ("path", "extra"),
    [
        pytest.param(f"/media/{SEGMENT}", ("Range: bytes=0-187",), id="range"),
        pytest.param(f"/media/{SEGMENT}", ('If-None-Match: "x"',), id="conditional"),
        pytest.param("/media/assets/990/lane/360p/seg_00002.ts", (), id="missing"),
        pytest.param("/media/assets/990/../990/lane/360p/seg_00001.ts", (), id="dot-dot"),
        pytest.param("/media/.staging/x.ts", (), id="hidden"),
        pytest.param("/media/assets/990/lane/360p/notes.txt", (), id="not-media"),
        pytest.param("/media/" + "a/" * 3000 + "x.ts", (), id="3000-deep"),  # a 404, not ENAMETOOLONG
        pytest.param("/media/" + "a" * 300 + ".ts", (), id="name-too-long"),
    ],
)
async def test_what_the_media_lane_leaves_to_aiohttp(
    origins: tuple[RunningServer, RunningServer],
    connections: tuple[Connection, Connection],
    segments: dict[str, bytes],
    storage: LocalStorage,
    path: str,
    extra: tuple[str, ...],
) -> None:
    (storage.root / "assets/990/lane/360p/notes.txt").write_text("not media")
    fast, usual = connections
    before = _lane(origins[0]).answered
    ours, theirs = await fast.get(path, *extra), await usual.get(path, *extra)

    assert _lane(origins[0]).answered == before
    assert ours == theirs
    assert ours[0] != "HTTP/1.1 200 OK" or extra  # refused, or a range or conditional answer


async def test_a_client_gone_mid_segment_leaves_the_origin_serving(
    origins: tuple[RunningServer, RunningServer], segments: dict[str, bytes]
) -> None:
    for _ in range(3):
        leaving = await Connection.to(origins[0])
        await leaving.get(PLAYLIST)  # past aiohttp's first request: the next goes to the lane
        leaving.send(request(f"/media/{BIG}"))
        await asyncio.sleep(0.05)
        leaving.writer.transport.abort()
    staying = await Connection.to(origins[0])
    try:
        await staying.get(PLAYLIST)
        assert (await staying.get(f"/media/{BIG}"))[2] == segments[BIG]
    finally:
        await staying.close()


# -- segments as aired ----------------------------------------------------------------------------

AIRED = "assets/990/lane/360p/seg_00003.ts"


@pytest.fixture
def aired_stored(storage: LocalStorage, ffmpeg: str, tmp_path: Path) -> bytes:
    """A real one-second MPEG-TS segment at ``AIRED`` (the origin rewrites what it airs)."""
    source = make_clip(tmp_path / "clip.mp4", ffmpeg=ffmpeg, duration=1.0)
    path = storage.root / AIRED
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            ffmpeg,
            "-hide_banner",
            "-loglevel",
            "error",
            "-i",
            str(source),
            "-c:v",
            "libx264",
            "-c:a",
            "aac",
            "-f",
            "mpegts",
            "-y",
            str(path),
        ],
        check=True,
    )
    return path.read_bytes()


async def test_an_aired_segment_once_kept_is_sent_as_the_usual_path_sends_it(
    origins: tuple[RunningServer, RunningServer],
    connections: tuple[Connection, Connection],
    aired_stored: bytes,
) -> None:
    fast, usual = connections
    lanes = _lane(origins[0])
    path = f"/air/1796000000000000/inout/{AIRED}"
    before = lanes.answered
    made = await fast.get(path)  # not kept yet: the usual path rewrites and keeps it
    assert lanes.answered == before
    ours, theirs = await fast.get(path), await usual.get(path)

    assert lanes.answered == before + 1
    assert ours == theirs
    assert (
        made[2]
        == ours[2]
        == continuous_ts(aired_stored, at_ticks=air_ticks(1796000000000000), cut_in=True, cut_out=True)
    )
    assert ours[1]["Content-Type"] == "video/mp2t"
    assert ours[1]["Cache-Control"] == "public, max-age=31536000, immutable"
    assert ours[1]["Access-Control-Allow-Origin"]
    assert sum(origin.runner.app[AIRED_KEY].segments.rewrites for origin in origins) == 1


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(f"/air/1796000000000000/sideways/{AIRED}", id="unknown-cut"),
        pytest.param(f"/air/-5/join/{AIRED}", id="negative"),
        pytest.param(f"/air/{'9' * 20}/join/{AIRED}", id="too-long"),
        pytest.param("/air/1796000000000000/join/assets/990/../990/lane/360p/seg_00003.ts", id="dot-dot"),
        pytest.param("/air/1796000000000000/join/assets/990/lane/360p/notes.txt", id="not-media"),
        pytest.param("/air/1796000000000000/join/assets/990/lane/360p/seg_00009.ts", id="missing"),
    ],
)
async def test_what_the_aired_lane_leaves_to_aiohttp(
    origins: tuple[RunningServer, RunningServer],
    connections: tuple[Connection, Connection],
    aired_stored: bytes,
    path: str,
) -> None:
    fast, usual = connections
    before = _lane(origins[0]).answered
    ours, theirs = await fast.get(path), await usual.get(path)

    assert _lane(origins[0]).answered == before
    assert ours == theirs
    assert ours[0].startswith("HTTP/1.1 404")
