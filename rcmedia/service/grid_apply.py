"""Applying one channel's new grid file from the browser: validate, store, rebuild its days.

The same checks as ``rcmedia channels apply`` (:func:`rcmedia.service.channels.read_channel_files`:
the file alone, the series it names against the catalog's, its id, number and XMLTV id against
every other applied channel), and the same rebuild afterwards: from the broadcast day on air now,
``days`` days, keeping what is inside the freeze horizon and every locked event. Two more rules
because the text comes from a page: its channel id must be the one being edited (a pasted file
of another channel must not replace this one), and it must be based on the version the operator
saw (another operator's apply since is refused with :class:`ConflictError`, never overwritten).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from rcmedia.catalog.schedules import ScheduleStore
from rcmedia.core.clock import Clock
from rcmedia.core.grid_file import GridError, key_line, parse_channel_file, validate_channels
from rcmedia.core.models import Output
from rcmedia.core.schedule import Channel
from rcmedia.errors import BusyError, ConflictError, ScheduleError
from rcmedia.service.channels import InvalidChannelFiles, find_channel, listed_channels
from rcmedia.service.schedules import build_all


@dataclass(frozen=True, kw_only=True, slots=True)
class RebuiltOutput:
    output: Output
    days: tuple[date, ...]
    events: int


@dataclass(frozen=True, kw_only=True, slots=True)
class GridApplied:
    channel_id: str
    version: int
    changed: bool  # False: the text was the one applied; nothing was stored or rebuilt
    diff: str  # unified diff of the stored text against the new one
    rebuilt: tuple[RebuiltOutput, ...]
    # why the days could not be rebuilt (the file is stored all the same), or None
    rebuild_error: str | None = None


def apply_grid(
    store: ScheduleStore,
    channel_id: str,
    text: str,
    *,
    expected_version: int,
    now: datetime,
    days: int,
    freeze: timedelta,
    clock: Clock | None = None,
    actor: str | None = None,
) -> GridApplied:
    """Validate ``text`` as channel ``channel_id``'s file, store it and rebuild its days.

    With ``actor`` a changed grid is in the audit log (``grid.apply``), written with it. When its
    days cannot be rebuilt (the builder refuses, or another write holds the lock too long), the
    file stays applied and :attr:`GridApplied.rebuild_error` says why.

    NotFoundError: no such channel; InvalidChannelFiles: every problem found (nothing stored);
    ConflictError: the channel was applied again since ``expected_version``.
    """
    applied = find_channel(store, channel_id)
    if applied.version != expected_version:  # checked again where it is stored
        raise ConflictError(f"channel {channel_id!r}", expected=expected_version, current=applied.version)
    stored = {a.id: a for a in store.applied_channels()}
    filename, old_text = stored[channel_id].filename, stored[channel_id].source
    series = frozenset(a.series for a in store.schedule_assets() if a.series)
    try:
        channel = parse_channel_file(text, filename=filename, known_series=series)
        if channel.id != channel_id:
            raise GridError(
                filename,
                "channel.id",
                f"{channel.id!r} is another channel: this page applies {channel_id!r}'s file",
                line=key_line(text, "channel", "id"),
            )
        others = [(stored[c.channel.id].filename, c.channel) for c in listed_channels(store)]
        _validate_among(text, filename, channel, [o for o in others if o[1].id != channel_id])
    except GridError as exc:
        raise InvalidChannelFiles([exc]) from None
    versions = store.apply_channels(
        [(channel_id, filename, text)],
        now=now,
        expected_versions={channel_id: expected_version},
        actor=actor,
    )
    version = versions[channel_id]
    changed = version != applied.version
    rebuilt: Sequence[RebuiltOutput] = ()
    rebuild_error: str | None = None
    if changed:
        # one channel, built in this thread (workers=1: a web worker must not fork); ``clock`` tells
        # whether the build took so long that what it kept past the horizon may have aired meanwhile
        try:
            built = build_all(
                store,
                first_day=None,
                days=days,
                now=now,
                channel_ids=[channel_id],
                freeze=freeze,
                workers=1,
                clock=clock,
            )
        except (ScheduleError, BusyError) as exc:
            # the file is stored (and audited): answering a failure would have the operator think
            # nothing changed, and apply again on a version that is gone
            rebuild_error = str(exc)
            built = {}
        rebuilt = [
            RebuiltOutput(
                output=output,
                days=tuple(d.day for d in schedules),
                events=sum(len(d.events) for d in schedules),
            )
            for output, schedules in built.get(channel_id, {}).items()
        ]
    diff = "".join(
        difflib.unified_diff(
            old_text.splitlines(keepends=True),
            text.splitlines(keepends=True),
            fromfile=f"{filename} (v{applied.version})",
            tofile=f"{filename} (v{version})",
        )
    )
    return GridApplied(
        channel_id=channel_id,
        version=version,
        changed=changed,
        diff=diff,
        rebuilt=tuple(rebuilt),
        rebuild_error=rebuild_error,
    )


def _validate_among(
    text: str, filename: str, channel: Channel, others: Sequence[tuple[str, Channel]]
) -> None:
    """The checks across files, the new one last so that an error names it (and its line)."""
    try:
        validate_channels([*others, (filename, channel)])
    except GridError as exc:
        table, _, key = exc.where.partition(".")
        raise GridError(exc.filename, exc.where, exc.problem, line=key_line(text, table, key)) from None
