"""Channels as applied, built EPG days and their events: the scheduling side of the catalog."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, selectinload

from rcmedia.catalog.audit import add_entry
from rcmedia.catalog.db import Transactions, insert_absent, is_busy
from rcmedia.catalog.tables import AssetRow, ChannelRow, EventRow, RenditionRow, ScheduleDayRow
from rcmedia.core.airings import AssetAiring
from rcmedia.core.audit import AuditAction, channel_target
from rcmedia.core.builder import DaySchedule
from rcmedia.core.models import AssetStatus, Output, Rights, Source
from rcmedia.core.schedule import Airing, Counters, Event, EventKind, ScheduleAsset, to_us
from rcmedia.errors import BusyError, ConflictError

# an event never lasts longer than a broadcast day (25 h on a daylight-saving change)
_LONGEST_EVENT = timedelta(hours=25)
LOCK_WAIT_S = 5.0  # how long a schedule write waits for another one of the same channel output


@dataclass(frozen=True, kw_only=True, slots=True)
class AppliedChannel:
    id: str
    filename: str
    source: str  # the TOML text as applied
    version: int


def _event(row: EventRow) -> Event:
    return Event(
        start=row.starts_at,
        duration_us=row.duration_us,
        asset_id=row.asset_id,
        first_segment=row.first_segment,
        last_segment=row.last_segment,
        kind=EventKind(row.kind),
        title=row.title,
        series=row.series,
        episode=row.episode,
        slot_id=row.slot_id,
        premiere=row.premiere,
        previously_shown=row.previously_shown,
        substitution=row.substitution,
        locked=row.locked,
        seq0=row.seq0,
        disc0=row.disc0,
    )


def _event_values(channel_id: str, output: Output, day_id: int, event: Event) -> dict[str, object]:
    return {
        "day_id": day_id,
        "channel_id": channel_id,
        "output": output.value,
        "starts_at": event.start,
        "duration_us": event.duration_us,
        "asset_id": event.asset_id,
        "first_segment": event.first_segment,
        "last_segment": event.last_segment,
        "kind": event.kind.value,
        "title": event.title,
        "series": event.series,
        "episode": event.episode,
        "slot_id": event.slot_id,
        "premiere": event.premiere,
        "previously_shown": event.previously_shown,
        "substitution": event.substitution,
        "locked": event.locked,
        "seq0": event.seq0,
        "disc0": event.disc0,
    }


class ScheduleStore:
    def __init__(self, engine: Engine) -> None:
        self._session = Transactions(engine)

    # --- channels --------------------------------------------------------------------------

    def apply_channels(
        self,
        files: Sequence[tuple[str, str, str]],
        *,
        now: datetime,
        expected_versions: Mapping[str, int] | None = None,
        actor: str | None = None,
    ) -> dict[str, int]:
        """Store (channel id, filename, TOML text) in one transaction; returns id → version.

        A channel whose text did not change keeps its version. ``expected_versions``: the version
        each channel's new text was written on; when another apply changed one since, nothing is
        stored and :class:`ConflictError` names the current version. With ``actor``, each channel
        that changed gets a ``grid.apply`` audit entry (file, version and text before and after) in
        the same transaction.
        """
        versions = {}
        expected = expected_versions or {}
        with self._session() as session:
            # applies take turns: SQLite reads outside a write transaction (FOR UPDATE is not
            # there), so two applies would both read version n and both store n + 1, the
            # second's text over the first's with both confirmed
            _take_write_lock(session, "channels", LOCK_WAIT_S)
            for channel_id, filename, source in files:
                row = session.get(ChannelRow, channel_id, with_for_update=True)
                made = False
                if row is None:
                    # new: made here, unless another apply makes it first (then this one is applied
                    # over that one's, as if it had come second)
                    made = insert_absent(
                        session,
                        ChannelRow,
                        {
                            "id": channel_id,
                            "filename": filename,
                            "source": source,
                            "version": 1,
                            "applied_at": now,
                        },
                    )
                    row = session.get(ChannelRow, channel_id, with_for_update=True, populate_existing=True)
                    assert row is not None
                if channel_id in expected:
                    current = 0 if made else row.version
                    if current != expected[channel_id]:
                        raise ConflictError(
                            f"channel {channel_id!r}", expected=expected[channel_id], current=current
                        )
                before = None if made else {"file": row.filename, "version": row.version, "text": row.source}
                if not made and (row.source != source or row.filename != filename):
                    row.filename, row.source, row.version, row.applied_at = (
                        filename,
                        source,
                        row.version + 1,
                        now,
                    )
                versions[channel_id] = row.version
                if actor is not None and (before is None or before["version"] != row.version):
                    add_entry(
                        session,
                        actor,
                        AuditAction.GRID_APPLY,
                        channel_target(channel_id),
                        before=before,
                        after={"file": filename, "version": row.version, "text": source},
                        now=now,
                    )
        return versions

    def applied_channels(self) -> list[AppliedChannel]:
        with self._session() as session:
            rows = session.scalars(select(ChannelRow).order_by(ChannelRow.id)).all()
            return [
                AppliedChannel(id=r.id, filename=r.filename, source=r.source, version=r.version) for r in rows
            ]

    def change_fingerprint(self) -> tuple[object, ...]:
        """Changes when assets are published, changed or withdrawn, or channels are applied."""
        with self._session() as session:
            assets = session.execute(
                select(func.count(AssetRow.id), func.max(AssetRow.updated_at)).where(
                    AssetRow.status == AssetStatus.PUBLISHED.value
                )
            ).one()
            channels = session.execute(select(func.count(ChannelRow.id), func.sum(ChannelRow.version))).one()
            return (*assets, *channels)

    # --- what the builder reads ------------------------------------------------------------

    def schedule_assets(self) -> list[ScheduleAsset]:
        """Every published asset with its segment durations (identical in every rung) and rights."""
        with self._session() as session:
            first_rendition = (
                select(func.min(RenditionRow.id)).group_by(RenditionRow.asset_id).scalar_subquery()
            )
            durations: dict[int, list[float]] = {}
            for asset_id, segments in session.execute(
                select(RenditionRow.asset_id, RenditionRow.segment_durations).where(
                    RenditionRow.id.in_(first_rendition)
                )
            ):
                durations[asset_id] = segments
            rows = session.scalars(
                select(AssetRow)
                .where(AssetRow.status == AssetStatus.PUBLISHED.value)
                .options(selectinload(AssetRow.rights))
                .order_by(AssetRow.id)
            ).all()
            return [
                ScheduleAsset(
                    id=row.id,
                    title=row.title,
                    series=row.series,
                    episode=row.episode,
                    source=Source(row.source),
                    categories=tuple(row.categories or ()),
                    segment_us=tuple(to_us(d) for d in durations.get(row.id, ())),
                    rights=tuple(
                        Rights(output=Output(r.output), start=r.starts_at, end=r.ends_at) for r in row.rights
                    ),
                    description=row.description,
                    language=row.language,
                )
                for row in rows
            ]

    def events(
        self,
        channel_id: str,
        output: Output,
        *,
        start: datetime,
        end: datetime,
        kinds: Sequence[EventKind] | None = None,
    ) -> list[Event]:
        """Events overlapping [start, end), in order (only of ``kinds`` when given)."""
        with self._session() as session:
            return ScheduleTx(session, channel_id, output).events(start=start, end=end, kinds=kinds)

    def asset_ids(self, channel_id: str, output: Output, *, start: datetime) -> set[int]:
        """The assets of every event of one channel output that ends after ``start``."""
        with self._session() as session:
            rows = session.scalars(
                select(EventRow.asset_id)
                .where(
                    EventRow.channel_id == channel_id,
                    EventRow.output == output.value,
                    EventRow.starts_at >= start - _LONGEST_EVENT,
                )
                .distinct()
            )
            return set(rows)

    def built_days(self, channel_id: str, output: Output) -> dict[date, int]:
        """Day → version of every built day of a channel output."""
        with self._session() as session:
            return ScheduleTx(session, channel_id, output).built_days()

    def airings_of(self, asset_id: int, *, since: datetime, until: datetime) -> list[AssetAiring]:
        """The built events of ``asset_id`` on every channel output overlapping [since, until),
        by start (then channel and output): what withdrawing it would change."""
        with self._session() as session:
            rows = session.scalars(
                select(EventRow)
                .where(
                    EventRow.asset_id == asset_id,
                    EventRow.starts_at >= since - _LONGEST_EVENT,
                    EventRow.starts_at < until,
                )
                .order_by(EventRow.starts_at, EventRow.channel_id, EventRow.output)
            ).all()
            airings = [
                AssetAiring(
                    channel_id=row.channel_id,
                    output=Output(row.output),
                    start=row.starts_at,
                    end=row.starts_at + timedelta(microseconds=row.duration_us),
                    title=row.title,
                    kind=EventKind(row.kind),
                    locked=row.locked,
                    substitution=row.substitution,
                )
                for row in rows
            ]
        return [a for a in airings if a.end > since]

    def day_versions(self, *, since: date) -> dict[tuple[str, Output, date], int]:
        """(channel, output, day) → version of every built day from ``since`` on, of every channel:
        one query, what the schedule events poll (rcmedia.web.schedule_events)."""
        with self._session() as session:
            rows = session.execute(
                select(
                    ScheduleDayRow.channel_id,
                    ScheduleDayRow.output,
                    ScheduleDayRow.day,
                    ScheduleDayRow.version,
                ).where(ScheduleDayRow.day >= since)
            )
            return {(channel, Output(output), day): version for channel, output, day, version in rows}

    # --- writing: one channel output at a time ---------------------------------------------

    @contextmanager
    def reading(self, channel_id: str, output: Output) -> Iterator[ScheduleTx]:
        """One transaction of reads of a channel output's schedule, without its write lock."""
        with self._session() as session:
            yield ScheduleTx(session, channel_id, output)

    @contextmanager
    def writing(
        self, channel_id: str, output: Output, *, wait_s: float = LOCK_WAIT_S
    ) -> Iterator[ScheduleTx]:
        """One transaction holding the write lock of a channel output's schedule.

        Every schedule write (an operator edit, a rebuild storing its days) reads what it depends
        on and stores its result inside this, so two writes of one channel output are serialized
        and neither can overwrite what the other stored unseen. PostgreSQL: a transaction-level
        advisory lock on the channel output (other outputs and readers go on); SQLite: the
        database's write lock (``BEGIN IMMEDIATE``), taken before the first read. A lock not had
        within ``wait_s`` is :class:`BusyError`, and nothing was written.
        """
        with self._session() as session:
            _take_write_lock(session, f"{channel_id}/{output.value}", wait_s)
            yield ScheduleTx(session, channel_id, output)


class ScheduleTx:
    """The schedule of one channel output, read and written inside one transaction."""

    def __init__(self, session: Session, channel_id: str, output: Output) -> None:
        self._session = session
        self.channel_id = channel_id
        self.output = output

    def audit(self, actor: str, action: str, target: str, *, before: Any, after: Any, now: datetime) -> None:
        """An audit entry written with this transaction: it exists exactly when the change does."""
        add_entry(self._session, actor, action, target, before=before, after=after, now=now)

    def _of_output(self) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
        return EventRow.channel_id == self.channel_id, EventRow.output == self.output.value

    def history(self, *, since: datetime, before: datetime) -> list[Airing]:
        rows = self._session.execute(
            select(EventRow.asset_id, EventRow.starts_at, EventRow.slot_id, EventRow.premiere)
            .where(*self._of_output(), EventRow.starts_at >= since, EventRow.starts_at < before)
            .order_by(EventRow.starts_at)
        ).all()
        return [Airing(asset_id=a, start=s, slot_id=slot, premiere=p) for a, s, slot, p in rows]

    def counters_before(self, when: datetime) -> Counters:
        """The counters at ``when``: after the last event that starts before it (zero at the epoch)."""
        row = self._session.execute(
            select(EventRow.seq0, EventRow.disc0, EventRow.first_segment, EventRow.last_segment)
            .where(*self._of_output(), EventRow.starts_at < when)
            .order_by(EventRow.starts_at.desc())
            .limit(1)
        ).first()
        if row is None:
            return Counters()
        seq0, disc0, first, last = row
        return Counters(seq=seq0 + last - first + 1, disc=disc0 + 1)

    def start_of(self, kind: EventKind, *, since: datetime, before: datetime, last: bool) -> datetime | None:
        """When the first (``last``: the last) event of ``kind`` starting in [since, before) starts;
        None when there is none."""
        order = EventRow.starts_at.desc() if last else EventRow.starts_at
        return self._session.scalars(
            select(EventRow.starts_at)
            .where(
                *self._of_output(),
                EventRow.kind == kind.value,
                EventRow.starts_at < before,
                EventRow.starts_at >= since,
            )
            .order_by(order)
            .limit(1)
        ).first()

    def events(
        self, *, start: datetime, end: datetime, kinds: Sequence[EventKind] | None = None
    ) -> list[Event]:
        """Events overlapping [start, end), in order (only of ``kinds`` when given).

        A channel output's events do not overlap, so at most one that starts before ``start``
        reaches into the range: the last one to start before it, read on its own. Reading every
        event of the 25 hours an event may last instead cost a dense channel (an event every few
        seconds) some 10,000 rows per call, 90 % of a one-hour catch-up playlist's time.
        """
        wanted = [] if kinds is None else [EventRow.kind.in_([k.value for k in kinds])]
        before = self._session.scalars(
            select(EventRow)
            .where(
                *self._of_output(), EventRow.starts_at < start, EventRow.starts_at >= start - _LONGEST_EVENT
            )
            .order_by(EventRow.starts_at.desc())
            .limit(1)
        ).first()
        rows = self._session.scalars(
            select(EventRow)
            .where(*self._of_output(), *wanted, EventRow.starts_at < end, EventRow.starts_at >= start)
            .order_by(EventRow.starts_at)
        ).all()
        found = [_event(row) for row in rows]
        if before is not None and (kinds is None or EventKind(before.kind) in kinds):
            overlapping = _event(before)
            if overlapping.end > start:
                found.insert(0, overlapping)
        return found

    def built_days(self) -> dict[date, int]:
        """Day → version of every built day of the channel output."""
        rows = self._session.execute(
            select(ScheduleDayRow.day, ScheduleDayRow.version).where(
                ScheduleDayRow.channel_id == self.channel_id, ScheduleDayRow.output == self.output.value
            )
        )
        return {day: version for day, version in rows}  # noqa: C416 - rows are Row objects

    def save_days(self, schedules: Sequence[DaySchedule], *, now: datetime) -> dict[date, int]:
        """Replace the given days; day → its version afterwards.

        A day whose events come out exactly as stored keeps its version: a rebuild that changes
        nothing must not make an operator's next edit of that day stale (see the edits' 409).
        """
        versions = {}
        for schedule in schedules:
            old = self._session.scalar(
                select(ScheduleDayRow).where(
                    ScheduleDayRow.channel_id == self.channel_id,
                    ScheduleDayRow.output == self.output.value,
                    ScheduleDayRow.day == schedule.day,
                )
            )
            if old is None:
                day = ScheduleDayRow(
                    channel_id=self.channel_id,
                    output=self.output.value,
                    day=schedule.day,
                    starts_at=schedule.start,
                    ends_at=schedule.end,
                    version=1,
                    built_at=now,
                )
                self._session.add(day)
                self._session.flush()
            else:
                stored = self._session.scalars(
                    select(EventRow).where(EventRow.day_id == old.id).order_by(EventRow.starts_at)
                ).all()
                if tuple(map(_event, stored)) == tuple(schedule.events):
                    versions[schedule.day] = old.version
                    continue
                self._session.execute(delete(EventRow).where(EventRow.day_id == old.id))
                old.starts_at, old.ends_at, old.version, old.built_at = (
                    schedule.start,
                    schedule.end,
                    old.version + 1,
                    now,
                )
                day = old
            if schedule.events:
                self._session.execute(
                    insert(EventRow),
                    [_event_values(self.channel_id, self.output, day.id, e) for e in schedule.events],
                )
            versions[schedule.day] = day.version
        self._session.flush()
        return versions


def _take_write_lock(session: Session, name: str, wait_s: float) -> None:
    """Take the write lock of ``name`` for the rest of the transaction, or raise BusyError.

    The wait is ``wait_s``, not the engine's busy timeout; the engine's is put back afterwards.
    """
    connection = session.connection()
    wait_ms = max(1, int(wait_s * 1000))
    try:
        if connection.dialect.name == "postgresql":
            usual = connection.exec_driver_sql("SHOW lock_timeout").scalar_one()
            connection.exec_driver_sql(f"SET LOCAL lock_timeout = {wait_ms}")
            key = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
            connection.execute(text("SELECT set_config('lock_timeout', :usual, true)"), {"usual": usual})
        elif connection.dialect.name == "sqlite":
            usual = connection.exec_driver_sql("PRAGMA busy_timeout").scalar_one()
            connection.exec_driver_sql(f"PRAGMA busy_timeout = {wait_ms}")
            try:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            finally:
                connection.exec_driver_sql(f"PRAGMA busy_timeout = {int(usual)}")
    except OperationalError as exc:
        if not is_busy(exc):  # a lost connection or a disk error is a fault, not "try again"
            raise
        raise BusyError(f"the schedule of {name}", retry_after=max(1, round(wait_s))) from exc
