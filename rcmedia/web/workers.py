"""Several origin processes on one port: what ``rcmedia serve --workers N`` runs.

One Python process uses one core at most, so a busy origin needs several. Each worker
runs the whole app and listens on the same address with ``SO_REUSEPORT``; the kernel spreads new
connections across them. Each keeps its own live timelines in memory: a live media playlist is a
pure function of (catalog, clock), so every worker answers with the same bytes (DESIGN.md, the
live timeline) and no state needs sharing.

The parent serves nothing. It starts the workers, waits until all of them listen, forwards
SIGINT and SIGTERM to them as SIGTERM (each stops accepting, finishes its requests in flight and
runs the app's cleanup) and, when one dies unexpectedly, stops the others and reports failure:
the service is restarted whole (systemd ``Restart=on-failure``) instead of running short-handed
without anyone noticing. Workers ignore SIGINT: Ctrl-C in a terminal reaches the whole process
group, and the parent's SIGTERM is the one way they are told to stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

from rcmedia.errors import ConfigError, RcmediaError

log = logging.getLogger(__name__)

WORKER_HEADER = "X-Rcmedia-Worker"  # which worker answered (1…N), on every response when N > 1
STOP_SECONDS = 30.0  # for requests in flight and the app's cleanup, then SIGKILL
FAILED = 1


def run_event_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run ``main`` as ``asyncio.run`` does, on uvloop when it is installed.

    uvloop takes a quarter off aiohttp's own cost per request (a bare aiohttp answer: 237k
    instructions on asyncio's loop, 174k on uvloop, counted with callgrind); it is optional, and
    the origin runs the same without it.
    """
    with asyncio.Runner(loop_factory=_uvloop()) as runner:
        runner.run(main)


def event_loop_name() -> str:
    return "uvloop" if _uvloop() is not None else "asyncio"


def _uvloop() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        module = importlib.import_module("uvloop")
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = module.new_event_loop
    return factory


def worker_count(setting: int) -> int:
    """The number of workers: the setting, or one per CPU core for 0."""
    return setting if setting > 0 else os.cpu_count() or 1


def http_url(host: str, port: int) -> str:
    """The base URL a client uses for ``host``:``port`` (a wildcard address becomes loopback)."""
    host = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host  # noqa: S104
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Listening:
    """Every worker listens on ``host``:``port``."""

    host: str
    port: int
    workers: int

    @property
    def url(self) -> str:
        return http_url(self.host, self.port)


@dataclass(frozen=True, kw_only=True, slots=True)
class Worker:
    """What a worker process is given: its number and how to say it listens."""

    index: int  # 1…N
    ready_to: Connection

    def ready(self, port: int) -> None:
        self.ready_to.send((self.index, port))


def check_address(host: str, port: int) -> None:
    """Fail early, naming the address, when the workers could not share it: port 0 (each would
    pick its own) or something already listening there.

    Bound without ``SO_REUSEPORT`` on purpose: the workers' own binds would also succeed next to
    another ``rcmedia serve`` of the same user on that port, and the two would silently share it.
    """
    if port == 0:
        raise ConfigError("several workers need a fixed port (each would pick its own with --port 0)")
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc}") from exc
    for family, kind, proto, _, address in infos:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                raise ConfigError(
                    f"cannot listen on {host}:{port}: {exc.strerror or exc}; choose another --port"
                ) from exc


def run_workers(
    count: int,
    target: Callable[[Worker], None],
    *,
    host: str,
    port: int,
    on_ready: Callable[[Listening], None] | None = None,
    on_exit: Callable[[int], None] | None = None,
) -> int:
    """Run ``target`` in ``count`` worker processes until a signal or a worker's death; the exit status.

    ``on_exit`` is told each worker's pid once it has exited (the metrics drop its live gauges).

    ``target`` must be picklable (a module-level function or a ``functools.partial`` of one): the
    workers are fresh interpreters (``spawn``), never forks of a parent that already runs threads
    (the ingest runner, the scheduler). It calls ``Worker.ready`` once it listens. 0 after a
    requested stop, 1 when a worker failed or died.
    """
    check_address(host, port)
    context = multiprocessing.get_context("spawn")
    ready_from, ready_to = context.Pipe(duplex=False)
    wake_from, wake_to = os.pipe()
    os.set_blocking(wake_to, False)
    stop_asked: list[int] = []

    def ask_stop(signum: int, _frame: FrameType | None) -> None:
        stop_asked.append(signum)
        with contextlib.suppress(BlockingIOError):
            os.write(wake_to, b"!")

    previous = {sig: signal.signal(sig, ask_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    processes: list[BaseProcess] = []
    try:
        for index in range(1, count + 1):
            process = context.Process(
                target=_worker_main,
                args=(target, Worker(index=index, ready_to=ready_to)),
                name=f"rcmedia-worker-{index}",
            )
            process.start()
            processes.append(process)
        status = _supervise(processes, ready_from, wake_from, stop_asked, host, port, on_ready)
    finally:
        _stop(processes)
        if on_exit is not None:
            for ended in processes:
                if ended.pid is not None:
                    on_exit(ended.pid)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for end in (ready_from, ready_to):
            end.close()
        os.close(wake_from)
        os.close(wake_to)
    return status


def _supervise(
    processes: list[BaseProcess],
    ready_from: Connection,
    wake_from: int,
    stop_asked: list[int],
    host: str,
    port: int,
    on_ready: Callable[[Listening], None] | None,
) -> int:
    listening: set[int] = set()
    by_sentinel = {p.sentinel: p for p in processes}
    while not stop_asked:
        for ready in wait([ready_from, wake_from, *by_sentinel]):
            if ready is ready_from:
                index, _ = ready_from.recv()
                listening.add(index)
                if len(listening) == len(processes) and on_ready is not None:
                    on_ready(Listening(host=host, port=port, workers=len(processes)))
            elif isinstance(ready, int) and ready in by_sentinel:
                process = by_sentinel[ready]
                process.join()
                log.error(
                    "%s (pid %s) exited with status %s; stopping the other workers",
                    process.name,
                    process.pid,
                    process.exitcode,
                )
                return FAILED
    log.info("stopping %d workers (%s)", len(processes), signal.Signals(stop_asked[0]).name)
    return 0


def _stop(processes: list[BaseProcess]) -> None:
    """SIGTERM to every live worker, then SIGKILL to any still running after ``STOP_SECONDS``."""
    for process in processes:
        if process.exitcode is None and process.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.exitcode is None:
            log.error(
                "%s (pid %s) did not stop in %.0f s; killing it", process.name, process.pid, STOP_SECONDS
            )
            process.kill()
            process.join()


def _worker_main(target: Callable[[Worker], None], worker: Worker) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent's SIGTERM stops us (see the module)
    try:
        target(worker)
    except RcmediaError as exc:
        print(f"rcmedia worker {worker.index}: {exc}", file=sys.stderr, flush=True)
        sys.exit(FAILED)
