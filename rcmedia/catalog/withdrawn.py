"""Withdrawn assets' packages: which are past their grace, and marking one deleted.

A withdrawn asset never plays again: VOD answers 404 for it, and live and catch-up put the slate
in its place (rcmedia.playout.availability: only a published asset with a package airs; catch-up
replays the timeline with today's availability, not what the as-run log once played). Withdrawal
is final (nothing publishes a withdrawn asset again), so its package is only kept for
``withdrawn_grace_days`` in case an operator wants it back by hand, then deleted by the storage
sweep (rcmedia.service.withdrawn).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from rcmedia.catalog.audit import add_entry
from rcmedia.catalog.db import Transactions
from rcmedia.catalog.tables import AssetRow
from rcmedia.core.audit import AuditAction, asset_target
from rcmedia.core.models import AssetStatus

SWEEPER = "storage sweep"  # the audit log's actor for the sweep's deletions


@dataclass(frozen=True, kw_only=True, slots=True)
class WithdrawnPackage:
    asset_id: int
    storage_prefix: str
    withdrawn_at: datetime


class WithdrawnPackages:
    def __init__(self, engine: Engine) -> None:
        self._session = Transactions(engine)

    def expired(self, cutoff: datetime) -> list[WithdrawnPackage]:
        """The packages of assets withdrawn at or before ``cutoff`` that are still in storage."""
        with self._session() as session:
            rows = session.execute(
                select(AssetRow.id, AssetRow.storage_prefix, AssetRow.withdrawn_at)
                .where(
                    AssetRow.status == AssetStatus.WITHDRAWN.value,
                    AssetRow.storage_prefix.is_not(None),
                    AssetRow.withdrawn_at <= cutoff,
                )
                .order_by(AssetRow.id)
            ).all()
        return [
            WithdrawnPackage(asset_id=asset_id, storage_prefix=prefix, withdrawn_at=withdrawn_at)
            for asset_id, prefix, withdrawn_at in rows
            if prefix is not None and withdrawn_at is not None  # as the WHERE says: for the types
        ]

    def mark_deleted(self, package: WithdrawnPackage, *, now: datetime) -> bool:
        """Record that ``package`` is gone: the asset refers to no package any more, with an audit
        entry in the same transaction. Only while the asset is still withdrawn and still refers to
        that package (checked in the UPDATE itself); False when it moved on meanwhile."""
        with self._session() as session:
            result = session.execute(
                update(AssetRow)
                .where(
                    AssetRow.id == package.asset_id,
                    AssetRow.status == AssetStatus.WITHDRAWN.value,
                    AssetRow.storage_prefix == package.storage_prefix,
                )
                .values(storage_prefix=None)
            )
            changed = bool(result.rowcount == 1)  # type: ignore[attr-defined]
            if changed:
                add_entry(
                    session,
                    SWEEPER,
                    AuditAction.ASSET_PACKAGE_DELETE,
                    asset_target(package.asset_id),
                    before={"storage_prefix": package.storage_prefix},
                    after={"storage_prefix": None, "withdrawn_at": package.withdrawn_at.isoformat()},
                    now=now,
                )
            return changed
