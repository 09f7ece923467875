"""Origin benchmark: live playlists and segments against nginx in the same run, and channel density.

On loopback, with wrk (``-t2 -c64 -d10s --latency``), over a generated catalog:

  playlists: ``GET /live/{channel}/iptv/360p.m3u8`` from ``rcmedia serve --workers 2`` against
             nginx serving the same bytes as a static file.
             Goal (playout issue): ≥ 0.35 × nginx's requests/s, and our p99 < 10 ms.
             Reference row: a bare aiohttp handler returning those bytes (2 processes, the origin's
             event loop), i.e. what aiohttp itself reaches on this machine.
  segments:  ``GET /media/…`` (a 360p segment: 6 s at 800 kbit/s video + 128 kbit/s audio, ~700 KB)
             from the same origin against nginx on the same file. Goal ≥ 0.75 × nginx.
  aired:     ``GET /air/…``, what the playlists list (the segment rewritten onto the channel's
             clock, rcmedia.playout.aired): the rewrite's cost, the first request of 40 airings
             (cold: rewrite, keep, send) and wrk on one already kept (warm) against nginx's row
             for the stored file. Goal warm ≥ 0.75 × nginx.
  density:   1,000 channels × 3 outputs live in one origin (one worker): the time to load every
             timeline, RSS once loaded, CPU while idle (goal < 5 %), a cached playlist over HTTP,
             and the playlist computation in this process (cache hit; uncached, with and without gzip).

The origin answers both hot requests in its fast lane (``rcmedia.web.fast_lane``: a cached
playlist or a plain segment GET is answered from the connection's protocol, before aiohttp's
request cycle); ``--no-fast-lane`` measures the usual aiohttp path instead.

Each row also gives the server's CPU time per request (its processes' utime + stime over the run),
which shared or noisy cores distort less than requests/s. The cores are shared by wrk and the
server under test (wrk, nginx and the origin never run their loads at the same time).

Debian's nginx and wrk are installed with apt-get when absent (needs root). The catalog lives in a
temporary home: published assets with real-sized segment files (hard links to a few random files
per rung, so 72,000 segments cost ~40 MB of disk), generated channel files applied and built for
today and tomorrow. nginx runs with ``worker_processes 2; sendfile on; tcp_nopush on;
access_log off;``. Takes about 5 minutes (2 cores): building the catalog ~45 s, the wrk runs
~1.5 min, loading 3,000 timelines ~2 min.

Usage: .venv/bin/python bench/origin.py [--channels 1000] [--workers 2] [--seconds 10]
       [--part all|throughput|density] [--keep DIR (build once, reuse on the next run)]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import math
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from rcmedia.bootstrap import open_context  # noqa: E402
from rcmedia.catalog.repository import Catalog  # noqa: E402
from rcmedia.catalog.schedules import ScheduleStore  # noqa: E402
from rcmedia.config import Settings, load_settings  # noqa: E402
from rcmedia.core.assets import Rendition  # noqa: E402
from rcmedia.core.models import AssetMetadata, Output  # noqa: E402
from rcmedia.core.profile import Profile  # noqa: E402
from rcmedia.core.timeline import us_of  # noqa: E402
from rcmedia.media.continuous import air_ticks, continuous_ts  # noqa: E402
from rcmedia.media.ffmpeg import ffmpeg_binary  # noqa: E402
from rcmedia.playout.live import LiveChannels  # noqa: E402
from rcmedia.profiles import load_profiles  # noqa: E402
from rcmedia.service.channels import apply_channel_files  # noqa: E402
from rcmedia.service.schedules import build_all  # noqa: E402
from rcmedia.storage.local import LocalStorage  # noqa: E402

SEGMENT_S = 6.0
PROGRAMME_SEGMENTS = 600  # one hour: the grid has a slot every hour, so no filler is needed
SERIES = tuple(f"系列{n}" for n in range(8))
EPISODES = 3
SLATE = (6.0,) * 10 + tuple(round(k * 0.04, 2) for k in range(1, 150))  # any gap fills to a frame
POOL = 4  # distinct random files per rung; every segment is a hard link to one of them
AUDIO_BPS = 128_000
PLAYLIST_OUTPUT, PLAYLIST_RUNG = Output.IPTV, "360p"
GOALS = {"playlist_ratio": 0.35, "playlist_p99_ms": 10.0, "segment_ratio": 0.75, "idle_cpu": 0.05}


# --- tools ---------------------------------------------------------------------------------------


def ensure_tools() -> tuple[str, str]:
    """nginx and wrk, installed from Debian's archive when absent."""
    path = f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin"  # nginx is in sbin, off a user's PATH

    def find() -> dict[str, str | None]:
        return {name: shutil.which(name, path=path) for name in ("nginx", "wrk")}

    found = find()
    missing = [name for name, where in found.items() if where is None]
    if missing:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "--no-install-recommends", *missing]
        print(f"installing {', '.join(missing)}: {' '.join(install)}", flush=True)
        print(
            "  (where an init system runs, Debian also starts its nginx service on port 80: "
            "`systemctl disable --now nginx` stops it; this benchmark runs its own nginx)",
            flush=True,
        )
        if subprocess.run(install, env=env, check=False).returncode != 0:
            print("  not found in the package lists; running apt-get update first", flush=True)
            subprocess.run(["apt-get", "update"], env=env, check=True)
            subprocess.run(install, env=env, check=True)
        found = find()
    nginx, wrk = found["nginx"], found["wrk"]
    if nginx is None or wrk is None:
        sys.exit("nginx and wrk are needed (apt-get install nginx wrk)")
    return nginx, wrk


# --- the catalog ---------------------------------------------------------------------------------


def segment_pool(folder: Path, profile: Profile) -> dict[str, list[Path]]:
    """A few real MPEG-TS files per rung (the origin rewrites what it airs, so it must be media),
    each 6 s at about the rung's bit rate: the bundled ffmpeg encodes a noisy test picture."""
    pool: dict[str, list[Path]] = {}
    ffmpeg = ffmpeg_binary()
    for rung in profile.rungs:
        files = []
        for n in range(POOL):
            path = folder / f"{rung.name}-{n}.ts"
            picture = f"testsrc2=size={rung.width}x{rung.height}:rate=25,noise=alls={20 + n}:allf=t"
            subprocess.run(
                [ffmpeg, "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", picture,
                 "-f", "lavfi", "-i", f"sine=frequency={300 + 100 * n}:sample_rate=48000",
                 "-t", f"{SEGMENT_S}", "-c:v", "libx264", "-preset", "ultrafast", "-b:v", str(rung.bitrate),
                 "-maxrate", str(rung.bitrate), "-bufsize", str(rung.bitrate), "-g", "50",
                 "-c:a", "aac", "-b:a", str(AUDIO_BPS), "-ac", "2", "-f", "mpegts", "-y", str(path)],
                check=True,
            )  # fmt: skip
            files.append(path)
        pool[rung.name] = files
    return pool


def publish_asset(
    catalog: Catalog,
    storage: LocalStorage,
    profile: Profile,
    pool: dict[str, list[Path]],
    *,
    title: str,
    series: str,
    episode: int | None,
    durations: tuple[float, ...],
    now: datetime,
) -> int:
    """Publish the way an ingest job does (create, claim, stage, publish, flip the row), without ffmpeg."""
    asset_id, job_id = catalog.create_ingest(
        AssetMetadata(title=title, series=series, episode=episode),
        original_filename=f"{title}.mp4",
        source_path=f"/bench/{title}.mp4",
        profile=profile.name,
        max_attempts=1,
        now=now,
    )
    job = catalog.claim_job(worker="bench", lease_seconds=600, now=now, job_id=job_id)
    assert job is not None
    prefix = f"assets/{asset_id}/bench"
    # straight into place: publishing through staging fsyncs every one of the 72,000 links (30 s)
    folder_of_asset = storage.root / prefix
    names = tuple(f"seg_{i:05d}.ts" for i in range(len(durations)))
    renditions = []
    for rung in profile.rungs:
        folder = folder_of_asset / rung.name
        folder.mkdir(parents=True)
        for i, name in enumerate(names):
            os.link(pool[rung.name][(asset_id + i) % POOL], folder / name)
        bandwidth = rung.bitrate + AUDIO_BPS
        renditions.append(
            Rendition(
                name=rung.name,
                width=rung.width,
                height=rung.height,
                bandwidth=math.ceil(bandwidth * 1.2),
                average_bandwidth=bandwidth,
                codecs="avc1.640028,mp4a.40.2",
                frame_rate=25.0,
                segments=names,
                segment_durations=durations,
            )
        )
    (folder_of_asset / "master.m3u8").write_text("#EXTM3U\n")  # availability checks for it
    catalog.publish(
        job_id=job_id,
        worker="bench",
        storage_prefix=prefix,
        duration=sum(durations),
        segment_type="mpegts",
        target_duration=math.ceil(max(durations)),
        renditions=renditions,
        now=now,
    )
    return asset_id


def channel_file(number: int) -> str:
    """A small grid: a one-hour programme at the top of every hour, from eight series in rotation."""
    slots = "".join(
        f'\n[[slot]]\nid = "h{hour:02d}"\nstart = "{hour:02d}:00"\n'
        f'series = "{SERIES[(hour + number) % len(SERIES)]}"\npolicy = "least_recent"\n'
        for hour in range(24)
    )
    return (
        f'slate_series = "slate"\n\n[channel]\nid = "{channel_id(number)}"\nname = "频道 {number}"\n'
        f'number = {number}\ntimezone = "Asia/Shanghai"\noutputs = ["tv", "iptv", "mobile"]\n'
        f'catchup_days = 1\nday_start = "06:00"\n\n[filler]\nseries = ["宣传片"]\n{slots}'
    )


def channel_id(number: int) -> str:
    return f"b{number:04d}"


def bench_settings(home: Path) -> Settings:
    return load_settings(
        environ={},
        cwd=home,
        overrides={
            "home": str(home / "var"),
            "profiles_dir": str(ROOT / "transcode_profiles"),
            "playlists_dir": str(home / "playlists"),
            "hot_folder": str(home / "hot"),
            "schedule_days": 2,
        },
    )


def build_catalog(home: Path, channels: int) -> Settings:
    settings = bench_settings(home)
    now = datetime.now(UTC)
    with open_context(settings) as ictx:
        storage = ictx.storage
        assert isinstance(storage, LocalStorage)
        profile = ictx.profiles[settings.profile]
        pool_dir = home / "pool"
        pool_dir.mkdir()
        pool = segment_pool(pool_dir, profile)
        started = time.perf_counter()

        def publish(title: str, series: str, episode: int | None, durations: tuple[float, ...]) -> None:
            publish_asset(
                ictx.catalog,
                storage,
                profile,
                pool,
                title=title,
                series=series,
                episode=episode,
                durations=durations,
                now=now,
            )

        publish("台标", "slate", None, SLATE)
        publish("宣传片 A", "宣传片", None, (SEGMENT_S,) * 5)
        for series in SERIES:
            for episode in range(1, EPISODES + 1):
                publish(f"{series} 第{episode}集", series, episode, (SEGMENT_S,) * PROGRAMME_SEGMENTS)
        published = time.perf_counter()
        folder = settings.playlists_dir
        folder.mkdir(parents=True)
        paths = []
        for number in range(1, channels + 1):
            path = folder / f"{channel_id(number)}.toml"
            path.write_text(channel_file(number), encoding="utf-8")
            paths.append(path)
        store = ScheduleStore(ictx.catalog.engine)
        apply_channel_files(store, paths, now=now)
        built = build_all(store, first_day=None, days=2, now=now)
        events = sum(
            len(day.events) for outputs in built.values() for days in outputs.values() for day in days
        )
        print(
            f"catalog: {2 + len(SERIES) * EPISODES} assets x 5 rungs published in "
            f"{published - started:.1f} s; {channels} channels x 3 outputs applied and built for today "
            f"and tomorrow ({events} events) in {time.perf_counter() - published:.1f} s",
            flush=True,
        )
    return settings


# --- processes -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str, timeout: float = 10) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback only
        return bytes(response.read())


def wait_for(url: str, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None:
            sys.exit(f"{process.args!r} exited with status {process.returncode} before answering {url}")
        try:
            get(url, timeout=2)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


class Processes:
    """Child processes in their own process groups, all stopped on exit (the whole group)."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.running: list[subprocess.Popen[bytes]] = []

    def start(
        self,
        name: str,
        argv: list[str],
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        open_files: int | None = None,
    ) -> subprocess.Popen[bytes]:
        """``open_files``: the child's soft and hard RLIMIT_NOFILE (so it cannot raise it either)."""

        def limit() -> None:
            if open_files is not None:
                resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))

        with (self.logs / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(
                argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=env,
                cwd=cwd,
                preexec_fn=limit if open_files is not None else None,  # noqa: PLW1509 - setrlimit only
            )
        self.running.append(process)
        return process

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if process in self.running:
            self.running.remove(process)

    def stop_all(self) -> None:
        for process in list(self.running):
            self.stop(process)


def origin_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RCMEDIA_")}
    env.update(
        RCMEDIA_HOME=str(settings.home),
        RCMEDIA_PROFILES_DIR=str(settings.profiles_dir),
        RCMEDIA_PLAYLISTS_DIR=str(settings.playlists_dir),
        RCMEDIA_HOT_FOLDER=str(settings.hot_folder),
        RCMEDIA_SCHEDULE_DAYS="2",
        RCMEDIA_LOG_LEVEL="WARNING",
        RCMEDIA_LIVE_FAST_LANE="true" if settings.live_fast_lane else "false",
    )
    return env


def start_origin(
    processes: Processes,
    settings: Settings,
    name: str,
    workers: int,
    *,
    open_files: int | None = None,
    extra_env: dict[str, str] | None = None,
) -> tuple[subprocess.Popen[bytes], str]:
    """``rcmedia serve`` on a free loopback port, the EPG jobs left out (the catalog is built).

    ``open_files``: its RLIMIT_NOFILE, soft and hard; ``extra_env``: more environment (settings,
    or ``PYTHONPATH`` to serve another checkout).
    """
    port = free_port()
    argv = [sys.executable, "-m", "rcmedia", "serve", "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--workers", str(workers), "--no-scheduler"]
    env = {**origin_env(settings), **(extra_env or {})}
    process = processes.start(name, argv, env=env, cwd=settings.home.parent, open_files=open_files)
    base = f"http://127.0.0.1:{port}"
    wait_for(f"{base}/healthz", process)
    return process, base


NGINX_CONF = """\
{user}worker_processes 2;
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;  # as aiohttp: no reconnection every 1,000 requests
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    types {{ application/vnd.apple.mpegurl m3u8; video/mp2t ts; }}
    server {{
        listen 127.0.0.1:{port};
        location = /live.m3u8 {{ root {folder}; }}
        location /media/ {{ alias {storage}/; }}
    }}
}}
"""


def start_nginx(
    processes: Processes, nginx: str, folder: Path, storage: Path
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    # as root, nginx's workers would switch to "nobody", who may not read a private temp folder
    user = "user root root;\n" if os.geteuid() == 0 else ""
    conf = folder / "nginx.conf"
    conf.write_text(NGINX_CONF.format(user=user, folder=folder, port=port, storage=storage))
    process = processes.start("nginx", [nginx, "-p", str(folder), "-c", str(conf)])
    base = f"http://127.0.0.1:{port}"
    wait_for(f"{base}/live.m3u8", process)
    return process, base


# --- wrk -----------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Load:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    cpu_us: float  # CPU time of the server's processes per request (user + system)
    errors: str  # non-2xx answers and socket errors, as wrk reports them; empty when none


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def group_cpu_seconds(groups: Collection[int]) -> float:
    """utime + stime of every process in these process groups (servers and their workers)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) in groups:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def run_wrk(wrk: str, url: str, seconds: int, connections: int, servers: Collection[int]) -> Load:
    """wrk against ``url``; ``servers``: the process groups whose CPU is charged to the requests."""
    argv = [wrk, "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    cpu = group_cpu_seconds(servers)
    done = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=seconds + 60)
    cpu = group_cpu_seconds(servers) - cpu
    out = done.stdout
    requests = int(re.search(r"(\d+) requests in", out)[1])  # type: ignore[index]
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M)[1])  # type: ignore[index]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M)[1])  # type: ignore[index]
    errors = "; ".join(
        line.strip() for line in out.splitlines() if "Non-2xx" in line or "Socket errors" in line
    )
    return Load(
        requests_per_s=rate, p50_ms=p50, p99_ms=p99, cpu_us=cpu / max(1, requests) * 1e6, errors=errors
    )


def show(name: str, load: Load) -> None:
    errors = f"   ({load.errors})" if load.errors else ""
    print(
        f"  {name:<36} {load.requests_per_s:>9,.0f} req/s   p50 {load.p50_ms:6.2f} ms   "
        f"p99 {load.p99_ms:6.2f} ms   server CPU {load.cpu_us:6.0f} µs/request{errors}",
        flush=True,
    )


def verdict(met: bool) -> str:
    return "MET" if met else "NOT MET"


BARE_AIOHTTP = """
import asyncio, sys
from aiohttp import web
body = open(sys.argv[2], "rb").read()
async def answer(request):
    return web.Response(body=body, headers={"Content-Type": "application/vnd.apple.mpegurl"})
async def main():
    app = web.Application()
    app.router.add_get("/live.m3u8", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", int(sys.argv[1]), reuse_port=True).start()
    await asyncio.Event().wait()
try:  # the event loop the origin picks (rcmedia.web.workers.run_event_loop)
    from uvloop import new_event_loop
except ImportError:
    new_event_loop = None
with asyncio.Runner(loop_factory=new_event_loop) as runner:
    runner.run(main())
"""


def start_bare_aiohttp(processes: Processes, body: Path, count: int) -> tuple[list[int], str]:
    """The reference: a handler returning the same bytes, in ``count`` processes on the origin's
    event loop, without routes, middlewares or signals: the most aiohttp can do here."""
    port = free_port()
    started = [
        processes.start(f"bare-aiohttp-{n}", [sys.executable, "-c", BARE_AIOHTTP, str(port), str(body)])
        for n in range(count)
    ]
    base = f"http://127.0.0.1:{port}"
    for process in started:
        wait_for(f"{base}/live.m3u8", process)
    return [p.pid for p in started], base


# --- density -------------------------------------------------------------------------------------


def rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)[1]) / 1024  # type: ignore[index]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


async def warm_up(base: str, channels: int, profile: Profile, concurrency: int = 8) -> tuple[float, int]:
    """Ask every channel output's first rung once (each load reads the catalog); returns (s, failures)."""
    urls = [
        f"{base}/live/{channel_id(n)}/{output.value}/{profile.outputs[output][0]}.m3u8"
        for n in range(1, channels + 1)
        for output in Output
    ]
    failures = 0
    queue = iter(urls)
    started = time.perf_counter()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:

        async def worker() -> None:
            nonlocal failures
            for url in queue:
                async with session.get(url) as response:
                    await response.read()
                    failures += response.status != 200

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, failures


async def playlist_costs(settings: Settings, repeat: int) -> tuple[float, float, float]:
    """µs per playlist in this process, on one loaded channel output: cached, uncached, uncached + gzip."""
    with open_context(settings) as ictx:
        live = LiveChannels(ictx.catalog, ictx.storage, ictx.profiles[settings.profile])
        now = datetime.now(UTC)
        loaded = await live.channel_output(channel_id(1), PLAYLIST_OUTPUT, now)
        now_us = us_of(now)
        live.media_playlist(loaded, PLAYLIST_RUNG, now_us, gzipped=False)
        started = time.perf_counter()
        for _ in range(repeat):
            live.media_playlist(loaded, PLAYLIST_RUNG, now_us, gzipped=False)
        cached = (time.perf_counter() - started) / repeat
        step = int(SEGMENT_S * 1_000_000)  # one segment later: the cached playlist is stale each time
        timings = []
        for run, gzipped in enumerate((False, True)):
            started = time.perf_counter()
            for k in range(run * repeat + 1, (run + 1) * repeat + 1):  # always later: a new window
                live.media_playlist(loaded, PLAYLIST_RUNG, now_us + k * step, gzipped=gzipped)
            timings.append((time.perf_counter() - started) / repeat)
        return cached * 1e6, timings[0] * 1e6, timings[1] * 1e6


def density(processes: Processes, settings: Settings, wrk: str, channels: int, idle_seconds: float) -> None:
    profile = bench_open_profile(settings)
    process, base = start_origin(processes, settings, "origin-density", workers=1)
    time.sleep(2)  # let start-up settle: the first generation poll and the channel list
    before = rss_mib(process.pid)
    seconds, failures = asyncio.run(warm_up(base, channels, profile))
    outputs = channels * len(Output)
    print(
        f"  warm-up: {outputs} channel outputs loaded in {seconds:.1f} s "
        f"({seconds / outputs * 1000:.1f} ms each, 8 at a time){f', {failures} FAILED' if failures else ''}",
        flush=True,
    )
    time.sleep(2)
    after = rss_mib(process.pid)
    print(
        f"  RSS: {before:.0f} MiB at start, {after:.0f} MiB with every timeline loaded "
        f"({(after - before) * 1024 / outputs:.0f} KiB per channel output)",
        flush=True,
    )
    cpu0, wall0 = cpu_seconds(process.pid), time.monotonic()
    time.sleep(idle_seconds)
    idle = (cpu_seconds(process.pid) - cpu0) / (time.monotonic() - wall0)
    print(
        f"  idle CPU over {idle_seconds:.0f} s: {idle:.2%} of one core   goal < "
        f"{GOALS['idle_cpu']:.0%}: {verdict(idle < GOALS['idle_cpu'])}",
        flush=True,
    )
    url = f"{base}/live/{channel_id(channels)}/{PLAYLIST_OUTPUT.value}/{PLAYLIST_RUNG}.m3u8"
    load = run_wrk(wrk, url, 5, 8, (process.pid,))
    print(
        f"  a cached playlist over HTTP (wrk -c8 5 s, this one worker): {load.requests_per_s:,.0f} req/s, "
        f"p99 {load.p99_ms:.2f} ms, {load.cpu_us:.0f} µs server CPU per request",
        flush=True,
    )
    processes.stop(process)
    cached, uncached, gzipped = asyncio.run(playlist_costs(settings, repeat=2000))
    print(
        f"  playlist computation (in this process, a 10-segment window): cache hit {cached:.1f} µs; "
        f"uncached {uncached:.0f} µs (live_window + render_live + encode), {gzipped:.0f} µs with gzip; "
        "uncached happens once per segment boundary, rung and worker",
        flush=True,
    )


def bench_open_profile(settings: Settings) -> Profile:
    return load_profiles(settings.profiles_dir)[settings.profile]


# --- main ----------------------------------------------------------------------------------------


@contextlib.contextmanager
def temporary_home(keep: Path | None) -> Iterator[Path]:
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    with tempfile.TemporaryDirectory(prefix="rcmedia-bench-origin-") as folder:
        yield Path(folder)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--channels", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2, help="origin processes for the wrk runs")
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--idle", type=float, default=20.0, help="seconds of idle CPU measurement")
    parser.add_argument("--keep", type=Path, help="build the catalog in DIR and keep it (reused next time)")
    parser.add_argument("--part", choices=("all", "throughput", "density"), default="all")
    parser.add_argument("--no-fast-lane", action="store_true", help="serve every request the usual way")
    args = parser.parse_args()
    nginx, wrk = ensure_tools()
    with temporary_home(args.keep) as home:
        processes = Processes(home)
        try:
            run(args, home, nginx, wrk, processes)
        finally:
            processes.stop_all()


def run(args: argparse.Namespace, home: Path, nginx: str, wrk: str, processes: Processes) -> None:
    if (home / "var" / "rcmedia.db").exists():
        print(f"reusing the catalog in {home} (built earlier with --keep)", flush=True)
        settings = bench_settings(home)
    else:
        settings = build_catalog(home, args.channels)
    settings = settings.replace(live_fast_lane=not args.no_fast_lane)  # --no-fast-lane: aiohttp's path
    if args.part in ("all", "throughput"):
        throughput(args, settings, home, nginx, wrk, processes)
    if args.part in ("all", "density"):
        print(f"\ndensity: {args.channels} channels x 3 outputs in one origin (rcmedia serve --workers 1)")
        density(processes, settings, wrk, args.channels, args.idle)


def throughput(
    args: argparse.Namespace, settings: Settings, home: Path, nginx: str, wrk: str, processes: Processes
) -> None:
    storage = Path(settings.storage)
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio (uvloop is not installed)"
    print(
        f"\nthroughput: wrk -t2 -c{args.connections} -d{args.seconds}s --latency; origin = rcmedia serve "
        f"--workers {args.workers} on the {loop} event loop, fast lane {'on' if settings.live_fast_lane else 'off'}; "
        "nginx worker_processes 2; "
        f"{os.cpu_count()} cores shared by wrk and the server",
        flush=True,
    )
    origin, base = start_origin(processes, settings, "origin", workers=args.workers)
    path = f"/live/{channel_id(1)}/{PLAYLIST_OUTPUT.value}/{PLAYLIST_RUNG}.m3u8"
    body = get(base + path, timeout=120)  # the first request reads every channel
    nginx_dir = home / "nginx"
    nginx_dir.mkdir(exist_ok=True)
    (nginx_dir / "live.m3u8").write_bytes(body)  # the same bytes, as a static file
    server, nginx_base = start_nginx(processes, nginx, nginx_dir, storage)
    aired = [line for line in body.decode().splitlines() if line.startswith("/air/")][-1]
    _, _, aired_at, cut, key = aired.split("/", 4)
    segment = f"/media/{key}"
    size = len(get(base + segment))
    assert get(nginx_base + segment) == get(base + segment), "nginx and the origin serve the same file"

    def load(url: str, *groups: int) -> Load:
        run_wrk(wrk, url, 2, args.connections, groups)  # warm: connections, caches, page cache
        return run_wrk(wrk, url, args.seconds, args.connections, groups)

    ours = load(base + path, origin.pid)
    theirs = load(nginx_base + "/live.m3u8", server.pid)
    print(f"live media playlist ({len(body)} bytes, {path}):")
    show("rcmedia live playlist", ours)
    show("nginx, the same bytes as a file", theirs)
    ratio = ours.requests_per_s / theirs.requests_per_s
    print(
        f"  ratio {ratio:.3f}   goal >= {GOALS['playlist_ratio']}: {verdict(ratio >= GOALS['playlist_ratio'])};"
        f"   p99 {ours.p99_ms:.2f} ms   goal < {GOALS['playlist_p99_ms']:.0f} ms: "
        f"{verdict(ours.p99_ms < GOALS['playlist_p99_ms'])}",
        flush=True,
    )
    pids, bare_base = start_bare_aiohttp(processes, nginx_dir / "live.m3u8", args.workers)
    bare = load(bare_base + "/live.m3u8", *pids)
    show("(reference) bare aiohttp, same bytes", bare)
    print(
        f"  what aiohttp alone reaches here: {bare.requests_per_s / theirs.requests_per_s:.3f} x nginx; "
        f"the origin reaches {ours.requests_per_s / bare.requests_per_s:.2f} x bare aiohttp",
        flush=True,
    )

    ours = load(base + segment, origin.pid)
    theirs = load(nginx_base + segment, server.pid)
    print(f"segment ({size / 1000:.0f} KB, {segment}):")
    show("rcmedia /media/ (sendfile)", ours)
    show("nginx, the same file", theirs)
    ratio = ours.requests_per_s / theirs.requests_per_s
    print(
        f"  ratio {ratio:.3f}   goal >= {GOALS['segment_ratio']}: {verdict(ratio >= GOALS['segment_ratio'])}",
        flush=True,
    )
    aired_segments(args, base, aired, key, int(aired_at), cut, storage, wrk, origin.pid, theirs)
    processes.stop_all()


def aired_segments(
    args: argparse.Namespace,
    base: str,
    aired: str,
    key: str,
    aired_at: int,
    cut: str,
    storage: Path,
    wrk: str,
    origin_pid: int,
    nginx: Load,
) -> None:
    """What playlists list (``/air/``): cold, each airing's first request rewrites and keeps it;
    warm, later ones are sent from the kept file. nginx's row is the stored file's, above."""
    stored = (storage / key).read_bytes()
    started = time.perf_counter()
    for n in range(20):
        continuous_ts(stored, at_ticks=air_ticks(aired_at + n * 6_000_000), cut_in=True, cut_out=True)
    rewrite_ms = (time.perf_counter() - started) / 20 * 1000
    cold = []
    for n in range(1, 41):  # airings nobody asked for yet: each is rewritten, written, then sent
        url = f"{base}/air/{aired_at + n * 86_400_000_000}/{cut}/{key}"
        started = time.perf_counter()
        get(url)
        cold.append((time.perf_counter() - started) * 1000)
    cold.sort()
    grown = len(get(base + aired)) - len(stored)
    print(
        f"aired segment ({aired.split('/', 4)[-1]} as aired, {len(stored) / 1000:.0f} KB stored, "
        f"{grown / 1000:+.1f} KB rewritten):\n"
        f"  rewrite in this process {rewrite_ms:.1f} ms; cold over HTTP (40 airings, one at a time) "
        f"median {cold[20]:.1f} ms, p95 {cold[37]:.1f} ms",
        flush=True,
    )
    run_wrk(wrk, base + aired, 2, args.connections, (origin_pid,))
    warm = run_wrk(wrk, base + aired, args.seconds, args.connections, (origin_pid,))
    show("rcmedia /air/ warm (sendfile of the kept file)", warm)
    ratio = warm.requests_per_s / nginx.requests_per_s
    print(
        f"  ratio to nginx's stored file {ratio:.3f}   goal >= {GOALS['segment_ratio']}: "
        f"{verdict(ratio >= GOALS['segment_ratio'])}",
        flush=True,
    )


if __name__ == "__main__":
    main()
