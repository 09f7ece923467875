"""Applying channel files and building EPG days: the builder wired to the catalog.

Rebuilding never changes what players may already have seen: events that start before the
freeze horizon (now + ``freeze``) are kept exactly, as are operator-locked events; everything
after is rebuilt, and every later built day is re-chained so the counters stay continuous.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from rcmedia.catalog.schedules import ScheduleStore
from rcmedia.core.builder import BuildInput, DaySchedule, broadcast_day, day_on_air
from rcmedia.core.edits import Edit, apply_edit
from rcmedia.core.grid_file import GridError, parse_channel_file, validate_channels
from rcmedia.core.models import Output, Source
from rcmedia.core.rotation import AssetIndex
from rcmedia.core.schedule import Channel, EventKind
from rcmedia.core.xmltv import ProgrammeInfo, render_xmltv
from rcmedia.errors import ConfigError
from rcmedia.scheduling.build_workers import ChannelBuild, build_channels

log = logging.getLogger(__name__)

FREEZE = timedelta(minutes=2)
HISTORY = timedelta(days=35)  # rotation memory: long enough for weekly series and no-repeat windows


@dataclass(frozen=True, kw_only=True, slots=True)
class ChannelFile:
    path: Path
    text: str
    channel: Channel


class InvalidChannelFiles(ConfigError):
    """One or more channel files are invalid; nothing was applied."""

    def __init__(self, errors: Sequence[GridError | ConfigError]) -> None:
        self.errors = tuple(errors)
        super().__init__("\n".join(str(e) for e in errors))


def read_channel_files(paths: Sequence[Path], *, known_series: frozenset[str] | None) -> list[ChannelFile]:
    """Parse and validate every file; raise one error listing every problem found."""
    files, errors = [], []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            errors.append(ConfigError(f"{path}: cannot read: {exc}"))
            continue
        try:
            files.append(
                ChannelFile(
                    path=path,
                    text=text,
                    channel=parse_channel_file(text, filename=str(path), known_series=known_series),
                )
            )
        except GridError as exc:
            errors.append(exc)
    if not errors:
        try:
            validate_channels([(str(f.path), f.channel) for f in files])
        except GridError as exc:
            errors.append(exc)
    if errors:
        raise InvalidChannelFiles(errors)
    return files


def apply_channel_files(store: ScheduleStore, paths: Sequence[Path], *, now: datetime) -> dict[str, int]:
    """Validate ``paths`` against the catalog's series and store them together (or not at all)."""
    if not paths:
        raise ConfigError("no channel files given (and none in the playlists folder)")
    series = frozenset(a.series for a in store.schedule_assets() if a.series)
    files = read_channel_files(paths, known_series=series)
    return store.apply_channels([(f.channel.id, f.path.name, f.text) for f in files], now=now)


@functools.lru_cache(maxsize=256)
def parsed_channel(filename: str, source: str) -> Channel:
    """An applied channel's stored text, parsed (remembered per text: polled endpoints parse once)."""
    return parse_channel_file(source, filename=filename)


def load_channels(store: ScheduleStore) -> list[Channel]:
    """The applied channels, parsed from the text stored when they were applied."""
    return [parsed_channel(applied.filename, applied.source) for applied in store.applied_channels()]


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
    build = _read_build(
        store, channel, first_day=first_day, days=days, now=now, index=index, outputs=outputs, freeze=freeze
    )
    return _save_built(store, build, build.build(), now=now)


def _read_build(
    store: ScheduleStore,
    channel: Channel,
    *,
    first_day: date,
    days: int,
    now: datetime,
    index: AssetIndex,
    outputs: Sequence[Output] | None,
    freeze: timedelta,
) -> ChannelBuild:
    """What ``build_channel`` builds: every output's history, kept events and counters."""
    horizon = now + freeze
    chosen = list(outputs or channel.outputs)
    specs, ranges = [], []
    for output in chosen:
        later = [d for d in store.built_days(channel.id, output) if d >= first_day]
        last_day = max([first_day + timedelta(days=days - 1), *later])
        start, _ = broadcast_day(channel, first_day)
        _, end = broadcast_day(channel, last_day)
        kept = [
            e
            for e in store.events(channel.id, output, start=start, end=end)
            if e.start >= start and (e.start < horizon or e.locked)
        ]
        specs.append(
            BuildInput(
                channel=channel,
                output=output,
                index=index,
                history=store.history(channel.id, output, since=start - HISTORY, before=start),
                locked=kept,
                counters=store.counters_before(channel.id, output, start),
            )
        )
        ranges.append((last_day - first_day).days + 1)
    # outputs usually share their days (see build_outputs); ones with more built days go alone
    return ChannelBuild(specs=tuple(specs), first_day=first_day, days=max(ranges))


def _save_built(
    store: ScheduleStore, build: ChannelBuild, built: Sequence[list[DaySchedule]], *, now: datetime
) -> dict[Output, list[DaySchedule]]:
    saved: dict[Output, list[DaySchedule]] = {}
    for spec, schedules in zip(build.specs, built, strict=True):
        store.save_days(spec.channel.id, spec.output, schedules, now=now)
        saved[spec.output] = schedules
        log.info(
            "channel %s/%s: built %d day(s) from %s",
            spec.channel.id,
            spec.output.value,
            build.days,
            build.first_day,
        )
    return saved


def build_all(
    store: ScheduleStore,
    *,
    first_day: date | None,
    days: int,
    now: datetime,
    channel_ids: Sequence[str] = (),
    freeze: timedelta = FREEZE,
    workers: int | None = None,
) -> dict[str, dict[Output, list[DaySchedule]]]:
    """Build every applied channel (or those named), sharing one asset index.

    Every channel's inputs are read first; the channels are then built, in ``workers`` processes
    (default: one per CPU; see ``build_workers``: the same days as building them one by one), and
    stored here.
    """
    channels = [c for c in load_channels(store) if not channel_ids or c.id in channel_ids]
    missing = set(channel_ids) - {c.id for c in channels}
    if missing:
        raise ConfigError(f"unknown channel(s) {', '.join(sorted(missing))}; apply them first")
    index = AssetIndex(store.schedule_assets())
    builds = [
        _read_build(
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
    built = build_channels(builds, workers=workers)
    return {
        channel.id: _save_built(store, build, schedules, now=now)
        for channel, build, schedules in zip(channels, builds, built, strict=True)
    }


def epg_window(channel: Channel, now: datetime, days: int) -> tuple[datetime, datetime]:
    """From the start of the oldest catch-up day to the end of the ``days``-th day ahead."""
    today = day_on_air(channel, now)
    start, _ = broadcast_day(channel, today - timedelta(days=channel.catchup_days))
    _, end = broadcast_day(channel, today + timedelta(days=max(days, 1) - 1))
    return start, end


def xmltv_document(store: ScheduleStore, *, output: Output, days: int, now: datetime) -> Iterator[str]:
    """The XMLTV of every channel on ``output``: catch-up days past, ``days`` ahead (streamed)."""
    channels = [c for c in load_channels(store) if output in c.outputs]
    programmes = {}
    for channel in channels:
        start, end = epg_window(channel, now, days)
        # the guide lists programmes only (see rcmedia.core.xmltv): filler and slate stay in the database
        programmes[channel.id] = store.events(
            channel.id, output, start=start, end=end, kinds=[EventKind.PROGRAMME]
        )
    extra = {
        a.id: ProgrammeInfo(
            description=a.description,
            categories=a.categories,
            language=a.language,
            first_run=a.source is Source.OWN,
        )
        for a in store.schedule_assets()
    }
    return render_xmltv(channels, programmes, extra=extra)


def edit_schedule(
    store: ScheduleStore,
    channel: Channel,
    output: Output,
    edit: Edit,
    *,
    day: date,
    now: datetime,
    freeze: timedelta = FREEZE,
) -> DaySchedule:
    """Apply an operator edit to one built day, store it, and re-chain every later built day."""
    if output not in channel.outputs:
        raise ConfigError(f"channel {channel.id!r} is not on the {output.value} output")
    start, end = broadcast_day(channel, day)
    if day not in store.built_days(channel.id, output):
        raise ConfigError(f"{channel.id}/{output.value} has no schedule for {day}; build it first")
    index = AssetIndex(store.schedule_assets())
    events = store.events(channel.id, output, start=start, end=end)
    spec = BuildInput(
        channel=channel,
        output=output,
        index=index,
        history=store.history(channel.id, output, since=start - HISTORY, before=start),
        locked=[e for e in events if e.locked],
        counters=store.counters_before(channel.id, output, start),
    )
    schedule = DaySchedule(
        channel_id=channel.id, output=output, day=day, start=start, end=end, events=tuple(events)
    )
    edited = apply_edit(spec, schedule, edit, now=now, freeze=freeze)
    store.save_days(channel.id, output, [edited], now=now)
    later = sorted(d for d in store.built_days(channel.id, output) if d > day)
    if later:
        build_channel(
            store,
            channel,
            first_day=later[0],
            days=len(later),
            now=now,
            index=index,
            outputs=[output],
            freeze=freeze,
        )
    return edited
