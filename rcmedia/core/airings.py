"""Where an asset airs: its events on every channel output, scheduled or as they aired (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rcmedia.core.models import Output
from rcmedia.core.schedule import EventKind


@dataclass(frozen=True, kw_only=True, slots=True)
class AssetAiring:
    """One airing of an asset on one channel output: a built event, or an as-run entry."""

    channel_id: str
    output: Output
    start: datetime
    end: datetime
    title: str
    kind: EventKind
    locked: bool = False  # a built event an operator locked (as-run entries: False)
    substitution: str | None = None  # why something else than planned aired or will air
