"""The EPG builder: a channel's grid and the catalog become a gapless day of events per output.

Pure and deterministic: the same grid, assets, history, locks and day give the same events.
A broadcast day runs from the channel's ``day_start`` on that local date to the same local time
the next day (23 or 25 hours across a daylight-saving change). Fixed slots and locked events are
anchors placed at their exact times; the time between anchors is filled with the block's pool
or filler (whole assets, idents between them), then with the house slate, whose segments come in
lengths chosen so that any remainder takes at most two of them: each anchor is reached to the frame.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from rcmedia.core.models import Output
from rcmedia.core.rotation import AssetIndex, Memory, PoolCursor, slot_candidates
from rcmedia.core.schedule import (
    Airing,
    Block,
    Channel,
    Counters,
    Event,
    EventKind,
    FixedSlot,
    OverrunPolicy,
    Pool,
    ScheduleAsset,
)
from rcmedia.errors import ScheduleError

MAX_PICKS = 200  # episodes considered for one fixed slot before it gives up


@dataclass(frozen=True, kw_only=True, slots=True)
class DaySchedule:
    channel_id: str
    output: Output
    day: date
    start: datetime
    end: datetime
    events: tuple[Event, ...]

    @property
    def end_counters(self) -> Counters:
        last = self.events[-1]
        return Counters(seq=last.seq0 + last.segment_count, disc=last.disc0 + 1)


@dataclass(frozen=True, kw_only=True, slots=True)
class BuildInput:
    channel: Channel
    output: Output
    index: AssetIndex
    history: Sequence[Airing] = ()  # earlier airings on this channel output
    locked: Sequence[Event] = ()  # operator-locked events; kept where they are
    counters: Counters = field(default_factory=Counters)  # at the start of the first day


def local_instant(channel: Channel, day: date, at: time) -> datetime:
    """``at`` on ``day`` in the channel's zone, as UTC."""
    return datetime.combine(day, at, tzinfo=ZoneInfo(channel.timezone)).astimezone(UTC)


def broadcast_day(channel: Channel, day: date) -> tuple[datetime, datetime]:
    """UTC start and end of the local broadcast day ``day``."""
    return (
        local_instant(channel, day, channel.day_start),
        local_instant(channel, day + timedelta(days=1), channel.day_start),
    )


def day_on_air(channel: Channel, now: datetime) -> date:
    """The broadcast day on air at ``now`` (before ``day_start`` it is still yesterday's)."""
    local = now.astimezone(ZoneInfo(channel.timezone))
    return local.date() - timedelta(days=1) if local.time() < channel.day_start else local.date()


def _at_or_after_day_start(channel: Channel, day: date, at: time) -> datetime:
    """A local clock time within broadcast day ``day`` (times before day_start fall on the next date)."""
    on = day if at >= channel.day_start else day + timedelta(days=1)
    return local_instant(channel, on, at)


@dataclass(frozen=True, kw_only=True, slots=True)
class _Anchor:
    offset: int
    slot: FixedSlot | None = None
    locked: Event | None = None


class _Slate:
    """The house slate: its segments by length, to fill any remainder exactly."""

    def __init__(self, asset: ScheduleAsset) -> None:
        self.asset = asset
        self.loop_us = max(asset.segment_us)
        # the longest run of loop-length segments, for long gaps
        best_start, best_len, start = 0, 0, None
        for i, d in enumerate((*asset.segment_us, -1)):
            if d == self.loop_us:
                start = i if start is None else start
            elif start is not None:
                if i - start > best_len:
                    best_start, best_len = start, i - start
                start = None
        self.run = (best_start, best_len)
        self.lengths = sorted({d: i for i, d in reversed(list(enumerate(asset.segment_us)))}.items())
        self._keys = [d for d, _ in self.lengths]

    def pieces(self, room: int) -> list[tuple[int, int, int]]:
        """(first, last, duration) runs of slate segments adding up to exactly ``room`` µs."""
        pieces = []
        run_start, run_len = self.run
        while room > 0:
            if room >= self.loop_us and run_len:
                count = min(room // self.loop_us, run_len)
                pieces.append((run_start, run_start + count - 1, count * self.loop_us))
                room -= count * self.loop_us
                continue
            at = bisect.bisect_right(self._keys, room) - 1
            if at < 0:
                raise ScheduleError(
                    f"cannot fill the last {room / 1e6:.3f} s before an anchor exactly: the slate's "
                    f"shortest segment lasts {self._keys[0] / 1e6:.3f} s; ingest the house slate"
                )
            duration, index = self.lengths[at]
            pieces.append((index, index, duration))
            room -= duration
        return pieces


class _DayBuilder:
    def __init__(self, spec: BuildInput) -> None:
        self.spec = spec
        self.channel = spec.channel
        self.output = spec.output
        self.index = spec.index
        self.memory = Memory.of(spec.history)
        self.cursors: dict[Pool, PoolCursor] = {}
        slates = self.index.series(self.channel.grid.slate_series)
        if not slates:
            raise ScheduleError(
                f"channel {self.channel.id!r}: no slate asset (series {self.channel.grid.slate_series!r}) "
                "is published; the schedule cannot fill gaps"
            )
        self.slate = _Slate(slates[0])
        self.counters = spec.counters
        # with the pool cursors': did rights on this output change a choice, and what was asked
        self.refused_for_rights = 0
        self.checked: list[tuple[ScheduleAsset, datetime]] = []

    # --- one day ---------------------------------------------------------------------------

    def build(self, day: date) -> DaySchedule:
        start, end = broadcast_day(self.channel, day)
        self.day_start = start
        length = _us(end - start)
        self.events: list[Event] = []
        anchors = self._anchors(day, start, end)
        pos = 0
        for number, anchor in enumerate(anchors):
            limit = anchors[number + 1].offset if number + 1 < len(anchors) else length
            if anchor.offset < pos:
                if anchor.locked is not None:
                    raise ScheduleError(
                        f"locked event at {anchor.locked.start:%Y-%m-%d %H:%M:%S} UTC overlaps the one before it"
                    )
                continue  # a locked event covers this slot's start: the operator's edit wins
            self._fill(day, pos, anchor.offset)
            pos = anchor.offset
            if anchor.locked is not None:
                self._emit_locked(anchor.locked)
                pos += anchor.locked.duration_us
            elif anchor.slot is not None:
                pos = self._place_slot(anchor.slot, pos, limit)
        self._fill(day, pos, length)
        events = tuple(self.events)
        return DaySchedule(
            channel_id=self.channel.id, output=self.output, day=day, start=start, end=end, events=events
        )

    def _anchors(self, day: date, start: datetime, end: datetime) -> list[_Anchor]:
        anchors = []
        for slot in self.channel.grid.slots:
            if slot.recurrence.occurs(day):
                at = _at_or_after_day_start(self.channel, day, slot.start)
                if start <= at < end:
                    anchors.append(_Anchor(offset=_us(at - start), slot=slot))
        for event in self.spec.locked:
            if start <= event.start < end:
                if event.end > end:
                    raise ScheduleError(
                        f"locked event at {event.start:%Y-%m-%d %H:%M} runs past the day's end"
                    )
                anchors.append(_Anchor(offset=_us(event.start - start), locked=event))
        # a locked event wins over a slot starting at the same instant
        anchors.sort(key=lambda a: (a.offset, a.locked is None))
        return anchors

    # --- placing ---------------------------------------------------------------------------

    def _emit(
        self,
        offset: int,
        asset: ScheduleAsset,
        first: int,
        last: int,
        duration: int,
        kind: EventKind,
        **extra: object,
    ) -> None:
        event = Event(
            start=self.day_start + timedelta(microseconds=offset),
            duration_us=duration,
            asset_id=asset.id,
            first_segment=first,
            last_segment=last,
            kind=kind,
            title=asset.title,
            series=asset.series,
            episode=asset.episode,
            seq0=self.counters.seq,
            disc0=self.counters.disc,
            **extra,  # type: ignore[arg-type]
        )
        self._append(event)

    def _append(self, event: Event) -> None:
        self.events.append(event)
        # every event is its own splice: the next one follows an EXT-X-DISCONTINUITY
        self.counters = Counters(seq=self.counters.seq + event.segment_count, disc=self.counters.disc + 1)
        self.memory.record(
            Airing(asset_id=event.asset_id, start=event.start, slot_id=event.slot_id, premiere=event.premiere)
        )

    def _emit_locked(self, event: Event) -> None:
        self._append(replace(event, seq0=self.counters.seq, disc0=self.counters.disc))

    def _place_slot(self, slot: FixedSlot, pos: int, limit: int) -> int:
        if slot.max_duration is not None:
            limit = min(limit, pos + round(slot.max_duration * 1_000_000))
        room = limit - pos
        when = self.day_start + timedelta(microseconds=pos)
        substitution = None
        chosen = None
        overrunning = None
        for number, pick in enumerate(slot_candidates(slot, self.index, self.memory, when)):
            if number >= MAX_PICKS:
                break
            self.checked.append((pick.asset, when))
            if not pick.asset.allowed(self.output, when):
                self.refused_for_rights += 1
                if substitution is None:
                    substitution = (
                        f"asset {pick.asset.id} {pick.asset.title!r} has no rights on {self.output.value} "
                        f"at this time"
                    )
                continue
            if pick.asset.duration_us <= room:
                chosen = pick
                break
            if slot.overrun is OverrunPolicy.CUT:
                chosen = pick
                break
            overrunning = overrunning or pick
        chosen = chosen or overrunning
        if chosen is None:
            reason = f"no episode of {slot.series!r} may air on {self.output.value} here"
            return self._fill_pool(
                pos, limit, self.channel.grid.filler, EventKind.FILLER, substitution=reason
            )
        asset = chosen.asset
        count, duration = _fitting(asset.segment_us, room)
        if count == 0:
            return pos
        self._emit(
            pos,
            asset,
            0,
            count - 1,
            duration,
            EventKind.PROGRAMME,
            slot_id=slot.id,
            premiere=chosen.premiere,
            previously_shown=chosen.previously_shown,
            substitution=substitution,
        )
        return pos + duration

    def _fill(self, day: date, begin: int, end: int) -> None:
        """Floating time from ``begin`` to ``end``: blocks where they run, filler elsewhere, then slate."""
        filler = self.channel.grid.filler
        for sub_begin, sub_end, block in self._block_ranges(day, begin, end):
            pos = sub_begin
            if block is not None:
                pos = self._fill_pool(pos, sub_end, block.pool, EventKind.PROGRAMME, slot_id=block.id)
            # what the block's pool cannot fill (nothing short enough is left) gets filler, then slate
            pos = self._fill_pool(pos, sub_end, filler, EventKind.FILLER)
            self._fill_slate(pos, sub_end)

    def _block_ranges(self, day: date, begin: int, end: int) -> list[tuple[int, int, Block | None]]:
        cuts: list[tuple[int, int, Block]] = []
        for block in self.channel.grid.blocks:
            if not block.recurrence.occurs(day):
                continue
            b0 = _us(_at_or_after_day_start(self.channel, day, block.start) - self.day_start)
            b1 = _us(_at_or_after_day_start(self.channel, day, block.end) - self.day_start)
            if b1 <= b0:
                b1 = _us(
                    _at_or_after_day_start(self.channel, day + timedelta(days=1), block.end) - self.day_start
                )
            lo, hi = max(begin, b0), min(end, b1)
            if lo < hi:
                cuts.append((lo, hi, block))
        ranges: list[tuple[int, int, Block | None]] = []
        pos = begin
        for block_begin, hi, block in sorted(cuts, key=lambda c: (c[0], c[2].id)):
            lo = max(block_begin, pos)  # overlapping blocks: the earlier one keeps its time
            if lo >= hi:
                continue
            if pos < lo:
                ranges.append((pos, lo, None))
            ranges.append((lo, hi, block))
            pos = hi
        if pos < end:
            ranges.append((pos, end, None))
        return ranges

    def _fill_pool(self, begin: int, end: int, pool: Pool, kind: EventKind, **extra: object) -> int:
        pos = begin
        idents = self.channel.grid.idents
        while pos < end:
            when = self.day_start + timedelta(microseconds=pos)
            asset = self._cursor(pool).take(
                memory=self.memory,
                when=when,
                room_us=end - pos,
                output=self.output,
                no_repeat_hours=pool.no_repeat_hours,
            )
            if asset is None:
                break
            if idents is not None and self.events and self.events[-1].kind is not EventKind.IDENT:
                pos = self._ident(idents, pos, end - pos - asset.duration_us)
            if kind is EventKind.PROGRAMME:
                last = self.memory.last_aired.get(asset.id)
                extra.update(premiere=last is None, previously_shown=last)
            self._emit(pos, asset, 0, len(asset.segment_us) - 1, asset.duration_us, kind, **extra)
            pos += asset.duration_us
            extra.pop("substitution", None)  # the reason is told once, on the first event
        return pos

    def _ident(self, idents: Pool, pos: int, room: int) -> int:
        when = self.day_start + timedelta(microseconds=pos)
        ident = self._cursor(idents).take(
            memory=self.memory, when=when, room_us=room, output=self.output, no_repeat_hours=0.0
        )
        if ident is None:
            return pos
        self._emit(pos, ident, 0, len(ident.segment_us) - 1, ident.duration_us, EventKind.IDENT)
        return pos + ident.duration_us

    def _fill_slate(self, begin: int, end: int) -> None:
        pos = begin
        for first, last, duration in self.slate.pieces(end - begin):
            self._emit(pos, self.slate.asset, first, last, duration, EventKind.SLATE)
            pos += duration

    def _cursor(self, pool: Pool) -> PoolCursor:
        cursor = self.cursors.get(pool)
        if cursor is None:
            cursor = self.cursors[pool] = PoolCursor(self.index, pool, self.memory)
        return cursor


def _us(delta: timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _fitting(segments: Sequence[int], room: int) -> tuple[int, int]:
    """How many leading segments fit in ``room`` µs, and their total duration."""
    whole = sum(segments)
    if whole <= room:
        return len(segments), whole
    total = 0
    for count, duration in enumerate(segments):
        if total + duration > room:
            return count, total
        total += duration
    return len(segments), total


def build_days(spec: BuildInput, first_day: date, days: int = 1) -> list[DaySchedule]:
    """Build ``days`` consecutive broadcast days; rotation and counters carry from day to day."""
    return _build(spec, first_day, days)[0]


def _build(
    spec: BuildInput, first_day: date, days: int
) -> tuple[list[DaySchedule], list[tuple[ScheduleAsset, datetime]] | None]:
    """The days, and every (asset, time) whose rights were asked, or None if any answer was no."""
    builder = _DayBuilder(spec)
    schedules = [builder.build(first_day + timedelta(days=n)) for n in range(days)]
    cursors = builder.cursors.values()
    if builder.refused_for_rights or any(c.refused_for_rights for c in cursors):
        return schedules, None
    return schedules, [*builder.checked, *(pair for c in cursors for pair in c.checked)]


def build_outputs(specs: Sequence[BuildInput], first_day: date, days: int = 1) -> list[list[DaySchedule]]:
    """Build the outputs of one channel, sharing work between them.

    Outputs differ only where rights differ. The builder is deterministic and asks the same
    rights questions in the same order until an answer differs; so when an output's inputs
    (history, locks, counters) equal an already built output's, that build was told yes every
    time, and this output is told yes to every one of those questions too, its days are that
    build's, relabelled. Otherwise it is built on its own.
    """
    results: list[list[DaySchedule]] = []
    reusable: list[tuple[BuildInput, list[DaySchedule], list[tuple[ScheduleAsset, datetime]]]] = []
    for spec in specs:
        shared = next(
            (
                built
                for other, built, asked in reusable
                if (other.history, other.locked, other.counters) == (spec.history, spec.locked, spec.counters)
                and all(asset.allowed(spec.output, when) for asset, when in asked)
            ),
            None,
        )
        if shared is not None:
            results.append([replace(d, output=spec.output) for d in shared])
            continue
        schedules, asked = _build(spec, first_day, days)
        results.append(schedules)
        if asked is not None:
            reusable.append((spec, schedules, asked))
    return results


def fill_span(spec: BuildInput, day: date, start: datetime, end: datetime) -> list[Event]:
    """What floating content (block, filler, slate) would fill [start, end) of broadcast ``day``."""
    builder = _DayBuilder(spec)
    builder.day_start, _ = broadcast_day(spec.channel, day)
    builder.events = []
    builder._fill(day, _us(start - builder.day_start), _us(end - builder.day_start))
    return builder.events
