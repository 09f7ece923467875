"""Closing the as-run log: record every event that finished airing, as it aired (an APScheduler job).

The job runs every minute in the process that owns the scheduler jobs. For each channel output
it takes the events that ended since the last close, decides which were substituted by the slate
(their asset could not be played: the playout's rule, see rcmedia.core.asrun), and stores them
with the new mark in one transaction. A missed run only delays the close: the next one picks up
from the mark, so nothing is lost or recorded twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from rcmedia.catalog.asrun import AsRunLog
from rcmedia.catalog.schedules import ScheduleStore
from rcmedia.core.asrun import AsRunEntry, SlateRef, as_aired, closable, with_stand_ins
from rcmedia.core.builder import broadcast_day, day_on_air
from rcmedia.core.models import Output
from rcmedia.core.schedule import Channel, Event
from rcmedia.playout.availability import unavailable_assets
from rcmedia.service.channels import load_channels
from rcmedia.storage.base import Storage

log = logging.getLogger(__name__)


def slate_of(asrun: AsRunLog, channel: Channel) -> SlateRef | None:
    """The channel's house slate (the lowest published id of its slate series), if there is one."""
    found = asrun.series_assets(channel.grid.slate_series)
    return None if not found else SlateRef(id=found[0][0], title=found[0][1])


def aired(asrun: AsRunLog, storage: Storage, channel: Channel, events: list[Event]) -> list[AsRunEntry]:
    """``events`` as they aired, judged by what can be played now, with the missing segments the
    slate stood in for (as the origin recorded them)."""
    ids = {e.asset_id for e in events}
    unavailable = unavailable_assets(ids, asrun.asset_states(ids), storage)
    entries = as_aired(
        events, unavailable=unavailable, slate=slate_of(asrun, channel) if unavailable else None
    )
    return with_stand_ins(entries, events, asrun.stand_ins(ids))


def close_channel(
    store: ScheduleStore,
    asrun: AsRunLog,
    storage: Storage,
    channel: Channel,
    output: Output,
    *,
    now: datetime,
) -> int:
    """Close one channel output's log up to ``now``; returns how many entries were recorded."""
    mark = asrun.closed_until(channel.id, output)
    if mark is None:
        # a first close starts with the oldest day viewers can still replay
        mark, _ = broadcast_day(channel, day_on_air(channel, now) - timedelta(days=channel.catchup_days))
    events = closable(store.events(channel.id, output, start=mark, end=now), after=mark, now=now)
    if not events:
        return 0
    entries = aired(asrun, storage, channel, events)
    return asrun.close(channel.id, output, entries, until=events[-1].end, now=now)


def close_asrun(store: ScheduleStore, asrun: AsRunLog, storage: Storage, *, now: datetime) -> int:
    """Close every applied channel output's as-run log up to ``now``."""
    recorded = 0
    for channel in load_channels(store):
        for output in channel.outputs:
            recorded += close_channel(store, asrun, storage, channel, output, now=now)
    if recorded:
        log.info("as-run log: %d event(s) closed", recorded)
    return recorded


def asrun_between(
    asrun: AsRunLog,
    storage: Storage,
    channel: Channel,
    output: Output,
    events: list[Event],
    *,
    start: datetime,
    end: datetime,
    now: datetime,
) -> list[AsRunEntry]:
    """The as-run log of [start, end) up to ``now``: closed entries, then ``events`` not closed yet.

    ``events`` are the schedule's for the range; those after the close mark that started before
    ``now`` are judged by what can be played now (the one on air is listed with its planned length).
    """
    closed = asrun.entries(channel.id, output, start=start, end=end)
    mark = asrun.closed_until(channel.id, output)
    tail = [e for e in events if e.start < now and e.start >= start and (mark is None or e.start >= mark)]
    if closed and tail:
        tail = [e for e in tail if e.start >= closed[-1].end]
    return closed + (aired(asrun, storage, channel, tail) if tail else [])
