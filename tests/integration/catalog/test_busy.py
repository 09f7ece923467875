"""A write that cannot get its lock in time is a BusyError (retry later), not a CatalogError (a fault).

On SQLite and PostgreSQL alike, with the lock really held by another connection and the catalog's
wait cut to 0.2 s (``database_busy_timeout_seconds`` is 10 by default).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from rcmedia.catalog.db import Transactions, is_busy
from rcmedia.catalog.repository import Catalog
from rcmedia.core.models import AssetMetadata
from rcmedia.errors import BusyError, CatalogError

NOW = datetime(2026, 3, 2, 4, 30, tzinfo=UTC)


@pytest.fixture
def impatient(any_catalog: Catalog) -> Catalog:
    """``any_catalog`` waiting 0.2 s for a lock."""
    engine = any_catalog.engine
    setting = "PRAGMA busy_timeout=200" if engine.dialect.name == "sqlite" else "SET lock_timeout = 200"

    @event.listens_for(engine, "connect")
    def _impatient(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(setting)
        cursor.close()
        if engine.dialect.name == "postgresql":
            dbapi_connection.commit()

    engine.dispose()  # connections made from now on wait 0.2 s
    return any_catalog


@contextmanager
def writes_locked(catalog: Catalog) -> Iterator[None]:
    """Another connection holds the lock every write to the assets needs (reads go on)."""
    engine = catalog.engine
    if engine.dialect.name == "sqlite":
        holder = sqlite3.connect(engine.url.database or "", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    with engine.connect() as connection, connection.begin() as transaction:
        connection.execute(text("LOCK TABLE assets IN EXCLUSIVE MODE"))
        try:
            yield
        finally:
            transaction.rollback()


def ingest(catalog: Catalog) -> tuple[int, int]:
    return catalog.create_ingest(
        AssetMetadata(title="忙"),
        original_filename="busy.mp4",
        source_path="/srv/inbox/busy.mp4",
        profile="tiny",
        max_attempts=3,
        now=NOW,
    )


def test_a_write_behind_another_writers_lock_is_busy(impatient: Catalog) -> None:
    with writes_locked(impatient), pytest.raises(BusyError) as busy:
        ingest(impatient)
    assert busy.value.retry_after > 0
    assert isinstance(busy.value.__cause__, OperationalError)
    assert is_busy(busy.value.__cause__)
    ingest(impatient)  # the lock gone, the same write goes through


def test_other_database_errors_stay_faults(any_catalog: Catalog) -> None:
    with pytest.raises(CatalogError) as failed, Transactions(any_catalog.engine)() as session:
        session.execute(text("SELECT * FROM no_such_table"))
    assert not isinstance(failed.value, BusyError)
