"""Edge benchmark: a live playlist and a segment through the shipped nginx edge (deploy/nginx/)
against the same requests straight to the origin, in the same run.

On loopback, with wrk (``-t2 -c64 -d10s --latency``), over bench/origin.py's generated catalog
(a few channels are enough: one playlist and one segment are asked):

  playlist: ``GET /live/{channel}/iptv/360p.m3u8`` from ``rcmedia serve --workers 2`` directly,
            then through the edge (its cache answers; the origin is asked about once per segment).
  segment:  ``GET /air/…`` (a 360p segment as aired, ~700 KB), directly and through the edge.

Each row gives requests/s, p50/p99 and the CPU time per request of the processes serving it (the
origin's; through the edge, nginx's and the origin's together), and how many requests reached the
origin during the edge's run (its access log is off: counted from the edge's own log, by
``$upstream_cache_status``). The edge runs the shipped nginx.conf and rcmedia-edge.conf themselves
(symlinked), with ``worker_processes auto``; wrk, nginx and the origin share the machine's cores.

Debian's nginx and wrk are installed with apt-get when absent (needs root). About a minute and a
half (2 cores): building the catalog ~20 s, four wrk runs of 12 s.

Usage: .venv/bin/python bench/edge.py [--channels 10] [--workers 2] [--seconds 10] [--connections 64]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.origin import (  # noqa: E402
    PLAYLIST_OUTPUT,
    PLAYLIST_RUNG,
    Load,
    Processes,
    build_catalog,
    channel_id,
    ensure_tools,
    free_port,
    get,
    run_wrk,
    show,
    start_origin,
    wait_for,
)

SHIPPED = ROOT / "deploy" / "nginx"


def start_edge(processes: Processes, nginx: str, prefix: Path, origin_base: str) -> tuple[int, str]:
    """deploy/nginx/ as shipped, in front of ``origin_base``; (its process group, its base URL)."""
    conf = prefix / "conf"
    for folder in (conf, prefix / "logs", prefix / "cache", prefix / "temp"):
        folder.mkdir(parents=True)
    for name in ("nginx.conf", "rcmedia-edge.conf"):
        (conf / name).symlink_to(SHIPPED / name)
    (conf / "rcmedia-origins.conf").write_text(f"server {origin_base.removeprefix('http://')};\n")
    port = free_port()
    (conf / "rcmedia-listen.conf").write_text(f"listen 127.0.0.1:{port};\n")
    # as root, nginx's workers would switch to www-data, who may not write a private temp folder
    user = " user root;" if os.geteuid() == 0 else ""
    argv = [
        nginx,
        "-p",
        f"{prefix}/",
        "-c",
        str(conf / "nginx.conf"),
        "-e",
        str(prefix / "logs" / "error.log"),
    ]
    process = processes.start("edge", [*argv, "-g", f"daemon off;{user}"])
    base = f"http://127.0.0.1:{port}"
    wait_for(f"{base}/healthz", process)
    return process.pid, base


def cache_statuses(prefix: Path, path: str) -> Counter[str]:
    """How the edge answered ``path``, from its access log (``cache=…``)."""
    counts: Counter[str] = Counter()
    log = prefix / "logs" / "access.log"
    for line in log.read_text().splitlines() if log.exists() else ():
        if f'"GET {path} ' in line:
            counts[line.split(" cache=", 1)[1].split(" ", 1)[0]] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--channels", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2, help="origin processes")
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    nginx, wrk = ensure_tools()
    with tempfile.TemporaryDirectory(prefix="rcmedia-bench-edge-") as folder:
        home = Path(folder)
        processes = Processes(home)
        try:
            run(args, home, nginx, wrk, processes)
        finally:
            processes.stop_all()


def run(args: argparse.Namespace, home: Path, nginx: str, wrk: str, processes: Processes) -> None:
    settings = build_catalog(home, args.channels)
    # this checkout's origin (its playlists' Cache-Control), whichever rcmedia the venv installed
    origin, base = start_origin(
        processes, settings, "origin", workers=args.workers, extra_env={"PYTHONPATH": str(ROOT)}
    )
    prefix = home / "edge"
    edge_group, edge = start_edge(processes, nginx, prefix, base)
    path = f"/live/{channel_id(1)}/{PLAYLIST_OUTPUT.value}/{PLAYLIST_RUNG}.m3u8"
    body = get(base + path, timeout=120)
    segment = [line for line in body.decode().splitlines() if line.startswith("/air/")][-1]
    size = len(get(base + segment, timeout=60))
    assert get(edge + segment) == get(base + segment), "the edge and the origin send the same segment"
    print(
        f"edge vs direct: wrk -t2 -c{args.connections} -d{args.seconds}s --latency; origin = rcmedia serve "
        f"--workers {args.workers}; edge = Debian's nginx with deploy/nginx/ (worker_processes auto); "
        f"{os.cpu_count()} cores shared by wrk, nginx and the origin",
        flush=True,
    )

    def load(url: str, *groups: int) -> Load:
        run_wrk(wrk, url, 2, args.connections, groups)  # warm: connections, caches, page cache
        return run_wrk(wrk, url, args.seconds, args.connections, groups)

    for name, target in (
        (f"live media playlist ({len(body)} bytes, {path})", path),
        (f"segment ({size / 1000:.0f} KB, {segment[:40]}…)", segment),
    ):
        direct = load(base + target, origin.pid)
        before = cache_statuses(prefix, target)
        through = load(edge + target, edge_group, origin.pid)
        after = cache_statuses(prefix, target)
        reached = sum(after[s] - before[s] for s in ("MISS", "EXPIRED", "STALE", "BYPASS", "-"))
        answered = sum(after.values()) - sum(before.values())
        print(f"{name}:  edge statuses {dict(after - before)}")
        show("origin directly", direct)
        show("through the edge", through)
        print(
            f"  edge/direct: req/s {through.requests_per_s / direct.requests_per_s:.2f} x, "
            f"p99 {through.p99_ms / direct.p99_ms:.2f} x; origin asked {reached} times for the edge's "
            f"{answered:,} answers (warm-up included)",
            flush=True,
        )


if __name__ == "__main__":
    main()
