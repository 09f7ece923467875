"""A segment of an asset on air, gone from storage: viewers get the slate in its place, never a 404.

Real media (the "tiny" profile): the house slate and an 8 s programme (four 2 s segments) that
airs over and over. One stored segment of the programme is deleted; its URI, taken from the live
playlist, must answer 200 with MPEG-TS that ffmpeg decodes without error, lasting the segment's
2 s at the segment's place in the stream, with the fast lane and without it; the as-run log
records it, on both airings asked for.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import m3u8
import pytest

from rcmedia.bootstrap import open_context
from rcmedia.catalog.asrun import AsRunLog
from rcmedia.catalog.db import make_engine
from rcmedia.catalog.repository import Catalog
from rcmedia.catalog.schedules import ScheduleStore
from rcmedia.config import Settings, load_settings
from rcmedia.core.models import AssetMetadata, JobState, Output
from rcmedia.ingest.intake import submit, submit_slate
from rcmedia.ingest.runner import JobRunner
from rcmedia.media.continuous import air_ticks
from rcmedia.media.samples import make_clip
from rcmedia.playout.asrun import close_channel
from rcmedia.service.channels import apply_channel_files, load_channels
from rcmedia.service.schedules import build_all
from rcmedia.storage.local import LocalStorage
from rcmedia.web.app import RunningServer, start_server
from rcmedia.web.fast_lane import FastLaneRunner
from rcmedia.web.keys import MISSING_KEY
from tests.conftest import RESOURCES
from tests.integration.media.test_timeshift import VIDEO, decode_errors, demux
from tests.integration.web.schedules import FixedClock, origin_app

NOW = datetime(2026, 3, 2, 4, 30, tzinfo=UTC)
CHANNEL = """\
slate_series = "slate"

[channel]
id = "real"
name = "真"
number = 1
timezone = "UTC"
outputs = ["iptv"]
catchup_days = 1
day_start = "00:00"

[filler]
series = ["节目"]

[[slot]]
id = "noon"
start = "12:00"
series = "节目"
"""
PLAYLIST = "/live/real/iptv/360p.m3u8"
TICKS = 90_000


@dataclass(frozen=True, kw_only=True, slots=True)
class Library:
    settings: Settings
    programme_id: int


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Library:
    """The slate and the programme ingested with ffmpeg, the channel applied and two days built."""
    return put_on_air(tmp_path_factory.mktemp("missing"), environ={})


def put_on_air(home: Path, *, environ: dict[str, str]) -> Library:
    """Ingest the slate and an 8 s programme in ``home`` (storage as ``environ`` says), and put
    the channel on air at NOW: its files applied and two days built."""
    settings = load_settings(
        environ=environ,
        cwd=home,
        overrides={"home": str(home / "var"), "profiles_dir": str(RESOURCES / "profiles"), "profile": "tiny"},
    )
    with open_context(settings) as ctx:
        clip = make_clip(home / "programme.mp4", ffmpeg=ctx.ffmpeg, duration=8.0)
        jobs = [
            submit_slate(ctx, title="真 · 马上回来"),
            submit(ctx, clip, metadata=AssetMetadata(title="节目 第1集", series="节目", episode=1)),
        ]
        done = JobRunner(ctx).run_jobs(jobs)
        assert all(job.state is JobState.PUBLISHED for job in done), [j.failure_reason for j in done]
        files = home / "playlists"
        files.mkdir()
        (files / "real.toml").write_text(CHANNEL, encoding="utf-8")
        store = ScheduleStore(ctx.catalog.engine)
        apply_channel_files(store, [files / "real.toml"], now=NOW - timedelta(days=1))
        build_all(store, first_day=(NOW - timedelta(days=1)).date(), days=2, now=NOW - timedelta(days=1))
        return Library(settings=settings, programme_id=done[1].asset_id)


@pytest.fixture
def catalog(library: Library) -> Iterator[Catalog]:
    engine = make_engine(library.settings.database_url)
    yield Catalog(engine)
    engine.dispose()


@pytest.fixture
async def origins(library: Library, catalog: Catalog) -> AsyncIterator[tuple[RunningServer, RunningServer]]:
    """(with the fast lane, without it), over the same catalog and storage, at NOW."""
    servers = []
    for fast in (True, False):
        settings = library.settings.replace(live_fast_lane=fast)
        app = origin_app(settings, catalog, LocalStorage(Path(settings.storage)), FixedClock(NOW))
        servers.append(await start_server(app, host="127.0.0.1", port=0))
    try:
        yield servers[0], servers[1]
    finally:
        for server in servers:
            await server.stop()


async def fetch(session: aiohttp.ClientSession, url: str) -> tuple[int, dict[str, str], bytes]:
    async with session.get(url) as response:
        return response.status, dict(response.headers), await response.read()


def first_video_pts_and_length(ffmpeg: str, path: Path) -> tuple[int, int]:
    """The first video PTS (90 kHz) and how long the video lasts, in ticks (frames x 3,600)."""
    video = demux(ffmpeg, path).of(VIDEO)
    return min(p.pts for p in video), len(video) * TICKS // 25


async def test_a_missing_segment_on_air_is_answered_with_the_slate(
    library: Library,
    origins: tuple[RunningServer, RunningServer],
    ffmpeg: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    storage = Path(library.settings.storage)
    fast, usual = origins
    async with aiohttp.ClientSession() as session:
        status, _, body = await fetch(session, fast.url + PLAYLIST)
        assert status == 200
        live = m3u8.loads(body.decode())
        ours = [s.uri for s in live.segments if f"/assets/{library.programme_id}/" in s.uri]
        assert len(ours) >= 4, live.dumps()  # the programme airs over and over
        uri = ours[-2]
        _, _, aired_at, _, key = uri.split("/", 4)  # /air/{start_us}/{cut}/{key}
        stored = storage / key
        stored.unlink(missing_ok=True)  # the first parametrisation of a rerun may have deleted it already
        caplog.set_level(logging.WARNING, logger="rcmedia.playout.missing_segments")

        answers = {}
        for name, server in (("fast lane", fast), ("usual path", usual)):
            await fetch(session, server.url + PLAYLIST)  # the lane answers from a connection's 2nd request on
            answers[name] = await fetch(session, server.url + uri)
            answers[name + " again"] = await fetch(session, server.url + uri)
    for name, (status, headers, data) in answers.items():
        assert status == 200, name
        assert headers["Content-Type"] == "video/mp2t", name
        assert "immutable" not in headers["Cache-Control"], "the file may come back"
        assert data == answers["fast lane"][2], "the same stand-in everywhere"
    assert isinstance(fast.runner, FastLaneRunner)

    stand_in = tmp_path / "stand_in.ts"
    stand_in.write_bytes(answers["fast lane"][2])
    assert decode_errors(ffmpeg, stand_in) == ""
    start, length = first_video_pts_and_length(ffmpeg, stand_in)
    assert length == 2 * TICKS  # the segment's 2 s
    assert start == air_ticks(int(aired_at))  # at its place on the channel's clock
    # logged once per origin (two origins), counted every time
    warnings = [r for r in caplog.records if key in r.getMessage()]
    assert len(warnings) == 2
    missing = fast.runner.app[MISSING_KEY]
    assert (missing.count.requests, missing.count.segments) == (2, 1)


async def test_the_as_run_log_records_the_stand_in_on_each_airing(
    library: Library, origins: tuple[RunningServer, RunningServer], catalog: Catalog
) -> None:
    storage = LocalStorage(Path(library.settings.storage))
    store = ScheduleStore(catalog.engine)
    asrun = AsRunLog(catalog.engine)
    (channel,) = load_channels(store)
    airings = [
        e
        for e in store.events(
            "real", Output.IPTV, start=NOW - timedelta(minutes=10), end=NOW + timedelta(minutes=2)
        )
        if e.asset_id == library.programme_id and e.end <= NOW + timedelta(minutes=2)
    ]
    programme = catalog.get_asset(library.programme_id)
    rendition = programme.renditions[0]  # 180p: a 320x180 source is never upscaled
    key = f"{programme.storage_prefix}/{rendition.name}/{rendition.segments[2]}"
    (storage.root / key).unlink(missing_ok=True)
    async with aiohttp.ClientSession() as session:
        # a viewer of this airing, then one of the next (the same URI: the same segment)
        status, _, _ = await fetch(session, f"{origins[1].url}/media/{key}")
        assert status == 200

    close_channel(store, asrun, storage, channel, Output.IPTV, now=NOW + timedelta(minutes=2))
    entries = asrun.entries(
        "real", Output.IPTV, start=NOW - timedelta(minutes=10), end=NOW + timedelta(minutes=2)
    )
    noted = {e.scheduled_start: e.substitution or "" for e in entries}
    reason = (
        f"segment 2 of asset {library.programme_id} missing from storage: slate stood in ({rendition.name})"
    )
    # found missing at NOW: the airings that ended since NOW - 2 min (the live reach) were missing
    # it, the earlier ones were not
    reached = [a for a in airings if a.end > NOW - timedelta(minutes=2)]
    earlier = [a for a in airings if a.end <= NOW - timedelta(minutes=2)]
    assert len(reached) >= 2
    assert earlier
    assert all(reason in noted[a.start] for a in reached), [noted[a.start] for a in reached]
    assert not any(reason in noted[a.start] for a in earlier)


async def test_a_missing_key_of_no_published_segment_stays_404(
    library: Library, origins: tuple[RunningServer, RunningServer], catalog: Catalog
) -> None:
    programme = catalog.get_asset(library.programme_id)
    prefix, rung = programme.storage_prefix, programme.renditions[0].name
    segment = programme.renditions[0].segments[0]
    async with aiohttp.ClientSession() as session:
        for path in (
            f"/media/{prefix}/{rung}/9{segment}",  # not in the rendition
            f"/media/{prefix}/999p/{segment}",  # no such rendition
            f"/media/assets/424242/nothing/{rung}/{segment}",  # no such package
            f"/media/{prefix}/{rung}/init.mp4",  # not a segment
        ):
            for server in origins:
                status, _, body = await fetch(session, server.url + path)
                assert status == 404, (path, body)
