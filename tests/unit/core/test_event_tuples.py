"""Events made from their fields without the dataclass __init__ are the same events."""

from __future__ import annotations

import copy
import dataclasses
from datetime import UTC, datetime

import pytest

from rcmedia.core.event_tuples import FIELDS, event_fields, new_event
from rcmedia.core.schedule import Event, EventKind

START = datetime(2026, 11, 27, 22, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "event",
    [
        pytest.param(
            Event(
                start=START,
                duration_us=1_800_000_000,
                asset_id=12,
                first_segment=0,
                last_segment=299,
                kind=EventKind.PROGRAMME,
                title="峥嵘岁月 第3集",
                series="峥嵘岁月",
                episode=3,
                slot_id="s4",
                premiere=True,
                previously_shown=datetime(2026, 11, 20, 12, 0, tzinfo=UTC),
                substitution="asset 11 has no rights on mobile at this time",
                locked=True,
                seq0=1234,
                disc0=56,
            ),
            id="every-field-set",
        ),
        pytest.param(
            Event(
                start=START,
                duration_us=6_000_000,
                asset_id=1,
                first_segment=2,
                last_segment=2,
                kind=EventKind.SLATE,
                title="台标卡",
            ),
            id="defaults",
        ),
    ],
)
def test_new_event_equals_the_dataclass_made_one(event: Event) -> None:
    made = new_event(*event_fields(event))
    assert made == event
    assert hash(made) == hash(event)
    assert repr(made) == repr(event)
    assert dataclasses.asdict(made) == dataclasses.asdict(event)
    assert copy.deepcopy(made) == event  # through the dataclass's own __getstate__/__setstate__
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.title = "x"  # type: ignore[misc]


def test_fields_are_the_dataclass_fields_in_order() -> None:
    assert tuple(f.name for f in dataclasses.fields(Event)) == FIELDS
