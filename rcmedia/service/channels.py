"""Channels: applying channel files, and the applied channels as the rest of rcmedia reads them."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from rcmedia.catalog.schedules import ScheduleStore
from rcmedia.core.grid_file import GridError, parse_channel_file, validate_channels
from rcmedia.core.models import Output
from rcmedia.core.schedule import Channel
from rcmedia.errors import ConfigError, NotFoundError


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


@dataclass(frozen=True, kw_only=True, slots=True)
class ListedChannel:
    channel: Channel
    version: int  # bumped each time a changed file is applied


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


def apply_channel_files(
    store: ScheduleStore, paths: Sequence[Path], *, now: datetime, actor: str | None = None
) -> dict[str, int]:
    """Validate ``paths`` against the catalog's series and store them together (or not at all);
    with ``actor``, each changed channel is in the audit log (``grid.apply``)."""
    if not paths:
        raise ConfigError("no channel files given (and none in the playlists folder)")
    series = frozenset(a.series for a in store.schedule_assets() if a.series)
    files = read_channel_files(paths, known_series=series)
    return store.apply_channels([(f.channel.id, f.path.name, f.text) for f in files], now=now, actor=actor)


@functools.lru_cache(maxsize=256)
def parsed_channel(filename: str, source: str) -> Channel:
    """An applied channel's stored text, parsed (remembered per text: polled endpoints parse once)."""
    return parse_channel_file(source, filename=filename)


def load_channels(store: ScheduleStore) -> list[Channel]:
    """The applied channels, parsed from the text stored when they were applied."""
    return [parsed_channel(applied.filename, applied.source) for applied in store.applied_channels()]


def listed_channels(store: ScheduleStore) -> list[ListedChannel]:
    """The applied channels in channel-number order."""
    listed = [
        ListedChannel(channel=parsed_channel(applied.filename, applied.source), version=applied.version)
        for applied in store.applied_channels()
    ]
    return sorted(listed, key=lambda c: (c.channel.number, c.channel.id))


def find_channel(store: ScheduleStore, channel_id: str) -> ListedChannel:
    """An applied channel; NotFoundError when there is none of that id."""
    for listed in listed_channels(store):
        if listed.channel.id == channel_id:
            return listed
    raise NotFoundError("channel", channel_id)


def channel_on(store: ScheduleStore, channel_id: str, output: Output) -> Channel:
    """An applied channel that is on ``output``; NotFoundError for either."""
    return channel_and_output(store, channel_id, output)[0]


def channel_and_output(
    store: ScheduleStore, channel_id: str, output: Output | None
) -> tuple[Channel, Output]:
    """An applied channel and ``output`` (by default its :func:`default_output`), which it must be
    on; NotFoundError for either."""
    channel = find_channel(store, channel_id).channel
    chosen = output or default_output(channel)
    if chosen not in channel.outputs:
        raise NotFoundError("output", f"{channel_id}/{chosen.value}")
    return channel, chosen


def default_output(channel: Channel) -> Output:
    """IPTV when the channel is on it (it is what the viewer-side lists default to), else its first."""
    return Output.IPTV if Output.IPTV in channel.outputs else channel.outputs[0]
