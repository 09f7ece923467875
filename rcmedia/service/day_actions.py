"""Two whole-day operator actions: rebuild a day from the grid keeping its locks, and copy a
day's locked programmes to other dates (all of them, or none).

Both hold the channel output's write lock for their whole transaction and check the version of
the day the operator saw, as an edit does (:func:`rcmedia.service.schedules.edit_schedule`):
a stale one is a :class:`ConflictError` and nothing is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from rcmedia.catalog.schedules import LOCK_WAIT_S, ScheduleStore
from rcmedia.core.audit import AuditAction, channel_target
from rcmedia.core.builder import broadcast_day, build_days
from rcmedia.core.copy_locks import CopyRefusal, copy_inserts, copy_targets, locked_programmes
from rcmedia.core.edits import apply_edit
from rcmedia.core.models import Output
from rcmedia.core.rotation import AssetIndex
from rcmedia.errors import ScheduleError
from rcmedia.service.channels import channel_on
from rcmedia.service.schedules import (
    FREEZE,
    DayListing,
    checked_versions,
    edit_inputs,
    read_output,
    rechain_later,
)


class CopyRefused(ScheduleError):
    """A copy of locks was refused on some target: nothing was stored; ``refusals`` say where and why."""

    def __init__(self, refusals: Sequence[CopyRefusal]) -> None:
        self.refusals = tuple(refusals)
        first = self.refusals[0]
        super().__init__(
            f"the locks were copied nowhere: {len(self.refusals)} refusal(s), the first on {first.day}: "
            f"{first.reason}"
        )


class _RollBack(Exception):
    """Raised inside the write transaction so that it stores nothing."""


@dataclass(frozen=True, kw_only=True, slots=True)
class CopiedLocks:
    source: DayListing
    versions: dict[date, int]  # each target day's version after the copy
    copied: int  # locked programmes copied to each target


def rebuild_day(
    store: ScheduleStore,
    channel_id: str,
    output: Output,
    *,
    day: date,
    now: datetime,
    freeze: timedelta = FREEZE,
    expected_version: int | None = None,
    wait_s: float = LOCK_WAIT_S,
    actor: str | None = None,
) -> DayListing:
    """Build ``day`` again from the grid, keeping its locked events and whatever starts before the
    freeze horizon, and re-chain every later built day; with ``actor``, audited in that transaction.

    ScheduleError when the whole day lies before the horizon (nothing of it may change).
    """
    channel = channel_on(store, channel_id, output)
    horizon = now + freeze
    start, end = broadcast_day(channel, day)
    if end <= horizon:
        raise ScheduleError(
            f"{day} ends before the freeze horizon ({horizon:%Y-%m-%d %H:%M:%S} UTC): players may already "
            "have all of it, so it cannot be rebuilt"
        )
    index = AssetIndex(store.schedule_assets())
    with store.writing(channel.id, output, wait_s=wait_s) as tx:
        versions = checked_versions(tx, channel, output, day, expected_version)
        read = read_output(
            tx, channel, first_day=day, days=1, horizon=horizon, index=index, versions=versions
        )
        saved = tx.save_days(build_days(read.spec, day, read.days), now=now)
        rechain_later(tx, channel, day, versions={**versions, **saved}, now=now, freeze=freeze, index=index)
        events = tx.events(start=start, end=end)
        if actor is not None:
            tx.audit(
                actor,
                AuditAction.SCHEDULE_REBUILD,
                channel_target(channel.id, output.value, day),
                before={"version": versions[day]},
                after={"version": saved[day]},
                now=now,
            )
    return DayListing(
        channel=channel,
        output=output,
        day=day,
        start=start,
        end=end,
        version=saved[day],
        events=tuple(events),
    )


def copy_locks(
    store: ScheduleStore,
    channel_id: str,
    output: Output,
    *,
    day: date,
    targets: Sequence[date],
    now: datetime,
    freeze: timedelta = FREEZE,
    expected_version: int | None = None,
    wait_s: float = LOCK_WAIT_S,
    actor: str | None = None,
) -> CopiedLocks:
    """Insert (locked) each locked programme of ``day`` at the same local time on every target day.

    All of it in one transaction: when any insert on any target is refused (freeze horizon,
    overlap, fixed slot, rights, a day not built), :class:`CopyRefused` lists every refusal and
    nothing is stored. With ``actor``, audited in that transaction.
    """
    channel = channel_on(store, channel_id, output)
    days = copy_targets(day, targets)
    index = AssetIndex(store.schedule_assets())
    start, end = broadcast_day(channel, day)
    refusals: list[CopyRefusal] = []
    try:
        with store.writing(channel.id, output, wait_s=wait_s) as tx:
            versions = checked_versions(tx, channel, output, day, expected_version)
            source_events = tuple(tx.events(start=start, end=end))
            source = locked_programmes([e for e in source_events if e.start >= start])
            if not source:
                raise ScheduleError(f"{day} has no locked programme to copy")
            for target in days:
                if target not in versions:
                    refusals.append(CopyRefusal(day=target, start=None, reason=f"{target} is not built yet"))
                    continue
                # each insert sees the ones before it: apply_edit reads the day's locks from the day
                spec, schedule = edit_inputs(tx, channel, target, index)
                failed = False
                for edit in copy_inserts(channel, source, target):
                    try:
                        schedule = apply_edit(spec, schedule, edit, now=now, freeze=freeze)
                    except ScheduleError as exc:
                        refusals.append(CopyRefusal(day=target, start=edit.to, reason=str(exc)))
                        failed = True
                if failed:
                    continue
                versions[target] = tx.save_days([schedule], now=now)[target]
                rechain_later(tx, channel, target, versions=versions, now=now, freeze=freeze, index=index)
                versions = tx.built_days()
            if refusals:
                raise _RollBack
            # a target before ``day`` re-chained it: answer the day as it is now, with its version
            source_events = tuple(tx.events(start=start, end=end))
            versions = tx.built_days()
            if actor is not None:
                tx.audit(
                    actor,
                    AuditAction.SCHEDULE_COPY_LOCKS,
                    channel_target(channel.id, output.value, day),
                    before=None,
                    after={
                        "copied": [e.start.isoformat() for e in source],
                        "to": {d.isoformat(): versions[d] for d in days},
                    },
                    now=now,
                )
    except _RollBack:
        raise CopyRefused(refusals) from None
    return CopiedLocks(
        source=DayListing(
            channel=channel,
            output=output,
            day=day,
            start=start,
            end=end,
            version=versions[day],
            events=source_events,
        ),
        versions={d: versions[d] for d in days},
        copied=len(source),
    )
