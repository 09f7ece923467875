"""Slowing down password guessing: after a few failures in a row a key is refused for a while.

Kept in memory by each origin process (a restart forgets it; several processes each count their
own): argon2 already makes every guess cost, this only stops a tight loop. Time is passed in.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(kw_only=True, slots=True)
class _Record:
    failures: int
    last: datetime
    blocked_until: datetime | None = None


class FailureThrottle:
    """``limit`` failures within ``window`` block a key for ``block``; a success forgets the key."""

    def __init__(
        self,
        *,
        limit: int = 5,
        block: timedelta = timedelta(seconds=60),
        window: timedelta = timedelta(minutes=15),
        max_keys: int = 10_000,
    ) -> None:
        self.limit = limit
        self.block = block
        self.window = window
        self.max_keys = max_keys
        self._records: dict[Hashable, _Record] = {}

    def retry_after(self, key: Hashable, now: datetime) -> float | None:
        """Seconds until ``key`` may try again, or None when it may try now."""
        record = self._records.get(key)
        if record is None or record.blocked_until is None:
            return None
        if now >= record.blocked_until:
            del self._records[key]
            return None
        return (record.blocked_until - now).total_seconds()

    def failed(self, key: Hashable, now: datetime) -> None:
        record = self._records.get(key)
        if record is None or now - record.last > self.window:
            self._forget_old(now)
            record = self._records[key] = _Record(failures=0, last=now)
        record.failures += 1
        record.last = now
        if record.failures >= self.limit:
            record.blocked_until = now + self.block

    def succeeded(self, key: Hashable) -> None:
        self._records.pop(key, None)

    def _forget_old(self, now: datetime) -> None:
        # bounded memory: a flood of made-up names must not grow the table without end
        if len(self._records) < self.max_keys:
            return
        for key, record in list(self._records.items()):
            if now - record.last > self.window and (
                record.blocked_until is None or record.blocked_until <= now
            ):
                del self._records[key]
        while len(self._records) >= self.max_keys:
            del self._records[next(iter(self._records))]
