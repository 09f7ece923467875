"""What operators and editors ask to change, read from JSON-like values and refused field by field.

A schedule edit (for :func:`rcmedia.core.edits.apply_edit`), a change of an asset's metadata
(checked like the sidecar metadata of :mod:`rcmedia.core.metadata`) and an asset's rights. Every
refusal is an :class:`InvalidFieldError` naming the field, so an API client or a form can point at it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

from rcmedia.core.builder import local_instant
from rcmedia.core.edits import Edit, EditKind
from rcmedia.core.models import Output, Rights
from rcmedia.core.schedule import Channel
from rcmedia.core.text import control_problem, normalize_newlines
from rcmedia.errors import InvalidFieldError

MAX_TITLE, MAX_SERIES, MAX_CATEGORY, MAX_DESCRIPTION = 500, 300, 100, 20_000
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CLOCK = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])(?::([0-5][0-9]))?")

# which fields each action needs (the others are refused: a stray "to" on a replace is a mistake)
EDIT_FIELDS: dict[EditKind, frozenset[str]] = {
    EditKind.REPLACE: frozenset({"event_start", "asset_id"}),
    EditKind.MOVE: frozenset({"event_start", "to"}),
    EditKind.INSERT: frozenset({"asset_id", "to"}),
    EditKind.DELETE: frozenset({"event_start"}),
    EditKind.LOCK: frozenset({"event_start"}),
    EditKind.UNLOCK: frozenset({"event_start"}),
}
_EDIT_COMMON = frozenset({"output", "date", "action"})


# Instants a request may name: from the Unix epoch (timelines count microseconds from it) to a day
# short of datetime.max, so that rendering one in any time zone (UTC+14 at most) still fits.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)


class Unset(Enum):
    UNSET = "unset"


UNSET = Unset.UNSET


def parse_instant(value: object, field: str) -> datetime:
    """An ISO 8601 date-time with its offset (``2026-03-02T19:00:00+08:00`` or ``…Z``), as UTC."""
    if not isinstance(value, str):
        raise InvalidFieldError(field, f"expected an ISO 8601 date-time text, got {value!r}")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidFieldError(field, f"{value!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise InvalidFieldError(field, f"{value!r} needs its UTC offset (Z or +08:00)")
    return in_range(moment, field, value)


def in_range(moment: datetime, field: str, given: object) -> datetime:
    """``moment`` (aware) in UTC, refused unless it lies between :data:`EARLIEST` and :data:`LATEST`.

    ``0001-01-01T00:00:00+14:00`` is a valid ISO 8601 text whose UTC instant is before year 1:
    Python's datetime cannot hold it (``astimezone`` overflows).
    """
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc <= LATEST:
        raise InvalidFieldError(
            field, f"{given!r} is out of range: expected an instant from 1970-01-01 to 9999-12-30 (UTC)"
        )
    return utc


def parse_date(value: object, field: str) -> date:
    if isinstance(value, str) and _DATE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InvalidFieldError(field, f"expected a date YYYY-MM-DD, got {value!r}")


def _enum(kind: type[Any], value: object, field: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise InvalidFieldError(field, f"{value!r} is not one of {allowed}") from None


def _object(data: object, where: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise InvalidFieldError(where, f"expected a JSON object, got {type(data).__name__}")
    return data


def json_object(data: object, allowed: frozenset[str], where: str = "body") -> Mapping[str, Any]:
    """``data`` if it is a JSON object of only ``allowed`` keys; else InvalidFieldError (a 400)
    naming the first unknown key (cut to 40 characters: it is the sender's text)."""
    body = _object(data, where)
    unknown = sorted(str(key) for key in body if key not in allowed)
    if unknown:
        raise InvalidFieldError(unknown[0][:40], f"unknown field (allowed: {', '.join(sorted(allowed))})")
    return body


def parse_version(value: object, field: str = "version") -> int:
    """A version a write names (what a GET said), a positive whole number."""
    return _id(value, field)


def _id(value: object, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 2**63:
        raise InvalidFieldError(field, f"expected a positive whole number, got {value!r}")
    return value


@dataclass(frozen=True, kw_only=True, slots=True)
class ScheduleEditRequest:
    output: Output
    day: date  # the broadcast day edited
    edit: Edit
    version: int | None = None  # the day's version the edit is based on (None: whatever is current)


def parse_schedule_edit(data: object) -> ScheduleEditRequest:
    """``{output, date, action, event_start?, asset_id?, to?, version?}``; times with their UTC offset.

    ``version`` is the day's version the edit was made on (``GET …/schedule`` says it): an edit of
    a day that changed since is refused rather than applied over the change.
    """
    body = _object(data, "body")
    if "action" not in body:
        raise InvalidFieldError("action", f"missing (one of {', '.join(k.value for k in EditKind)})")
    kind: EditKind = _enum(EditKind, body["action"], "action")
    needed = EDIT_FIELDS[kind]
    for key in body:
        if key not in _EDIT_COMMON | needed | {"version"}:
            known = key in {"event_start", "asset_id", "to"}
            raise InvalidFieldError(key, f"not used by a {kind.value} edit" if known else "unknown field")
    for key in sorted(_EDIT_COMMON | needed):
        if body.get(key) is None:
            raise InvalidFieldError(key, f"missing (a {kind.value} edit needs it)")
    return ScheduleEditRequest(
        output=_enum(Output, body["output"], "output"),
        day=parse_date(body["date"], "date"),
        edit=Edit(
            kind=kind,
            event_start=parse_instant(body["event_start"], "event_start")
            if "event_start" in needed
            else None,
            asset_id=_id(body["asset_id"], "asset_id") if "asset_id" in needed else None,
            to=parse_instant(body["to"], "to") if "to" in needed else None,
        ),
        version=parse_version(body["version"]) if body.get("version") is not None else None,
    )


def clock_time_in_day(channel: Channel, day: date, text: str) -> datetime:
    """``HH:MM[:SS]`` on the channel's clock within broadcast day ``day``, or a full date-time.

    A broadcast day runs from ``day_start`` to ``day_start`` next morning: with days from 06:00,
    ``02:00`` of day D is the night after D. A date-time without an offset is in the channel's zone.
    """
    match = _CLOCK.fullmatch(text.strip())
    if match is None:
        try:
            moment = datetime.fromisoformat(text.strip())
        except ValueError:
            raise InvalidFieldError(text, "expected HH:MM[:SS] or an ISO 8601 date-time") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo(channel.timezone))
        return in_range(moment, text, text)
    at = time(int(match[1]), int(match[2]), int(match[3] or 0))
    return local_instant(channel, day if at >= channel.day_start else day + timedelta(days=1), at)


@dataclass(frozen=True, kw_only=True, slots=True)
class MetadataChange:
    """The fields an editor changes; UNSET ones stay as they are (None clears series and episode)."""

    title: str | Unset = UNSET
    series: str | Unset | None = UNSET
    episode: int | Unset | None = UNSET
    description: str | Unset = UNSET
    categories: tuple[str, ...] | Unset = UNSET

    def changed(self) -> dict[str, Any]:
        """Field name → new value, for the fields that change."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {name: value for name, value in values.items() if value is not UNSET}


EDITABLE = tuple(f.name for f in fields(MetadataChange))


def _text(value: object, field: str, limit: int, *, required: bool, multiline: bool = False) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise InvalidFieldError(field, f"must be text{'' if required else ' or null'}, got {value!r}")
    value = (normalize_newlines(value) if multiline else value).strip()
    if problem := control_problem(value, multiline=multiline):
        raise InvalidFieldError(field, problem)
    if len(value) > limit:
        raise InvalidFieldError(field, f"must be at most {limit} characters")
    if required and not value:
        raise InvalidFieldError(field, "must not be empty")
    return value or None


def parse_metadata_change(data: object) -> MetadataChange:
    """A JSON object with some of title, series, episode, description, categories (and maybe the
    asset's ``version`` the change was made on: see :func:`parse_asset_patch`)."""
    body = {k: v for k, v in _object(data, "body").items() if k != "version"}
    for key in body:
        if key not in EDITABLE:
            hint = {
                "rights": "; change rights with PUT /api/v1/assets/{id}/rights",
                "status": "; withdraw with POST /api/v1/assets/{id}/withdraw",
            }.get(key, "")
            raise InvalidFieldError(key, f"cannot be changed here (allowed: {', '.join(EDITABLE)}){hint}")
    if not body:
        raise InvalidFieldError("body", f"nothing to change (give one of {', '.join(EDITABLE)})")
    values: dict[str, Any] = {}
    if "title" in body:
        values["title"] = _text(body["title"], "title", MAX_TITLE, required=True)
    if "series" in body:
        values["series"] = _text(body["series"], "series", MAX_SERIES, required=False)
    if "description" in body:
        values["description"] = (
            _text(body["description"], "description", MAX_DESCRIPTION, required=False, multiline=True) or ""
        )
    if "episode" in body:
        episode = body["episode"]
        if episode is not None and (
            not isinstance(episode, int) or isinstance(episode, bool) or not 0 <= episode < 2**31
        ):
            raise InvalidFieldError("episode", f"must be a whole number ≥ 0 or null, got {episode!r}")
        values["episode"] = episode
    if "categories" in body:
        categories = body["categories"]
        if not isinstance(categories, list):
            raise InvalidFieldError("categories", f"must be a list of text, got {categories!r}")
        values["categories"] = tuple(
            _text(c, f"categories[{i}]", MAX_CATEGORY, required=True) or "" for i, c in enumerate(categories)
        )
    return MetadataChange(**values)


def parse_asset_patch(data: object) -> tuple[MetadataChange, int | None]:
    """``PATCH /api/v1/assets/{id}``'s body: the change, and the version it was made on (if given)."""
    body = _object(data, "body")
    version = parse_version(body["version"]) if body.get("version") is not None else None
    return parse_metadata_change(body), version


def parse_rights(data: object) -> tuple[Rights, ...]:
    """A JSON list of ``{output, start, end}`` (start and end: date-times with offset, or null: open)."""
    if not isinstance(data, list):
        raise InvalidFieldError("rights", f"expected a JSON list of {{output, start, end}}, got {data!r}")
    rights = []
    for i, item in enumerate(data):
        where = f"rights[{i}]"
        window = _object(item, where)
        extra = sorted(set(window) - {"output", "start", "end"})
        if extra:
            raise InvalidFieldError(f"{where}.{extra[0]}", "unknown field (allowed: output, start, end)")
        if "output" not in window:
            raise InvalidFieldError(f"{where}.output", "missing (tv, iptv or mobile)")
        output: Output = _enum(Output, window["output"], f"{where}.output")
        start, end = (
            parse_instant(window[key], f"{where}.{key}") if window.get(key) is not None else None
            for key in ("start", "end")
        )
        if start is not None and end is not None and end <= start:
            raise InvalidFieldError(f"{where}.end", "must be after start")
        rights.append(Rights(output=output, start=start, end=end))
    return tuple(rights)


def window_rights(
    current: tuple[Rights, ...],
    output: Output,
    *,
    start: datetime | None,
    end: datetime | None,
    allowed: bool,
) -> tuple[Rights, ...]:
    """``current`` with ``output``'s windows replaced by one (``allowed``) or none."""
    if start is not None and end is not None and end <= start:
        raise InvalidFieldError("until", "must be after from")
    kept = tuple(r for r in current if r.output is not output)
    return (*kept, Rights(output=output, start=start, end=end)) if allowed else kept


def rights_bound(text: str, field: str, zone: ZoneInfo) -> datetime:
    """A date (midnight) or date-time; without an offset it is in ``zone`` (as in sidecar files)."""
    try:
        moment = (
            datetime.combine(date.fromisoformat(text), time(0))
            if _DATE.fullmatch(text.strip())
            else datetime.fromisoformat(text.strip())
        )
    except ValueError:
        raise InvalidFieldError(field, f"expected a date or ISO 8601 date-time, got {text!r}") from None
    return in_range(moment if moment.tzinfo else moment.replace(tzinfo=zone), field, text)
