"""A problem that recurs many times a second is logged once per interval, with how often it recurred.

Running out of file descriptors makes every accept and every file open fail; a line (and a
traceback) for each of them buried the log under 19,000 lines in 30 s while telling nothing more
than the first one (issue 9).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

INTERVAL_S = 60.0


class RecurringLog:
    """Logs each ``key``'s message at most once per ``interval`` seconds, counting the ones left out."""

    def __init__(
        self,
        logger: logging.Logger,
        *,
        interval: float = INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.interval = interval
        self.clock = clock
        self._last: dict[str, float] = {}
        self._left_out: dict[str, int] = {}

    def warning(self, key: str, message: str, *args: object) -> bool:
        """Log ``message % args`` at WARNING unless ``key`` was logged within the interval; True if logged."""
        now = self.clock()
        last = self._last.get(key)
        if last is not None and now - last < self.interval:
            self._left_out[key] = self._left_out.get(key, 0) + 1
            return False
        self._last[key] = now
        left_out = self._left_out.pop(key, 0)
        if left_out:
            since = f" (and {left_out} more times in the last {now - last:.0f} s)" if last is not None else ""
            self.logger.warning(message + since, *args)
        else:
            self.logger.warning(message, *args)
        return True
