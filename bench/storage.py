"""Storage benchmark: publishing one package to S3 (moto's server on loopback) against local disk.

The package is shaped like a ten-minute lecture in the house ladder: ``--segments`` segments of
6 s in three rungs (about 1.5 MB, 500 KB and 200 KB each), their playlists and a master. Each run
stages a fresh copy (not timed), then times ``publish``: a rename (with fsyncs) on local disk, the
parallel uploads on S3 (``rcmedia.storage.s3``; one upload thread as well, to show what the pool
buys). moto keeps objects in memory on the same two cores, so the ratio is an upper bound on the
protocol's overhead rather than a forecast for a real store across a network.

Usage: .venv/bin/python bench/storage.py [--segments 100] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rcmedia.storage.base import Storage  # noqa: E402
from rcmedia.storage.local import LocalStorage  # noqa: E402
from rcmedia.storage.s3 import S3Storage  # noqa: E402

RUNGS = {"720p": 1_500_000, "360p": 500_000, "180p": 200_000}  # bytes per 6-s segment


def make_package(folder: Path, segments: int) -> int:
    """Write the package into ``folder``; its size in bytes."""
    total = 0
    block = os.urandom(1 << 20)
    for rung, size in RUNGS.items():
        (folder / rung).mkdir(parents=True)
        lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:6"]
        for n in range(segments):
            data = (block * (size // len(block) + 1))[n : n + size]
            (folder / rung / f"seg_{n:05d}.ts").write_bytes(data)
            total += size
            lines += ["#EXTINF:6.0,", f"seg_{n:05d}.ts"]
        (folder / rung / "index.m3u8").write_text("\n".join([*lines, "#EXT-X-ENDLIST", ""]))
    (folder / "master.m3u8").write_text("#EXTM3U\n" + "".join(f"{r}/index.m3u8\n" for r in RUNGS))
    return total


def time_publishes(storage: Storage, template: Path, runs: int, tag: str) -> list[float]:
    seconds = []
    for run in range(runs):
        staging = storage.staging_dir(f"bench-{tag}-{run}")
        staging.rmdir()
        shutil.copytree(template, staging)
        start = time.perf_counter()
        storage.publish(staging, f"assets/{run}/{tag}")
        seconds.append(time.perf_counter() - start)
    return seconds


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--segments", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    port = free_port()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench-secret")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        endpoint = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        with tempfile.TemporaryDirectory(prefix="rcmedia-bench-storage-") as tmp:
            home = Path(tmp)
            template = home / "package"
            size = make_package(template, args.segments)
            files = sum(1 for p in template.rglob("*") if p.is_file())

            def s3(threads: int) -> S3Storage:
                bucket = f"bench-{threads}"
                store = S3Storage(
                    f"s3://{bucket}/rcmedia",
                    staging_root=home / f"s3-staging-{threads}",
                    endpoint=endpoint,
                    upload_threads=threads,
                )
                store.client.create_bucket(Bucket=bucket)
                return store

            cases: list[tuple[str, str, Callable[[], Storage]]] = [
                ("local disk (rename + fsync)", "local", lambda: LocalStorage(home / "store")),
                ("S3, 16 upload threads", "s3-16", lambda: s3(16)),
                ("S3, 1 upload thread", "s3-1", lambda: s3(1)),
            ]
            print(f"package: {files} files, {size / 1e6:.0f} MB; {args.runs} runs each (median)")
            medians = {}
            for name, tag, make in cases:
                seconds = time_publishes(make(), template, args.runs, tag)
                medians[name] = median = statistics.median(seconds)
                print(f"  {name:30} {median * 1000:9.1f} ms  {size / median / 1e6:8.1f} MB/s")
            local = medians[cases[0][0]]
            for name, _, _ in cases[1:]:
                print(f"  {name} / local disk: {medians[name] / local:.1f}×")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
