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

from rcmedia.errors import BusyError
from rcmedia.playout.work_slots import WorkSlots


class TooManyLogins(BusyError):
    """Every password-check thread and queue place is taken (not the catalog: that is BusyError)."""


class PasswordChecks(WorkSlots):
    """A bounded pool for password checks: ``threads`` running, ``queue`` waiting, the rest refused
    at once with :class:`TooManyLogins`."""

    def __init__(self, *, threads: int = 1, queue: int = 4) -> None:
        # a check leaves its place when its thread is done with it, even when the request that
        # asked for it was cancelled meanwhile (the hash still runs to its end)
        super().__init__("password checking", slots=threads, queue=queue, refusal=TooManyLogins)
