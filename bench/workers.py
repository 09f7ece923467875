"""Distributed ingest benchmark: 8 short files in-process vs 1 and 2 Celery workers, in the same run.

Each run gets a fresh home (SQLite catalog, local storage) and, for Celery, a queue of its own on
the broker (default: the local RabbitMQ). The in-process baseline is `rcmedia ingest` as shipped
(`transcode_slots` threads, one per two cores); each Celery worker runs one transcode at a time
(`worker_slots` = 1). The clock runs from the first submit until every job is finished; workers
are started and ready before it. Prints wall times and ratios against in-process.

On one machine, workers share its cores with each other (ffmpeg already uses all of them), so the
gain shown here is the pipelining of probe/verify/publish with another transcode, not what
workers on separate machines give (that scales with machines).

Usage: .venv/bin/python bench/workers.py [--files 8] [--seconds 8] [--broker amqp://…]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from kombu import Connection

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rcmedia.bootstrap import open_context  # noqa: E402
from rcmedia.config import Settings, load_settings  # noqa: E402
from rcmedia.core.models import AssetMetadata, JobState  # noqa: E402
from rcmedia.ingest.intake import submit  # noqa: E402
from rcmedia.ingest.runner import JobRunner  # noqa: E402
from rcmedia.media.ffmpeg import ffmpeg_binary  # noqa: E402
from rcmedia.media.samples import make_clip  # noqa: E402


def settings_for(home: Path, **overrides: object) -> Settings:
    return load_settings(environ={}, cwd=ROOT, overrides={"home": str(home), **overrides})


def run_inprocess(sources: list[Path], home: Path) -> float:
    with open_context(settings_for(home)) as ctx:
        started = time.perf_counter()
        ids = [submit(ctx, s, metadata=AssetMetadata(title=s.stem)) for s in sources]
        jobs = JobRunner(ctx).run_jobs(ids)
        elapsed = time.perf_counter() - started
    check(jobs)
    return elapsed


def start_worker(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RCMEDIA_")}
    env |= {
        "RCMEDIA_HOME": str(settings.home),
        "RCMEDIA_EXECUTOR": "celery",
        "RCMEDIA_BROKER_URL": settings.broker_url,
        "RCMEDIA_BROKER_QUEUE": settings.broker_queue,
        "RCMEDIA_INGEST_CONCURRENCY": "1",
        "COLUMNS": "200",
    }
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "rcmedia", "worker"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def run_celery(sources: list[Path], home: Path, broker: str, workers: int) -> float:
    queue = f"rcmedia-bench-{uuid.uuid4().hex[:8]}"
    settings = settings_for(home, executor="celery", broker_url=broker, broker_queue=queue)
    with open_context(settings):  # migrated before the workers start
        pass
    logs = [home / f"worker-{i}.log" for i in range(workers)]
    processes = [start_worker(settings, log) for log in logs]
    try:
        deadline = time.monotonic() + 60
        while not all(" ready." in log.read_text(errors="replace") for log in logs):
            if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                raise SystemExit("a worker did not start:\n" + "\n".join(x.read_text() for x in logs))
            time.sleep(0.1)
        with open_context(settings) as ctx:
            started = time.perf_counter()
            ids = [submit(ctx, s, metadata=AssetMetadata(title=s.stem)) for s in sources]
            while True:
                jobs = [ctx.catalog.get_job(i) for i in ids]
                if all(j.state.finished for j in jobs):
                    break
                time.sleep(0.1)
            elapsed = time.perf_counter() - started
    finally:
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(30)
        with contextlib.suppress(Exception), Connection(broker, connect_timeout=3) as conn:
            conn.default_channel.queue_delete(queue)
            conn.default_channel.exchange_delete(queue)
    check(jobs)
    return elapsed


def check(jobs: list) -> None:  # type: ignore[type-arg]
    failed = [f"{j.original_filename}: {j.failure_reason}" for j in jobs if j.state is not JobState.PUBLISHED]
    if failed:
        raise SystemExit("ingest failed: " + "; ".join(failed))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each generated file")
    parser.add_argument("--broker", default="amqp://guest:guest@127.0.0.1:5672//")
    args = parser.parse_args()
    ffmpeg = ffmpeg_binary("")
    with tempfile.TemporaryDirectory(prefix="rcmedia-bench-workers-") as tmp:
        folder = Path(tmp)
        sources = [
            make_clip(folder / f"lesson-{i}.mp4", ffmpeg=ffmpeg, duration=args.seconds, width=640, height=360)
            for i in range(args.files)
        ]
        print(
            f"{args.files} files of {args.seconds:g} s (640x360, house profile), "
            f"{os.cpu_count()} CPU cores, broker {args.broker.split('@')[-1]}"
        )
        base = run_inprocess(sources, folder / "inprocess")
        print(f"in-process ({settings_for(folder).transcode_slots} slot(s)): {base:7.2f} s   1.00x")
        for count in (1, 2):
            took = run_celery(sources, folder / f"celery-{count}", args.broker, count)
            print(
                f"{count} Celery worker(s), 1 slot each:  {took:7.2f} s   {took / base:.2f}x the in-process time"
            )


if __name__ == "__main__":
    main()
