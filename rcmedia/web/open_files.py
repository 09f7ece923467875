"""The process's open-files limit (``RLIMIT_NOFILE``): raised at start-up, and the connections it allows.

Every client connection holds a file descriptor, and one being sent a segment holds a second (the
file); the catalog, the logs and the event loop hold a few more. systemd starts services with a
soft limit of 1024 unless the unit says otherwise, so an origin that accepted until ``accept``
failed ran out at about a thousand clients (issue 9). ``serve`` raises the soft limit to the hard
one, as nginx's ``worker_rlimit_nofile`` does, and keeps its connections to what the limit leaves
after a reserve (``connection_cap``); the units in ``deploy/`` raise the hard limit
(``LimitNOFILE=65536``).
"""

from __future__ import annotations

import logging
import resource

log = logging.getLogger(__name__)

RESERVED = 256  # descriptors kept for what is not a connection: the catalog, logs, the event loop
PER_CONNECTION = 2  # the socket, and the segment file being sent on it
MOST = 10_000  # the derived cap's ceiling, as nginx's worker_connections are sized
FEWEST = 8


def raise_limit() -> tuple[int, int]:
    """Raise this process's soft open-files limit to its hard limit; (before, after).

    Children started afterwards (``serve --workers N``) inherit the raised limit.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == hard:
        return soft, soft
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError) as exc:  # e.g. above the kernel's nr_open
        log.warning("cannot raise the open-files limit from %d to %d: %s", soft, target, exc)
        return soft, soft
    return soft, target


def soft_limit() -> int:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return MOST * PER_CONNECTION + RESERVED if soft == resource.RLIM_INFINITY else soft


def connection_cap(setting: int, limit: int | None = None) -> int:
    """Connections one process keeps: the ``max_connections`` setting, or for 0 what ``limit``
    (default: the current soft open-files limit) leaves after the reserve, two per connection."""
    if setting > 0:
        return setting
    limit = soft_limit() if limit is None else limit
    return max(FEWEST, min(MOST, (limit - RESERVED) // PER_CONNECTION))


def descriptors_needed(connections: int) -> int:
    """The open-files limit ``connections`` need (to warn about a cap set above what the limit allows)."""
    return connections * PER_CONNECTION + RESERVED
