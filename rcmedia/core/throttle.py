"""Slowing down password guessing: after a few failures a key is refused for a while.

An attempt is counted *before* its password is checked (:meth:`FailureThrottle.attempt`) and
forgiven when it turns out right: counting after the check let 40 guesses sent at once all pass
the check before the first failure was counted.

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
    """``limit`` failures within ``window`` block a key for ``block``; a success forgets the key.

    ``window`` runs from the latest failure: a key that has been quiet for that long starts afresh.
    """

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

    def attempt(self, key: Hashable, now: datetime) -> float | None:
        """Count an attempt before it is checked: None when it may go ahead, else the seconds to wait.

        A refused attempt is not counted. Follow a good attempt with :meth:`succeeded` (or
        :meth:`release`, for an attempt that was never checked); a failed one stays counted.
        """
        wait = self.retry_after(key, now)
        if wait is None:
            self.failed(key, now)
        return wait

    def failed(self, key: Hashable, now: datetime) -> None:
        """Count one failure of ``key``; the ``limit``-th within the window blocks it."""
        record = self._records.get(key)
        if record is None or now - record.last > self.window:
            self._forget_old(now)
            record = self._records[key] = _Record(failures=0, last=now)
        record.failures += 1
        record.last = now
        if record.failures >= self.limit:
            record.blocked_until = now + self.block

    def release(self, key: Hashable) -> None:
        """Take back one counted attempt (it was never checked, or it succeeded where forgetting
        the whole key would let one good login wipe out many bad ones)."""
        record = self._records.get(key)
        if record is None:
            return
        record.failures -= 1
        if record.failures <= 0:
            del self._records[key]
        elif record.failures < self.limit:
            record.blocked_until = None

    def succeeded(self, key: Hashable) -> None:
        """Forget every failure of ``key``."""
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


class LoginLimits:
    """The limits on password guessing: per account name and address, and per address across names.

    The first stops a guesser working on one account; the second one trying a few passwords on
    many accounts (OWASP ASVS 2.2.1), which the first never sees. An attempt is counted against
    both before its password is checked; a success forgets the name's failures and takes back its
    own count from the address (not the address's whole count: one good login between guesses
    must not reset it).
    """

    def __init__(self, *, per_name: FailureThrottle, per_address: FailureThrottle | None) -> None:
        self.per_name = per_name
        self.per_address = per_address

    @staticmethod
    def name_key(name: str, address: str) -> tuple[str, str]:
        return (name.strip().casefold(), address)

    def _keys(self, name: str, address: str) -> list[tuple[FailureThrottle, Hashable]]:
        keys: list[tuple[FailureThrottle, Hashable]] = [(self.per_name, self.name_key(name, address))]
        if self.per_address is not None:
            keys.append((self.per_address, address))
        return keys

    def attempt(self, name: str, address: str, now: datetime) -> float | None:
        """Count a login attempt before checking it; None when it may go ahead, else seconds to wait."""
        keys = self._keys(name, address)
        waits = [wait for throttle, key in keys if (wait := throttle.retry_after(key, now)) is not None]
        if waits:
            return max(waits)
        for throttle, key in keys:
            throttle.failed(key, now)
        return None

    def succeeded(self, name: str, address: str) -> None:
        self.per_name.succeeded(self.name_key(name, address))
        if self.per_address is not None:
            self.per_address.release(address)

    def release(self, name: str, address: str) -> None:
        """Take back an attempt that was counted but never checked (the server was too busy)."""
        for throttle, key in self._keys(name, address):
            throttle.release(key)
