"""Channels, programme grids and EPG events: the value objects of scheduling (pure).

Time inside the builder is integer microseconds so that sums of segment durations are exact
(every segment lasts a whole number of 25 fps frames, i.e. of 40 000 µs): an EPG day adds up to
exactly 86 400 000 000 µs, never 86 399.99999 s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from rcmedia.core.models import Output, Rights, Source

US = 1_000_000  # microseconds per second


def to_us(seconds: float) -> int:
    """Seconds (as stored in the catalog, 6 decimals) to whole microseconds."""
    return round(seconds * US)


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class EpisodePolicy(StrEnum):
    PREMIERE = "premiere"  # the next episode not yet premiered, in episode order
    RERUN = "rerun"  # the most recent premiere, at least `rerun_after_hours` after it aired
    LEAST_RECENT = "least_recent"  # least recently aired, outside the no-repeat window


class OverrunPolicy(StrEnum):
    CUT = "cut"  # cut the programme at a segment boundary before the next fixed slot
    SHORTER = "shorter"  # choose another eligible episode that fits; cut if none does


class EventKind(StrEnum):
    PROGRAMME = "programme"
    IDENT = "ident"
    FILLER = "filler"
    SLATE = "slate"


class GuideFiller(StrEnum):
    """How the guide shows idents, filler and slate (:mod:`rcmedia.core.guide`)."""

    FOLD = "fold"  # into the programme before them (its stop becomes the next programme's start)
    LIST = "list"  # as entries of their own, titled with the channel's interlude title


DEFAULT_INTERLUDE_TITLE = "精彩节目"


@dataclass(frozen=True, kw_only=True, slots=True)
class Recurrence:
    """On which local dates something happens: weekdays, an optional date range, exceptions."""

    weekdays: frozenset[int] = frozenset(range(7))  # 0 = Monday
    start_date: date | None = None
    end_date: date | None = None  # inclusive
    except_dates: frozenset[date] = frozenset()

    def occurs(self, day: date) -> bool:
        return (
            day.weekday() in self.weekdays
            and (self.start_date is None or day >= self.start_date)
            and (self.end_date is None or day <= self.end_date)
            and day not in self.except_dates
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class Pool:
    """A choice of assets for floating content: any asset matching every given criterion."""

    series: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()  # any of them
    sources: tuple[Source, ...] = ()
    max_duration: float | None = None  # seconds
    no_repeat_hours: float = 0.0

    def matches(self, asset: ScheduleAsset) -> bool:
        return (
            (not self.series or asset.series in self.series)
            and (not self.categories or bool(set(self.categories) & set(asset.categories)))
            and (not self.sources or asset.source in self.sources)
            and (self.max_duration is None or asset.duration_us <= to_us(self.max_duration))
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class FixedSlot:
    """A programme that starts at a fixed local time on the days of its recurrence."""

    id: str
    start: time
    recurrence: Recurrence
    series: str
    policy: EpisodePolicy = EpisodePolicy.PREMIERE
    rerun_after_hours: float = 0.0
    no_repeat_hours: float = 0.0
    overrun: OverrunPolicy = OverrunPolicy.CUT
    max_duration: float | None = None  # seconds the slot may last at most


@dataclass(frozen=True, kw_only=True, slots=True)
class Block:
    """A floating block: from `start` to `end` local time, filled from a pool."""

    id: str
    start: time
    end: time  # may be earlier than start: the block runs past midnight
    recurrence: Recurrence
    pool: Pool


@dataclass(frozen=True, kw_only=True, slots=True)
class Grid:
    slots: tuple[FixedSlot, ...] = ()
    blocks: tuple[Block, ...] = ()
    filler: Pool = field(default_factory=Pool)
    idents: Pool | None = None  # played between items when they fit
    slate_series: str = "slate"  # the series of the house slate asset(s)


@dataclass(frozen=True, kw_only=True, slots=True)
class Channel:
    id: str  # URL-safe slug, e.g. "rcxf"
    xmltv_id: str  # e.g. "rcxf.rcmedia" (XMLTV wants a dot)
    name: str
    number: int
    timezone: str  # IANA, e.g. "Asia/Shanghai"
    outputs: tuple[Output, ...]
    catchup_days: int = 7
    day_start: time = time(6, 0)
    logo: str = ""
    group: str = ""
    description: str = ""
    interlude_title: str = DEFAULT_INTERLUDE_TITLE  # the guide's title where no programme is on
    guide_filler: GuideFiller = GuideFiller.FOLD
    # outputs whose channel list (M3U) points at the continuous playlists (no EXT-X-DISCONTINUITY)
    continuous_outputs: frozenset[Output] = frozenset()
    grid: Grid = field(default_factory=Grid)


@dataclass(frozen=True, kw_only=True, slots=True)
class ScheduleAsset:
    """What the builder knows of a published asset."""

    id: int
    title: str
    series: str | None
    episode: int | None
    source: Source
    categories: tuple[str, ...]
    segment_us: tuple[int, ...]  # every segment's duration, µs
    rights: tuple[Rights, ...]
    description: str = ""
    language: str = "zh"
    # derived once: the builder asks these for every candidate it considers
    duration_us: int = field(init=False)
    always_on: frozenset[Output] = field(init=False)  # outputs with rights and no date window

    def __post_init__(self) -> None:
        object.__setattr__(self, "duration_us", sum(self.segment_us))
        open_ended = frozenset(r.output for r in self.rights if r.start is None and r.end is None)
        object.__setattr__(self, "always_on", open_ended)

    def allowed(self, output: Output, when: datetime) -> bool:
        return output in self.always_on or any(r.output is output and r.allows(when) for r in self.rights)


@dataclass(frozen=True, kw_only=True, slots=True)
class Airing:
    """Something that aired (or is scheduled) on a channel's output: the rotation's memory."""

    asset_id: int
    start: datetime
    slot_id: str | None
    premiere: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class Event:
    """One contiguous run of an asset's segments on a channel output's timeline.

    ``seq0`` is the channel epoch's index of its first segment, ``disc0`` the number of
    discontinuities before it (DESIGN "The live timeline"): the playout needs no recomputation.
    """

    start: datetime  # UTC
    duration_us: int
    asset_id: int
    first_segment: int
    last_segment: int  # inclusive
    kind: EventKind
    title: str
    series: str | None = None
    episode: int | None = None
    slot_id: str | None = None
    premiere: bool = False
    previously_shown: datetime | None = None
    substitution: str | None = None  # why another asset than planned airs here (rights, missing)
    locked: bool = False
    seq0: int = 0
    disc0: int = 0

    @property
    def end(self) -> datetime:
        return self.start + timedelta(microseconds=self.duration_us)

    @property
    def segment_count(self) -> int:
        return self.last_segment - self.first_segment + 1


@dataclass(frozen=True, kw_only=True, slots=True)
class Counters:
    """Where the timeline stands at the start of an event: next segment index, discontinuities so far."""

    seq: int = 0
    disc: int = 0
