"""The closed as-run log in the catalog, and what it needs to know of the assets that were to air.

Entries are written once, after their event ended, with a per channel output mark of how far the
log is closed; closing twice over the same range writes nothing new.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from rcmedia.catalog.db import Transactions, insert_absent
from rcmedia.catalog.tables import AsRunMarkRow, AsRunRow, AssetRow, StandInRow
from rcmedia.core.airings import AssetAiring
from rcmedia.core.asrun import AsRunEntry, StoodIn
from rcmedia.core.models import AssetStatus, Output
from rcmedia.core.schedule import EventKind
from rcmedia.errors import CatalogError


@dataclass(frozen=True, kw_only=True, slots=True)
class AssetState:
    status: AssetStatus
    storage_prefix: str | None


def _entry(row: AsRunRow) -> AsRunEntry:
    return AsRunEntry(
        scheduled_start=row.scheduled_start,
        actual_start=row.actual_start,
        duration_us=row.duration_us,
        asset_id=row.asset_id,
        title=row.title,
        kind=EventKind(row.kind),
        substitution=row.substitution,
    )


class AsRunLog:
    def __init__(self, engine: Engine) -> None:
        self._session = Transactions(engine)

    def closed_until(self, channel_id: str, output: Output) -> datetime | None:
        """Every event of the channel output that ended by this time is recorded (None: nothing yet)."""
        with self._session() as session:
            row = session.get(AsRunMarkRow, (channel_id, output.value))
            return None if row is None else row.closed_until

    def close(
        self,
        channel_id: str,
        output: Output,
        entries: Sequence[AsRunEntry],
        *,
        until: datetime,
        now: datetime,
    ) -> int:
        """Record ``entries`` and move the mark to ``until``, together; returns how many were new.

        Closers on several machines (every ``serve`` runs one) take turns on the output's mark:
        the first close of an output makes the mark (an insert that yields to another closer's),
        so each entry is recorded once, never a unique-key failure.
        """
        key = (channel_id, output.value)
        with self._session() as session:
            mark = session.get(AsRunMarkRow, key, with_for_update=True)
            start = None if mark is None else mark.closed_until
            made = {"channel_id": channel_id, "output": output.value, "closed_until": until}
            if mark is None and not insert_absent(session, AsRunMarkRow, made):
                # another closer made it meanwhile (and has committed): go on from where it got to
                mark = session.get(AsRunMarkRow, key, with_for_update=True, populate_existing=True)
                assert mark is not None
                start = mark.closed_until
            new = [e for e in entries if start is None or e.actual_start >= start]
            session.add_all(
                AsRunRow(
                    channel_id=channel_id,
                    output=output.value,
                    scheduled_start=e.scheduled_start,
                    actual_start=e.actual_start,
                    duration_us=e.duration_us,
                    asset_id=e.asset_id,
                    title=e.title,
                    kind=e.kind.value,
                    substitution=e.substitution,
                    closed_at=now,
                )
                for e in new
            )
            if mark is not None and until > mark.closed_until:
                mark.closed_until = until
            return len(new)

    def entries(self, channel_id: str, output: Output, *, start: datetime, end: datetime) -> list[AsRunEntry]:
        """Closed entries that started in [start, end), in air order."""
        with self._session() as session:
            rows = session.scalars(
                select(AsRunRow)
                .where(
                    AsRunRow.channel_id == channel_id,
                    AsRunRow.output == output.value,
                    AsRunRow.actual_start >= start,
                    AsRunRow.actual_start < end,
                )
                .order_by(AsRunRow.actual_start)
            ).all()
            return [_entry(row) for row in rows]

    def airings_of(self, asset_id: int, *, since: datetime, until: datetime) -> list[AssetAiring]:
        """How ``asset_id`` aired on every channel output, started in [since, until), newest first."""
        with self._session() as session:
            rows = session.scalars(
                select(AsRunRow)
                .where(
                    AsRunRow.asset_id == asset_id,
                    AsRunRow.actual_start >= since,
                    AsRunRow.actual_start < until,
                )
                .order_by(AsRunRow.actual_start.desc(), AsRunRow.channel_id, AsRunRow.output)
            ).all()
            return [
                AssetAiring(
                    channel_id=row.channel_id,
                    output=Output(row.output),
                    start=row.actual_start,
                    end=_entry(row).end,
                    title=row.title,
                    kind=EventKind(row.kind),
                    substitution=row.substitution,
                )
                for row in rows
            ]

    def asset_states(self, asset_ids: Iterable[int]) -> dict[int, AssetState]:
        """Status and storage prefix of the given assets (an id not in the catalog is left out)."""
        wanted = sorted(set(asset_ids))
        states: dict[int, AssetState] = {}
        with self._session() as session:
            for chunk in (wanted[i : i + 500] for i in range(0, len(wanted), 500)):
                for asset_id, status, prefix in session.execute(
                    select(AssetRow.id, AssetRow.status, AssetRow.storage_prefix).where(
                        AssetRow.id.in_(chunk)
                    )
                ):
                    states[asset_id] = AssetState(status=AssetStatus(status), storage_prefix=prefix)
        return states

    def series_assets(self, series: str) -> list[tuple[int, str]]:
        """(id, title) of the published assets of ``series``, by id."""
        with self._session() as session:
            rows = session.execute(
                select(AssetRow.id, AssetRow.title)
                .where(AssetRow.series == series, AssetRow.status == AssetStatus.PUBLISHED.value)
                .order_by(AssetRow.id)
            ).all()
            return [(asset_id, title) for asset_id, title in rows]

    def record_stand_in(self, storage_key: str, stood_in: StoodIn) -> bool:
        """Note that the slate stood in for the segment at ``storage_key``; False if it was noted
        before (by this origin or another one: the first instant is kept)."""
        try:
            with self._session() as session:
                if session.get(StandInRow, storage_key) is not None:
                    return False
                session.add(
                    StandInRow(
                        storage_key=storage_key,
                        asset_id=stood_in.asset_id,
                        rendition=stood_in.rendition,
                        segment_index=stood_in.index,
                        first_at=stood_in.since,
                    )
                )
        except CatalogError as exc:
            if isinstance(exc.__cause__, IntegrityError):  # another origin noted it meanwhile
                return False
            raise
        return True

    def stand_ins(self, asset_ids: Iterable[int]) -> list[StoodIn]:
        """The segments of these assets the slate stood in for, by asset and index."""
        wanted = sorted(set(asset_ids))
        found: list[StoodIn] = []
        with self._session() as session:
            for chunk in (wanted[i : i + 500] for i in range(0, len(wanted), 500)):
                rows = session.scalars(select(StandInRow).where(StandInRow.asset_id.in_(chunk))).all()
                found.extend(
                    StoodIn(
                        asset_id=r.asset_id, index=r.segment_index, rendition=r.rendition, since=r.first_at
                    )
                    for r in rows
                )
        return sorted(found, key=lambda s: (s.asset_id, s.index, s.rendition))

    def recent_stand_ins(self, *, limit: int) -> tuple[list[StoodIn], int]:
        """The ``limit`` segments most recently found missing from storage, newest first, and how
        many there are in all: the storage problems an operator should look at."""
        with self._session() as session:
            total = session.scalar(select(func.count()).select_from(StandInRow)) or 0
            rows = session.scalars(
                select(StandInRow).order_by(StandInRow.first_at.desc(), StandInRow.storage_key).limit(limit)
            ).all()
            return [
                StoodIn(asset_id=r.asset_id, index=r.segment_index, rendition=r.rendition, since=r.first_at)
                for r in rows
            ], total
