"""The guide viewers read (XMLTV, the JSON guide, the watch pages): gapless entries from events (pure).

IPTV apps (Kodi, TiviMate) show "no information" wherever a guide lists nothing, and viewers read
that as a broken channel; a channel whose programmes cover 1 % of the day looked broken most of
the time. So the guide covers every moment the events cover, with no gap and no overlap:

* in ``fold`` mode (the default, :attr:`GuideFiller.FOLD`) idents, filler and slate fold into the
  programme before them: its entry stops where the next programme starts, and keeps the
  programme's real length as ``content_us`` (the JSON guide shows it, and a replay link still
  plays exactly the programme);
* in ``list`` mode (a channel's ``guide_filler = "list"``) each run of idents, filler and slate
  is one entry of its own;
* a run with no programme before it (at the start of what was read, or after a hole in the
  events) is one *interlude* entry titled with the channel's ``interlude_title`` ("精彩节目");
* a hole in the events (a day not built between built ones: the slate loop airs there, DESIGN
  "The live timeline") is an interlude too, never folded into a programme that did not air then.

Programme entries start exactly at their programme's start, to the microsecond; XMLTV then
drops the sub-second part of every time alike, so a stop still equals the next start.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from rcmedia.core.schedule import Channel, Event, EventKind, GuideFiller

_MICROSECOND = timedelta(microseconds=1)


class GuideKind(StrEnum):
    PROGRAMME = "programme"
    INTERLUDE = "interlude"


@dataclass(frozen=True, kw_only=True, slots=True)
class GuideEntry:
    """One line of the guide: ``[start, stop)``, a programme (``programme`` set) or an interlude."""

    start: datetime  # UTC
    stop: datetime
    title: str
    programme: Event | None  # None: an interlude
    content_us: int  # a programme's own length (less than stop - start when filler folded into it)

    @property
    def kind(self) -> GuideKind:
        return GuideKind.INTERLUDE if self.programme is None else GuideKind.PROGRAMME


def guide_entries(
    channel: Channel,
    events: Iterable[Event],
    *,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[GuideEntry]:
    """The guide of ``events`` (one channel output's, of every kind, in any order), gapless.

    The entries cover ``[first event's start, last event's end)`` exactly. With ``start``/``end``
    only the entries overlapping ``[start, end)`` are returned, unclipped: a programme that began
    before ``start`` keeps its real start (XMLTV clients take entries that begin before the
    window, and its catch-up plays it from its start). To fold the filler at the beginning of
    the window into the programme before it, pass that programme among the events (the service
    reads from it); otherwise that filler is an interlude.

    Events of zero length are skipped; events are taken not to overlap (the builder's
    guarantee). Whatever the input, the entries are contiguous and never overlap.
    """
    fold = channel.guide_filler is GuideFiller.FOLD
    entries: list[GuideEntry] = []
    open_start: datetime | None = None  # the entry being extended
    open_programme: Event | None = None
    cursor: datetime | None = None  # where the entries so far end

    def close(at: datetime) -> None:
        nonlocal open_start
        if open_start is not None and open_start < at:
            entries.append(_entry(channel, open_start, at, open_programme))
        open_start = None

    for event in sorted(events, key=lambda e: e.start):
        if event.duration_us <= 0:
            continue
        event_end = event.end
        if cursor is not None and event_end <= cursor:
            continue  # wholly inside what is covered (overlapping input): nothing new
        if cursor is not None and event.start > cursor:  # a hole: nothing aired as scheduled there
            close(cursor)
            open_start, open_programme = cursor, None
        if event.kind is EventKind.PROGRAMME:
            at = event.start if cursor is None else max(event.start, cursor)
            if open_start is not None:
                close(at)
            open_start, open_programme = at, event
        elif open_start is None:
            open_start, open_programme = event.start, None
        elif open_programme is not None and not fold:
            at = max(event.start, cursor) if cursor is not None else event.start
            close(at)
            open_start, open_programme = at, None
        cursor = event_end if cursor is None else max(cursor, event_end)
    if cursor is not None:
        close(cursor)
    if start is None and end is None:
        return entries
    return [
        entry
        for entry in entries
        if (start is None or entry.stop > start) and (end is None or entry.start < end)
    ]


def _entry(channel: Channel, start: datetime, stop: datetime, programme: Event | None) -> GuideEntry:
    span_us = (stop - start) // _MICROSECOND
    if programme is None:
        return GuideEntry(
            start=start, stop=stop, title=channel.interlude_title, programme=None, content_us=span_us
        )
    return GuideEntry(
        start=start,
        stop=stop,
        title=programme.title,
        programme=programme,
        content_us=min(programme.duration_us, span_us),
    )
