"""Channel files: the shipped grids, every validation error with its key and line, and a round trip."""

from __future__ import annotations

import json
from datetime import date, time, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rcmedia.core.grid_file import GridError, parse_channel_file, validate_channels
from rcmedia.core.models import Output, Source
from rcmedia.core.schedule import (
    WEEKDAYS,
    Block,
    Channel,
    EpisodePolicy,
    FixedSlot,
    Grid,
    GuideFiller,
    OverrunPolicy,
    Pool,
    Recurrence,
)
from rcmedia.errors import ConfigError

PLAYLISTS = Path(__file__).resolve().parents[3] / "playlists"
RCXF_PROGRAMMES = {
    *("党建视讯", "峥嵘岁月", "新视野", "理论1+1", "我身边的党员", "先锋党课", "基层风采"),
    *("学习时间", "榜样力量", "红色记忆", "时代楷模", "政策解读", "廉政之窗", "锦城新貌"),
}
NATIONAL = {"共产党员", "天府先锋"}

# six lines: [channel] is line 1, outputs line 6; what a case appends starts at line 7
BASE = """\
[channel]
id = "test"
name = "测试频道"
number = 9
timezone = "Asia/Shanghai"
outputs = ["iptv"]
"""


def load(name: str, known_series: frozenset[str] | None = None) -> Channel:
    path = PLAYLISTS / name
    return parse_channel_file(path.read_text(encoding="utf-8"), filename=name, known_series=known_series)


def fails(text: str, known_series: frozenset[str] | None = None) -> GridError:
    with pytest.raises(GridError) as caught:
        parse_channel_file(text, filename="bad.toml", known_series=known_series)
    return caught.value


def slot(lines: str, slot_id: str = "a", start: str = "19:30") -> str:
    return f'[[slot]]\nid = "{slot_id}"\nstart = "{start}"\nseries = "党建视讯"\n{lines}'


# -- the shipped channels -------------------------------------------------------------------


def test_rcxf_channel_facts() -> None:
    channel = load("rcxf.toml")
    assert (channel.id, channel.xmltv_id, channel.name, channel.number) == (
        "rcxf",
        "rcxf.rcmedia",
        "蓉城先锋",
        1,
    )
    assert channel.timezone == "Asia/Shanghai"
    assert channel.outputs == (Output.TV, Output.IPTV, Output.MOBILE)
    assert channel.catchup_days == 7
    assert channel.day_start == time(6, 0)
    assert channel.grid.filler.categories == ("宣传片", "公益")
    assert channel.grid.idents == Pool(series=("台标",))
    assert channel.grid.slate_series == "slate"


def test_rcxf_has_fourteen_programmes_and_the_national_shows() -> None:
    grid = load("rcxf.toml").grid
    series = {slot.series for slot in grid.slots}
    assert series - NATIONAL == RCXF_PROGRAMMES
    assert len(RCXF_PROGRAMMES) == 14
    assert series >= NATIONAL
    policies = {slot.policy for slot in grid.slots}
    assert policies == set(EpisodePolicy)
    assert any(block.pool.categories for block in grid.blocks)


@pytest.mark.parametrize("series", sorted(NATIONAL))
def test_rcxf_reruns_national_shows_tuesday_and_wednesday_at_prime_time(series: str) -> None:
    reruns = [
        s for s in load("rcxf.toml").grid.slots if s.series == series and s.policy is EpisodePolicy.RERUN
    ]
    assert len(reruns) == 1
    assert reruns[0].recurrence.weekdays == {WEEKDAYS.index("tue"), WEEKDAYS.index("wed")}
    assert time(19, 30) <= reruns[0].start <= time(21, 30)


def test_second_channel_is_smaller_and_on_fewer_outputs() -> None:
    channel = load("rcjy.toml")
    assert (channel.id, channel.number, channel.catchup_days) == ("rcjy", 2, 3)
    assert channel.outputs == (Output.IPTV, Output.MOBILE)
    assert 3 <= len(channel.grid.slots) <= 4
    assert len(channel.grid.blocks) == 1


@pytest.mark.parametrize("name", ["rcxf.toml", "rcjy.toml"])
def test_shipped_fixed_slots_never_overlap(name: str) -> None:
    """Checked independently of the parser: every date of a fortnight, slots in start order."""
    slots = load(name).grid.slots
    for day in (date(2027, 3, 1) + timedelta(days=n) for n in range(14)):
        today = sorted((s for s in slots if s.recurrence.occurs(day)), key=lambda s: s.start)
        starts = [s.start.hour * 3600 + s.start.minute * 60 for s in today]
        for here, (current, next_start) in enumerate(zip(today, [*starts[1:], 86_400], strict=True)):
            assert current.max_duration is not None
            assert starts[here] + current.max_duration <= next_start, (day, current.id)


def test_shipped_channels_are_valid_together() -> None:
    validate_channels([(name, load(name)) for name in ("rcxf.toml", "rcjy.toml")])


def test_shipped_series_checked_against_the_catalog() -> None:
    channel = load("rcxf.toml")
    grid = channel.grid
    known = {s.series for s in grid.slots} | {n for b in grid.blocks for n in b.pool.series} | {"台标"}
    assert load("rcxf.toml", known_series=frozenset(known)) == channel
    with pytest.raises(GridError) as caught:
        load("rcxf.toml", known_series=frozenset(known - {"锦城新貌"}))
    index = next(i for i, s in enumerate(grid.slots, start=1) if s.series == "锦城新貌")
    text = (PLAYLISTS / "rcxf.toml").read_text(encoding="utf-8").splitlines()
    assert (caught.value.where, caught.value.line) == (
        f"slot[{index}].series",
        text.index('series = "锦城新貌"') + 1,
    )
    error = caught.value
    assert "unknown series '锦城新貌' (no published asset has it)" in str(error)


def test_readme_example_parses() -> None:
    readme = (PLAYLISTS / "README.md").read_text(encoding="utf-8")
    example = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    channel = parse_channel_file(example, filename="README.md")
    assert channel.logo == "https://example.org/rcxf.png"
    assert channel.grid.slots[0].policy is EpisodePolicy.RERUN
    assert channel.grid.slots[0].recurrence.except_dates == {date(2026, 10, 1)}


# -- defaults and error shape ---------------------------------------------------------------


def test_defaults() -> None:
    channel = parse_channel_file(BASE, filename="min.toml")
    assert channel.xmltv_id == "test.rcmedia"
    assert channel.catchup_days == 7
    assert channel.day_start == time(6, 0)
    assert (channel.logo, channel.group, channel.description) == ("", "", "")
    assert (channel.interlude_title, channel.guide_filler) == ("精彩节目", GuideFiller.FOLD)
    assert channel.grid == Grid()


def test_guide_keys() -> None:
    text = BASE + 'interlude_title = "Back soon"\nguide_filler = "list"\n'
    channel = parse_channel_file(text, filename="guide.toml")
    assert (channel.interlude_title, channel.guide_filler) == ("Back soon", GuideFiller.LIST)


def test_continuous_outputs() -> None:
    assert parse_channel_file(BASE, filename="min.toml").continuous_outputs == frozenset()
    text = BASE + 'continuous_outputs = ["iptv"]\n'
    assert parse_channel_file(text, filename="c.toml").continuous_outputs == {Output.IPTV}


def test_slot_defaults_and_block_past_midnight() -> None:
    text = BASE + slot("") + '[[block]]\nid = "night"\nstart = "23:00"\nend = "05:00"\n'
    grid = parse_channel_file(text, filename="x.toml").grid
    assert grid.slots == (FixedSlot(id="a", start=time(19, 30), recurrence=Recurrence(), series="党建视讯"),)
    assert grid.blocks == (
        Block(id="night", start=time(23), end=time(5), recurrence=Recurrence(), pool=Pool()),
    )


def test_byte_order_mark_is_ignored() -> None:
    assert parse_channel_file("\ufeff" + BASE, filename="x.toml").id == "test"


def test_error_message_names_file_line_key_and_problem() -> None:
    error = fails(BASE.replace('"Asia/Shanghai"', '"Asia/Chengdu"'))
    assert isinstance(error, ConfigError)
    assert isinstance(error, ValueError)
    assert (error.filename, error.line, error.where) == ("bad.toml", 5, "channel.timezone")
    assert str(error) == (
        "bad.toml:5: channel.timezone: 'Asia/Chengdu' is not an IANA time zone (e.g. 'Asia/Shanghai')"
    )
    assert str(GridError("a.toml", "channel.id", "taken")) == "a.toml: channel.id: taken"


def test_control_characters_are_refused_naming_file_line_and_key() -> None:
    error = fails(BASE.replace('"测试频道"', '"测试\\u001b[31m频道"'))
    assert (error.filename, error.line, error.where) == ("bad.toml", 3, "channel.name")
    assert "control character (U+001B ESC)" in error.problem

    error = fails(BASE + 'group = "a\\nb"\n')
    assert (error.where, error.line) == ("channel.group", 7)
    error = fails(BASE + '[filler]\ncategories = ["ok", "bell\\u0007"]\n')
    assert error.where == "filler.categories"
    assert "item 2 contains a control character (U+0007 BEL)" in error.problem

    multi = parse_channel_file(BASE + 'description = """第一段\r\n\t第二段"""\n', filename="x.toml")
    assert multi.description == "第一段\n\t第二段"


# -- every validation error: (text, where, line, part of the problem) -----------------------

ERRORS = [
    # syntax (tomllib's position)
    pytest.param(BASE + "catchup_days = \n", "syntax", 7, "invalid value at column", id="syntax-line"),
    pytest.param(BASE + 'logo = ["a",\n', "syntax", 7, "at the end of the file", id="syntax-at-end"),
    pytest.param(BASE + 'name = "again"\n', "syntax", 7, "cannot overwrite", id="syntax-duplicate-key"),
    # top level
    pytest.param('slate_series = "slate"\n', "channel", None, "missing the [channel]", id="no-channel"),
    pytest.param("channel = 5\n", "channel", 1, "must be a table", id="channel-not-table"),
    pytest.param(BASE + "[extras]\nx = 1\n", "extras", 7, "unknown key", id="unknown-table"),
    pytest.param(BASE + '[slot]\nid = "a"\n', "slot", 7, "write [[slot]]", id="slot-not-array"),
    pytest.param(
        BASE + '[idents]\nseries = ["台标"]\nslate_series = "s"\n',
        "idents.slate_series",
        9,
        "top-level keys go before the first [table]",
        id="top-level-key-after-table",
    ),
    pytest.param('slate_series = ""\n' + BASE, "slate_series", 1, "must not be empty", id="slate-empty"),
    # [channel]
    pytest.param(BASE + 'colour = "red"\n', "channel.colour", 7, "unknown key", id="channel-unknown-key"),
    pytest.param(BASE.replace('"test"', '"Test_1"'), "channel.id", 2, "not a valid id", id="bad-slug"),
    pytest.param(BASE.replace('id = "test"\n', ""), "channel.id", 1, "missing", id="missing-id"),
    pytest.param(
        BASE.replace('name = "测试频道"', 'name = " "'), "channel.name", 3, "empty", id="blank-name"
    ),
    pytest.param(
        BASE.replace("number = 9", 'number = "9"'), "channel.number", 4, "whole number", id="num-text"
    ),
    pytest.param(
        BASE.replace("number = 9", "number = true"), "channel.number", 4, "whole number", id="num-bool"
    ),
    pytest.param(BASE.replace("number = 9", "number = 0"), "channel.number", 4, "at least 1", id="num-zero"),
    pytest.param(BASE.replace("number = 9\n", ""), "channel.number", 1, "missing", id="num-missing"),
    pytest.param(
        BASE + 'xmltv_id = "test"\n', "channel.xmltv_id", 7, "must contain a dot", id="xmltv-no-dot"
    ),
    pytest.param(BASE.replace("Asia/Shanghai", "Mars/Olympus"), "channel.timezone", 5, "IANA", id="bad-zone"),
    pytest.param(
        BASE.replace("Asia/Shanghai", "localtime"), "channel.timezone", 5, "IANA", id="zone-localtime"
    ),
    pytest.param(BASE.replace("Asia/Shanghai", "../etc"), "channel.timezone", 5, "IANA", id="zone-path"),
    pytest.param(BASE.replace('["iptv"]', '["radio"]'), "channel.outputs", 6, "'radio'", id="bad-output"),
    pytest.param(
        BASE.replace('["iptv"]', '["tv", "tv"]'), "channel.outputs", 6, "repeated", id="output-twice"
    ),
    pytest.param(BASE.replace('["iptv"]', "[]"), "channel.outputs", 6, "empty", id="no-outputs"),
    pytest.param(BASE.replace('["iptv"]', '"iptv"'), "channel.outputs", 6, "list of", id="outputs-not-list"),
    pytest.param(
        BASE + "catchup_days = 31\n", "channel.catchup_days", 7, "between 0 and 30", id="catchup-31"
    ),
    pytest.param(
        BASE + "catchup_days = -1\n", "channel.catchup_days", 7, "between 0 and 30", id="catchup-neg"
    ),
    pytest.param(BASE + 'day_start = "6:00"\n', "channel.day_start", 7, "HH:MM", id="day-start-form"),
    pytest.param(
        BASE + "day_start = 06:00:00\n", "channel.day_start", 7, 'as text, e.g. "06:00"', id="toml-time"
    ),
    pytest.param(BASE + "logo = 5\n", "channel.logo", 7, "must be text", id="logo-not-text"),
    pytest.param(
        BASE + 'interlude_title = " "\n',
        "channel.interlude_title",
        7,
        "must not be empty",
        id="interlude-blank",
    ),
    pytest.param(
        BASE + "interlude_title = 3\n", "channel.interlude_title", 7, "must be text", id="interlude-not-text"
    ),
    pytest.param(
        BASE + 'continuous_outputs = ["tv"]\n',
        "channel.continuous_outputs",
        7,
        "'tv' is not one of the channel's outputs (iptv)",
        id="continuous-output-not-on-the-channel",
    ),
    pytest.param(
        BASE + 'guide_filler = "hide"\n',
        "channel.guide_filler",
        7,
        "use one of: fold, list",
        id="guide-filler",
    ),
    # pools
    pytest.param(
        BASE + '[filler]\nsources = ["bbc"]\n', "filler.sources", 8, "unknown source", id="bad-source"
    ),
    pytest.param(
        BASE + "[filler]\nmax_duration = 0\n", "filler.max_duration", 8, "greater than 0", id="zero-max"
    ),
    pytest.param(BASE + "[filler]\nmax_duration = nan\n", "filler.max_duration", 8, "a number", id="nan"),
    pytest.param(
        BASE + "[filler]\nno_repeat_hours = -1\n", "filler.no_repeat_hours", 8, "at least 0", id="neg-h"
    ),
    pytest.param(
        BASE + '[filler]\ncategories = [""]\n', "filler.categories", 8, "non-empty", id="empty-category"
    ),
    pytest.param(BASE + '[filler]\nseries = "台标"\n', "filler.series", 8, "list of", id="series-not-list"),
    pytest.param(BASE + "[idents]\n", "idents", 7, "at least one of", id="idents-empty"),
    pytest.param(BASE + "[filler]\nkind = 1\n", "filler.kind", 8, "unknown key", id="filler-unknown-key"),
    # [[slot]]: each case's first slot starts at line 7 (id 8, start 9, series 10, then its own lines)
    pytest.param(BASE + slot("colour = 1\n"), "slot[1].colour", 11, "unknown key", id="slot-unknown-key"),
    pytest.param(BASE + '[[slot]]\nid = "a"\nseries = "x"\n', "slot[1].start", 7, "missing", id="no-start"),
    pytest.param(
        BASE + '[[slot]]\nid = "a"\nstart = "19:30"\n', "slot[1].series", 7, "missing", id="no-series"
    ),
    pytest.param(BASE + slot("", slot_id="A b"), "slot[1].id", 8, "not a valid id", id="slot-bad-id"),
    pytest.param(BASE + slot("", start="24:00"), "slot[1].start", 9, "00:00–23:59", id="start-24"),
    pytest.param(BASE + slot("", start="19:60"), "slot[1].start", 9, "HH:MM", id="start-minute-60"),
    pytest.param(BASE + slot('days = ["tues"]\n'), "slot[1].days", 11, "unknown day 'tues'", id="bad-day"),
    pytest.param(BASE + slot("days = []\n"), "slot[1].days", 11, "at least one day", id="no-days"),
    pytest.param(
        BASE + slot("from = 2026-05-01\nuntil = 2026-04-30\n"),
        "slot[1].until",
        12,
        "until (2026-04-30) is before from (2026-05-01)",
        id="from-after-until",
    ),
    pytest.param(
        BASE + slot('from = "2026-05-01"\n'), "slot[1].from", 11, "without quotes", id="quoted-date"
    ),
    pytest.param(
        BASE + slot("until = 2026-05-01T10:00:00\n"),
        "slot[1].until",
        11,
        "got 2026-05-01T10:00:00",
        id="datetime",
    ),
    pytest.param(
        BASE + slot("except = 2026-05-01\n"),
        "slot[1].except",
        11,
        "list of dates, e.g. [2026-10-01], got 2026-05-01",
        id="except-date",
    ),
    pytest.param(BASE + slot('except = ["x"]\n'), "slot[1].except", 11, "without quotes", id="except-text"),
    pytest.param(
        BASE + slot('days = ["mon"]\nfrom = 2026-05-05\nuntil = 2026-05-10\n'),
        "slot[1]",
        7,
        "never occurs",
        id="never-occurs",
    ),
    pytest.param(
        BASE + slot('days = ["mon"]\nfrom = 2026-05-04\nuntil = 2026-05-10\nexcept = [2026-05-04]\n'),
        "slot[1]",
        7,
        "never occurs",
        id="never-occurs-excepted",
    ),
    pytest.param(
        BASE + slot('policy = "repeat"\n'), "slot[1].policy", 11, "unknown policy 'repeat'", id="policy"
    ),
    pytest.param(BASE + slot('overrun = "extend"\n'), "slot[1].overrun", 11, "unknown overrun", id="overrun"),
    pytest.param(
        BASE + slot("rerun_after_hours = 24\n"),
        "slot[1].rerun_after_hours",
        11,
        'only applies to policy = "rerun"',
        id="rerun-hours-without-rerun",
    ),
    pytest.param(
        BASE + slot('policy = "rerun"\nno_repeat_hours = 24\n'),
        "slot[1].no_repeat_hours",
        12,
        'only applies to policy = "least_recent"',
        id="no-repeat-without-least-recent",
    ),
    pytest.param(
        BASE + slot('policy = "rerun"\nrerun_after_hours = -2\n'),
        "slot[1].rerun_after_hours",
        12,
        "at least 0",
        id="negative-rerun-hours",
    ),
    pytest.param(
        BASE + slot("max_duration = 90000\n"),
        "slot[1].max_duration",
        11,
        "a slot longer than a day",
        id="longer-than-a-day",
    ),
    pytest.param(
        BASE + slot("series = 5\n").replace('series = "党建视讯"\n', ""),
        "slot[1].series",
        10,
        "text",
        id="series-int",
    ),
    pytest.param(
        BASE + slot("", "a") + slot("", "a", "21:00"),
        "slot[2].id",
        12,
        "duplicate id 'a' (also slot[1], line 8)",
        id="duplicate-slot-id",
    ),
    pytest.param(
        BASE + slot("", "a") + '[[block]]\nid = "a"\nstart = "13:00"\nend = "14:00"\n',
        "block[1].id",
        12,
        "duplicate id 'a' (also slot[1], line 8)",
        id="block-id-equals-slot-id",
    ),
    pytest.param(
        BASE + slot("", "a") + slot("", "b"),
        "slot[2].start",
        13,
        "overlaps slot 'a' (slot[1], line 9): both start at 19:30 on mon",
        id="overlap-same-start",
    ),
    pytest.param(
        BASE + slot('days = ["mon", "tue"]\n', "a") + slot('days = ["tue"]\n', "b"),
        "slot[2].start",
        14,
        "both start at 19:30 on tue",
        id="overlap-shared-weekday",
    ),
    pytest.param(
        BASE + slot("max_duration = 3600\n", "a") + slot("", "b", "20:00"),
        "slot[2].start",
        14,
        "'a' may run 19:30–20:30 on mon (max_duration 3600 s), past 'b' at 20:00 on mon",
        id="overlap-max-duration",
    ),
    pytest.param(
        BASE + slot("", "a", "20:00") + slot("max_duration = 3600\n", "b"),
        "slot[2].start",
        13,
        "'b' may run 19:30–20:30",
        id="overlap-later-slot-reaches-earlier",
    ),
    pytest.param(
        BASE
        + slot('days = ["mon"]\nmax_duration = 7200\n', "late", "23:30")
        + slot('days = ["mon"]\n', "early", "00:30"),
        "slot[2].start",
        15,
        "'late' may run 23:30–01:30 on mon (max_duration 7200 s), past 'early' at 00:30 on mon",
        id="overlap-past-midnight-same-broadcast-day",
    ),
    pytest.param(
        BASE.replace("[channel]", '[channel]\nday_start = "00:00"')
        + slot('days = ["mon"]\nmax_duration = 7200\n', "late", "23:30")
        + slot('days = ["tue"]\n', "early", "00:30"),
        "slot[2].start",
        16,
        "'late' may run 23:30–01:30 on mon (max_duration 7200 s), past 'early' at 00:30 on tue",
        id="overlap-past-midnight-next-day",
    ),
    pytest.param(
        BASE
        + slot('days = ["mon"]\nmax_duration = 3600\n', "night", "05:30")
        + slot('days = ["tue"]\n', "morning", "06:00"),
        "slot[2].start",
        15,
        "'night' may run 05:30–06:30 on mon (max_duration 3600 s), past 'morning' at 06:00 on tue",
        id="overlap-past-day-start",
    ),
    pytest.param(
        BASE + slot("from = 2026-01-01\nuntil = 2026-06-30\n", "a") + slot("from = 2026-06-30\n", "b"),
        "slot[2].start",
        15,
        "both start at 19:30",
        id="overlap-ranges-share-one-day",
    ),
    pytest.param(
        BASE + slot("", "a") + slot("", "b") + "# comment [[slot]]\n",
        "slot[2].start",
        13,
        "both start",
        id="overlap-comment-is-not-a-table",
    ),
    # [[block]]
    pytest.param(
        BASE + '[[block]]\nid = "b"\nstart = "13:00"\nend = "13:00"\n',
        "block[1].end",
        10,
        "equals start (13:00)",
        id="block-empty",
    ),
    pytest.param(
        BASE + '[[block]]\nid = "b"\nstart = "13:00"\n', "block[1].end", 7, "missing", id="block-no-end"
    ),
    pytest.param(
        BASE + '[[block]]\nid = "b"\nstart = "13:00"\nend = "14:00"\npolicy = "rerun"\n',
        "block[1].policy",
        11,
        "unknown key",
        id="block-policy",
    ),
    pytest.param(
        BASE + '[[block]]\nid = "b"\nstart = "13:00"\nend = "14:00"\ndays = ["xx"]\n',
        "block[1].days",
        11,
        "unknown day",
        id="block-bad-day",
    ),
]


@pytest.mark.parametrize(("text", "where", "line", "problem"), ERRORS)
def test_validation_error(text: str, where: str, line: int | None, problem: str) -> None:
    error = fails(text)
    assert (error.where, error.line) == (where, line), str(error)
    assert problem.lower() in error.problem.lower()
    assert str(error).startswith(f"bad.toml:{line}: {where}: " if line else f"bad.toml: {where}: ")


@pytest.mark.parametrize(
    ("extra", "where", "line"),
    [
        pytest.param(slot(""), "slot[1].series", 10, id="slot"),
        pytest.param('[filler]\nseries = ["台标", "旧台标"]\n', "filler.series", 8, id="filler"),
        pytest.param('[idents]\nseries = ["旧台标"]\n', "idents.series", 8, id="idents"),
        pytest.param(
            '[[block]]\nid = "b"\nstart = "13:00"\nend = "14:00"\nseries = ["旧"]\n',
            "block[1].series",
            11,
            id="block",
        ),
    ],
)
def test_unknown_series(extra: str, where: str, line: int) -> None:
    error = fails(BASE + extra, known_series=frozenset({"台标"}))
    assert (error.where, error.line) == (where, line)
    assert "(no published asset has it)" in error.problem
    parse_channel_file(BASE + extra, filename="ok.toml")  # without a catalog, not checked


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param(slot('days = ["mon"]\n', "a") + slot('days = ["tue"]\n', "b"), id="other-weekdays"),
        pytest.param(
            slot("until = 2026-06-29\n", "a") + slot("from = 2026-06-30\n", "b"), id="disjoint-date-ranges"
        ),
        pytest.param(
            slot("from = 2026-06-01\nuntil = 2026-06-10\nexcept = [2026-06-10]\n", "a")
            + slot("from = 2026-06-10\n", "b"),
            id="shared-day-excepted",
        ),
        pytest.param(slot("max_duration = 1800\n", "a") + slot("", "b", "20:00"), id="ends-as-next-starts"),
        pytest.param(slot("", "a", "19:00") + slot("", "b", "19:01"), id="no-max-duration-different-start"),
        pytest.param(
            slot('days = ["mon"]\nmax_duration = 7200\n', "a", "23:30")
            + slot('days = ["wed"]\n', "b", "00:30"),
            id="past-midnight-next-day-free",
        ),
        pytest.param(
            slot('days = ["mon"]\nmax_duration = 7200\n', "a", "23:30")
            + slot('days = ["tue"]\n', "b", "00:30"),
            id="after-midnight-belongs-to-the-broadcast-day-before",
        ),
    ],
)
def test_slots_that_do_not_overlap(extra: str) -> None:
    assert len(parse_channel_file(BASE + extra, filename="ok.toml").grid.slots) == 2


def test_lines_survive_multiline_values_strings_and_comments() -> None:
    text = (
        BASE
        + 'description = """\n[[slot]]\nstart = "x"\n"""\n'  # 7–10: a string that looks like a table
        + 'logo = "https://x/#[a]"  # [[slot]]\n'  # 11
        + '[[slot]]\nid = "a"\nstart = "19:30"\nseries = "党建视讯"\n'  # 12–15
        + 'days = [\n  "mon",\n  "tue", # [x]\n]\n'  # 16–19
        + '[[slot]]\nid = "b"\n"start" = "25:00"\nseries = "x"\n'  # 20–23
    )
    error = fails(text)
    assert (error.where, error.line) == ("slot[2].start", 22)


# -- across files ---------------------------------------------------------------------------


def channel(ident: str, number: int, xmltv_id: str | None = None) -> Channel:
    return Channel(
        id=ident,
        xmltv_id=xmltv_id or f"{ident}.rcmedia",
        name=ident,
        number=number,
        timezone="Asia/Shanghai",
        outputs=(Output.IPTV,),
    )


@pytest.mark.parametrize(
    ("second", "where", "problem"),
    [
        pytest.param(channel("a", 2, "b.rcmedia"), "channel.id", "'a' is already used by a.toml", id="id"),
        pytest.param(channel("b", 1), "channel.number", "1 is already used by a.toml", id="number"),
        pytest.param(
            channel("b", 2, "a.rcmedia"), "channel.xmltv_id", "'a.rcmedia' is already used", id="xmltv"
        ),
    ],
)
def test_validate_channels_refuses_duplicates(second: Channel, where: str, problem: str) -> None:
    with pytest.raises(GridError) as caught:
        validate_channels([("a.toml", channel("a", 1)), ("b.toml", second)])
    assert (caught.value.filename, caught.value.where, caught.value.line) == ("b.toml", where, None)
    assert problem in caught.value.problem


def test_validate_channels_accepts_distinct_channels() -> None:
    validate_channels([("a.toml", channel("a", 1)), ("b.toml", channel("b", 2))])


# -- round trip: any valid grid, rendered to TOML, parses back to itself --------------------

# TOML-significant characters, CJK, a full-width space and an emoji: enough to test quoting
words = st.text(st.sampled_from("党建视讯先锋 aZ09-_.\"\\'#[]={},\u3000é😀"), min_size=1, max_size=8).filter(
    str.strip
)
slugs = st.text(st.sampled_from("abcz019-"), min_size=1, max_size=10)
hours = st.floats(min_value=0, max_value=1000, allow_nan=False, allow_infinity=False)
days = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))


@st.composite
def recurrences(draw: st.DrawFn) -> Recurrence:
    weekdays = draw(st.frozensets(st.integers(0, 6), min_size=1))
    start = draw(st.none() | days)
    end = draw(st.none() | st.integers(7, 400).map(lambda n: (start or date(2020, 1, 1)) + timedelta(days=n)))
    excepts = draw(st.frozensets(days, max_size=3))
    recurrence = Recurrence(weekdays=weekdays, start_date=start, end_date=end, except_dates=excepts)
    if start and end:  # make sure it occurs at least once
        span = range((end - start).days + 1)
        if not any(recurrence.occurs(start + timedelta(days=n)) for n in span):
            recurrence = Recurrence(weekdays=weekdays, start_date=start, end_date=end)
    return recurrence


@st.composite
def pools(draw: st.DrawFn) -> Pool:
    return Pool(
        series=tuple(draw(st.lists(words, max_size=3))),
        categories=tuple(draw(st.lists(words, max_size=3))),
        sources=tuple(draw(st.lists(st.sampled_from(Source), max_size=2))),
        max_duration=draw(st.none() | st.floats(min_value=1, max_value=7200)),
        no_repeat_hours=draw(hours),
    )


@st.composite
def slot_lists(draw: st.DrawFn, ids: list[str]) -> tuple[FixedSlot, ...]:
    """Distinct starts; a max_duration never reaches the next start nor midnight, so any days are valid."""
    minutes = sorted(draw(st.sets(st.integers(0, 1439), min_size=len(ids), max_size=len(ids))))
    slots = []
    ends = [*minutes[1:], 1440][: len(minutes)]
    for ident, minute, next_minute in zip(ids, minutes, ends, strict=True):
        policy = draw(st.sampled_from(EpisodePolicy))
        slots.append(
            FixedSlot(
                id=ident,
                start=time(minute // 60, minute % 60),
                recurrence=draw(recurrences()),
                series=draw(words),
                policy=policy,
                rerun_after_hours=draw(hours) if policy is EpisodePolicy.RERUN else 0.0,
                no_repeat_hours=draw(hours) if policy is EpisodePolicy.LEAST_RECENT else 0.0,
                overrun=draw(st.sampled_from(OverrunPolicy)),
                max_duration=draw(st.none() | st.floats(min_value=1, max_value=(next_minute - minute) * 60)),
            )
        )
    return tuple(slots)


clock_times = st.builds(time, st.integers(0, 23), st.integers(0, 59))


@st.composite
def channels(draw: st.DrawFn) -> Channel:
    ids = draw(st.lists(slugs, unique=True, max_size=8))
    cut = draw(st.integers(0, len(ids)))
    blocks = []
    for block_id in ids[cut:]:
        start, end = draw(st.tuples(clock_times, clock_times).filter(lambda ends: ends[0] != ends[1]))
        blocks.append(
            Block(id=block_id, start=start, end=end, recurrence=draw(recurrences()), pool=draw(pools()))
        )
    ident = draw(slugs)
    return Channel(
        id=ident,
        xmltv_id=f"{ident}.{draw(slugs)}",
        name=draw(words),
        number=draw(st.integers(1, 9999)),
        timezone=draw(st.sampled_from(["Asia/Shanghai", "UTC", "Europe/Paris", "America/New_York"])),
        outputs=tuple(draw(st.lists(st.sampled_from(Output), unique=True, min_size=1))),
        catchup_days=draw(st.integers(0, 30)),
        day_start=draw(clock_times),
        logo=draw(st.just("") | words),
        group=draw(st.just("") | words),
        description=draw(st.just("") | words),
        grid=Grid(
            slots=draw(slot_lists(ids[:cut])),
            blocks=tuple(blocks),
            filler=draw(pools()),
            idents=draw(st.none() | pools().filter(lambda p: bool(p.series or p.categories or p.sources))),
            slate_series=draw(words),
        ),
    )


def quote(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string


def render_pool(pool: Pool) -> list[str]:
    lines = [
        f"series = [{', '.join(map(quote, pool.series))}]",
        f"categories = [{', '.join(map(quote, pool.categories))}]",
        f"sources = [{', '.join(quote(s.value) for s in pool.sources)}]",
        f"no_repeat_hours = {pool.no_repeat_hours!r}",
    ]
    return lines + ([f"max_duration = {pool.max_duration!r}"] if pool.max_duration is not None else [])


def render_recurrence(recurrence: Recurrence) -> list[str]:
    lines = [f"days = [{', '.join(quote(WEEKDAYS[d]) for d in sorted(recurrence.weekdays))}]"]
    if recurrence.start_date:
        lines.append(f"from = {recurrence.start_date}")
    if recurrence.end_date:
        lines.append(f"until = {recurrence.end_date}")
    return [*lines, f"except = [{', '.join(str(d) for d in sorted(recurrence.except_dates))}]"]


def render(channel: Channel) -> str:
    grid = channel.grid
    lines = [f"slate_series = {quote(grid.slate_series)}", "", "[channel]"]
    for key in ("id", "xmltv_id", "name", "timezone", "logo", "group", "description"):
        lines.append(f"{key} = {quote(getattr(channel, key))}")
    lines += [
        f"number = {channel.number}",
        f"outputs = [{', '.join(quote(o.value) for o in channel.outputs)}]",
        f"catchup_days = {channel.catchup_days}",
        f'day_start = "{channel.day_start:%H:%M}"',
        "[filler]",
        *render_pool(grid.filler),
    ]
    if grid.idents is not None:
        lines += ["[idents]", *render_pool(grid.idents)]
    for s in grid.slots:
        lines += [
            "[[slot]]",
            f"id = {quote(s.id)}",
            f'start = "{s.start:%H:%M}"',
            f"series = {quote(s.series)}",
        ]
        lines += [*render_recurrence(s.recurrence), f'policy = "{s.policy}"', f'overrun = "{s.overrun}"']
        if s.policy is EpisodePolicy.RERUN:
            lines.append(f"rerun_after_hours = {s.rerun_after_hours!r}")
        if s.policy is EpisodePolicy.LEAST_RECENT:
            lines.append(f"no_repeat_hours = {s.no_repeat_hours!r}")
        if s.max_duration is not None:
            lines.append(f"max_duration = {s.max_duration!r}")
    for b in grid.blocks:
        lines += ["[[block]]", f"id = {quote(b.id)}", f'start = "{b.start:%H:%M}"', f'end = "{b.end:%H:%M}"']
        lines += [*render_recurrence(b.recurrence), *render_pool(b.pool)]
    return "\n".join(lines) + "\n"


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(channels())
def test_parse_render_round_trip(channel: Channel) -> None:
    assert parse_channel_file(render(channel), filename="gen.toml") == channel


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(channels().filter(lambda c: bool(c.grid.slots)), st.data())
def test_error_line_is_the_line_written(channel: Channel, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(channel.grid.slots) - 1))
    target = f'start = "{channel.grid.slots[index].start:%H:%M}"'
    lines = render(channel).splitlines()
    slot_lines = [n for n, line in enumerate(lines) if line == "[[slot]]"]
    line = next(n for n in range(slot_lines[index], len(lines)) if lines[n] == target)
    lines[line] = 'start = "7pm"'
    error = fails("\n".join(lines))
    assert (error.where, error.line) == (f"slot[{index + 1}].start", line + 1)
