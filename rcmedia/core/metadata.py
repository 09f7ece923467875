"""Asset metadata from a mapping: the hot folder's sidecar TOML and the upload form share this."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from rcmedia.core.changes import in_range
from rcmedia.core.models import AssetMetadata, Output, Rights, Source
from rcmedia.core.text import control_problem, normalize_newlines, without_controls
from rcmedia.errors import ConfigError, InvalidFieldError

SIDECAR_KEYS = {"title", "series", "episode", "source", "language", "description", "categories", "rights"}
MULTILINE_KEYS = frozenset({"description"})
RIGHTS_KEYS = {"start", "end", "enabled"}
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _instant(value: Any, where: str, zone: ZoneInfo) -> datetime:
    """A TOML date or datetime as an aware UTC-comparable datetime (local values in ``zone``),
    refused unless it lies within the instants the catalog stores (1970 to 9999-12-30 UTC)."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=zone)
    elif isinstance(value, date):
        moment = datetime.combine(value, time(0), tzinfo=zone)
    else:
        raise ConfigError(f"{where}: expected a date or date-time, got {value!r}")
    try:
        in_range(moment, where, value)
    except InvalidFieldError as exc:
        raise ConfigError(f"{where}: {exc.problem}") from None
    return moment


def metadata_from_mapping(
    data: Mapping[str, Any], *, where: str, default_title: str, zone: ZoneInfo = SHANGHAI
) -> AssetMetadata:
    """Validate sidecar-style metadata; every error names ``where`` and the key.

    ``default_title`` (the file's name, for a file without a title) loses its control characters;
    a given text with any is refused (:mod:`rcmedia.core.text`).
    """
    unknown = sorted(set(data) - SIDECAR_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(SIDECAR_KEYS))})")
    default_title = without_controls(default_title)

    def text(key: str, default: str | None) -> str | None:
        value = data.get(key, default)
        if value is None:
            return None
        if not isinstance(value, str):
            raise ConfigError(f"{where}: {key} must be text, got {value!r}")
        multiline = key in MULTILINE_KEYS
        value = normalize_newlines(value) if multiline else value
        if problem := control_problem(value, multiline=multiline):
            raise ConfigError(f"{where}: {key} {problem}")
        return value

    title = (text("title", default_title) or default_title).strip()
    if not title:
        raise ConfigError(f"{where}: title must not be empty")
    episode = data.get("episode")
    if episode is not None and (not isinstance(episode, int) or isinstance(episode, bool) or episode < 0):
        raise ConfigError(f"{where}: episode must be a whole number ≥ 0, got {episode!r}")
    source_text = text("source", Source.OWN.value) or Source.OWN.value
    try:
        source = Source(source_text)
    except ValueError:
        raise ConfigError(
            f"{where}: source {source_text!r} is not one of {', '.join(s.value for s in Source)}"
        ) from None
    categories = data.get("categories", [])
    if not isinstance(categories, (list, tuple)) or not all(isinstance(c, str) for c in categories):
        raise ConfigError(f"{where}: categories must be a list of text")
    for index, category in enumerate(categories):
        if problem := control_problem(category):
            raise ConfigError(f"{where}: categories[{index}] {problem}")
    rights = _rights(data.get("rights"), where, zone)
    return AssetMetadata(
        title=title,
        series=text("series", None),
        episode=episode,
        source=source,
        language=text("language", "zh") or "zh",
        description=text("description", "") or "",
        categories=tuple(categories),
        rights=rights,
    )


def _rights(data: Any, where: str, zone: ZoneInfo) -> tuple[Rights, ...]:
    if data is None:
        return tuple(Rights(output=o) for o in Output)
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: rights must be a table of outputs (tv, iptv, mobile)")
    rights = []
    for key, window in data.items():
        try:
            output = Output(key)
        except ValueError:
            raise ConfigError(f"{where}: rights.{key}: unknown output (use tv, iptv, mobile)") from None
        if not isinstance(window, Mapping):
            raise ConfigError(f"{where}: rights.{key} must be a table (start, end, enabled)")
        extra = sorted(set(window) - RIGHTS_KEYS)
        if extra:
            raise ConfigError(f"{where}: rights.{key}.{extra[0]}: unknown key (allowed: start, end, enabled)")
        enabled = window.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ConfigError(f"{where}: rights.{key}.enabled must be true or false, got {enabled!r}")
        if not enabled:
            continue
        start = _instant(window["start"], f"{where}: rights.{key}.start", zone) if "start" in window else None
        end = _instant(window["end"], f"{where}: rights.{key}.end", zone) if "end" in window else None
        if start and end and end <= start:
            raise ConfigError(f"{where}: rights.{key}: end must be after start")
        rights.append(Rights(output=output, start=start, end=end))
    return tuple(rights)
