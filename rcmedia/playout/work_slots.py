"""A few worker threads of its own for heavy computations asked from the event loop, with a bounded wait.

``asyncio.to_thread`` shares the loop's default executor (a handful of threads) with everything
else that must not block the loop: the health check's query, live timeline loads. Twenty catch-up
requests for distinct ranges, each costing tenths of a second, filled it and made ``/healthz``
wait 6 to 23 s behind them. Here such work runs on ``slots`` threads of its own; up to ``queue``
more calls wait their turn, and one more is refused at once with :class:`BusyError` (the web
answers 503 with ``Retry-After``) rather than queue without end.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from rcmedia.errors import BusyError

T = TypeVar("T")


class WorkSlots:
    """``slots`` threads, ``queue`` waiting places; see the module's docstring."""

    def __init__(
        self,
        what: str,
        *,
        slots: int,
        queue: int,
        retry_after: int = 2,
        refusal: type[BusyError] = BusyError,
    ) -> None:
        self.what = what
        self.refusal = refusal
        self.slots = slots
        self.queue = queue
        self.retry_after = retry_after
        self._executor = ThreadPoolExecutor(max_workers=slots, thread_name_prefix=what.replace(" ", "-"))
        self._lock = threading.Lock()
        self._pending = 0  # running or waiting: counted down when the work ends, even if nobody awaits it

    @property
    def pending(self) -> int:
        return self._pending

    async def run(self, work: Callable[[], T]) -> T:
        """``work()`` on one of the threads; ``refusal`` (a :class:`BusyError`) when every slot and
        place is taken, or when the slots are closed (the app is stopping)."""
        with self._lock:
            if self._pending >= self.slots + self.queue:
                raise self.refusal(self.what, retry_after=self.retry_after)
            self._pending += 1
        try:
            future = self._executor.submit(work)
        except RuntimeError:  # shut down
            self._done()
            raise self.refusal(self.what, retry_after=self.retry_after) from None
        future.add_done_callback(lambda _: self._done())
        return await asyncio.wrap_future(future)

    def _done(self) -> None:
        with self._lock:
            self._pending -= 1

    def close(self) -> None:
        """Drop what waits, let what runs finish (without waiting for it)."""
        self._executor.shutdown(wait=False, cancel_futures=True)
