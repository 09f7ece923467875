"""How the house slate stands in, one segment for one segment, for media that cannot be played (pure).

The slate asset (:func:`rcmedia.core.plan.plan_slate`) is shorter pieces, then a run of L
full-length "loop" segments, then more shorter pieces: the loop is its longest run of full-length
segments, wherever it starts. A segment k of an unavailable asset becomes the slate segment that
keeps the stored numbering — one segment per segment, so the channel's sequence and discontinuity
counters stay exactly as built — and plays at k's place in its stream: the origin shifts the
piece's timestamps by ``shift_us`` (its PTS/DTS/PCR, or the fMP4 tfdt), so consecutive stand-ins
run as one continuous stream with no EXT-X-DISCONTINUITY of their own (one would add to the stored
discontinuity chain; players that see counters move freeze or skip: hls.js #3426/#5457).

* A full-length segment k becomes loop segment ``k mod L``. k and its offset count from the
  asset's start, not the event's: the same for every event that starts at the asset's first
  segment (all but the slate's own pieces, which are never replaced).
* A shorter segment (an asset's last, or a cut) becomes the longest piece not longer than it.
  Its EXTINF stays the real, longer duration: the media is short by less than a second (to the
  frame from 1 to 2 s; a programme's last segment, up to half a second over the target, gets a
  loop segment), at the end of an event, right before the splice that resets
  the timestamps anyway. Declaring the piece's length instead would move every later segment's
  PROGRAM-DATE-TIME and air time off the schedule, and a sequence number's duration must never
  change (RFC 8216bis §6.2.1).
* Stand-ins from the stream's first segment on (a withdrawn asset, the loop after the schedule)
  come right after a splice, so they play the slate's own stream from the loop's start: loop
  segment ``k mod L`` is shifted by ``(k div L) × L × loop``, and no time falls before the
  slate's own, where an fMP4 tfdt could not go (a piece's audio may start a frame or two before
  its picture). Stand-ins that begin later (the asset went missing while on air) continue the real
  segments' timestamps instead: the shift is k's offset in the stream minus the piece's in the
  slate. Either way the loop wraps seamlessly, as L × loop is whole video and AAC frames.
"""

from __future__ import annotations

import bisect
import itertools
from array import array
from dataclasses import dataclass

from rcmedia.core.schedule import ScheduleAsset
from rcmedia.core.slate_pieces import loop_run
from rcmedia.errors import ScheduleError


@dataclass(frozen=True, kw_only=True, slots=True, eq=False)
class SlateStandIn:
    """The house slate's layout, for picking stand-in pieces; make it with :meth:`of`."""

    asset_id: int
    title: str
    offsets: array[int]  # offsets[k] = where slate segment k starts within the slate
    loop_us: int  # a loop segment's duration: the longest segment of the slate
    loop_start: int  # index of the first loop segment
    loop_length: int  # L: loop segments in a row
    lengths: tuple[int, ...]  # every distinct segment duration, shortest first
    pieces: tuple[int, ...]  # the first segment index with each of those durations

    @property
    def loop_duration_us(self) -> int:
        return self.loop_length * self.loop_us

    @classmethod
    def of(cls, slate: ScheduleAsset) -> SlateStandIn:
        """The layout of ``slate``; its longest run of longest segments is the loop."""
        durations = slate.segment_us
        if not durations:
            raise ScheduleError(f"the slate asset {slate.id} has no segments: ingest the house slate")
        loop_us = max(durations)
        best_start, best_length = loop_run(durations)
        first_of: dict[int, int] = {}
        for index, duration in enumerate(durations):
            first_of.setdefault(duration, index)
        lengths = tuple(sorted(first_of))
        return cls(
            asset_id=slate.id,
            title=slate.title,
            offsets=array("q", itertools.accumulate(durations, initial=0)),
            loop_us=loop_us,
            loop_start=best_start,
            loop_length=best_length,
            lengths=lengths,
            pieces=tuple(first_of[d] for d in lengths),
        )

    def stand_in(self, k: int, at_us: int, duration_us: int, *, from_start: bool) -> tuple[int, int]:
        """(slate segment index, shift µs) for segment ``k`` of a stream, starting ``at_us`` into it.

        The piece's timestamps then say ``at_us`` after the loop's start in the slate when
        ``from_start`` (the slate stands in from the stream's first segment on), else ``at_us``
        after the start of the stream it continues.
        """
        if duration_us >= self.loop_us:
            index = self.loop_start + k % self.loop_length
        else:
            # the longest piece that fits; only a segment shorter than the slate's shortest piece
            # (less than a frame with plan_slate's babies) would get a longer one
            index = self.pieces[max(0, bisect.bisect_right(self.lengths, duration_us) - 1)]
        origin = self.offsets[self.loop_start] if from_start else 0
        return index, origin + at_us - self.offsets[index]
