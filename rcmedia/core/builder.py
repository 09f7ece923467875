"""The EPG builder: a channel's grid and the catalog become a gapless day of events per output.

Pure and deterministic: the same grid, assets, history, locks and day give the same events.
A broadcast day runs from the channel's ``day_start`` on that local date to the same local time
the next day (23 or 25 hours across a daylight-saving change). Fixed slots and locked events are
anchors placed at their exact times; the time between anchors is filled with the block's pool
or filler (whole assets, idents between them), then with the house slate, whose segments come in
lengths chosen so that any remainder takes at most two of them: each anchor is reached to the frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from rcmedia.core.broadcast_days import (
    Anchor,
    GridCalendar,
    GridDay,
    anchor_order,
    broadcast_day,
    day_on_air,
    local_instant,
    span_us,
)
from rcmedia.core.event_tuples import new_event
from rcmedia.core.models import Output
from rcmedia.core.rotation import AssetIndex, Memory, PoolCursor, RightsLog, slot_candidates
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
from rcmedia.core.slate_pieces import SlatePieces
from rcmedia.errors import ScheduleError

__all__ = [  # the broadcast-day helpers are imported from here too
    "BuildInput",
    "DaySchedule",
    "broadcast_day",
    "build_days",
    "build_outputs",
    "day_on_air",
    "fill_span",
    "local_instant",
]

MAX_PICKS = 200  # episodes considered for one fixed slot before it gives up
_IDENT = EventKind.IDENT


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


class _DayBuilder:
    def __init__(self, spec: BuildInput, calendar: GridCalendar | None = None) -> None:
        self.spec = spec
        self.channel = spec.channel
        self.output = spec.output
        self.index = spec.index
        self.calendar = calendar if calendar is not None else GridCalendar(spec.channel)
        self.memory = Memory.of(spec.history)
        self.last_aired, self.premieres = self.memory.last_aired, self.memory.premieres
        self.rights = RightsLog(spec.output)
        self.cursors: dict[Pool, PoolCursor] = {}
        slates = self.index.series(self.channel.grid.slate_series)
        if not slates:
            raise ScheduleError(
                f"channel {self.channel.id!r}: no slate asset (series {self.channel.grid.slate_series!r}) "
                "is published; the schedule cannot fill gaps"
            )
        self.slate = SlatePieces(slates[0])
        # where the timeline stands: the next segment's index and the discontinuities so far
        self.seq = spec.counters.seq
        self.disc = spec.counters.disc

    def begin(self, day: date) -> GridDay:
        today = self.calendar.day(day)
        self.today = today
        self.day_start = today.start
        self.events: list[Event] = []
        return today

    # --- one day ---------------------------------------------------------------------------

    def build(self, day: date) -> DaySchedule:
        today = self.begin(day)
        start, end, length = today.start, today.end, today.length
        anchors = self._anchors(today)
        pos = 0
        for number, anchor in enumerate(anchors):
            limit = anchors[number + 1].offset if number + 1 < len(anchors) else length
            if anchor.offset < pos:
                if anchor.locked is not None:
                    raise ScheduleError(
                        f"locked event at {anchor.locked.start:%Y-%m-%d %H:%M:%S} UTC overlaps the one before it"
                    )
                continue  # a locked event covers this slot's start: the operator's edit wins
            self._fill(pos, anchor.offset)
            pos = anchor.offset
            if anchor.locked is not None:
                self._emit_locked(anchor.locked)
                pos += anchor.locked.duration_us
            elif anchor.slot is not None:
                pos = self._place_slot(anchor.slot, pos, limit)
        self._fill(pos, length)
        events = tuple(self.events)
        return DaySchedule(
            channel_id=self.channel.id, output=self.output, day=day, start=start, end=end, events=events
        )

    def _anchors(self, today: GridDay) -> Sequence[Anchor]:
        start, end = today.start, today.end
        locked = []
        for event in self.spec.locked:
            if start <= event.start < end:
                if event.end > end:
                    raise ScheduleError(
                        f"locked event at {event.start:%Y-%m-%d %H:%M} runs past the day's end"
                    )
                locked.append(Anchor(offset=span_us(event.start - start), locked=event))
        if not locked:
            return today.slots
        return sorted([*today.slots, *locked], key=anchor_order)

    # --- placing ---------------------------------------------------------------------------

    def _emit(
        self,
        start: datetime,
        asset: ScheduleAsset,
        first: int,
        last: int,
        duration: int,
        kind: EventKind,
        *,
        slot_id: str | None = None,
        premiere: bool = False,
        previously_shown: datetime | None = None,
        substitution: str | None = None,
    ) -> None:
        event = new_event(
            start,
            duration,
            asset.id,
            first,
            last,
            kind,
            asset.title,
            asset.series,
            asset.episode,
            slot_id,
            premiere,
            previously_shown,
            substitution,
            False,  # locked
            self.seq,
            self.disc,
        )
        self.events.append(event)
        # every event is its own splice: the next one follows an EXT-X-DISCONTINUITY
        self.seq += last - first + 1
        self.disc += 1
        self.last_aired[asset.id] = start  # Memory.record, without an Airing per event
        if premiere and asset.id not in self.premieres:
            self.premieres[asset.id] = start

    def _emit_locked(self, event: Event) -> None:
        self.events.append(replace(event, seq0=self.seq, disc0=self.disc))
        self.seq += event.segment_count
        self.disc += 1
        self.memory.record(
            Airing(asset_id=event.asset_id, start=event.start, slot_id=event.slot_id, premiere=event.premiere)
        )

    def _place_slot(self, slot: FixedSlot, pos: int, limit: int) -> int:
        if slot.max_duration is not None:
            limit = min(limit, pos + round(slot.max_duration * 1_000_000))
        room = limit - pos
        when = self.day_start + timedelta(0, 0, pos)
        substitution = None
        chosen = None
        overrunning = None
        for number, pick in enumerate(slot_candidates(slot, self.index, self.memory, when)):
            if number >= MAX_PICKS:
                break
            if not self.rights.allows(pick.asset, when):
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
            return self._fill_filler(pos, limit, substitution=reason)
        asset = chosen.asset
        count, duration = _fitting(asset, room)
        if count == 0:
            return pos
        self._emit(
            when,
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

    def _fill(self, begin: int, end: int) -> None:
        """Floating time from ``begin`` to ``end``: blocks where they run, filler elsewhere, then slate."""
        for sub_begin, sub_end, block in self._block_ranges(begin, end):
            pos = sub_begin
            if block is not None:
                pos = self._fill_pool(pos, sub_end, block.pool, EventKind.PROGRAMME, slot_id=block.id)
            # what the block's pool cannot fill (nothing short enough is left) gets filler, then slate
            pos = self._fill_filler(pos, sub_end)
            self._fill_slate(pos, sub_end)

    def _fill_filler(self, begin: int, end: int, *, substitution: str | None = None) -> int:
        """Filler from ``begin`` towards ``end``; returns where it stopped (the slate takes the rest).

        The filler's no-repeat window is a preference, as a least-recent slot's is: when every
        filler that fits has aired within it, the least recently aired repeats rather than the
        slate, which is for what no filler is short enough to fill.
        """
        filler = self.channel.grid.filler
        pos = self._fill_pool(begin, end, filler, EventKind.FILLER, substitution=substitution)
        if pos < end and filler.no_repeat_hours > 0:
            if pos > begin:
                substitution = None  # told once, on the first event
            pos = self._fill_pool(
                pos, end, filler, EventKind.FILLER, substitution=substitution, no_repeat_hours=0.0
            )
        return pos

    def _block_ranges(self, begin: int, end: int) -> list[tuple[int, int, Block | None]]:
        cuts: list[tuple[int, int, Block]] = []
        for b0, b1, block in self.today.blocks:
            lo, hi = max(begin, b0), min(end, b1)
            if lo < hi:
                cuts.append((lo, hi, block))
        if not cuts:
            return [(begin, end, None)] if begin < end else []
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

    def _fill_pool(
        self,
        begin: int,
        end: int,
        pool: Pool,
        kind: EventKind,
        *,
        slot_id: str | None = None,
        substitution: str | None = None,
        no_repeat_hours: float | None = None,
    ) -> int:
        """Assets of ``pool`` (idents between them) from ``begin`` while they fit before ``end``,
        outside the pool's no-repeat window unless ``no_repeat_hours`` says otherwise; returns
        where it stopped."""
        pos = begin
        cursor = self._cursor(pool)
        shortest = cursor.shortest
        if no_repeat_hours is None:
            no_repeat_hours = pool.no_repeat_hours
        idents = self.channel.grid.idents
        ident_cursor = None  # made when first needed: a cursor reads the memory as it stands then
        # an ident goes between two items, so not first in the day nor after another ident
        ident_next = idents is not None and bool(self.events) and self.events[-1].kind is not _IDENT
        programme = kind is EventKind.PROGRAMME
        last_aired, spans, emit = self.last_aired, self.index.spans, self._emit
        when = self.day_start + timedelta(0, 0, pos)  # moves on with pos, a span at a time
        while pos < end:
            room = end - pos
            if room < shortest:
                break  # nothing in the pool is that short
            asset = cursor.take(when=when, room_us=room, no_repeat_hours=no_repeat_hours)
            if asset is None:
                break
            duration = asset.duration_us
            if ident_next and idents is not None:
                ident_cursor = ident_cursor or self._cursor(idents)
                ident = ident_cursor.take(when=when, room_us=room - duration, no_repeat_hours=0.0)
                if ident is not None:
                    emit(when, ident, 0, len(ident.segment_us) - 1, ident.duration_us, _IDENT)
                    pos += ident.duration_us
                    when += spans[ident.id]
            last = last_aired.get(asset.id) if programme else None
            emit(
                when,
                asset,
                0,
                len(asset.segment_us) - 1,
                duration,
                kind,
                slot_id=slot_id,
                premiere=programme and last is None,
                previously_shown=last,
                substitution=substitution,
            )
            pos += duration
            when += spans[asset.id]
            substitution = None  # the reason is told once, on the first event
            ident_next = idents is not None
        return pos

    def _fill_slate(self, begin: int, end: int) -> None:
        when = self.day_start + timedelta(0, 0, begin)  # positional: a third of the cost of microseconds=
        for first, last, duration in self.slate.pieces(end - begin):
            self._emit(when, self.slate.asset, first, last, duration, EventKind.SLATE)
            when += timedelta(0, 0, duration)

    def _cursor(self, pool: Pool) -> PoolCursor:
        cursor = self.cursors.get(pool)
        if cursor is None:
            cursor = self.cursors[pool] = PoolCursor(self.index, pool, self.memory, self.rights)
        return cursor


def _fitting(asset: ScheduleAsset, room: int) -> tuple[int, int]:
    """How many leading segments of ``asset`` fit in ``room`` µs, and their total duration."""
    segments = asset.segment_us
    if asset.duration_us <= room:
        return len(segments), asset.duration_us
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
    spec: BuildInput, first_day: date, days: int, calendar: GridCalendar | None = None
) -> tuple[list[DaySchedule], list[tuple[ScheduleAsset, datetime]] | None]:
    """The days, and the rights questions asked (see RightsLog), or None if any answer was no."""
    builder = _DayBuilder(spec, calendar)
    schedules = [builder.build(first_day + timedelta(days=n)) for n in range(days)]
    if builder.rights.refused:
        return schedules, None
    return schedules, builder.rights.asked


def build_outputs(specs: Sequence[BuildInput], first_day: date, days: int = 1) -> list[list[DaySchedule]]:
    """Build the outputs of one channel, sharing work between them.

    Outputs differ only where rights differ. The builder is deterministic and asks the same
    rights questions in the same order until an answer differs; so when an output's inputs
    (history, locks, counters) equal an already built output's, that build was told yes every
    time, and this output is told yes to every one of those questions too, its days are that
    build's, relabelled. Otherwise it is built on its own. The grid's days (slot and block
    times) are worked out once for all of them.
    """
    results: list[list[DaySchedule]] = []
    reusable: list[tuple[BuildInput, list[DaySchedule], list[tuple[ScheduleAsset, datetime]]]] = []
    calendars: dict[int, GridCalendar] = {}
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
        calendar = calendars.get(id(spec.channel)) or calendars.setdefault(
            id(spec.channel), GridCalendar(spec.channel)
        )
        schedules, asked = _build(spec, first_day, days, calendar)
        results.append(schedules)
        if asked is not None:
            reusable.append((spec, schedules, asked))
    return results


def fill_span(spec: BuildInput, day: date, start: datetime, end: datetime) -> list[Event]:
    """What floating content (block, filler, slate) would fill [start, end) of broadcast ``day``."""
    builder = _DayBuilder(spec)
    builder.begin(day)
    builder._fill(span_us(start - builder.day_start), span_us(end - builder.day_start))
    return builder.events
