"""Password checks in a small pool of their own, so that a flood of logins cannot starve the origin.

argon2id is slow and memory-hungry on purpose (argon2-cffi's defaults: three passes over 64 MiB a
check). Run on asyncio's default thread pool, which every catalog read shares, 30 clients posting
made-up names held all of its threads: ``/healthz``, the API and VOD playlists waited 5–15 s
behind them, and the process grew by 400 MB (64 MiB for each thread hashing at once).

Here at most ``threads`` checks run at once and ``queue`` more wait; a login beyond that is
refused at once (:class:`TooManyLogins`, a BusyError, which the login answers with 503 and ``Retry-After``), so
both the CPU and the memory spent on logins are bounded whatever arrives.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from rcmedia.errors import BusyError


class TooManyLogins(BusyError):
    """Every password-check thread and queue place is taken (not the catalog: that is BusyError)."""


T = TypeVar("T")
RETRY_AFTER = 2  # seconds: a few checks' time, by which the queue has moved on


class PasswordChecks:
    """A bounded pool for password checks: ``threads`` running, ``queue`` waiting, the rest refused."""

    def __init__(self, *, threads: int = 1, queue: int = 4) -> None:
        self.threads = threads
        self.capacity = threads + queue
        self._pending = 0
        # counted across threads: a check leaves when its thread is done with it, even when the
        # request that asked for it was cancelled meanwhile (the hash still runs to its end)
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="rcmedia-password")

    @property
    def pending(self) -> int:
        """Checks running or waiting."""
        return self._pending

    async def run(self, check: Callable[[], T]) -> T:
        """``check()`` on the pool; TooManyLogins at once when ``threads + queue`` are already taken."""
        with self._lock:
            if self._pending >= self.capacity:
                raise TooManyLogins("password checking", retry_after=RETRY_AFTER)
            self._pending += 1
        try:
            future = self._executor.submit(check)
        except RuntimeError:  # shut down: the app is stopping
            self._finished(None)
            raise TooManyLogins("password checking", retry_after=RETRY_AFTER) from None
        future.add_done_callback(self._finished)
        return await asyncio.wrap_future(future)

    def _finished(self, _future: Future[Any] | None) -> None:
        with self._lock:
            self._pending -= 1

    def close(self) -> None:
        """Stop taking checks; those waiting are dropped, the running ones finish in their thread."""
        self._executor.shutdown(wait=False, cancel_futures=True)
