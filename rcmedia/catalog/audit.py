"""The audit log in the catalog database: append-only, read newest first.

A write that owns its transaction here (the accounts) records its entry in that same transaction
(:func:`add_entry`), so an entry exists exactly when the change does. Writes that run elsewhere
(schedule edits, asset changes, uploads, grid applies) record theirs right after they succeeded
(:meth:`AuditLog.record`): a crash in between loses the entry, never invents one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from rcmedia.catalog.db import Transactions
from rcmedia.catalog.tables import AuditRow
from rcmedia.core.audit import MAX_ACTION, MAX_ACTOR, MAX_TARGET, AuditEntry

MAX_ENTRIES = 500


def _entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        at=row.at,
        actor=row.actor,
        action=row.action,
        target=row.target,
        before=row.before,
        after=row.after,
    )


def add_entry(
    session: Session, actor: str, action: str, target: str, *, before: Any, after: Any, now: datetime
) -> AuditRow:
    """Add an entry inside the caller's transaction (it is written when that commits)."""
    row = AuditRow(
        at=now,
        actor=actor[:MAX_ACTOR],
        action=action[:MAX_ACTION],
        target=target[:MAX_TARGET],
        before=before,
        after=after,
    )
    session.add(row)
    return row


class AuditLog:
    """Who changed what: record an entry, list them newest first."""

    def __init__(self, engine: Engine) -> None:
        self._session = Transactions(engine)

    def record(
        self, actor: str, action: str, target: str, *, before: Any = None, after: Any = None, now: datetime
    ) -> AuditEntry:
        """Add one entry (``before``/``after``: JSON-able documents, or None) in a transaction of its own."""
        with self._session() as session:
            row = add_entry(session, actor, action, target, before=before, after=after, now=now)
            session.flush()
            return _entry(row)

    def entries(
        self,
        *,
        since: datetime | None = None,
        actor: str | None = None,
        action: str | None = None,
        target_prefix: str | None = None,
        limit: int = 100,
        before_id: int | None = None,
    ) -> list[AuditEntry]:
        """Entries newest first, at most ``limit`` (1…500); ``before_id`` pages on past an earlier page."""
        limit = max(1, min(MAX_ENTRIES, limit))
        query = select(AuditRow)
        if since is not None:
            query = query.where(AuditRow.at >= since)
        if actor is not None:
            query = query.where(AuditRow.actor == actor)
        if action is not None:
            query = query.where(AuditRow.action == action)
        if target_prefix:
            query = query.where(AuditRow.target.startswith(target_prefix, autoescape=True))
        if before_id is not None:
            query = query.where(AuditRow.id < before_id)
        with self._session() as session:
            rows = session.scalars(query.order_by(AuditRow.id.desc()).limit(limit)).all()
            return [_entry(row) for row in rows]
