"""Deleting withdrawn assets' packages once their grace is over (``rcmedia storage sweep``).

The catalog is told first (the asset then refers to no package, and the audit log says so), then
the package is deleted: nothing in the catalog ever points at a deleted package. A crash or a
storage error in between leaves a package no row refers to, which the orphan sweep deletes (it
has not changed for far longer than that sweep's grace). Running it again changes nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Protocol

from rcmedia.catalog.repository import Catalog
from rcmedia.catalog.withdrawn import WithdrawnPackage

log = logging.getLogger(__name__)


class Packages(Protocol):
    """What this needs of a storage (rcmedia.storage.base.Storage has it; the service layer does
    not import the adapters)."""

    def remove(self, prefix: str) -> None: ...


def delete_withdrawn_packages(
    catalog: Catalog, storage: Packages, *, now: datetime, grace: timedelta
) -> list[WithdrawnPackage]:
    """Delete the packages of assets withdrawn at least ``grace`` before ``now``; the ones deleted.
    Blocking (storage and catalog)."""
    deleted = []
    for package in catalog.withdrawn.expired(now - grace):
        if not catalog.withdrawn.mark_deleted(package, now=now):
            continue  # changed meanwhile: the next sweep looks again
        log.info("deleting withdrawn asset %d's package %s", package.asset_id, package.storage_prefix)
        storage.remove(package.storage_prefix)
        deleted.append(package)
    return deleted
