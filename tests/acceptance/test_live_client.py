"""A real client on a real channel: the bundled ffmpeg reads the live stream across splices, and a
past hour's catch-up is exactly what the as-run log says aired.

The channel (快频道, see conftest) airs 4-second programmes of real media made and ingested by
ffmpeg on the "tiny" ladder (2 s segments): a splice every other segment.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import m3u8
import pytest
from aiohttp import ClientSession

from rcmedia.catalog.asrun import AsRunLog
from rcmedia.catalog.repository import Catalog
from rcmedia.catalog.schedules import ScheduleStore
from rcmedia.core.models import Output
from rcmedia.ingest.context import IngestContext
from rcmedia.playout.asrun import close_asrun
from rcmedia.storage.local import LocalStorage
from tests.acceptance.conftest import Serve, put_short_channel_on_air
from tests.integration.web.schedules import FixedClock

pytestmark = pytest.mark.slow

ASSET_IN_URI = re.compile(r"/assets/(\d+)/")


def complaints(log: str) -> list[str]:
    """ffmpeg's warnings and errors. Every segment is served on the channel's one clock with its
    continuity counters running on and its audio cut to its pictures (rcmedia.playout.aired), so
    a splice gives it nothing to say: no "Packet corrupt", no timestamp discontinuity, no overlap."""
    return [
        line
        for line in log.splitlines()
        if re.search(r"warning|error|invalid|corrupt|discard|discontinuity|monoton", line, re.IGNORECASE)
    ]


@pytest.fixture
async def on_air_now(ingest_ctx: IngestContext, catalog: Catalog, tmp_path: Path) -> datetime:
    now = datetime.now(UTC)
    await asyncio.to_thread(put_short_channel_on_air, ingest_ctx, catalog, tmp_path, now)
    return now


async def test_ffmpeg_reads_the_live_channel_across_splices(
    on_air_now: datetime, serve: Serve, ingest_ctx: IngestContext
) -> None:
    base = await serve()  # the system clock: live is now
    process = await asyncio.create_subprocess_exec(
        ingest_ctx.ffmpeg,
        "-hide_banner",
        "-loglevel",
        "info",
        "-i",
        f"{base}/live/kuai/iptv/master.m3u8",
        "-map",
        "0:v:0",
        "-map",
        "0:a:0",
        "-t",
        "16",
        "-f",
        "null",
        "-",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    log = stderr.decode(errors="replace")

    assert process.returncode == 0, log[-3000:]
    opened = re.findall(r"Opening '([^']+\.ts)' for reading", log)
    assets = [m.group(1) for uri in opened if (m := ASSET_IN_URI.search(uri))]
    changes = sum(1 for a, b in itertools.pairwise(assets) if a != b)
    assert changes >= 3, opened  # at least three splices crossed
    assert complaints(log) == [], log[-3000:]
    frames = [int(n) for n in re.findall(r"frame=\s*(\d+)", log)]
    assert frames[-1] >= 0.97 * 16 * 25, frames  # 16 s of 25 fps pictures, none lost at the splices


async def test_a_past_hours_catch_up_is_the_as_run_log_segment_for_segment(
    on_air_now: datetime, serve: Serve, catalog: Catalog, storage: LocalStorage, ingest_ctx: IngestContext
) -> None:
    later = on_air_now + timedelta(hours=2)  # an hour and more of the channel has aired by then
    base = await serve(clock=FixedClock(later))
    asrun = AsRunLog(catalog.engine)
    await asyncio.to_thread(close_asrun, ScheduleStore(catalog.engine), asrun, storage, now=later)
    rows = [
        r
        for r in asrun.entries("kuai", Output.IPTV, start=later - timedelta(hours=1), end=later)
        if r.end <= later
    ]
    start, end = rows[0].actual_start, rows[-1].end
    utc, duration = int(start.timestamp()), int((end - start).total_seconds())
    assert start.timestamp() == utc  # programmes start on whole seconds here
    assert duration >= 3500

    async with (
        ClientSession() as session,
        session.get(f"{base}/catchup/kuai/iptv/180p.m3u8?utc={utc}&duration={duration}") as response,
    ):
        text = await response.text()
        assert response.status == 200, text
    replay = m3u8.loads(text)

    assert replay.playlist_type == "vod"
    assert replay.is_endlist
    groups: list[list[m3u8.Segment]] = []
    for segment in replay.segments:
        if segment.discontinuity or not groups:
            groups.append([])
        groups[-1].append(segment)
    aired = [
        (
            int(m.group(1)) if (m := ASSET_IN_URI.search(g[0].uri)) else None,
            g[0].program_date_time,
            round(sum(s.duration for s in g), 3),
        )
        for g in groups
    ]
    assert aired == [(r.asset_id, r.actual_start, round(r.duration_us / 1e6, 3)) for r in rows]

    # and a client plays the first two minutes of it without an error
    process = await asyncio.create_subprocess_exec(
        ingest_ctx.ffmpeg,
        "-hide_banner",
        "-loglevel",
        "error",
        "-i",
        f"{base}/catchup/kuai/iptv/master.m3u8?utc={utc}&duration=120",
        "-f",
        "null",
        "-",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, stderr.decode(errors="replace")
    assert complaints(stderr.decode(errors="replace")) == []
