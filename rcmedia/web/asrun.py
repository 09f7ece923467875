"""The as-run log of a channel output: what aired, for the operator's and the regulator's records.

Closed entries come from the catalog (rcmedia.playout.asrun closes the log every minute); the
events since the last close are judged the same way on the fly, and the one on air now is listed
with its planned duration.

The CSV is for spreadsheets: UTF-8 with a byte-order mark (without it, Excel on a Chinese Windows
reads the titles as GBK), CRLF line ends (RFC 4180), and a text cell that a spreadsheet would run
as a formula (``=``, ``+``, ``-``, ``@``, tab, CR first) is prefixed with ``'`` (OWASP, "CSV
injection"): titles come from uploads.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime

from rcmedia.core.asrun import AsRunEntry
from rcmedia.core.models import Output
from rcmedia.core.schedule import US, EventKind
from rcmedia.service.schedules import DayListing
from rcmedia.web.documents import ID, INSTANT, Document, closed, enum_of, iso_utc, nullable

COLUMNS = ("scheduled_start", "actual_start", "duration", "asset_id", "title", "kind", "substitution")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_BOM = "\ufeff"


def _row_document(row: AsRunEntry) -> Document:
    return {
        "scheduled_start": iso_utc(row.scheduled_start),
        "actual_start": iso_utc(row.actual_start),
        "duration": row.duration_us / US,
        "asset_id": row.asset_id,
        "title": row.title,
        "kind": row.kind.value,
        "substitution": row.substitution,
    }


def asrun_document(listing: DayListing, rows: Sequence[AsRunEntry], *, now: datetime) -> Document:
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


def asrun_csv(rows: Iterable[AsRunEntry]) -> str:
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


ASRUN_SCHEMA = closed(
    {
        "channel": {"type": "string"},
        "output": enum_of(Output),
        "day": {"type": "string", "format": "date"},
        "start": INSTANT,
        "end": INSTANT,
        "until": {**INSTANT, "description": "rows start before this (now, within the day)"},
        "rows": {
            "type": "array",
            "items": closed(
                {
                    "scheduled_start": INSTANT,
                    "actual_start": INSTANT,
                    "duration": {"type": "number", "description": "seconds"},
                    "asset_id": ID,
                    "title": {"type": "string"},
                    "kind": enum_of(EventKind),
                    "substitution": nullable({"type": "string"}),
                }
            ),
        },
    },
    description="What aired on a broadcast day of a channel output, up to now (rcmedia.web.openapi).",
)
