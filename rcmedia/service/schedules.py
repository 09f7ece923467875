"""Building EPG days and editing them: the builder wired to the catalog, one locked write at a time.

Rebuilding never changes what players may already have seen: events that start before the
freeze horizon (now + ``freeze``) are kept exactly, as are operator-locked events; everything
after is rebuilt, and every later built day is re-chained so the counters stay continuous.

Every write of a channel output's schedule happens in one transaction that holds that output's
write lock (``ScheduleStore.writing``) and reads what it depends on inside it:

* an edit reads the day, checks the version the operator saw (optimistic versioning: a stale one
  is a ``ConflictError``), applies the edit, stores it and re-chains the later days;
* a rebuild reads and builds without the lock (a week of channels takes seconds), then, per
  channel output, takes the lock and compares the built days' versions with those it read: when
  an edit (or another build) landed in between, it builds that output again from what is stored
  now, inside the lock, so a confirmed edit is never overwritten by a build that did not see it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from rcmedia.catalog.schedules import LOCK_WAIT_S, ScheduleStore, ScheduleTx
from rcmedia.core.audit import AuditAction, channel_target
from rcmedia.core.builder import BuildInput, DaySchedule, broadcast_day, build_days, day_on_air
from rcmedia.core.clock import Clock
from rcmedia.core.edits import Edit, apply_edit
from rcmedia.core.models import Output
from rcmedia.core.rotation import AssetIndex
from rcmedia.core.schedule import Channel, Event, EventKind
from rcmedia.errors import ConfigError, ConflictError, ScheduleError
from rcmedia.service.build_workers import ChannelBuild, build_channels
from rcmedia.service.channels import channel_and_output, channel_on, load_channels

log = logging.getLogger(__name__)

FREEZE = timedelta(minutes=2)
HISTORY = timedelta(days=35)  # rotation memory: long enough for weekly series and no-repeat windows


@dataclass(frozen=True, kw_only=True, slots=True)
class DayListing:
    """One broadcast day of a channel output: its UTC bounds, build version and events."""

    channel: Channel
    output: Output
    day: date
    start: datetime
    end: datetime
    version: int | None  # None: the day is not built
    events: tuple[Event, ...]


# --- reads ---------------------------------------------------------------------------------------


def day_listing(
    store: ScheduleStore,
    channel: Channel,
    output: Output,
    day: date,
    *,
    kinds: Sequence[EventKind] | None = None,
) -> DayListing:
    """The events of a broadcast day (only of ``kinds`` when given: a guide wants the programmes
    of a day that may hold thousands of fillers and idents), read with the day's version in one
    transaction, so the version is the one of the events listed."""
    start, end = broadcast_day(channel, day)
    with store.reading(channel.id, output) as tx:
        version = tx.built_days().get(day)
        events = tx.events(start=start, end=end, kinds=kinds)
    return DayListing(
        channel=channel, output=output, day=day, start=start, end=end, version=version, events=tuple(events)
    )


def channel_day(
    store: ScheduleStore, channel_id: str, *, output: Output | None, day: date | None, now: datetime
) -> DayListing:
    """One broadcast day of a channel output; by default the day on air at ``now`` in the channel's zone.

    :class:`NotFoundError` for an unknown channel, or an output the channel is not on.
    """
    channel, chosen = channel_and_output(store, channel_id, output)
    return day_listing(store, channel, chosen, day or day_on_air(channel, now))


# --- builds --------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class _OutputRead:
    spec: BuildInput
    days: int  # from the first day to the last built one
    versions: dict[date, int]  # every built day's version when the inputs were read


def read_output(
    tx: ScheduleTx,
    channel: Channel,
    *,
    first_day: date,
    days: int,
    horizon: datetime,
    index: AssetIndex,
    versions: dict[date, int] | None = None,
) -> _OutputRead:
    """What a build of one channel output from ``first_day`` needs: its history, kept events, counters.

    ``versions``: the built days' versions, when the caller has just read them in ``tx``.
    """
    versions = tx.built_days() if versions is None else versions
    later = [d for d in versions if d >= first_day]
    last_day = max([first_day + timedelta(days=days - 1), *later])
    start, _ = broadcast_day(channel, first_day)
    _, end = broadcast_day(channel, last_day)
    kept = [
        e for e in tx.events(start=start, end=end) if e.start >= start and (e.start < horizon or e.locked)
    ]
    spec = BuildInput(
        channel=channel,
        output=tx.output,
        index=index,
        history=tx.history(since=start - HISTORY, before=start),
        locked=kept,
        counters=tx.counters_before(start),
    )
    return _OutputRead(spec=spec, days=(last_day - first_day).days + 1, versions=versions)


@dataclass(frozen=True, kw_only=True, slots=True)
class _ChannelRead:
    build: ChannelBuild
    reads: tuple[_OutputRead, ...]


def _read_channel(
    store: ScheduleStore,
    channel: Channel,
    *,
    first_day: date,
    days: int,
    now: datetime,
    index: AssetIndex,
    outputs: Sequence[Output] | None,
    freeze: timedelta,
) -> _ChannelRead:
    reads = []
    for output in outputs or channel.outputs:
        with store.reading(channel.id, output) as tx:
            reads.append(
                read_output(tx, channel, first_day=first_day, days=days, horizon=now + freeze, index=index)
            )
    # outputs usually share their days (see build_outputs); ones with more built days go alone
    build = ChannelBuild(
        specs=tuple(r.spec for r in reads), first_day=first_day, days=max(r.days for r in reads)
    )
    return _ChannelRead(build=build, reads=tuple(reads))


def _store_built(
    store: ScheduleStore,
    read: _ChannelRead,
    built: Sequence[list[DaySchedule]],
    *,
    now: datetime,
    freeze: timedelta,
    clock: Clock | None = None,
) -> dict[Output, list[DaySchedule]]:
    """Store each output's days under its write lock, built again there if what it was built from
    is no longer what holds: an edit or another build was stored since, or (with ``clock``) so
    much time passed that events after the horizon the build kept may have aired meanwhile."""
    saved: dict[Output, list[DaySchedule]] = {}
    first_day = read.build.first_day
    for output_read, schedules in zip(read.reads, built, strict=True):
        spec = output_read.spec
        with store.writing(spec.channel.id, spec.output) as tx:
            current = tx.built_days()
            stored_at = clock.now() if clock is not None else now
            changed = current != output_read.versions
            if changed or stored_at - now > freeze / 2:
                log.info(
                    "channel %s/%s %s while it was being built: building it again",
                    spec.channel.id,
                    spec.output.value,
                    "changed" if changed else "went on airing",
                )
                fresh = read_output(
                    tx,
                    spec.channel,
                    first_day=first_day,
                    days=read.build.days,
                    horizon=stored_at + freeze,
                    index=spec.index,
                    versions=current,
                )
                schedules = build_days(fresh.spec, first_day, fresh.days)  # noqa: PLW2901
            tx.save_days(schedules, now=stored_at)
        saved[spec.output] = schedules
        log.info(
            "channel %s/%s: built %d day(s) from %s",
            spec.channel.id,
            spec.output.value,
            len(schedules),
            first_day,
        )
    return saved


def build_channel(
    store: ScheduleStore,
    channel: Channel,
    *,
    first_day: date,
    days: int,
    now: datetime,
    index: AssetIndex,
    outputs: Sequence[Output] | None = None,
    freeze: timedelta = FREEZE,
) -> dict[Output, list[DaySchedule]]:
    """Build (or rebuild) ``days`` days from ``first_day`` for each output, and every later built day."""
    read = _read_channel(
        store, channel, first_day=first_day, days=days, now=now, index=index, outputs=outputs, freeze=freeze
    )
    return _store_built(store, read, read.build.build(), now=now, freeze=freeze)


def build_all(
    store: ScheduleStore,
    *,
    first_day: date | None,
    days: int,
    now: datetime,
    channel_ids: Sequence[str] = (),
    freeze: timedelta = FREEZE,
    workers: int | None = None,
    clock: Clock | None = None,
) -> dict[str, dict[Output, list[DaySchedule]]]:
    """Build every applied channel (or those named), sharing one asset index.

    Every channel's inputs are read first; the channels are then built, in ``workers`` processes
    (default: one per CPU; see ``build_workers``: the same days as building them one by one), and
    stored here, each channel output under its write lock (see the module's docstring). ``clock``:
    what tells, when each channel is stored, whether the build took long enough to rebuild it
    from then (the jobs pass the system clock; a build over a frozen ``now`` passes none).
    """
    channels = [c for c in load_channels(store) if not channel_ids or c.id in channel_ids]
    missing = set(channel_ids) - {c.id for c in channels}
    if missing:
        raise ConfigError(f"unknown channel(s) {', '.join(sorted(missing))}; apply them first")
    index = AssetIndex(store.schedule_assets())
    reads = [
        _read_channel(
            store,
            channel,
            first_day=first_day or day_on_air(channel, now),
            days=days,
            now=now,
            index=index,
            outputs=None,
            freeze=freeze,
        )
        for channel in channels
    ]
    # stored in order as they come: a channel that cannot be built stops here, the ones before it stored
    built = build_channels([r.build for r in reads], workers=workers)
    return {
        channel.id: _store_built(store, read, schedules, now=now, freeze=freeze, clock=clock)
        for channel, read, schedules in zip(channels, reads, built, strict=True)
    }


# --- edits ---------------------------------------------------------------------------------------


def edit_schedule(
    store: ScheduleStore,
    channel_id: str,
    output: Output,
    edit: Edit,
    *,
    day: date,
    now: datetime,
    freeze: timedelta = FREEZE,
    expected_version: int | None = None,
    wait_s: float = LOCK_WAIT_S,
    actor: str | None = None,
) -> DayListing:
    """Apply an operator edit to one built day, store it and re-chain every later built day.

    All of it in one transaction under the channel output's write lock, with its audit entry when
    ``actor`` is given (``schedule.edit``: the edit, the edited event and the day's version, before
    and after). ``expected_version`` is the
    day's version the operator saw: when another write changed the day since, the edit is refused
    with :class:`ConflictError` (naming the current version) and nothing is stored.
    NotFoundError: an unknown channel or output; ScheduleError: the day is not built or the edit
    is refused (the reason); BusyError: the lock was not had within ``wait_s``.
    """
    channel = channel_on(store, channel_id, output)
    index = AssetIndex(store.schedule_assets())
    start, end = broadcast_day(channel, day)
    with store.writing(channel.id, output, wait_s=wait_s) as tx:
        versions = checked_versions(tx, channel, output, day, expected_version)
        spec, schedule = edit_inputs(tx, channel, day, index)
        edited = apply_edit(spec, schedule, edit, now=now, freeze=freeze)
        version = tx.save_days([edited], now=now)[day]
        rechain_later(
            tx, channel, day, versions={**versions, day: version}, now=now, freeze=freeze, index=index
        )
        if actor is not None:
            tx.audit(
                actor,
                AuditAction.SCHEDULE_EDIT,
                channel_target(channel.id, output.value, day),
                before={"version": versions[day], "event": _event_at(schedule.events, edit.event_start)},
                after={
                    "version": version,
                    "edit": _edit_record(edit),
                    "event": _event_at(edited.events, edit.to or edit.event_start),
                },
                now=now,
            )
    return DayListing(
        channel=channel, output=output, day=day, start=start, end=end, version=version, events=edited.events
    )


def _event_record(event: Event) -> dict[str, object]:
    return {
        "start": event.start.isoformat(),
        "end": event.end.isoformat(),
        "asset_id": event.asset_id,
        "title": event.title,
        "kind": event.kind.value,
        "locked": event.locked,
    }


def _event_at(events: Sequence[Event], start: datetime | None) -> dict[str, object] | None:
    """The audit record of the event starting at ``start`` (None: no such event, or no time)."""
    found = [e for e in events if start is not None and e.start == start]
    return _event_record(found[0]) if found else None


def _edit_record(edit: Edit) -> dict[str, object]:
    return {
        "action": edit.kind.value,
        "event_start": edit.event_start.isoformat() if edit.event_start else None,
        "asset_id": edit.asset_id,
        "to": edit.to.isoformat() if edit.to else None,
    }


def checked_versions(
    tx: ScheduleTx, channel: Channel, output: Output, day: date, expected_version: int | None
) -> dict[date, int]:
    """The output's built days and their versions, once ``day`` is known to be built and, when
    ``expected_version`` is given, still at it (ScheduleError; ConflictError naming the current)."""
    versions = tx.built_days()
    if day not in versions:
        raise ScheduleError(f"{channel.id}/{output.value} has no schedule for {day}; build it first")
    if expected_version is not None and versions[day] != expected_version:
        raise ConflictError(
            f"the schedule of {channel.id}/{output.value} on {day}",
            expected=expected_version,
            current=versions[day],
        )
    return versions


def rechain_later(
    tx: ScheduleTx,
    channel: Channel,
    day: date,
    *,
    versions: dict[date, int],
    now: datetime,
    freeze: timedelta,
    index: AssetIndex,
) -> None:
    """Rebuild every built day after ``day`` (keeping locks and the frozen), so the counters run on
    from what ``day`` now holds. Inside the write transaction that changed ``day``."""
    later = sorted(d for d in versions if d > day)
    if later:
        rest = read_output(
            tx,
            channel,
            first_day=later[0],
            days=len(later),
            horizon=now + freeze,
            index=index,
            versions=versions,
        )
        tx.save_days(build_days(rest.spec, later[0], rest.days), now=now)


def edit_inputs(
    tx: ScheduleTx, channel: Channel, day: date, index: AssetIndex
) -> tuple[BuildInput, DaySchedule]:
    """What :func:`apply_edit` takes for a stored day: its build input (its locks) and the day."""
    start, end = broadcast_day(channel, day)
    events = tx.events(start=start, end=end)
    spec = BuildInput(
        channel=channel,
        output=tx.output,
        index=index,
        history=tx.history(since=start - HISTORY, before=start),
        locked=[e for e in events if e.locked],
        counters=tx.counters_before(start),
    )
    schedule = DaySchedule(
        channel_id=channel.id, output=tx.output, day=day, start=start, end=end, events=tuple(events)
    )
    return spec, schedule
