"""The as-run log of a channel output: what aired, for the operator's and the regulator's records.

Until playout records what it actually sent (substitutions decided at air time), what aired is the
schedule: every event that started before now, at its scheduled time, with the substitution the
builder made (a slot's programme replaced because it had no rights, say). The event on air now is
listed with its planned duration.

The CSV is for spreadsheets: UTF-8 with a byte-order mark (without it, Excel on a Chinese Windows
reads the titles as GBK), CRLF line ends (RFC 4180), and a text cell that a spreadsheet would run
as a formula (``=``, ``+``, ``-``, ``@``, tab, CR first) is prefixed with ``'`` (OWASP, "CSV
injection"): titles come from uploads.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from rcmedia.core.schedule import US, Event, EventKind
from rcmedia.web.documents import Document, iso_utc
from rcmedia.web.schedule_reads import DayListing

COLUMNS = ("scheduled_start", "actual_start", "duration", "asset_id", "title", "kind", "substitution")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_BOM = "\ufeff"


@dataclass(frozen=True, kw_only=True, slots=True)
class AsRunRow:
    scheduled_start: datetime
    actual_start: datetime
    duration_us: int
    asset_id: int
    title: str
    kind: EventKind
    substitution: str | None


def as_run(events: Iterable[Event], now: datetime) -> list[AsRunRow]:
    """The rows of the events that started before ``now``, in air order."""
    return [
        AsRunRow(
            scheduled_start=event.start,
            actual_start=event.start,
            duration_us=event.duration_us,
            asset_id=event.asset_id,
            title=event.title,
            kind=event.kind,
            substitution=event.substitution,
        )
        for event in events
        if event.start < now
    ]


def _row_document(row: AsRunRow) -> Document:
    return {
        "scheduled_start": iso_utc(row.scheduled_start),
        "actual_start": iso_utc(row.actual_start),
        "duration": row.duration_us / US,
        "asset_id": row.asset_id,
        "title": row.title,
        "kind": row.kind.value,
        "substitution": row.substitution,
    }


def asrun_document(listing: DayListing, rows: Sequence[AsRunRow], *, now: datetime) -> Document:
    return {
        "channel": listing.channel.id,
        "output": listing.output.value,
        "day": listing.day.isoformat(),
        "start": iso_utc(listing.start),
        "end": iso_utc(listing.end),
        "until": iso_utc(min(max(now, listing.start), listing.end)),  # rows start before this
        "rows": [_row_document(row) for row in rows],
    }


def _cell(text: str | None) -> str:
    if not text:
        return ""
    return "'" + text if text.startswith(_FORMULA_START) else text


def asrun_csv(rows: Iterable[AsRunRow]) -> str:
    """The rows as CSV with a header row; durations in seconds to the millisecond."""
    out = io.StringIO()
    out.write(_BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(
            (
                iso_utc(row.scheduled_start),
                iso_utc(row.actual_start),
                f"{row.duration_us / US:.3f}",
                row.asset_id,
                _cell(row.title),
                row.kind.value,
                _cell(row.substitution),
            )
        )
    return out.getvalue()


def csv_filename(listing: DayListing) -> str:
    return f"asrun-{listing.channel.id}-{listing.output.value}-{listing.day.isoformat()}.csv"
