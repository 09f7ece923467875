"""EPG events to and from plain tuples of their fields, fast: builds make them by the hundred thousand.

A week of 100 channels is some 400 000 events. Event's generated ``__init__`` parses sixteen
keywords and sets each slot through ``object.__setattr__`` looked up by name, which costs about
three times what setting the slots through their descriptors does; unpickling through the
dataclass's ``__setstate__`` costs more still. ``new_event`` makes the same object (Event has no
``__post_init__`` to skip), and ``event_fields`` is its inverse: worker processes send events as
these tuples (see ``rcmedia.service.build_workers``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from datetime import datetime
from operator import attrgetter

from rcmedia.core.schedule import Event, EventKind

FIELDS = (
    "start",
    "duration_us",
    "asset_id",
    "first_segment",
    "last_segment",
    "kind",
    "title",
    "series",
    "episode",
    "slot_id",
    "premiere",
    "previously_shown",
    "substitution",
    "locked",
    "seq0",
    "disc0",
)
if tuple(f.name for f in fields(Event)) != FIELDS:
    # a field added to Event without a place here would be left unset: fail at import instead
    raise ImportError("rcmedia.core.event_tuples.FIELDS no longer lists the fields of Event in order")

EventFields = tuple[
    datetime,
    int,
    int,
    int,
    int,
    EventKind,
    str,
    str | None,
    int | None,
    str | None,
    bool,
    datetime | None,
    str | None,
    bool,
    int,
    int,
]


def _slot_setter(name: str) -> Callable[[Event, object], None]:
    setter: Callable[[Event, object], None] = getattr(Event, name).__set__
    return setter


(
    _start,
    _duration_us,
    _asset_id,
    _first_segment,
    _last_segment,
    _kind,
    _title,
    _series,
    _episode,
    _slot_id,
    _premiere,
    _previously_shown,
    _substitution,
    _locked,
    _seq0,
    _disc0,
) = map(_slot_setter, FIELDS)


def new_event(
    start: datetime,
    duration_us: int,
    asset_id: int,
    first_segment: int,
    last_segment: int,
    kind: EventKind,
    title: str,
    series: str | None,
    episode: int | None,
    slot_id: str | None,
    premiere: bool,
    previously_shown: datetime | None,
    substitution: str | None,
    locked: bool,
    seq0: int,
    disc0: int,
) -> Event:
    """``Event(...)`` with every field given in order, made without the generated ``__init__``."""
    event = object.__new__(Event)
    _start(event, start)
    _duration_us(event, duration_us)
    _asset_id(event, asset_id)
    _first_segment(event, first_segment)
    _last_segment(event, last_segment)
    _kind(event, kind)
    _title(event, title)
    _series(event, series)
    _episode(event, episode)
    _slot_id(event, slot_id)
    _premiere(event, premiere)
    _previously_shown(event, previously_shown)
    _substitution(event, substitution)
    _locked(event, locked)
    _seq0(event, seq0)
    _disc0(event, disc0)
    return event


# The event's fields in order, ``new_event(*event_fields(e)) == e``: attrgetter itself, a C
# function, so that ``map(event_fields, events)`` runs without a Python call per event.
event_fields: Callable[[Event], EventFields] = attrgetter(*FIELDS)
