"""Real `rcmedia worker` processes (executor = celery) on the local RabbitMQ or Redis, for tests."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rcmedia.config import Settings
from rcmedia.core.assets import Job
from rcmedia.ingest.context import IngestContext
from tests.conftest import port_open, require_system

BROKERS = {
    "rabbitmq": ("amqp://guest:guest@127.0.0.1:5672//", 5672),
    "redis": ("redis://127.0.0.1:6379/11", 6379),
}


def celery_settings(settings: Settings, broker: str, **changes: object) -> Settings:
    """``settings`` with executor celery on the local ``broker``, on a queue of this test's own."""
    url, port = BROKERS[broker]
    require_system(
        f"{broker} at 127.0.0.1:{port}", port_open("127.0.0.1", port), f"start {broker} (.ci/run does)"
    )
    values: dict[str, object] = {
        "executor": "celery",
        "broker_url": url,
        "broker_queue": f"rcmedia-test-{uuid.uuid4().hex[:12]}",
        "profile": "tiny",
        "job_lease_seconds": 3.0,
        "job_retry_seconds": 0.5,
        **changes,
    }
    return settings.replace(**values)


def worker_env(settings: Settings) -> dict[str, str]:
    names = [
        "home",
        "database_url",
        "storage",
        "s3_endpoint",
        "profiles_dir",
        "profile",
        "hot_folder",
        "executor",
        "broker_url",
        "broker_queue",
        "job_lease_seconds",
        "job_retry_seconds",
        "ingest_concurrency",
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RCMEDIA_")}
    env.update({f"RCMEDIA_{n.upper()}": str(getattr(settings, n)) for n in names})
    env["RCMEDIA_LOG_LEVEL"] = "INFO"
    env["COLUMNS"] = "200"  # rich wraps log lines at the terminal width otherwise
    return env


@dataclass
class Workers:
    """Starts `rcmedia worker` processes (each in its own process group) and ends them all."""

    settings: Settings
    folder: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, **changes: object) -> subprocess.Popen[bytes]:
        log = (self.folder / f"worker-{name}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "rcmedia", "worker"],
            cwd=self.folder,
            env=worker_env(self.settings.replace(**changes) if changes else self.settings),
            start_new_session=True,  # its own process group: the worker, its pool and their ffmpeg
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.processes[name] = process
        return process

    def log(self, name: str) -> str:
        return (self.folder / f"worker-{name}.log").read_text(encoding="utf-8", errors="replace")

    def logs(self) -> str:
        return "\n".join(f"--- worker {n} ---\n{self.log(n)[-4000:]}" for n in self.processes)

    def kill(self, name: str) -> None:
        """SIGKILL the worker's whole process group, like a power cut."""
        process = self.processes[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def pids(self, name: str) -> set[int]:
        """The processes of a worker's group (the worker, its pool processes, their ffmpeg)."""
        group = self.processes[name].pid
        found = set()
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError, ValueError):
                    if os.getpgid(int(entry.name)) == group:
                        found.add(int(entry.name))
        return found

    def stop_all(self) -> None:
        for process in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in self.processes.values():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@contextlib.contextmanager
def running_workers(settings: Settings, folder: Path) -> Iterator[Workers]:
    workers = Workers(settings, folder)
    try:
        yield workers
    finally:
        workers.stop_all()
        delete_queue(settings)


def delete_queue(settings: Settings) -> None:
    """Leave nothing of the test's queue in the shared broker."""
    from kombu import Connection

    with contextlib.suppress(Exception), Connection(settings.broker_url, connect_timeout=3) as conn:
        channel = conn.default_channel
        channel.queue_delete(settings.broker_queue)
        with contextlib.suppress(Exception):
            channel.exchange_delete(settings.broker_queue)


def wait_finished(ctx: IngestContext, job_ids: list[int], workers: Workers, timeout: float = 90) -> list[Job]:
    deadline = time.monotonic() + timeout
    while True:
        jobs = [ctx.catalog.get_job(j) for j in job_ids]
        if all(job.state.finished for job in jobs):
            return jobs
        if time.monotonic() > deadline:
            states = [(j.id, j.state.value, j.attempts, j.worker) for j in jobs]
            raise AssertionError(f"jobs not finished in {timeout} s: {states}\n{workers.logs()}")
        time.sleep(0.2)
