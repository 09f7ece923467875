"""A channel's broadcast days: their bounds in UTC, and where the grid's slots and blocks fall.

A broadcast day runs from the channel's ``day_start`` on its local date to the same local time
the next day (23 or 25 hours across a daylight-saving change). What a day of the grid looks like
is the same on every output, so it is worked out once per channel and day (``GridCalendar``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from rcmedia.core.schedule import Block, Channel, Event, FixedSlot


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


def at_or_after_day_start(channel: Channel, day: date, at: time) -> datetime:
    """A local clock time within broadcast day ``day`` (times before day_start fall on the next date)."""
    on = day if at >= channel.day_start else day + timedelta(days=1)
    return local_instant(channel, on, at)


def span_us(delta: timedelta) -> int:
    """``delta`` in whole microseconds."""
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@dataclass(frozen=True, kw_only=True, slots=True)
class Anchor:
    """What starts at a fixed offset into the day: a fixed slot or an operator-locked event."""

    offset: int  # µs from the day's start
    slot: FixedSlot | None = None
    locked: Event | None = None


def anchor_order(anchor: Anchor) -> tuple[int, bool]:
    """Time order; a locked event wins over a slot starting at the same instant."""
    return (anchor.offset, anchor.locked is None)


@dataclass(frozen=True, kw_only=True, slots=True)
class GridDay:
    """One broadcast day of a channel's grid, the same on every output."""

    start: datetime
    end: datetime
    length: int  # µs
    slots: tuple[Anchor, ...]  # the slots that start within the day, in time order
    blocks: tuple[tuple[int, int, Block], ...]  # each block running that day: its begin and end offsets


class GridCalendar:
    """A channel's broadcast days, worked out once for all the outputs built together."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self._days: dict[date, GridDay] = {}

    def day(self, day: date) -> GridDay:
        """Broadcast day ``day`` of the channel's grid."""
        found = self._days.get(day)
        if found is None:
            found = self._days[day] = self._work_out(day)
        return found

    def _work_out(self, day: date) -> GridDay:
        channel = self.channel
        start, end = broadcast_day(channel, day)
        slots = []
        for slot in channel.grid.slots:
            if slot.recurrence.occurs(day):
                at = at_or_after_day_start(channel, day, slot.start)
                if start <= at < end:
                    slots.append(Anchor(offset=span_us(at - start), slot=slot))
        blocks = []
        for block in channel.grid.blocks:
            if not block.recurrence.occurs(day):
                continue
            b0 = span_us(at_or_after_day_start(channel, day, block.start) - start)
            b1 = span_us(at_or_after_day_start(channel, day, block.end) - start)
            if b1 <= b0:
                b1 = span_us(at_or_after_day_start(channel, day + timedelta(days=1), block.end) - start)
            blocks.append((b0, b1, block))
        return GridDay(
            start=start,
            end=end,
            length=span_us(end - start),
            slots=tuple(sorted(slots, key=anchor_order)),
            blocks=tuple(blocks),
        )
