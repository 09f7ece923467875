"""Sidecar metadata: defaults, rights windows in Asia/Shanghai, and errors that name the file and key."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from rcmedia.core.metadata import metadata_from_mapping
from rcmedia.core.models import Output, Rights, Source
from rcmedia.errors import ConfigError

WHERE = "第12集.toml"
SHANGHAI = ZoneInfo("Asia/Shanghai")

README_EXAMPLE = """
title = "党建视讯 第12集"
series = "党建视讯"
episode = 12
source = "city"
language = "zh"
description = "本期聚焦基层党建工作。"
categories = ["党建", "时政"]

[rights.tv]
[rights.iptv]
start = 2026-12-01
end = 2027-12-01T00:00:00+08:00
[rights.mobile]
enabled = false
"""


def parse(data: dict[str, Any], default_title: str = "第12集") -> Any:
    return metadata_from_mapping(data, where=WHERE, default_title=default_title)


def test_empty_mapping_gives_defaults() -> None:
    metadata = parse({})
    assert metadata.title == "第12集"
    assert metadata.series is None
    assert metadata.episode is None
    assert metadata.source is Source.OWN
    assert metadata.language == "zh"
    assert metadata.description == ""
    assert metadata.categories == ()
    assert metadata.rights == tuple(Rights(output=o) for o in Output)


def test_default_title_is_stripped() -> None:
    assert parse({}, default_title="  lesson 1 ").title == "lesson 1"


def test_readme_example() -> None:
    metadata = parse(tomllib.loads(README_EXAMPLE))
    assert metadata.title == "党建视讯 第12集"
    assert metadata.series == "党建视讯"
    assert metadata.episode == 12
    assert metadata.source is Source.CITY
    assert metadata.categories == ("党建", "时政")
    assert metadata.description == "本期聚焦基层党建工作。"
    # mobile is listed but disabled: only tv and iptv may air it
    assert [r.output for r in metadata.rights] == [Output.TV, Output.IPTV]
    tv, iptv = metadata.rights
    assert (tv.start, tv.end) == (None, None)
    # a bare date is midnight in Shanghai (UTC+8), i.e. 16:00 UTC the day before
    assert iptv.start == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    assert iptv.end == datetime(2027, 11, 30, 16, 0, tzinfo=UTC)


def test_local_date_time_is_shanghai_and_offsets_are_kept() -> None:
    rights = parse(
        {
            "rights": {
                "tv": {"start": datetime(2026, 1, 1, 20, 0)},  # noqa: DTZ001 - a TOML local date-time
                "iptv": {"start": datetime(2026, 1, 1, 20, 0, tzinfo=timezone(timedelta(hours=-5)))},
            }
        }
    ).rights
    assert rights[0].start == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert rights[1].start == datetime(2026, 1, 2, 1, 0, tzinfo=UTC)


def test_zone_is_an_argument() -> None:
    metadata = metadata_from_mapping(
        {"rights": {"tv": {"start": date(2026, 3, 1)}}}, where=WHERE, default_title="x", zone=ZoneInfo("UTC")
    )
    assert metadata.rights[0].start == datetime(2026, 3, 1, tzinfo=UTC)


def test_rights_window_is_start_inclusive_end_exclusive() -> None:
    window = parse({"rights": {"tv": {"start": date(2026, 12, 1), "end": date(2026, 12, 2)}}}).rights[0]
    start = datetime(2026, 12, 1, tzinfo=SHANGHAI)
    assert not window.allows(start - timedelta(microseconds=1))
    assert window.allows(start)
    assert window.allows(start + timedelta(hours=23, minutes=59))
    assert not window.allows(start + timedelta(days=1))


@pytest.mark.parametrize(
    ("enabled", "outputs"),
    [
        pytest.param(False, [Output.TV], id="disabled-dropped"),
        pytest.param(True, [Output.TV, Output.MOBILE], id="enabled-kept"),
    ],
)
def test_enabled_flag(enabled: bool, outputs: list[Output]) -> None:
    rights = parse({"rights": {"tv": {}, "mobile": {"enabled": enabled}}}).rights
    assert [r.output for r in rights] == outputs


@pytest.mark.parametrize(
    ("data", "key"),
    [
        pytest.param({"author": "x"}, "'author'", id="unknown-key"),
        pytest.param({"title": 5}, "title", id="title-not-text"),
        pytest.param({"title": "   "}, "title", id="title-blank"),
        pytest.param({"series": 3}, "series", id="series-not-text"),
        pytest.param({"language": ["zh"]}, "language", id="language-not-text"),
        pytest.param({"description": 1.5}, "description", id="description-not-text"),
        pytest.param({"episode": -1}, "episode", id="episode-negative"),
        pytest.param({"episode": "12"}, "episode", id="episode-text"),
        pytest.param({"episode": True}, "episode", id="episode-bool"),
        pytest.param({"episode": 1.5}, "episode", id="episode-fraction"),
        pytest.param({"source": "national"}, "source 'national'", id="unknown-source"),
        pytest.param({"source": 1}, "source", id="source-not-text"),
        pytest.param({"categories": "党建"}, "categories", id="categories-not-list"),
        pytest.param({"categories": ["党建", 2]}, "categories", id="categories-not-text"),
        pytest.param({"rights": "all"}, "rights", id="rights-not-table"),
        pytest.param({"rights": {"radio": {}}}, "rights.radio", id="unknown-output"),
        pytest.param({"rights": {"tv": True}}, "rights.tv", id="window-not-table"),
        pytest.param({"rights": {"tv": {"until": date(2027, 1, 1)}}}, "rights.tv.until", id="window-key"),
        pytest.param({"rights": {"tv": {"start": "2026-12-01"}}}, "rights.tv.start", id="start-text"),
        pytest.param({"rights": {"tv": {"end": time(20, 0)}}}, "rights.tv.end", id="end-local-time"),
        pytest.param(
            {"rights": {"iptv": {"start": date(2027, 1, 1), "end": date(2026, 1, 1)}}},
            "rights.iptv: end must be after start",
            id="end-before-start",
        ),
        pytest.param(
            {"rights": {"iptv": {"start": date(2027, 1, 1), "end": datetime(2027, 1, 1, tzinfo=SHANGHAI)}}},
            "rights.iptv: end must be after start",
            id="end-equals-start",
        ),
    ],
)
def test_invalid_metadata_names_the_file_and_key(data: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse(data)
    message = str(info.value)
    assert message.startswith(f"{WHERE}: ")
    assert key in message


def test_missing_title_and_empty_default_is_refused() -> None:
    with pytest.raises(ConfigError, match="title must not be empty"):
        parse({}, default_title="")


@pytest.mark.parametrize(
    "enabled",
    [pytest.param("no", id="text-no"), pytest.param(0, id="zero")],
)
def test_enabled_must_be_a_boolean(enabled: object) -> None:
    # ingest/README.md: "a wrong type ... refuses the file". Today anything but the boolean false
    # (e.g. enabled = "no") silently grants the rights.
    with pytest.raises(ConfigError) as info:
        parse({"rights": {"mobile": {"enabled": enabled}}})
    assert "rights.mobile.enabled" in str(info.value)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(
            {"title": "课\x1b[31m红"}, "title contains a control character (U+001B ESC)", id="title"
        ),
        pytest.param({"series": "a\rb"}, "series contains a control character (U+000D CR)", id="series"),
        pytest.param({"language": "zh\x00"}, "language contains a control character", id="language"),
        pytest.param({"categories": ["党建", "\x07"]}, "categories[1] contains a control", id="category"),
        pytest.param({"description": "ok\n\x1b]0;x\x07"}, "description contains a control", id="description"),
    ],
)
def test_control_characters_are_refused_naming_the_file_and_key(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(data)
    assert str(caught.value).startswith(f"{WHERE}: {message}")


def test_a_description_keeps_lines_and_tabs_and_a_file_name_title_loses_control_characters() -> None:
    metadata = parse({"description": "一\r\n\t二"}, default_title="第12集\x1b[31m")
    assert metadata.description == "一\n\t二"
    assert metadata.title == "第12集_[31m"
