"""Catch-up benchmark: one-hour replay playlists of a dense channel, against a live playlist in the same run.

The catalog (a temporary home; real-sized segment files as in bench/origin.py): one channel on
tv, iptv and mobile with a ten-minute programme every quarter hour, the gaps filled by promos of a
few seconds and idents, about 10,000 events a day per output; a week built behind now (7 catch-up
days) and a day ahead.

In this process, on ``rcmedia.playout.catchup.CatchupPlaylists`` as the origin uses it (each
computation runs on its worker threads):

  live       the baseline: a live media playlist computed uncached (live_window + render + encode);
  per range  what the origin did before for every catch-up request: load the range from the
             catalog, then compute the playlist (``load_channel_output(span=…)`` + render);
  stretch    loading a six-hour stretch, once per stretch and catalog generation;
  cold       one-hour replays of distinct ranges inside loaded stretches (nothing cached);
  warm       the same ranges asked again (the rendered playlist's cache).

Goal (issue 9, item 4): a one-hour catch-up media playlist in ≤ 10 ms cold on 2 cores.

Usage: .venv/bin/python bench/catchup.py [--ranges 50] [--keep DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.origin import SLATE, bench_settings, publish_asset, segment_pool  # noqa: E402
from rcmedia.bootstrap import open_context  # noqa: E402
from rcmedia.catalog.schedules import ScheduleStore  # noqa: E402
from rcmedia.config import Settings  # noqa: E402
from rcmedia.core.builder import day_on_air  # noqa: E402
from rcmedia.core.live_playlist import render_replay  # noqa: E402
from rcmedia.core.models import Output  # noqa: E402
from rcmedia.core.timeline import range_segments, us_of  # noqa: E402
from rcmedia.playout.catchup import CatchupPlaylists  # noqa: E402
from rcmedia.playout.channel_output import load_channel_output  # noqa: E402
from rcmedia.playout.live import LiveChannels  # noqa: E402
from rcmedia.service.channels import apply_channel_files, load_channels  # noqa: E402
from rcmedia.service.schedules import build_all  # noqa: E402

CHANNEL, OUTPUT, RUNG = "dense", Output.IPTV, "360p"
HOUR = timedelta(hours=1)
GOAL_MS = 10.0
DENSE = """\
slate_series = "slate"

[channel]
id = "dense"
name = "密集"
number = 1
timezone = "Asia/Shanghai"
outputs = ["tv", "iptv", "mobile"]
catchup_days = 7
day_start = "06:00"

[filler]
series = ["宣传片"]
no_repeat_hours = 1

[idents]
series = ["台标"]
""" + "".join(
    f'\n[[slot]]\nid = "s{n:02d}"\nstart = "{n // 4:02d}:{n % 4 * 15:02d}"\n'
    f'series = "节目{n % 6}"\npolicy = "least_recent"\nmax_duration = 900\n'
    for n in range(96)
)


def build_catalog(home: Path, now: datetime) -> Settings:
    settings = bench_settings(home)
    with open_context(settings) as ictx:
        profile = ictx.profiles[settings.profile]
        pool_dir = home / "pool"
        pool_dir.mkdir()
        pool = segment_pool(pool_dir, profile)
        started = time.perf_counter()

        def publish(title: str, series: str, durations: tuple[float, ...]) -> None:
            publish_asset(
                ictx.catalog,
                ictx.storage,  # type: ignore[arg-type]
                profile,
                pool,
                title=title,
                series=series,
                episode=None,
                durations=durations,
                now=now,
            )

        publish("台标 slate", "slate", SLATE)
        for n in range(4):
            publish(f"台标 {n}", "台标", (2.0,))
        for n in range(30):  # 2 s to 9 s
            publish(f"宣传片 {n}", "宣传片", (6.0,) * (n % 2) + (round(0.04 * (n + 50), 2),))
        for series in range(6):
            for episode in range(8):  # 8 to 10 minutes
                publish(f"节目{series} 第{episode}集", f"节目{series}", (6.0,) * (80 + episode * 3) + (2.4,))
        published = time.perf_counter()
        folder = settings.playlists_dir
        folder.mkdir(parents=True)
        path = folder / "dense.toml"
        path.write_text(DENSE, encoding="utf-8")
        store = ScheduleStore(ictx.catalog.engine)
        applied = now - timedelta(days=9)
        apply_channel_files(store, [path], now=applied)
        channel = load_channels(store)[0]
        first_day = day_on_air(channel, now) - timedelta(days=8)
        built = build_all(store, first_day=first_day, days=10, now=applied)
        events = sum(len(d.events) for outputs in built.values() for days in outputs.values() for d in days)
        print(
            f"catalog: {1 + 4 + 30 + 48} assets x 5 rungs published in {published - started:.1f} s; "
            f"{CHANNEL!r} built for 10 days x 3 outputs ({events} events, "
            f"{events / 30:,.0f} a day per output) in {time.perf_counter() - published:.1f} s",
            flush=True,
        )
    return settings


def ms(seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered) * 1000:7.2f} ms   p95 {p95 * 1000:7.2f} ms"


async def measure(settings: Settings, ranges: int) -> None:
    with open_context(settings) as ictx:
        live = LiveChannels(ictx.catalog, ictx.storage, ictx.profiles[settings.profile])
        replays = CatchupPlaylists(live, builds=settings.catchup_builds, queue=settings.catchup_queue)
        now = datetime.now(UTC)
        now_us = us_of(now)
        await live.refresh()
        channel = live.channel(CHANNEL, OUTPUT)

        # live: uncached, one segment later each time (the window moves on)
        loaded = await live.channel_output(CHANNEL, OUTPUT, now)
        live_times = []
        for k in range(200):
            started = time.perf_counter()
            live.media_playlist(loaded, RUNG, now_us + k * 6_000_000, gzipped=False)
            live_times.append(time.perf_counter() - started)
        live_ms = statistics.median(live_times) * 1000
        window = live.media_playlist(loaded, RUNG, now_us, gzipped=False).body.count(b"#EXTINF")
        print(f"\nlive media playlist ({window} segments), uncached:   {ms(live_times)}")

        # distinct one-hour ranges over the last four days, none on a whole second. Four days: the
        # stretches they fall in (~22, with the ones a range crossing a boundary needs) fit the
        # archive cache (ARCHIVE_EVENTS_KEPT, 100,000 events; this channel has ~3,000 a stretch),
        # so "cold" measures a render from a loaded stretch, as the note below says. Six days of
        # this dense channel (~34 archives) cycle through the cache and reload every stretch.
        span = timedelta(days=4) - 2 * HOUR
        starts = [
            now - timedelta(days=4) + span * k / ranges + timedelta(seconds=k % 7 + 0.5)
            for k in range(ranges)
        ]
        starts = [s.replace(microsecond=0) for s in starts]

        def old_way(start: datetime) -> bytes:
            exact = load_channel_output(
                live.store,
                live.reads,
                live.asrun,
                live.storage,
                channel,
                OUTPUT,
                profile=live.profile,
                now=now,
                generation=(),
                replaced_before=None,
                epoch=now,
                span=(start, start + HOUR),
            )
            segments = range_segments(exact.timeline, us_of(start), us_of(start + HOUR), now_us=now_us)
            return render_replay(segments, target_duration=6, uri=exact.uri(RUNG), ended=True).encode()

        per_range = []
        for start in starts[:10]:
            started = time.perf_counter()
            old_way(start)
            per_range.append(time.perf_counter() - started)
        print(f"catch-up, loading each range (before):      {ms(per_range)}   (10 ranges)")

        stretch_times, archives = [], {}
        for start in starts:
            started = time.perf_counter()
            archive = await replays.archive(channel, OUTPUT, start, start + HOUR, now)
            if archive.span not in archives:
                stretch_times.append(time.perf_counter() - started)
                archives[archive.span] = archive
        events = statistics.mean(len(a.loaded.timeline.events) for a in archives.values())
        print(
            f"loading a six-hour stretch (once per stretch): {ms(stretch_times)}   "
            f"({len(archives)} stretches, {events:,.0f} events each)"
        )

        async def replay(start: datetime) -> tuple[float, bytes]:
            started = time.perf_counter()
            archive = await replays.archive(channel, OUTPUT, start, start + HOUR, now)
            played = await replays.media_playlist(archive, RUNG, start, start + HOUR, now, gzipped=False)
            return time.perf_counter() - started, played.body

        renders = replays.renders
        cold = [await replay(start) for start in starts]
        assert replays.renders == renders + len(starts), "every cold range was rendered"
        warm = [await replay(start) for start in starts]
        assert replays.renders == renders + len(starts), "every warm range came from the cache"
        for (_, body), start in zip(cold[:5], starts, strict=False):
            assert body == old_way(start), "the shared stretch gives what a load of the range gives"
        segments = statistics.mean(body.count(b"#EXTINF") for _, body in cold)
        cold_ms = statistics.median(t for t, _ in cold) * 1000
        warm_ms = statistics.median(t for t, _ in warm) * 1000
        print(
            f"catch-up one hour ({segments:.0f} segments), cold:  {ms([t for t, _ in cold])}   ({ranges} distinct ranges)"
        )
        print(f"catch-up one hour, warm (cached):           {ms([t for t, _ in warm])}")
        print(
            f"\nratios to the live playlist: cold {cold_ms / live_ms:.1f} x, warm {warm_ms / live_ms:.2f} x; "
            f"before: {statistics.median(per_range) * 1000 / live_ms:.0f} x"
        )
        print(
            f"goal: one hour cold <= {GOAL_MS:.0f} ms: {'MET' if cold_ms <= GOAL_MS else 'NOT MET'} ({cold_ms:.2f} ms)"
        )
        replays.close()


@contextlib.contextmanager
def temporary_home(keep: Path | None) -> Iterator[Path]:
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    with tempfile.TemporaryDirectory(prefix="rcmedia-bench-catchup-") as folder:
        yield Path(folder)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ranges", type=int, default=50, help="distinct one-hour ranges to ask")
    parser.add_argument("--keep", type=Path, help="build the catalog in DIR and keep it (reused next time)")
    args = parser.parse_args()
    with temporary_home(args.keep) as home:
        if (home / "var" / "rcmedia.db").exists():
            print(f"reusing the catalog in {home} (built earlier with --keep)", flush=True)
            settings = bench_settings(home)
        else:
            settings = build_catalog(home, datetime.now(UTC))
        asyncio.run(measure(settings, args.ranges))


if __name__ == "__main__":
    main()
