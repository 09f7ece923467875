"""Channels as applied, built EPG days and their events: the scheduling side of the catalog."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import selectinload

from rcmedia.catalog.db import Transactions
from rcmedia.catalog.tables import AssetRow, ChannelRow, EventRow, RenditionRow, ScheduleDayRow
from rcmedia.core.builder import DaySchedule
from rcmedia.core.models import AssetStatus, Output, Rights, Source
from rcmedia.core.schedule import Airing, Counters, Event, EventKind, ScheduleAsset, to_us

# an event never lasts longer than a broadcast day (25 h on a daylight-saving change)
_LONGEST_EVENT = timedelta(hours=25)


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

    def apply_channels(self, files: Sequence[tuple[str, str, str]], *, now: datetime) -> dict[str, int]:
        """Store (channel id, filename, TOML text) in one transaction; returns id → version.

        A channel whose text did not change keeps its version.
        """
        versions = {}
        with self._session() as session:
            for channel_id, filename, source in files:
                row = session.get(ChannelRow, channel_id)
                if row is None:
                    row = ChannelRow(
                        id=channel_id, filename=filename, source=source, version=1, applied_at=now
                    )
                    session.add(row)
                elif row.source != source or row.filename != filename:
                    row.filename, row.source, row.version, row.applied_at = (
                        filename,
                        source,
                        row.version + 1,
                        now,
                    )
                versions[channel_id] = row.version
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

    def history(self, channel_id: str, output: Output, *, since: datetime, before: datetime) -> list[Airing]:
        with self._session() as session:
            rows = session.execute(
                select(EventRow.asset_id, EventRow.starts_at, EventRow.slot_id, EventRow.premiere)
                .where(
                    EventRow.channel_id == channel_id,
                    EventRow.output == output.value,
                    EventRow.starts_at >= since,
                    EventRow.starts_at < before,
                )
                .order_by(EventRow.starts_at)
            ).all()
            return [Airing(asset_id=a, start=s, slot_id=slot, premiere=p) for a, s, slot, p in rows]

    def counters_before(self, channel_id: str, output: Output, when: datetime) -> Counters:
        """The counters at ``when``: after the last event that starts before it (zero at the epoch)."""
        with self._session() as session:
            row = session.execute(
                select(EventRow.seq0, EventRow.disc0, EventRow.first_segment, EventRow.last_segment)
                .where(
                    EventRow.channel_id == channel_id,
                    EventRow.output == output.value,
                    EventRow.starts_at < when,
                )
                .order_by(EventRow.starts_at.desc())
                .limit(1)
            ).first()
            if row is None:
                return Counters()
            seq0, disc0, first, last = row
            return Counters(seq=seq0 + last - first + 1, disc=disc0 + 1)

    def events(
        self,
        channel_id: str,
        output: Output,
        *,
        start: datetime,
        end: datetime,
        kinds: Sequence[EventKind] | None = None,
    ) -> list[Event]:
        """Events overlapping [start, end), in order (only of ``kinds`` when given).

        A channel output's events do not overlap, so at most one that starts before ``start``
        reaches into the range: the last one to start before it, read on its own. Reading every
        event of the 25 hours an event may last instead cost a dense channel (an event every few
        seconds) some 10,000 rows per call, 90 % of a one-hour catch-up playlist's time.
        """
        channel_output = (EventRow.channel_id == channel_id, EventRow.output == output.value)
        wanted = [] if kinds is None else [EventRow.kind.in_([k.value for k in kinds])]
        with self._session() as session:
            before = session.scalars(
                select(EventRow)
                .where(
                    *channel_output, EventRow.starts_at < start, EventRow.starts_at >= start - _LONGEST_EVENT
                )
                .order_by(EventRow.starts_at.desc())
                .limit(1)
            ).first()
            rows = session.scalars(
                select(EventRow)
                .where(*channel_output, *wanted, EventRow.starts_at < end, EventRow.starts_at >= start)
                .order_by(EventRow.starts_at)
            ).all()
            found = [_event(row) for row in rows]
            if before is not None and (kinds is None or EventKind(before.kind) in kinds):
                overlapping = _event(before)
                if overlapping.end > start:
                    found.insert(0, overlapping)
            return found

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

    # --- what the builder writes -----------------------------------------------------------

    def save_days(
        self, channel_id: str, output: Output, schedules: Sequence[DaySchedule], *, now: datetime
    ) -> None:
        """Replace the given days of one channel output, all in one transaction."""
        with self._session() as session:
            for schedule in schedules:
                old = session.scalar(
                    select(ScheduleDayRow).where(
                        ScheduleDayRow.channel_id == channel_id,
                        ScheduleDayRow.output == output.value,
                        ScheduleDayRow.day == schedule.day,
                    )
                )
                version = 1
                if old is not None:
                    version = old.version + 1
                    session.execute(delete(EventRow).where(EventRow.day_id == old.id))
                    session.delete(old)
                    session.flush()
                day = ScheduleDayRow(
                    channel_id=channel_id,
                    output=output.value,
                    day=schedule.day,
                    starts_at=schedule.start,
                    ends_at=schedule.end,
                    version=version,
                    built_at=now,
                )
                session.add(day)
                session.flush()
                session.execute(
                    insert(EventRow), [_event_values(channel_id, output, day.id, e) for e in schedule.events]
                )

    def built_days(self, channel_id: str, output: Output) -> dict[date, int]:
        """Day → version of every built day of a channel output."""
        with self._session() as session:
            rows = session.execute(
                select(ScheduleDayRow.day, ScheduleDayRow.version).where(
                    ScheduleDayRow.channel_id == channel_id, ScheduleDayRow.output == output.value
                )
            )
            return {day: version for day, version in rows}  # noqa: C416 - rows are Row objects
