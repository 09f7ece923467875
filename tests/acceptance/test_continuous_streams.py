"""Real clients across splices of a channel that splices every few seconds (拼接频道, see
spliced_channel.py): the bundled ffmpeg, streamlink and hls.js in chromium.

The contract (the origin's "continuous" segments): every segment a live or catch-up playlist lists
is served from ``/air/{start_us}/{cut}/{storage key}``, rewritten onto one channel clock, so that
PTS/DTS/PCR (MPEG-TS) or ``tfdt`` (fMP4) keep increasing and MPEG-TS continuity counters go on
across every segment boundary, and audio is cut or filled to the pictures at a splice. The default
playlists still mark splices with ``EXT-X-DISCONTINUITY``; the ``continuous/`` ones carry none, for
clients that do not honour it (streamlink: "Encountered a stream discontinuity").
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import itertools
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import m3u8
import pytest
from aiohttp import ClientSession
from playwright.async_api import Page
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from rcmedia.catalog.db import make_engine, upgrade
from rcmedia.catalog.repository import Catalog
from rcmedia.config import Settings
from rcmedia.media.ffmpeg import ffmpeg_binary
from rcmedia.storage.local import LocalStorage
from rcmedia.web.static_files import HLS_JS, STATIC_ROOT
from tests.acceptance import stream_checks
from tests.acceptance.conftest import make_ingest_ctx, origin
from tests.acceptance.spliced_channel import CHANNEL, put_spliced_channel_on_air
from tests.conftest import require_system, settings_in
from tests.integration.web.schedules import FixedClock

pytestmark = pytest.mark.slow

OUTPUT = "iptv"
REPLAY_SECONDS = 180
MIN_SPLICES = 10  # in REPLAY_SECONDS
AIR_URI = re.compile(r"^(?:https?://[^/]+)?/air/(\d+)/(join|in|out|inout)/(?:[^?#]*/)?assets/\d+/")
MAP_URI = re.compile(r'#EXT-X-MAP:URI="(?:https?://[^/]+)?/media/[^"]*init\.mp4"')
# ffmpeg's HLS reader hands each EXT-X-MAP (one per splice) to the same mov demuxer, which reads the
# first and skips the others with this warning (libavformat/mov.c): same ladder, same tracks, so
# nothing is lost; it says nothing about the segments.
FMP4_MAP_AGAIN = "Found duplicated MOOV Atom. Skipped it"
# ffmpeg 9's HLS reader, given a master of fMP4 renditions and asked for one rendition only (the
# others discarded), flags a packet of the first segment "corrupt" for some segment sizes; it does
# so on ffmpeg's own untouched VOD packaging too, and with -map 0 or Debian's ffmpeg 5.1 it does
# not. The packet's bytes are the same as read from the rendition's playlist alone: the test
# compares them (same_packets_alone) before it lets the warning pass.
FMP4_SPURIOUS_CORRUPT = "Packet corrupt ("


@dataclass(frozen=True, kw_only=True, slots=True)
class OnAir:
    """The spliced channel ingested and built on one profile; ``replay`` is 3 minutes that aired."""

    settings: Settings
    catalog: Catalog
    storage: LocalStorage
    profile: str
    replay_utc: int
    replay_clock: datetime  # a few minutes after the replay's end

    def origin(self) -> Any:
        return origin(self.settings, self.catalog, self.storage, self.profile)


def _on_air(profile: str, folder: Path) -> Iterator[OnAir]:
    settings = settings_in(folder)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    catalog = Catalog(engine)
    storage = LocalStorage(Path(settings.storage))
    started = datetime.now(UTC).replace(microsecond=0)
    put_spliced_channel_on_air(
        make_ingest_ctx(settings, catalog, storage, profile), catalog, folder, started - timedelta(minutes=10)
    )
    yield OnAir(
        settings=settings,
        catalog=catalog,
        storage=storage,
        profile=profile,
        replay_utc=int((started - timedelta(minutes=7)).timestamp()),
        replay_clock=started,
    )
    engine.dispose()


@pytest.fixture(scope="module")
def spliced_ts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OnAir]:
    """One ingest on "tiny" (MPEG-TS) shared by the module's tests."""
    yield from _on_air("tiny", tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def spliced_fmp4(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OnAir]:
    """One ingest on "tiny_fmp4" shared by the module's tests."""
    yield from _on_air("tiny_fmp4", tmp_path_factory.mktemp("tiny_fmp4"))


@pytest.fixture(
    scope="module", params=[pytest.param("spliced_ts", id="mpegts"), pytest.param("spliced_fmp4", id="fmp4")]
)
def spliced(request: pytest.FixtureRequest) -> OnAir:
    on_air: OnAir = request.getfixturevalue(request.param)
    return on_air


VARIANTS = [pytest.param("", id="default"), pytest.param("continuous/", id="continuous")]


# --- what the playlists list ------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Rendition:
    uri: str
    text: str
    playlist: m3u8.M3U8
    bodies: list[bytes]
    inits: list[bytes]  # per segment, its EXT-X-MAP's body (fMP4)

    @property
    def uris(self) -> list[str]:
        return [s.uri for s in self.playlist.segments]

    def splices(self) -> list[bool]:
        return stream_checks.splice_marks(self.uris, [s.discontinuity for s in self.playlist.segments])


async def _get(session: ClientSession, url: str) -> bytes:
    async with session.get(url) as response:
        body = await response.read()
        assert response.status == 200, f"{url}: {response.status} {body[:200]!r}"
        return body


async def download(master_url: str) -> list[Rendition]:
    """Every rendition of a master playlist with all its segments (and init segments)."""
    renditions = []
    async with ClientSession() as session:
        master = m3u8.loads((await _get(session, master_url)).decode())
        assert master.is_variant, master.dumps()
        limit = asyncio.Semaphore(8)

        async def fetch(url: str) -> bytes:
            async with limit:
                return await _get(session, url)

        for variant in master.playlists:
            uri = urljoin(master_url, variant.uri)
            text = (await _get(session, uri)).decode()
            playlist = m3u8.loads(text)
            bodies = await asyncio.gather(*(fetch(urljoin(uri, s.uri)) for s in playlist.segments))
            maps = {s.init_section.uri for s in playlist.segments if s.init_section is not None}
            init_bodies = dict(
                zip(maps, await asyncio.gather(*(fetch(urljoin(uri, m)) for m in maps)), strict=True)
            )
            inits = [
                init_bodies[s.init_section.uri] if s.init_section is not None else b""
                for s in playlist.segments
            ]
            renditions.append(
                Rendition(uri=uri, text=text, playlist=playlist, bodies=list(bodies), inits=inits)
            )
    return renditions


def stream_problems(profile: str, rendition: Rendition) -> list[str]:
    splices = rendition.splices()
    if profile == "tiny":
        return stream_checks.check_ts(rendition.bodies, splices, rendition.uris)
    pairs = list(zip(rendition.inits, rendition.bodies, strict=True))
    return stream_checks.check_fmp4(pairs, splices, rendition.uris)


def playlist_problems(rendition: Rendition, *, continuous: bool) -> list[str]:
    """The contract's playlist shape: /air/ URIs; discontinuities at splices only in the default."""
    problems = [f"not an /air/ URI: {uri}" for uri in rendition.uris if not AIR_URI.match(uri)]
    marked = sum(s.discontinuity for s in rendition.playlist.segments)
    splices = sum(rendition.splices())
    if continuous and marked:
        problems.append(f"{marked} EXT-X-DISCONTINUITY tags in a continuous playlist")
    if not continuous and marked < splices:
        problems.append(f"{marked} EXT-X-DISCONTINUITY tags for {splices} splices")
    maps = rendition.text.count("#EXT-X-MAP:")
    if maps and (maps < splices or len(MAP_URI.findall(rendition.text)) != maps):
        problems.append(f"{maps} EXT-X-MAP tags (a /media/…/init.mp4 at each splice) for {splices} splices")
    return problems


# --- the bundled ffmpeg on a 3-minute replay ---------------------------------------------------------


async def _fetch(url: str) -> bytes:
    async with ClientSession() as session:
        return await _get(session, url)


async def packets(url: str) -> list[str]:
    """Every packet of the first video and audio streams ffmpeg reads from ``url``: size and CRC."""
    process = await asyncio.create_subprocess_exec(
        ffmpeg_binary(),
        *("-hide_banner", "-nostdin", "-loglevel", "error", "-i", url),
        *("-map", "0:v:0", "-map", "0:a:0", "-c", "copy", "-f", "framecrc", "-"),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=180)
    assert process.returncode == 0
    return [line for line in out.decode().splitlines() if not line.startswith("#")]


@pytest.mark.parametrize("variant", VARIANTS)
async def test_ffmpeg_copies_and_decodes_three_minutes_of_splices(
    spliced: OnAir, variant: str, tmp_path: Path
) -> None:
    async with spliced.origin() as serve:
        base = await serve(clock=FixedClock(spliced.replay_clock))
        query = f"utc={spliced.replay_utc}&duration={REPLAY_SECONDS}"
        master = f"{base}/catchup/{CHANNEL}/{OUTPUT}/{variant}master.m3u8?{query}"
        renditions = await download(master)

        copy = (
            ["-f", "mpegts"]
            if spliced.profile == "tiny"
            else ["-f", "mp4", "-movflags", "frag_keyframe+empty_moov"]
        )
        process = await asyncio.create_subprocess_exec(
            ffmpeg_binary(),
            "-hide_banner",
            "-nostdin",
            "-loglevel",
            "level+info",
            "-i",
            master,
            *("-map", "0:v:0", "-map", "0:a:0", "-c", "copy", *copy, str(tmp_path / "copy")),
            *("-map", "0:v:0", "-map", "0:a:0", "-f", "null", "-"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=180)
        log = stderr.decode(errors="replace")
        spurious = spliced.profile != "tiny" and FMP4_SPURIOUS_CORRUPT in log
        if spurious:
            first = urljoin(master, m3u8.loads((await _fetch(master)).decode()).playlists[0].uri)
            assert await packets(master) == await packets(first), "a packet flagged corrupt differs"

    assert process.returncode == 0, log[-3000:]
    complaints = [
        line
        for line in stream_checks.ffmpeg_complaints(log)
        if FMP4_MAP_AGAIN not in line and not (spurious and FMP4_SPURIOUS_CORRUPT in line)
    ]
    problems = [f"ffmpeg: {line}" for line in complaints]
    frames = [int(n) for n in re.findall(r"frame=\s*(\d+)", log)]
    if not frames or frames[-1] < 0.97 * REPLAY_SECONDS * 25:
        problems.append(f"ffmpeg decoded {frames[-1:]} frames of {REPLAY_SECONDS} s at 25 fps")
    for rendition in renditions:
        if sum(rendition.splices()) < MIN_SPLICES:
            problems.append(f"{rendition.uri}: {sum(rendition.splices())} splices")
        found = playlist_problems(rendition, continuous=bool(variant))
        found += stream_problems(spliced.profile, rendition)
        problems += [f"{rendition.uri.rsplit('/', 1)[-1]} {line}" for line in found]
    assert problems == [], f"{len(problems)} problems ({len(complaints)} from ffmpeg):\n" + "\n".join(
        problems[:60]
    )


async def test_the_channel_splices_programmes_and_slate_pieces(spliced: OnAir) -> None:
    """The test channel itself, on today's default playlists: ≥10 splices in 3 minutes, among them
    programme → slate and slate → programme, the slate in pieces from the middle of its asset."""
    async with spliced.origin() as serve:
        base = await serve(clock=FixedClock(spliced.replay_clock))
        query = f"utc={spliced.replay_utc}&duration={REPLAY_SECONDS}"
        async with ClientSession() as session:
            text = (await _get(session, f"{base}/catchup/{CHANNEL}/{OUTPUT}/180p.m3u8?{query}")).decode()
    replay = m3u8.loads(text)
    uris = [s.uri for s in replay.segments]
    assets = [stream_checks.asset_of(uri) for uri in uris]
    splices = stream_checks.splice_marks(uris, [s.discontinuity for s in replay.segments])
    slate = min(a for a in assets if a is not None)  # ingested first
    into_slate = sum(1 for a, b in itertools.pairwise(assets) if a != slate and b == slate)
    out_of_slate = sum(1 for a, b in itertools.pairwise(assets) if a == slate and b != slate)
    slate_segments = {uri.rsplit("/", 1)[-1] for uri, a in zip(uris, assets, strict=True) if a == slate}

    assert sum(splices) >= MIN_SPLICES, text
    assert sum(s.discontinuity for s in replay.segments) == sum(splices), text
    assert into_slate >= 2, text
    assert out_of_slate >= 2, text
    assert "seg_00000.ts" not in slate_segments, slate_segments  # pieces from its middle
    assert "seg_00000.m4s" not in slate_segments, slate_segments


def packaged(on_air: OnAir, asset_id: int, rung: str = "180p") -> tuple[list[bytes], list[bytes], list[str]]:
    """An asset's packaged segments of one rung as ingest stored them: (inits, bodies, names)."""
    (folder,) = (Path(on_air.settings.storage) / "assets" / str(asset_id)).glob(f"*/{rung}")
    paths = sorted(p for p in folder.iterdir() if p.name.startswith("seg_"))
    init = (folder / "init.mp4").read_bytes() if (folder / "init.mp4").exists() else b""
    return [init] * len(paths), [p.read_bytes() for p in paths], [f"{asset_id}/{p.name}" for p in paths]


def test_the_checkers_pass_one_asset_and_see_a_raw_splice(spliced: OnAir) -> None:
    """The checkers themselves, on the stored packages: one asset's segments in a row are right;
    two programmes back to back as packaged (timestamps and counters restarting) are not."""
    programmes = [packaged(spliced, asset_id) for asset_id in (2, 3, 4)]  # 1 is the slate

    def problems(inits: list[bytes], bodies: list[bytes], names: list[str], splices: list[bool]) -> list[str]:
        if spliced.profile == "tiny":
            return stream_checks.check_ts(bodies, splices, names)
        return stream_checks.check_fmp4(list(zip(inits, bodies, strict=True)), splices, names)

    for inits, bodies, names in programmes:
        assert problems(inits, bodies, names, [False] * len(bodies)) == [], names
    (i1, b1, n1), (i2, b2, n2) = programmes[0], programmes[1]
    found = problems(i1 + i2, b1 + b2, n1 + n2, [False] * len(b1) + [True] + [False] * (len(b2) - 1))
    assert found, n1 + n2
    assert all(line.startswith(n2[0]) for line in found), found  # all at the splice
    expected = ("continuity counter", "first PTS", "PCR") if spliced.profile == "tiny" else ("tfdt",)
    for what in expected:
        assert any(what in line for line in found), (what, found)


def test_the_meeting_check_measures_a_frame_of_audio() -> None:
    frame = 1024 / 48000
    video = {"video_start": 10.0, "video_end": 13.0}
    met = stream_checks.Span(**video, audio_start=10.0 - frame, audio_end=13.0 + frame)
    missed = stream_checks.Span(**video, audio_start=10.0 - 1.5 * frame, audio_end=13.0 - 1.5 * frame)
    names = ["a", "b"]
    assert stream_checks.check_meeting([met, met], [False, True], names) == []
    assert len(stream_checks.check_meeting([missed, missed], [False, True], names)) == 2
    assert stream_checks.check_meeting([missed, missed], [False, False], names) == []


# --- streamlink records the live continuous variant --------------------------------------------------

RECORD_SECONDS = 60.0


def require_streamlink() -> None:
    require_system(
        "streamlink (Python package)",
        importlib.util.find_spec("streamlink") is not None,
        "pip install -e '.[test]'",
    )


def video_pts_span(data: bytes) -> tuple[float, float]:
    """(first, last) video PTS in seconds of whole MPEG-TS packets, unwrapped in file order."""
    whole = data[: len(data) - len(data) % stream_checks.TS_PACKET]
    segment = stream_checks.read_ts(whole)
    pts = [p.pts for p in segment.pes if 0xE0 <= p.stream_id <= 0xEF and p.pts is not None]
    unwrapped: list[int] = []
    for value in pts:
        unwrapped.append(value if not unwrapped else stream_checks.unwrap(value, unwrapped[-1]))
    return unwrapped[0] / stream_checks.HZ, max(unwrapped) / stream_checks.HZ


async def test_streamlink_records_a_minute_of_the_live_continuous_channel(
    spliced_ts: OnAir, tmp_path: Path
) -> None:
    """streamlink sees no discontinuity and writes as much media as time passes: the recording's
    content (first to last video PTS) grows with the wall clock, within a second over a minute.

    Content arrives a segment at a time, up to one playlist reload (≥ 1 s in streamlink) after it
    is published, so single instants are compared by the median lag of the first and last 15 s."""
    require_streamlink()
    recording = tmp_path / "live.ts"
    async with spliced_ts.origin() as serve:
        base = await serve()  # the system clock: live is now
        url = f"{base}/live/{CHANNEL}/{OUTPUT}/continuous/master.m3u8"
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "streamlink",
            "--loglevel",
            "warning",
            "--hls-live-edge",
            "2",
            "--force",
            "-o",
            str(recording),
            url,
            "best",
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        lags: list[tuple[float, float]] = []  # (wall, wall - content) after each write
        started: float | None = None
        size = 0
        deadline = time.monotonic() + RECORD_SECONDS + 30
        while time.monotonic() < deadline and process.returncode is None:
            await asyncio.sleep(0.1)
            grown = recording.stat().st_size if recording.exists() else 0
            if grown == size:
                continue
            await asyncio.sleep(0.2)  # the rest of the segment
            size = recording.stat().st_size
            now = time.monotonic()
            first, last = video_pts_span(recording.read_bytes())
            started = now if started is None else started
            lags.append((now - started, (now - started) - (last - first)))
            if now - started >= RECORD_SECONDS:
                break
        with contextlib.suppress(ProcessLookupError):  # it may have given up already
            process.send_signal(signal.SIGINT)
        output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    said = output.decode(errors="replace")

    assert started is not None, said
    assert "discontinuity" not in said.lower(), said
    assert not re.search(r"\[(warning|error)\]", said), said
    wall = lags[-1][0]
    assert wall >= RECORD_SECONDS, lags
    first, last = video_pts_span(recording.read_bytes())
    early = sorted(lag for at, lag in lags if at <= 15)
    late = sorted(lag for at, lag in lags if at >= wall - 15)
    drift = late[len(late) // 2] - early[len(early) // 2]
    assert abs(drift) <= 1.0, (f"content {last - first:.2f} s in {wall:.2f} s", lags)
    problems = stream_checks.check_ts_continuity([recording.read_bytes()], ["the recording"])
    assert problems == [], problems[:20]


# --- hls.js in chromium plays the live channel -------------------------------------------------------

WATCH_SECONDS = 30.0
MIN_SPLICES_WATCHED = 5

PLAYER = """<!doctype html>
<meta charset="utf-8">
<video id="video" muted autoplay playsinline></video>
<script src="/static/vendor/hls.min.js"></script>
<script>
  const seen = {ticks: [], events: [], errors: [], fragments: []};
  window.seen = seen;
  const video = document.getElementById("video");
  const hls = new Hls();
  hls.on(Hls.Events.ERROR, (_, data) => seen.errors.push(`${data.type} ${data.details} fatal=${data.fatal}`));
  hls.on(Hls.Events.FRAG_CHANGED, (_, data) => seen.fragments.push(data.frag.url));
  for (const name of ["waiting", "stalled"]) {
    video.addEventListener(name, () => seen.events.push([name, performance.now() / 1000, video.currentTime]));
  }
  hls.on(Hls.Events.MANIFEST_PARSED, () => video.play());
  hls.loadSource(MASTER);
  hls.attachMedia(video);
  setInterval(() => seen.ticks.push([performance.now() / 1000, video.currentTime, video.paused]), 200);
</script>
"""


async def watch(page: Page, base: str, master: str, name: str) -> dict[str, Any]:
    """Open a bare hls.js player on ``master`` and let it play WATCH_SECONDS once it has started."""
    url = f"{base}/__{name}.html"  # on the origin's host, so hls.js loads the playlists same-origin
    await page.route(
        url,
        lambda route: route.fulfill(content_type="text/html", body=PLAYER.replace("MASTER", repr(master))),
    )
    await page.goto(url)
    try:
        await page.wait_for_function("window.seen.ticks.some(t => t[1] > 0)", timeout=30_000)
    except PlaywrightTimeoutError:
        pass  # playback_problems says it never started, with hls.js's errors
    else:
        await asyncio.sleep(WATCH_SECONDS)
    seen: dict[str, Any] = await page.evaluate("window.seen")
    return seen


def playback_problems(seen: dict[str, Any], *, any_stall: bool = True) -> list[str]:
    """What went wrong: a fatal error, ``currentTime`` standing still over a second while playing,
    too little played or too few splices crossed; with ``any_stall``, also any stall hls.js reports
    (its other recoveries, a nudge or seek over a hole in the buffer, follow a stall)."""
    ticks = [t for t in seen["ticks"] if t[1] > 0]
    problems = [
        f"hls.js error: {e}" for e in seen["errors"] if "fatal=true" in e or (any_stall and "Stalled" in e)
    ]
    if not ticks:
        return [*problems, "playback never started"]
    watched = ticks[-1][0] - ticks[0][0]
    played = ticks[-1][1] - ticks[0][1]
    if played < watched - 2:
        problems.append(f"played {played:.1f} s in {watched:.1f} s")
    still_since = ticks[0]
    for tick in ticks[1:]:
        if tick[1] != still_since[1] or tick[2]:
            still_since = tick
        elif tick[0] - still_since[0] > 1.0:
            problems.append(f"stood still at {tick[1]:.2f} s for {tick[0] - still_since[0]:.1f} s")
            still_since = tick
    assets = [stream_checks.asset_of(url) for url in seen["fragments"]]
    crossed = sum(1 for a, b in itertools.pairwise(assets) if a != b)
    if crossed < MIN_SPLICES_WATCHED:
        problems.append(f"crossed {crossed} splices: {seen['fragments']}")
    return problems


@pytest.mark.parametrize(
    "on_air", [pytest.param("spliced_ts", id="mpegts"), pytest.param("spliced_fmp4", id="fmp4")]
)
async def test_hls_js_plays_the_live_channel_across_splices(
    on_air: str, request: pytest.FixtureRequest, chromium_page: Page
) -> None:
    """Both variants side by side in one browser, each for WATCH_SECONDS."""
    require_system(
        "hls.js (rcmedia/web/static/vendor/hls.min.js)",
        (STATIC_ROOT / HLS_JS).is_file(),
        "run make: it installs hls.js with npm",
    )
    spliced: OnAir = request.getfixturevalue(on_air)
    other = await chromium_page.context.new_page()
    async with spliced.origin() as serve:
        base = await serve()  # the system clock: live is now
        default, continuous = await asyncio.gather(
            watch(chromium_page, base, f"{base}/live/{CHANNEL}/{OUTPUT}/master.m3u8", "default"),
            watch(other, base, f"{base}/live/{CHANNEL}/{OUTPUT}/continuous/master.m3u8", "continuous"),
        )
    # The continuous variant plays without a stall of any length. The default one may stall briefly
    # at a splice in fMP4 (none over a second): hls.js ignores the init's edit list, so at each
    # EXT-X-DISCONTINUITY it places the next asset's pictures by their first composition time, 80 ms
    # (the B-frame delay) after their decode time, and leaves a hole it then seeks over
    # (hls.js #2468). Boxes and web players that meet this take the continuous variant.
    problems = [f"default: {p}" for p in playback_problems(default, any_stall=on_air == "spliced_ts")]
    problems += [f"continuous: {p}" for p in playback_problems(continuous)]
    assert problems == [], problems
