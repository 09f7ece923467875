"""The as-run log: what a channel output actually aired, for the operator's and the regulator's records.

The playout airs the schedule to the segment, so what aired is the schedule, except where an
event's asset could not be played when it came on air (withdrawn after the EPG was frozen, or
missing from storage): the playout then airs the house slate for that event, never dead air
(DESIGN "The live timeline"), and the as-run log says so. The rule here is the playout's rule:
an event is substituted when its asset is unavailable; the reason names the asset and why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from rcmedia.core.schedule import Event, EventKind


@dataclass(frozen=True, kw_only=True, slots=True)
class AsRunEntry:
    """One event as it aired."""

    scheduled_start: datetime
    actual_start: datetime
    duration_us: int
    asset_id: int  # what aired: the slate's id when the scheduled asset was substituted
    title: str
    kind: EventKind
    substitution: str | None  # why something else than planned aired (builder or playout)

    @property
    def end(self) -> datetime:
        return self.actual_start + timedelta(microseconds=self.duration_us)


@dataclass(frozen=True, kw_only=True, slots=True)
class SlateRef:
    """The house slate asset that airs in place of an unavailable one."""

    id: int
    title: str


def substitution_reason(asset_id: int, why: str) -> str:
    """The as-run wording of a playout substitution (the live timeline marks segments the same way)."""
    return f"asset {asset_id} {why}: slate aired"


# How long after a segment aired a live viewer may still ask for it: the live window (a minute
# with 6 s segments) and the player's buffer. A segment found missing later than this after an
# airing was not missed by that airing's viewers (a catch-up viewer found it).
LIVE_REACH = timedelta(minutes=2)


@dataclass(frozen=True, kw_only=True, slots=True)
class StoodIn:
    """One segment of an asset the origin found missing from storage and answered with the slate."""

    asset_id: int
    index: int  # the segment's index in the asset
    rendition: str
    since: datetime  # when a viewer was first given the slate for it


def stand_in_reason(asset_id: int, index: int, renditions: Iterable[str]) -> str:
    """The as-run wording of one missing segment the slate stood in for."""
    return (
        f"segment {index} of asset {asset_id} missing from storage: slate stood in "
        f"({', '.join(sorted(set(renditions)))})"
    )


def with_stand_ins(
    entries: Sequence[AsRunEntry], events: Sequence[Event], stood_in: Iterable[StoodIn]
) -> list[AsRunEntry]:
    """``entries`` (one per event, as :func:`as_aired` gives them) with the segments of each airing
    that the slate stood in for added to its reason: those of the event's segments found missing
    before the event ended, or within :data:`LIVE_REACH` after (a later loss did not reach that
    airing's viewers)."""
    by_asset: dict[int, list[StoodIn]] = {}
    for found in stood_in:
        by_asset.setdefault(found.asset_id, []).append(found)
    noted = []
    for entry, event in zip(entries, events, strict=True):
        missing = [
            s
            for s in by_asset.get(event.asset_id, ())
            if entry.asset_id == event.asset_id  # not replaced whole
            and event.first_segment <= s.index <= event.last_segment
            and s.since < event.end + LIVE_REACH
        ]
        if not missing:
            noted.append(entry)
            continue
        reasons = [entry.substitution] if entry.substitution else []
        for index in sorted({s.index for s in missing}):
            reasons.append(
                stand_in_reason(event.asset_id, index, (s.rendition for s in missing if s.index == index))
            )
        noted.append(replace(entry, substitution="; ".join(reasons)))
    return noted


def as_aired(
    events: Iterable[Event],
    *,
    unavailable: Mapping[int, str],
    slate: SlateRef | None,
) -> list[AsRunEntry]:
    """Each event as it aired, given the assets that could not be played (id → why, e.g. "withdrawn").

    A substituted event keeps its scheduled start and length (the slate fills it exactly: the
    timeline numbering never moves), and its reason is added to any the builder gave.
    """
    entries = []
    for event in events:
        why = unavailable.get(event.asset_id)
        if why is None or (slate is not None and event.asset_id == slate.id):
            entries.append(_entry(event, event.asset_id, event.title, event.kind, event.substitution))
            continue
        reason = substitution_reason(event.asset_id, why)
        if event.substitution:
            reason = f"{event.substitution}; {reason}"
        slate_id = slate.id if slate is not None else event.asset_id
        slate_title = slate.title if slate is not None else event.title
        entries.append(_entry(event, slate_id, slate_title, EventKind.SLATE, reason))
    return entries


def _entry(event: Event, asset_id: int, title: str, kind: EventKind, substitution: str | None) -> AsRunEntry:
    return AsRunEntry(
        scheduled_start=event.start,
        actual_start=event.start,
        duration_us=event.duration_us,
        asset_id=asset_id,
        title=title,
        kind=kind,
        substitution=substitution,
    )


def closable(events: Iterable[Event], *, after: datetime | None, now: datetime) -> list[Event]:
    """The events that have finished airing by ``now`` and were not closed yet (start ≥ ``after``)."""
    return [e for e in events if e.end <= now and (after is None or e.start >= after)]
