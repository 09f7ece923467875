"""The playout timeline of one channel output: which segment airs when, under which numbers (pure).

Built once per schedule version from the output's events (DESIGN "The live timeline"), then asked
per request. A lookup is two bisections: over the event starts, then over the asset's cumulative
segment offsets — one table per asset, shared by every event and every timeline
(:class:`SegmentTable`) — so a server holds thousands of outputs without an object per segment.

Numbers never move. A segment's media sequence number (what EXT-X-MEDIA-SEQUENCE counts) and its
discontinuity sequence number are its event's stored ``seq0``/``disc0`` plus its place in the
event, whatever happens later; what the timeline may change is only what a segment that nobody
has seen yet carries (RFC 8216bis §6.2.1: a sequence number names one URI for good):

* an unavailable asset (withdrawn, missing from storage) is replaced segment for segment by the
  house slate (:mod:`rcmedia.core.slate_stand_in`), keeping each segment's duration;
* after the last event the slate loop plays for ever, the counters continuing; a channel without
  events plays it from its epoch, counting from zero.

Time is integer µs since the Unix epoch (UTC); :func:`us_of` and :func:`at_us` convert at the edge.
The timeline starts at its first event (or the epoch): asking about an earlier instant is a
programming error (the caller loaded too few events) and raises :class:`ScheduleError`, rather than
answering with a window that would be wrong.
"""

from __future__ import annotations

import bisect
import dataclasses
from array import array
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rcmedia.core.asrun import substitution_reason
from rcmedia.core.schedule import US, Event, EventKind, ScheduleAsset
from rcmedia.core.segment_table import SegmentTable, event_offsets
from rcmedia.core.slate_stand_in import SlateStandIn
from rcmedia.errors import ScheduleError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
ALWAYS = -(1 << 62)  # "unavailable since": before any segment, so every one is replaced
# DESIGN: a live playlist never lists fewer than 6 segments (Apple's authoring spec) nor less than
# 3 × the target duration (RFC 8216bis §6.2.2; clients start that far from the end, §6.3.3).
MIN_WINDOW_SEGMENTS = 6
EXHAUSTED = "schedule exhausted: slate loop aired"


def us_of(moment: datetime) -> int:
    """An aware datetime as integer µs since the Unix epoch (exact: no float on the way)."""
    if moment.tzinfo is None:
        raise ScheduleError(f"{moment!r} has no time zone: the timeline runs on UTC instants")
    return (moment - EPOCH) // _ONE_US


def at_us(us: int) -> datetime:
    """Integer µs since the Unix epoch as an aware UTC datetime."""
    return EPOCH + timedelta(microseconds=us)


@dataclass(frozen=True, kw_only=True, slots=True)
class SegmentRef:
    """One segment of the channel's stream: what a media playlist lists, and what the origin serves."""

    seq: int  # Media Sequence Number (EXT-X-MEDIA-SEQUENCE counts these)
    disc: int  # Discontinuity Sequence Number (EXT-X-DISCONTINUITY-SEQUENCE counts these)
    start_us: int  # scheduled air time (EXT-X-PROGRAM-DATE-TIME)
    duration_us: int  # EXTINF
    asset_id: int  # whose renditions hold the media
    index: int  # the segment's index in those renditions
    discontinuity: bool  # EXT-X-DISCONTINUITY before it: the first segment of an event
    event_start_us: int  # the event it belongs to (or where the slate loop began)
    # µs the origin adds to the stored segment's timestamps (PTS/DTS/PCR, or tfdt): a slate piece
    # standing in for a segment plays at that segment's place in its stream
    shift_us: int = 0
    stands_in_for: int | None = None  # the unavailable asset it replaces
    # the segment before (after) it in the stream is not its asset's stored one before (after)
    # it: the origin cuts its audio to its pictures there (rcmedia.media.continuous)
    cut_in: bool = False
    cut_out: bool = False

    @property
    def end_us(self) -> int:
        return self.start_us + self.duration_us


@dataclass(frozen=True, kw_only=True, slots=True)
class LiveWindow:
    """The live media playlist at one instant, for every rung alike."""

    segments: tuple[SegmentRef, ...]
    media_sequence: int  # EXT-X-MEDIA-SEQUENCE: seq of the first segment
    discontinuity_sequence: int  # EXT-X-DISCONTINUITY-SEQUENCE: disc of the first segment
    next_change_us: int  # when the next segment completes: the playlist is cacheable until then


@dataclass(frozen=True, kw_only=True, slots=True, eq=False)
class Timeline:
    """A channel output's events as columns for bisection; make it with :func:`build_timeline`."""

    events: tuple[Event, ...]
    start_us: int  # the first event's start (or the epoch): nothing is known before
    end_us: int  # the last event's end: the slate loop from here on
    first_window_us: int  # the earliest ``now`` with a completed segment
    bounds: array[int]  # event starts, then end_us
    seq0: array[int]  # per event, then the slate loop's first sequence number
    disc_base: int  # disc0 of the first event; every event adds one
    first_segment: array[int]
    asset_ids: array[int]
    offsets: tuple[array[int], ...]  # per event: its asset's cumulative offsets (shared tables)
    unavailable: Mapping[int, int]  # asset id → from when (µs) its segments are replaced
    why: Mapping[int, str]  # asset id → why it is unavailable ("withdrawn", …)
    forced: Mapping[int, str]  # event index → why all its segments are replaced (no usable table)
    slate: SlateStandIn
    count: int  # events; as a position, ``count`` is the slate loop after them


def build_timeline(
    events: Sequence[Event],
    *,
    segments: SegmentTable | Mapping[int, Sequence[int]],
    slate: ScheduleAsset,
    unavailable: Set[int] | Mapping[int, str] = frozenset(),
    unavailable_since: Mapping[int, datetime] | None = None,
    epoch: datetime | None = None,
) -> Timeline:
    """The timeline of one channel output from its events (contiguous, sorted, counters chained).

    ``segments``: every event's asset's segment durations (best one :class:`SegmentTable` shared
    by all timelines). ``unavailable``: the assets the slate replaces, as ids or id → why
    ("withdrawn", as :func:`rcmedia.playout.availability.unavailable_assets` gives). By default
    every segment of theirs is replaced; ``unavailable_since`` limits that to the segments starting
    at or after the given instant, because earlier ones may already be in players' playlists under
    their real URIs (pass the time the server learned of it). The slate itself is never replaced.
    ``epoch``: where a channel without events starts its slate loop (required then).
    Raises :class:`ScheduleError` when the events do not chain (a gap, an overlap, counters).
    """
    stand_in = SlateStandIn.of(slate)
    why = dict(unavailable) if isinstance(unavailable, Mapping) else dict.fromkeys(unavailable, "unavailable")
    why.pop(slate.id, None)
    since = dict.fromkeys(why, ALWAYS)
    for asset_id, moment in (unavailable_since or {}).items():
        if asset_id in since:
            since[asset_id] = us_of(moment)
    if not events and epoch is None:
        raise ScheduleError("a channel output without events needs its epoch to play the slate from")
    table = segments if isinstance(segments, SegmentTable) else SegmentTable(segments)
    bounds, seq0, first, assets = array("q"), array("q"), array("q"), array("q")
    offsets: list[array[int]] = []
    forced: dict[int, str] = {}
    for number, event in enumerate(events):
        start = us_of(event.start)
        if number:
            _check_chain(events[number - 1], event, bounds[-1] + events[number - 1].duration_us, start)
        found = table.offsets(event.asset_id)
        if found is None and event.asset_id == slate.id:
            found = stand_in.offsets
        found, unusable = event_offsets(event, found, stand_in.loop_us)
        if unusable is not None:
            forced[number] = unusable
        bounds.append(start)
        seq0.append(event.seq0)
        first.append(event.first_segment)
        assets.append(event.asset_id)
        offsets.append(found)
    if events:
        last = events[-1]
        bounds.append(bounds[-1] + last.duration_us)
        seq0.append(last.seq0 + last.segment_count)
        first_duration = offsets[0][first[0] + 1] - offsets[0][first[0]]
    else:
        assert epoch is not None
        bounds.append(us_of(epoch))
        seq0.append(0)
        first_duration = stand_in.loop_us
    return Timeline(
        events=tuple(events),
        start_us=bounds[0],
        end_us=bounds[-1],
        first_window_us=bounds[0] + first_duration,
        bounds=bounds,
        seq0=seq0,
        disc_base=events[0].disc0 if events else 0,
        first_segment=first,
        asset_ids=assets,
        offsets=tuple(offsets),
        unavailable=since,
        why=why,
        forced=forced,
        slate=stand_in,
        count=len(events),
    )


def _check_chain(before: Event, after: Event, expected_start: int, start: int) -> None:
    if start != expected_start:
        raise ScheduleError(
            f"the event at {after.start:%Y-%m-%d %H:%M:%S.%f} UTC does not start where the one before "
            f"it ends ({at_us(expected_start):%Y-%m-%d %H:%M:%S.%f}): load the events sorted, without gaps"
        )
    if after.seq0 != before.seq0 + before.segment_count or after.disc0 != before.disc0 + 1:
        raise ScheduleError(
            f"the event at {after.start:%Y-%m-%d %H:%M:%S} UTC has counters seq0={after.seq0}, "
            f"disc0={after.disc0}; the one before it ends at seq {before.seq0 + before.segment_count}, "
            f"disc {before.disc0 + 1}: rebuild the schedule from there"
        )


# --- segments -------------------------------------------------------------------------------
# A position is (event index, segment index in that event's asset); event index == count is the
# slate loop after the last event, its "segment index" counting loop segments from zero.


def _last(timeline: Timeline, i: int) -> int:
    return timeline.first_segment[i] + timeline.seq0[i + 1] - timeline.seq0[i] - 1


def _locate(timeline: Timeline, t_us: int) -> tuple[int, int]:
    """The position of the segment on air at ``t_us`` (start ≤ t < end); t ≥ the timeline's start."""
    if t_us >= timeline.end_us:
        return timeline.count, (t_us - timeline.end_us) // timeline.slate.loop_us
    i = bisect.bisect_right(timeline.bounds, t_us) - 1
    offsets, first = timeline.offsets[i], timeline.first_segment[i]
    within = t_us - timeline.bounds[i] + offsets[first]
    return i, bisect.bisect_right(offsets, within, first, _last(timeline, i) + 1) - 1


def _previous(timeline: Timeline, i: int, j: int) -> tuple[int, int] | None:
    if j > (timeline.first_segment[i] if i < timeline.count else 0):
        return i, j - 1
    return (i - 1, _last(timeline, i - 1)) if i else None


def _following(timeline: Timeline, i: int, j: int) -> tuple[int, int]:
    if i == timeline.count or j < _last(timeline, i):
        return i, j + 1
    return i + 1, timeline.first_segment[i + 1] if i + 1 < timeline.count else 0


def _end(timeline: Timeline, i: int, j: int) -> int:
    if i == timeline.count:
        return timeline.end_us + (j + 1) * timeline.slate.loop_us
    offsets = timeline.offsets[i]
    return timeline.bounds[i] + offsets[j + 1] - offsets[timeline.first_segment[i]]


def _segment(timeline: Timeline, i: int, j: int) -> SegmentRef:
    slate = timeline.slate
    disc = timeline.disc_base + i
    if i == timeline.count:
        at = j * slate.loop_us
        index, shift = slate.stand_in(j, at, slate.loop_us, from_start=True)
        return SegmentRef(
            seq=timeline.seq0[i] + j,
            disc=disc,
            start_us=timeline.end_us + at,
            duration_us=slate.loop_us,
            asset_id=slate.asset_id,
            index=index,
            # one splice into the loop, then one continuous stream (the shifts keep it so)
            discontinuity=j == 0 and disc > 0,
            event_start_us=timeline.end_us,
            shift_us=shift,
        )
    offsets, first = timeline.offsets[i], timeline.first_segment[i]
    at = offsets[j]
    event_start = timeline.bounds[i]
    start = event_start + at - offsets[first]
    asset_id = timeline.asset_ids[i]
    since = timeline.unavailable.get(asset_id)
    if (since is not None and start >= since) or i in timeline.forced:
        # replaced from the event's first segment (right after its splice), the slate plays its own
        # stream; from a later one, it continues the asset's timestamps (slate_stand_in)
        from_start = since is None or since <= event_start or i in timeline.forced
        index, shift = slate.stand_in(j, at, offsets[j + 1] - at, from_start=from_start)
        return SegmentRef(
            seq=timeline.seq0[i] + j - first,
            disc=disc,
            start_us=start,
            duration_us=offsets[j + 1] - at,
            asset_id=slate.asset_id,
            index=index,
            discontinuity=j == first and disc > 0,
            event_start_us=event_start,
            shift_us=shift,
            stands_in_for=asset_id,
        )
    return SegmentRef(
        seq=timeline.seq0[i] + j - first,
        disc=disc,
        start_us=start,
        duration_us=offsets[j + 1] - at,
        asset_id=asset_id,
        index=j,
        # the channel's very first segment (disc 0) follows nothing: no splice to mark
        discontinuity=j == first and disc > 0,
        event_start_us=event_start,
    )


def _require_known(timeline: Timeline, t_us: int, asked: str) -> None:
    if t_us < timeline.start_us:
        raise ScheduleError(
            f"{asked} at {at_us(t_us):%Y-%m-%d %H:%M:%S} UTC is before this timeline starts "
            f"({at_us(timeline.start_us):%Y-%m-%d %H:%M:%S} UTC): load the events from earlier"
        )


# --- queries --------------------------------------------------------------------------------


def live_window(timeline: Timeline, now_us: int, *, target_duration_s: int, window: int = 10) -> LiveWindow:
    """The live media playlist at ``now_us``: the last completed segments (DESIGN "The live timeline").

    The segments whose end ≤ now, the last W of them: at least ``window`` and 6, and at least
    3 × the target duration long — or every segment since the timeline's start, if fewer. A pure
    function of (timeline, now): the same for every rung and every server process.
    Raises :class:`ScheduleError` before the timeline's first segment has completed.
    """
    if now_us < timeline.first_window_us:
        _require_known(timeline, now_us, "a live window")
        raise ScheduleError(
            f"no segment of this timeline has completed at {at_us(now_us):%Y-%m-%d %H:%M:%S.%f} UTC: "
            "load the events from earlier"
        )
    i, j = _locate(timeline, now_us)
    wanted, span_wanted = max(window, MIN_WINDOW_SEGMENTS), 3 * target_duration_s * US
    listed: list[SegmentRef] = []
    span = 0
    position = _previous(timeline, i, j)
    while position is not None and (len(listed) < wanted or span < span_wanted):
        segment = _segment(timeline, *position)
        listed.append(segment)
        span += segment.duration_us
        position = _previous(timeline, *position)
    listed.reverse()
    first = listed[0]
    return LiveWindow(
        segments=with_cuts(timeline, listed),
        media_sequence=first.seq,
        discontinuity_sequence=first.disc,
        next_change_us=_end(timeline, i, j),
    )


def range_segments(timeline: Timeline, start_us: int, end_us: int, *, now_us: int) -> tuple[SegmentRef, ...]:
    """The whole segments that air in [start, end) and have completed by ``now_us``.

    Catch-up (a past programme: a VOD playlist) and start-over (from the current programme's
    start to now: an EVENT playlist). Raises :class:`ScheduleError` if ``start_us`` is before the
    timeline's start.
    """
    _require_known(timeline, start_us, "a replay")
    found: list[SegmentRef] = []
    if start_us >= end_us:
        return ()
    position = _locate(timeline, start_us)
    while True:
        segment = _segment(timeline, *position)
        if segment.start_us >= end_us or segment.end_us > now_us:
            return with_cuts(timeline, found)
        found.append(segment)
        position = _following(timeline, *position)


def joined(before: SegmentRef, after: SegmentRef) -> bool:
    """Whether ``after`` plays on from ``before`` as stored: the next segment of the same asset, at
    the same shift (a stand-in piece joins only the loop segment after it in the same pass)."""
    return (
        after.asset_id == before.asset_id
        and after.index == before.index + 1
        and after.shift_us == before.shift_us
    )


def with_cuts(timeline: Timeline, segments: Sequence[SegmentRef]) -> tuple[SegmentRef, ...]:
    """``segments`` (consecutive in the stream) with ``cut_in``/``cut_out`` set where the segment
    before/after each in the stream (looked up past either end) does not join it (:func:`joined`)."""
    if not segments:
        return ()
    i, j = _locate(timeline, segments[0].start_us)
    before = _previous(timeline, i, j)
    ahead = None if before is None else _segment(timeline, *before)
    behind = _segment(timeline, *_following(timeline, *_locate(timeline, segments[-1].start_us)))
    out = []
    for k, segment in enumerate(segments):
        after = segments[k + 1] if k + 1 < len(segments) else behind
        cut_in, cut_out = ahead is None or not joined(ahead, segment), not joined(segment, after)
        out.append(
            dataclasses.replace(segment, cut_in=cut_in, cut_out=cut_out) if cut_in or cut_out else segment
        )
        ahead = segment
    return tuple(out)


GUIDE_SNAP_US = 1_000_000  # XMLTV times are whole seconds: a boundary is at most this far from them


def snap_to_event(timeline: Timeline, t_us: int, within_us: int = GUIDE_SNAP_US) -> int:
    """``t_us``, or the event boundary (a start, or the schedule's end) nearest to it if one lies
    within ``within_us`` of it.

    A guide in whole seconds lists a programme that aired 18:29:42.040–18:30:12.080 as
    18:29:42–18:30:12; a catch-up URL built from those (Kodi's ``catchup-source`` template) would
    begin with the last segment of the ident before it and end a segment short. Snapped, it begins
    and ends with the programme. Only boundaries the timeline knows are considered.
    """
    bounds = timeline.bounds
    at = bisect.bisect_left(bounds, t_us)
    nearest = [bounds[k] for k in (at - 1, at) if 0 <= k < len(bounds)]
    best = min(nearest, key=lambda b: abs(b - t_us), default=t_us)
    return best if abs(best - t_us) <= within_us else t_us


def snap_range(timeline: Timeline, start_us: int, end_us: int) -> tuple[int, int]:
    """[start, end) with each end snapped (:func:`snap_to_event`), unless that would empty it: a
    one-second range around one boundary stays as asked rather than becoming nothing."""
    start, end = snap_to_event(timeline, start_us), snap_to_event(timeline, end_us)
    return (start, end) if start < end else (start_us, end_us)


def replay_bounds(timeline: Timeline, start_us: int, end_us: int) -> tuple[int, int]:
    """Where the whole segments :func:`range_segments` lists for [start, end) begin and end.

    The start of the segment on air at ``start_us`` and the end of the one on air just before
    ``end_us``: every range with the same bounds lists the same segments, so a replay playlist can
    be kept under them (aligned to segment boundaries), and it has finished airing once ``now``
    reaches the second. Raises :class:`ScheduleError` as :func:`range_segments` does, and
    ValueError for an empty range.
    """
    if start_us >= end_us:
        raise ValueError(f"an empty range [{start_us}, {end_us})")
    _require_known(timeline, start_us, "a replay")
    i, j = _locate(timeline, start_us)
    first = _end(timeline, i, j) - _segment_duration(timeline, i, j)
    return first, _end(timeline, *_locate(timeline, end_us - 1))


def _segment_duration(timeline: Timeline, i: int, j: int) -> int:
    if i == timeline.count:
        return timeline.slate.loop_us
    offsets = timeline.offsets[i]
    return offsets[j + 1] - offsets[j]


def event_at(timeline: Timeline, t_us: int) -> Event:
    """The event on air at ``t_us`` (start-over begins at its start).

    After the last event this is the slate loop, as a synthetic SLATE event from the end of the
    schedule to the end of the loop segment on air (its segment indices wrap around the loop).
    """
    _require_known(timeline, t_us, "the event on air")
    if t_us >= timeline.end_us:
        return _loop_event(timeline, (t_us - timeline.end_us) // timeline.slate.loop_us + 1)
    return timeline.events[bisect.bisect_right(timeline.bounds, t_us) - 1]


def events_as_aired(timeline: Timeline, start_us: int, end_us: int) -> list[tuple[Event, str | None]]:
    """The events airing in [start, end), each with why the slate replaced some of it, or None.

    For the as-run log: an unavailable asset is named with the instant from which it was replaced;
    the slate loop after an exhausted schedule comes as one synthetic SLATE event.
    """
    _require_known(timeline, start_us, "the as-run log")
    aired: list[tuple[Event, str | None]] = []
    i = bisect.bisect_right(timeline.bounds, start_us) - 1
    while i < timeline.count and timeline.bounds[i] < end_us:
        aired.append((timeline.events[i], _substitution(timeline, i)))
        i += 1
    if end_us > timeline.end_us:
        loop_us = timeline.slate.loop_us
        aired.append((_loop_event(timeline, -((timeline.end_us - end_us) // loop_us)), EXHAUSTED))
    return aired


def _substitution(timeline: Timeline, i: int) -> str | None:
    asset_id = timeline.asset_ids[i]
    forced = timeline.forced.get(i)
    if forced is not None:
        return substitution_reason(asset_id, forced)
    since = timeline.unavailable.get(asset_id)
    offsets, last = timeline.offsets[i], _last(timeline, i)
    if since is None or since > timeline.bounds[i + 1] - (offsets[last + 1] - offsets[last]):
        return None  # available, or only after its last segment had started
    reason = substitution_reason(asset_id, timeline.why[asset_id])
    if since <= timeline.bounds[i]:
        return reason
    return f"{reason} from {at_us(since):%Y-%m-%d %H:%M:%S} UTC"


def _loop_event(timeline: Timeline, count: int) -> Event:
    slate = timeline.slate
    return Event(
        start=at_us(timeline.end_us),
        duration_us=count * slate.loop_us,
        asset_id=slate.asset_id,
        first_segment=0,
        last_segment=count - 1,
        kind=EventKind.SLATE,
        title=slate.title,
        substitution=EXHAUSTED,
        seq0=timeline.seq0[timeline.count],
        disc0=timeline.disc_base + timeline.count,
    )
