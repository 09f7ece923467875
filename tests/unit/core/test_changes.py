"""Reading operator and editor requests: every refusal names its field."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from rcmedia.core.accounts import Role, check_name, check_password
from rcmedia.core.changes import (
    UNSET,
    MetadataChange,
    clock_time_in_day,
    parse_metadata_change,
    parse_rights,
    parse_schedule_edit,
    rights_bound,
    window_rights,
)
from rcmedia.core.edits import Edit, EditKind
from rcmedia.core.models import Output, Rights
from rcmedia.core.schedule import Channel
from rcmedia.errors import AccountError, InvalidFieldError

CHENGDU = Channel(
    id="rcxf",
    xmltv_id="rcxf.rcmedia",
    name="蓉城先锋",
    number=1,
    timezone="Asia/Shanghai",
    outputs=(Output.TV, Output.IPTV),
    day_start=time(6, 0),
)


def test_a_replace_edit_with_its_arguments() -> None:
    wanted = parse_schedule_edit(
        {
            "output": "iptv",
            "date": "2026-03-03",
            "action": "replace",
            "event_start": "2026-03-03T19:00:00+08:00",
            "asset_id": 7,
        }
    )
    assert (wanted.output, wanted.day) == (Output.IPTV, date(2026, 3, 3))
    assert wanted.edit == Edit(
        kind=EditKind.REPLACE, event_start=datetime(2026, 3, 3, 11, 0, tzinfo=UTC), asset_id=7
    )


def test_an_insert_takes_z_times() -> None:
    wanted = parse_schedule_edit(
        {
            "output": "tv",
            "date": "2026-03-03",
            "action": "insert",
            "asset_id": 3,
            "to": "2026-03-03T08:00:00Z",
        }
    )
    assert wanted.edit == Edit(kind=EditKind.INSERT, asset_id=3, to=datetime(2026, 3, 3, 8, tzinfo=UTC))


BASE = {"output": "iptv", "date": "2026-03-03", "action": "delete", "event_start": "2026-03-03T08:00:00Z"}


@pytest.mark.parametrize(
    ("body", "field", "problem"),
    [
        pytest.param([], "body", "JSON object", id="not-an-object"),
        pytest.param({**BASE, "action": "swap"}, "action", "'swap' is not one of replace", id="bad-action"),
        pytest.param({k: v for k, v in BASE.items() if k != "action"}, "action", "missing", id="no-action"),
        pytest.param({**BASE, "output": "radio"}, "output", "not one of tv, iptv, mobile", id="bad-output"),
        pytest.param({**BASE, "date": "3/3/2026"}, "date", "YYYY-MM-DD", id="bad-date"),
        pytest.param({**BASE, "event_start": "2026-03-03T08:00:00"}, "event_start", "UTC offset", id="naive"),
        pytest.param({**BASE, "event_start": "tomorrow"}, "event_start", "not an ISO 8601", id="not-a-time"),
        pytest.param({**BASE, "event_start": None}, "event_start", "missing", id="null-start"),
        pytest.param({**BASE, "asset_id": 3}, "asset_id", "not used by a delete edit", id="stray-asset"),
        pytest.param({**BASE, "colour": "red"}, "colour", "unknown field", id="unknown-field"),
        pytest.param(
            {**BASE, "action": "replace", "asset_id": True}, "asset_id", "positive whole number", id="bool-id"
        ),
        pytest.param(
            {**BASE, "action": "move"}, "to", r"missing \(a move edit needs it\)", id="move-without-to"
        ),
    ],
)
def test_bad_schedule_edits_name_the_field(body: Any, field: str, problem: str) -> None:
    with pytest.raises(InvalidFieldError, match=problem) as refused:
        parse_schedule_edit(body)
    assert refused.value.field == field


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("19:00", datetime(2026, 3, 3, 11, 0, tzinfo=UTC), id="evening"),
        pytest.param("06:00", datetime(2026, 3, 2, 22, 0, tzinfo=UTC), id="day-start"),
        # the broadcast day of 3 March runs until 06:00 on the 4th: 02:00 is that night
        pytest.param("02:00:30", datetime(2026, 3, 3, 18, 0, 30, tzinfo=UTC), id="after-midnight"),
        pytest.param("2026-03-03T19:00", datetime(2026, 3, 3, 11, 0, tzinfo=UTC), id="local-date-time"),
        pytest.param("2026-03-03T11:00:00Z", datetime(2026, 3, 3, 11, 0, tzinfo=UTC), id="utc"),
    ],
)
def test_clock_times_are_read_in_the_broadcast_day(text: str, expected: datetime) -> None:
    assert clock_time_in_day(CHENGDU, date(2026, 3, 3), text) == expected


def test_a_clock_time_that_is_not_one_is_refused() -> None:
    with pytest.raises(InvalidFieldError, match=r"HH:MM"):
        clock_time_in_day(CHENGDU, date(2026, 3, 3), "25:00")


def test_a_metadata_change_keeps_what_it_does_not_name() -> None:
    change = parse_metadata_change({"title": "  第2课  ", "episode": None, "categories": ["党建", " 理论 "]})
    assert change == MetadataChange(title="第2课", episode=None, categories=("党建", "理论"))
    assert change.series is UNSET
    assert change.changed() == {"title": "第2课", "episode": None, "categories": ("党建", "理论")}
    assert parse_metadata_change({"series": ""}).changed() == {"series": None}


@pytest.mark.parametrize(
    ("body", "field", "problem"),
    [
        pytest.param({}, "body", "nothing to change", id="empty"),
        pytest.param({"title": " "}, "title", "must not be empty", id="blank-title"),
        pytest.param({"title": None}, "title", "must be text", id="null-title"),
        pytest.param({"title": "x" * 501}, "title", "at most 500", id="long-title"),
        pytest.param({"episode": -1}, "episode", "whole number", id="negative-episode"),
        pytest.param({"episode": 1.5}, "episode", "whole number", id="fractional-episode"),
        pytest.param({"categories": "党建"}, "categories", "list of text", id="categories-not-a-list"),
        pytest.param({"categories": ["a", 3]}, "categories[1]", "must be text", id="category-not-text"),
        pytest.param({"status": "withdrawn"}, "status", "POST /api/v1/assets/{id}/withdraw", id="status"),
        pytest.param({"rights": []}, "rights", "PUT /api/v1/assets/{id}/rights", id="rights"),
        pytest.param({"source": "own"}, "source", "cannot be changed", id="not-editable"),
    ],
)
def test_bad_metadata_changes_name_the_field(body: Any, field: str, problem: str) -> None:
    with pytest.raises(InvalidFieldError, match=problem) as refused:
        parse_metadata_change(body)
    assert refused.value.field == field


def test_rights_windows() -> None:
    rights = parse_rights(
        [
            {"output": "tv"},
            {"output": "iptv", "start": "2026-03-01T00:00:00+08:00", "end": None},
            {"output": "iptv", "start": "2026-04-01T00:00:00Z", "end": "2026-05-01T00:00:00Z"},
        ]
    )
    assert rights == (
        Rights(output=Output.TV),
        Rights(output=Output.IPTV, start=datetime(2026, 2, 28, 16, tzinfo=UTC)),
        Rights(
            output=Output.IPTV, start=datetime(2026, 4, 1, tzinfo=UTC), end=datetime(2026, 5, 1, tzinfo=UTC)
        ),
    )
    assert parse_rights([]) == ()


@pytest.mark.parametrize(
    ("body", "field", "problem"),
    [
        pytest.param({"output": "tv"}, "rights", "JSON list", id="not-a-list"),
        pytest.param([{"start": None}], "rights[0].output", "missing", id="no-output"),
        pytest.param([{"output": "tv"}, {"output": "fm"}], "rights[1].output", "not one of", id="bad-output"),
        pytest.param([{"output": "tv", "until": None}], "rights[0].until", "unknown field", id="unknown-key"),
        pytest.param(
            [{"output": "tv", "start": "2026-03-02T00:00:00Z", "end": "2026-03-01T00:00:00Z"}],
            "rights[0].end",
            "after start",
            id="end-before-start",
        ),
        pytest.param(
            [{"output": "tv", "start": "2026-03-02"}], "rights[0].start", "UTC offset", id="no-offset"
        ),
    ],
)
def test_bad_rights_name_the_field(body: Any, field: str, problem: str) -> None:
    with pytest.raises(InvalidFieldError, match=problem) as refused:
        parse_rights(body)
    assert refused.value.field == field


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("0001-01-01T00:00:00+14:00", id="before-year-1-in-utc"),  # astimezone overflows
        pytest.param("9999-12-31T23:59:59-14:00", id="after-year-9999-in-utc"),
        pytest.param("1969-12-31T23:59:59Z", id="before-the-epoch"),
        pytest.param("9999-12-31T00:00:00Z", id="too-close-to-datetime-max"),
    ],
)
def test_instants_out_of_range_name_the_field(text: str) -> None:
    with pytest.raises(InvalidFieldError, match="from 1970-01-01 to 9999-12-30") as refused:
        parse_rights([{"output": "tv", "end": text}])
    assert refused.value.field == "rights[0].end"
    with pytest.raises(InvalidFieldError, match="out of range"):
        rights_bound(text, "--from", ZoneInfo("Asia/Shanghai"))


def test_instants_at_the_ends_of_the_range_are_taken() -> None:
    (first, last) = parse_rights(
        [
            {"output": "tv", "start": "1970-01-01T08:00:00+08:00"},
            {"output": "iptv", "end": "9999-12-30T00:00:00Z"},
        ]
    )
    assert first.start == datetime(1970, 1, 1, tzinfo=UTC)
    assert last.end == datetime(9999, 12, 30, tzinfo=UTC)


def test_window_rights_replace_one_output_only() -> None:
    current = (Rights(output=Output.TV), Rights(output=Output.IPTV), Rights(output=Output.MOBILE))
    start = datetime(2026, 3, 1, tzinfo=UTC)
    assert window_rights(current, Output.IPTV, start=start, end=None, allowed=True) == (
        Rights(output=Output.TV),
        Rights(output=Output.MOBILE),
        Rights(output=Output.IPTV, start=start),
    )
    assert window_rights(current, Output.TV, start=None, end=None, allowed=False) == current[1:]
    with pytest.raises(InvalidFieldError, match="after"):
        window_rights(current, Output.TV, start=start, end=start - timedelta(days=1), allowed=True)


def test_rights_bounds_without_offset_are_in_the_given_zone() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    assert rights_bound("2026-03-01", "--from", shanghai) == datetime(2026, 2, 28, 16, tzinfo=UTC)
    assert rights_bound("2026-03-01T12:00Z", "--from", shanghai) == datetime(2026, 3, 1, 12, tzinfo=UTC)
    with pytest.raises(InvalidFieldError, match="--until"):
        rights_bound("soon", "--until", shanghai)


@pytest.mark.parametrize(
    ("role", "needed", "allowed"),
    [
        pytest.param(Role.ADMIN, Role.OPERATOR, True, id="admin-operates"),
        pytest.param(Role.ADMIN, Role.EDITOR, True, id="admin-edits"),
        pytest.param(Role.OPERATOR, Role.OPERATOR, True, id="operator-operates"),
        pytest.param(Role.OPERATOR, Role.EDITOR, False, id="operator-does-not-edit"),
        pytest.param(Role.EDITOR, Role.EDITOR, True, id="editor-edits"),
        pytest.param(Role.EDITOR, Role.OPERATOR, False, id="editor-does-not-operate"),
        pytest.param(Role.EDITOR, Role.ADMIN, False, id="editor-is-no-admin"),
    ],
)
def test_roles(role: Role, needed: Role, allowed: bool) -> None:
    assert role.allows(needed) is allowed


def test_account_names_and_passwords() -> None:
    assert check_name("  王老师 ") == "王老师"
    for bad in ("", "two words", "x" * 65, "tab\there"):
        with pytest.raises(AccountError):
            check_name(bad)
    check_password("12345678")
    with pytest.raises(AccountError, match="at least 8"):
        check_password("1234567")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"title": "课\x1b[31m红"}, "title", id="esc-in-title"),
        pytest.param({"title": "two\nlines"}, "title", id="newline-in-title"),
        pytest.param({"series": "ding\x07"}, "series", id="bel-in-series"),
        pytest.param({"categories": ["ok", "nul\x00"]}, "categories[1]", id="nul-in-category"),
        pytest.param({"description": "ok\n\x1b[2J"}, "description", id="esc-in-description"),
    ],
)
def test_control_characters_are_refused_naming_the_field(body: Any, field: str) -> None:
    with pytest.raises(InvalidFieldError) as caught:
        parse_metadata_change(body)
    assert caught.value.field == field
    assert "control character" in caught.value.problem


def test_a_description_keeps_its_lines_and_tabs() -> None:
    change = parse_metadata_change({"description": "第一段\r\n\r\n\t第二段\n"})
    assert change.description == "第一段\n\n\t第二段"


def test_account_names_refuse_control_characters_naming_them() -> None:
    with pytest.raises(AccountError, match=r"U\+001B ESC"):
        check_name("ad\x1b[31mmin")
