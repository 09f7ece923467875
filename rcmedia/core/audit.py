"""The audit log's entries: who changed what, when, and what it was before and after.

``before`` and ``after`` are JSON-able documents of the thing changed (an event, an asset's
metadata, an account without its password); None where there was nothing before (an account
added) or is nothing after. The actor is a name: an account's, or ``cli:<os user>`` for the
command line, kept as written even after the account is gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class AuditAction(StrEnum):
    SCHEDULE_EDIT = "schedule.edit"
    SCHEDULE_REBUILD = "schedule.rebuild"
    SCHEDULE_COPY_LOCKS = "schedule.copy_locks"
    GRID_APPLY = "grid.apply"
    ASSET_UPDATE = "asset.update"
    ASSET_RIGHTS = "asset.rights"
    ASSET_WITHDRAW = "asset.withdraw"
    ASSET_PACKAGE_DELETE = "asset.package_delete"  # a withdrawn asset's package, after the grace
    UPLOAD_FINISH = "upload.finish"
    JOB_RETRY = "job.retry"
    JOB_CANCEL = "job.cancel"
    USER_ADD = "user.add"
    USER_UPDATE = "user.update"
    USER_PASSWORD = "user.password"  # noqa: S105 - action names, not secrets
    USER_TOKEN = "user.token"  # noqa: S105
    USER_REVOKE_TOKEN = "user.revoke_token"  # noqa: S105


MAX_ACTOR = 100
MAX_ACTION = 40
MAX_TARGET = 300


@dataclass(frozen=True, kw_only=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str  # an AuditAction's value; kept as a string so other helpers may add their own
    target: str  # "channel/edu/iptv/2026-12-05", "asset/12", "user/bob"
    before: Any
    after: Any


def user_target(name: str) -> str:
    return f"user/{name}"


def asset_target(asset_id: int) -> str:
    return f"asset/{asset_id}"


def channel_target(channel_id: str, output: str | None = None, day: object | None = None) -> str:
    """``channel/ID``, ``channel/ID/OUTPUT`` or ``channel/ID/OUTPUT/DAY``."""
    return "/".join(["channel", channel_id, *([output] if output else []), *([str(day)] if day else [])])


@dataclass(frozen=True, kw_only=True, slots=True)
class KeyChange:
    """One key of an entry's documents that differs: its value before and after (MISSING: absent)."""

    key: str  # "" when the documents are not objects: the whole value changed
    before: Any
    after: Any


MISSING: Any = object()  # a key one side does not have, or a side that is None


def key_changes(before: Any, after: Any) -> list[KeyChange]:
    """What an entry changed, key by key, in the documents' key order: a compact diff to show.

    Objects (``dict``) are compared key by key, one level deep (a changed list or object is one
    change); a side that is None counts as an object with no keys, so an account added lists each
    of its keys once. Anything else that differs is one change of the whole value (key ``""``).
    """
    if (before is None or isinstance(before, dict)) and (after is None or isinstance(after, dict)):
        old, new = before or {}, after or {}
        keys = list(old) + [key for key in new if key not in old]
        return [
            KeyChange(key=str(key), before=old.get(key, MISSING), after=new.get(key, MISSING))
            for key in keys
            if old.get(key, MISSING) != new.get(key, MISSING)
        ]
    if before == after:
        return []
    return [KeyChange(key="", before=before, after=after)]
