"""Channel files: a channel and its programme grid from TOML, validated on load (pure).

The format is documented in ``playlists/README.md``. Every error is a :class:`GridError` naming
the file, the line when it can be found, the key path (``slot[2].start``) and what is wrong, so
that an operator can fix a file without reading code. tomllib reports lines only for syntax
errors; for the rest the line is found by scanning the source text (:class:`_Locator`).
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rcmedia.core.models import Output, Source
from rcmedia.core.schedule import (
    DEFAULT_INTERLUDE_TITLE,
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
from rcmedia.core.text import control_problem, normalize_newlines
from rcmedia.errors import ConfigError

DAY_SECONDS = 86_400
SLUG = re.compile(r"[a-z0-9-]+")
CLOCK = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
ZONE_NAME = re.compile(r"[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*")
NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})  # files in the tz folder, not places

# every key a table may hold: anything else is a typo, refused rather than ignored
TOP_KEYS = frozenset({"channel", "filler", "idents", "slate_series", "slot", "block"})
CHANNEL_KEYS = frozenset({"id", "xmltv_id", "name", "number", "timezone", "outputs", "catchup_days"})
CHANNEL_KEYS |= {"day_start", "logo", "group", "description", "interlude_title", "guide_filler"}
CHANNEL_KEYS |= {"continuous_outputs"}
POOL_KEYS = frozenset({"series", "categories", "sources", "max_duration", "no_repeat_hours"})
RECURRENCE_KEYS = frozenset({"days", "from", "until", "except"})
SLOT_KEYS = RECURRENCE_KEYS | {"id", "start", "series", "policy", "overrun", "max_duration"}
SLOT_KEYS |= {"rerun_after_hours", "no_repeat_hours"}
BLOCK_KEYS = RECURRENCE_KEYS | POOL_KEYS | {"id", "start", "end"}
MULTILINE_KEYS = frozenset({"description"})  # every other text is one line (no control characters)

E = TypeVar("E", bound=StrEnum)


class GridError(ConfigError):
    """A channel file is invalid: the file, the line when known, the key path and the problem."""

    def __init__(self, filename: str, where: str, problem: str, *, line: int | None = None) -> None:
        self.filename = filename
        self.where = where
        self.line = line
        self.problem = problem
        place = filename if line is None else f"{filename}:{line}"
        super().__init__(f"{place}: {where}: {problem}")


def parse_channel_file(text: str, *, filename: str, known_series: frozenset[str] | None = None) -> Channel:
    """Parse and validate one channel file.

    With ``known_series`` (the series of published assets) a slot or pool naming any other
    series is refused; ``None`` skips that check (e.g. before anything is ingested).
    """
    text = text.removeprefix("\ufeff")  # Windows editors save UTF-8 with a byte-order mark
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(str(exc), text, filename) from exc
    file = _File(filename, _Locator(text), known_series)
    root = _Table(file, data, "", None, TOP_KEYS)
    channel_data = root.table("channel")
    if channel_data is None:
        raise root.error("channel", "missing the [channel] table")
    channel = _channel(root.sub(channel_data, "channel", CHANNEL_KEYS))
    filler, idents = root.table("filler"), root.table("idents")
    grid = Grid(
        filler=_pool(root.sub(filler, "filler", POOL_KEYS)) if filler is not None else Pool(),
        idents=_idents(root.sub(idents, "idents", POOL_KEYS)) if idents is not None else None,
        slate_series=root.text("slate_series", default="slate", nonempty=True),
        slots=tuple(_slot(table) for table in root.tables("slot", SLOT_KEYS)),
        blocks=tuple(_block(table) for table in root.tables("block", BLOCK_KEYS)),
    )
    _check_unique_ids(file, grid)
    _check_overlaps(file, grid.slots, channel.day_start)
    return replace(channel, grid=grid)


def validate_channels(channels: Sequence[tuple[str, Channel]]) -> None:
    """Checks across files, given ``(filename, channel)`` pairs: ids, numbers and XMLTV ids are unique."""
    seen: dict[tuple[str, object], str] = {}
    for filename, channel in channels:
        for key, value in (("id", channel.id), ("number", channel.number), ("xmltv_id", channel.xmltv_id)):
            other = seen.setdefault((key, value), filename)
            if other != filename:
                raise GridError(filename, f"channel.{key}", f"{value!r} is already used by {other}")


def key_line(text: str, table: str, key: str) -> int | None:
    """The line of ``key`` in ``[table]`` of a channel file's text (None when not found)."""
    return _Locator(text.removeprefix("\ufeff")).line(table, None, key)


# -- where things are in the source text -------------------------------------------------------


class _Locator:
    """Lines of table headers and keys, found by scanning the text (tomllib keeps no positions).

    Tables of an array (``[[slot]]``) are numbered in file order, which is the order tomllib
    gives them in. Best effort: a key inside an inline table is found at its table's line.
    """

    HEADER = re.compile(r"\s*(\[\[?)\s*([^\[\]]+?)\s*\]\]?\s*(?:#.*)?")
    KEY = re.compile(r"""\s*("[^"]*"|'[^']*'|[A-Za-z0-9_-]+)\s*[.=]""")

    def __init__(self, text: str) -> None:
        self.headers: dict[tuple[str, int | None], int] = {}
        self.keys: dict[tuple[str, int | None], dict[str, int]] = {}
        counts: dict[str, int] = {}
        scope: tuple[str, int | None] = ("", None)
        depth, closing = 0, ""
        for number, line in enumerate(text.splitlines(), start=1):
            if depth == 0 and not closing:
                if header := self.HEADER.fullmatch(line):
                    name = ".".join(part.strip().strip("\"'") for part in header.group(2).split("."))
                    index = None
                    if header.group(1) == "[[":
                        index = counts.get(name, 0)
                        counts[name] = index + 1
                    scope = (name, index)
                    self.headers.setdefault(scope, number)
                    continue
                if key := self.KEY.match(line):
                    self.keys.setdefault(scope, {}).setdefault(key.group(1).strip("\"'"), number)
            depth, closing = _scan(line, depth, closing)

    def line(self, table: str, index: int | None, key: str | None) -> int | None:
        if key is not None:
            if found := self.keys.get((table, index), {}).get(key):
                return found
            sub = f"{table}.{key}" if table else key
            if found := self.headers.get((sub, None)) or self.headers.get((sub, 0)):
                return found
        if found := self.headers.get((table, index)):
            return found
        return self.keys.get(("", None), {}).get(table) if table else None


def _scan(line: str, depth: int, closing: str) -> tuple[int, str]:
    """Bracket depth and open multi-line string after ``line``, skipping strings and comments."""
    i = 0
    while i < len(line):
        if closing:
            end = line.find(closing, i)
            if end < 0:
                return depth, closing
            i, closing = end + 3, ""
            continue
        char = line[i]
        if char == "#":
            break
        if line.startswith(('"""', "'''"), i):
            closing, i = line[i : i + 3], i + 3
            continue
        if char in "\"'":
            i += 1
            while i < len(line) and line[i] != char:
                i += 2 if char == '"' and line[i] == "\\" else 1
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth = max(depth - 1, 0)
        i += 1
    return depth, closing


def _syntax_error(message: str, text: str, filename: str) -> GridError:
    found = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
    if found:
        problem, line = f"{message[: found.start()]} at column {found.group(2)}", int(found.group(1))
    else:
        problem = message.replace(" (at end of document)", " at the end of the file")
        line = max(len(text.splitlines()), 1)
    return GridError(filename, "syntax", f"not valid TOML: {problem[:1].lower()}{problem[1:]}", line=line)


# -- typed reading of one table ----------------------------------------------------------------


class _File:
    def __init__(self, filename: str, locator: _Locator, known_series: frozenset[str] | None) -> None:
        self.filename = filename
        self.locator = locator
        self.known_series = known_series

    def at(self, name: str, index: int | None) -> _Table:
        """An empty stand-in for a table already read, to place an error found later."""
        return _Table(self, {}, name, index, frozenset())


class _Table:
    """One TOML table (``[channel]``, the n-th ``[[slot]]``…) with typed getters that raise GridError."""

    def __init__(
        self, file: _File, data: Mapping[str, Any], name: str, index: int | None, allowed: frozenset[str]
    ) -> None:
        self.file = file
        self.data = data
        self.name = name
        self.index = index
        self.path = name if index is None else f"{name}[{index + 1}]"
        for key in data:
            if key not in allowed:
                # TOML puts a key written after a [table] header into that table
                hint = "; top-level keys go before the first [table]" if name and key in TOP_KEYS else ""
                raise self.error(key, f"unknown key (allowed: {', '.join(sorted(allowed))}){hint}")

    def line(self, key: str | None = None) -> int | None:
        return self.file.locator.line(self.name, self.index, key)

    def error(self, key: str | None, problem: str) -> GridError:
        where = ".".join(part for part in (self.path, key) if part)
        return GridError(self.file.filename, where, problem, line=self.line(key))

    def sub(self, data: Mapping[str, Any], name: str, allowed: frozenset[str]) -> _Table:
        return _Table(self.file, data, name, None, allowed)

    def table(self, key: str) -> Mapping[str, Any] | None:
        value = self.data.get(key)
        if value is not None and not isinstance(value, Mapping):
            raise self.error(key, f"must be a table ([{key}]), got {value!r}")
        return value

    def tables(self, key: str, allowed: frozenset[str]) -> list[_Table]:
        value = self.data.get(key, [])
        if isinstance(value, Mapping):
            raise self.error(key, f"write [[{key}]] (one table per {key}), not [{key}]")
        if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
            raise self.error(key, f"must be tables written as [[{key}]]")
        return [_Table(self.file, item, key, i, allowed) for i, item in enumerate(value)]

    def text(self, key: str, *, default: str | None = None, nonempty: bool = False) -> str:
        """Text; a missing key gives ``default``, or is an error when there is none."""
        if key not in self.data:
            if default is None:
                raise self.error(key, "missing (required)")
            return default
        value = self.data[key]
        if not isinstance(value, str):
            raise self.error(key, f"must be text, got {value!r}")
        multiline = key in MULTILINE_KEYS
        value = normalize_newlines(value) if multiline else value
        if problem := control_problem(value, multiline=multiline):
            raise self.error(key, problem)
        if nonempty and not value.strip():
            raise self.error(key, "must not be empty")
        return value

    def slug(self, key: str) -> str:
        value = self.text(key)
        if not SLUG.fullmatch(value):
            raise self.error(key, f"{value!r} is not a valid id (lower-case letters, digits and '-')")
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
            raise self.error(key, f"must be a list of non-empty text, got {value!r}")
        for index, item in enumerate(value):
            if problem := control_problem(item):
                raise self.error(key, f"item {index + 1} {problem}")
        return tuple(value)

    def series(self, key: str, names: tuple[str, ...]) -> None:
        known = self.file.known_series
        for name in names:
            if known is not None and name not in known:
                raise self.error(key, f"unknown series {name!r} (no published asset has it)")

    def integer(self, key: str, *, default: int | None, low: int, high: int | None = None) -> int:
        if key not in self.data:
            if default is None:
                raise self.error(key, "missing (required)")
            return default
        value = self.data[key]
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.error(key, f"must be a whole number, got {value!r}")
        if value < low or (high is not None and value > high):
            limits = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise self.error(key, f"must be {limits}, got {value}")
        return value

    def number(self, key: str, *, positive: bool = False) -> float | None:
        """A duration or a number of hours: ``None`` when absent, else a finite float ≥ 0 (> 0)."""
        if key not in self.data:
            return None
        value = self.data[key]
        if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
            raise self.error(key, f"must be a number, got {value!r}")
        if value < 0 or (positive and value == 0):
            raise self.error(key, f"must be {'greater than 0' if positive else 'at least 0'}, got {value}")
        return float(value)

    def clock(self, key: str, *, default: time | None = None) -> time:
        if key not in self.data:
            if default is None:
                raise self.error(key, "missing (required)")
            return default
        value = self.data[key]
        if isinstance(value, time):
            raise self.error(key, f'write the time as text, e.g. "{value:%H:%M}"')
        found = CLOCK.fullmatch(value) if isinstance(value, str) else None
        if found is None:
            raise self.error(key, f'{value!r} is not a time of day ("HH:MM", 00:00–23:59)')
        return time(int(found.group(1)), int(found.group(2)))

    def day(self, key: str, value: Any) -> date:
        if isinstance(value, str):
            raise self.error(key, f"write dates without quotes, e.g. 2026-10-01, got {value!r}")
        if not isinstance(value, date) or isinstance(value, datetime):
            raise self.error(key, f"must be a date (2026-10-01), got {_shown(value)}")
        return value

    def choice(self, key: str, kind: type[E], default: E) -> E:
        value = self.data.get(key, default.value)
        try:
            return kind(value)
        except ValueError:
            allowed = ", ".join(member.value for member in kind)
            raise self.error(key, f"unknown {key} {value!r} (use one of: {allowed})") from None


def _shown(value: Any) -> str:
    """A value as it was written in TOML: dates and times in ISO form, the rest as Python shows it."""
    return value.isoformat() if isinstance(value, date | time) else repr(value)


# -- the parts of a channel file ---------------------------------------------------------------


def _channel(t: _Table) -> Channel:
    ident = t.slug("id")
    xmltv_id = t.text("xmltv_id", default=f"{ident}.rcmedia")
    if "." not in xmltv_id or any(char.isspace() for char in xmltv_id):
        raise t.error("xmltv_id", f"{xmltv_id!r} must contain a dot and no spaces (e.g. 'rcxf.rcmedia')")
    name = t.text("name", nonempty=True)
    number = t.integer("number", default=None, low=1)
    timezone = t.text("timezone")
    try:
        if not ZONE_NAME.fullmatch(timezone) or timezone in NOT_ZONES:
            raise ValueError(timezone)
        ZoneInfo(timezone)
    except (ValueError, ZoneInfoNotFoundError):
        raise t.error("timezone", f"{timezone!r} is not an IANA time zone (e.g. 'Asia/Shanghai')") from None
    allowed = ", ".join(output.value for output in Output)
    names = t.texts("outputs") if "outputs" in t.data else None
    if not names:
        missing = "missing (required)" if names is None else "empty"
        raise t.error("outputs", f"{missing}: list one or more of {allowed}")
    outputs: list[Output] = []
    for output in names:
        if output not in {o.value for o in Output} or Output(output) in outputs:
            raise t.error("outputs", f"unknown or repeated output {output!r} (use: {allowed})")
        outputs.append(Output(output))
    continuous = t.texts("continuous_outputs") if "continuous_outputs" in t.data else []
    for output in continuous:
        if output not in names:
            raise t.error(
                "continuous_outputs", f"{output!r} is not one of the channel's outputs ({', '.join(names)})"
            )
    return Channel(
        id=ident,
        xmltv_id=xmltv_id,
        name=name,
        number=number,
        timezone=timezone,
        outputs=tuple(outputs),
        catchup_days=t.integer("catchup_days", default=7, low=0, high=30),
        day_start=t.clock("day_start", default=time(6, 0)),
        logo=t.text("logo", default=""),
        group=t.text("group", default=""),
        description=t.text("description", default=""),
        interlude_title=t.text("interlude_title", default=DEFAULT_INTERLUDE_TITLE, nonempty=True).strip(),
        guide_filler=t.choice("guide_filler", GuideFiller, GuideFiller.FOLD),
        continuous_outputs=frozenset(Output(output) for output in continuous),
    )


def _pool(t: _Table) -> Pool:
    series = t.texts("series")
    t.series("series", series)
    sources = []
    for source in t.texts("sources"):
        if source not in {s.value for s in Source}:
            raise t.error("sources", f"unknown source {source!r} (use: {', '.join(s.value for s in Source)})")
        sources.append(Source(source))
    return Pool(
        series=series,
        categories=t.texts("categories"),
        sources=tuple(sources),
        max_duration=t.number("max_duration", positive=True),
        no_repeat_hours=t.number("no_repeat_hours") or 0.0,
    )


def _idents(t: _Table) -> Pool:
    pool = _pool(t)
    if not (pool.series or pool.categories or pool.sources or pool.max_duration):
        # an empty pool matches every asset: whole programmes would play as idents
        raise t.error(None, "give at least one of series, categories, sources, max_duration")
    return pool


def _recurrence(t: _Table) -> Recurrence:
    weekdays = frozenset(range(7))
    if "days" in t.data:
        days = t.texts("days")
        if not days:
            raise t.error("days", "must list at least one day (leave it out for every day)")
        for day in days:
            if day not in WEEKDAYS:
                raise t.error("days", f"unknown day {day!r} (use: {', '.join(WEEKDAYS)})")
        weekdays = frozenset(WEEKDAYS.index(day) for day in days)
    start = t.day("from", t.data["from"]) if "from" in t.data else None
    end = t.day("until", t.data["until"]) if "until" in t.data else None
    if start and end and start > end:
        raise t.error("until", f"until ({end}) is before from ({start})")
    excepts = t.data.get("except", [])
    if not isinstance(excepts, list):
        raise t.error("except", f"must be a list of dates, e.g. [2026-10-01], got {_shown(excepts)}")
    recurrence = Recurrence(
        weekdays=weekdays,
        start_date=start,
        end_date=end,
        except_dates=frozenset(t.day("except", value) for value in excepts),
    )
    if _common_day(recurrence, recurrence, 0) is None:
        raise t.error(None, "never occurs: no date between from and until is on its days and not excepted")
    return recurrence


def _slot(t: _Table) -> FixedSlot:
    ident = t.slug("id")
    start = t.clock("start")
    recurrence = _recurrence(t)
    series = t.text("series", nonempty=True)
    t.series("series", (series,))
    policy = t.choice("policy", EpisodePolicy, EpisodePolicy.PREMIERE)
    for key, needs in (
        ("rerun_after_hours", EpisodePolicy.RERUN),
        ("no_repeat_hours", EpisodePolicy.LEAST_RECENT),
    ):
        if key in t.data and policy is not needs:
            raise t.error(key, f'only applies to policy = "{needs.value}" (this slot is "{policy.value}")')
    max_duration = t.number("max_duration", positive=True)
    if max_duration is not None and max_duration > DAY_SECONDS:
        raise t.error("max_duration", f"a slot longer than a day ({max_duration:g} s > {DAY_SECONDS} s)")
    return FixedSlot(
        id=ident,
        start=start,
        recurrence=recurrence,
        series=series,
        policy=policy,
        rerun_after_hours=t.number("rerun_after_hours") or 0.0,
        no_repeat_hours=t.number("no_repeat_hours") or 0.0,
        overrun=t.choice("overrun", OverrunPolicy, OverrunPolicy.CUT),
        max_duration=max_duration,
    )


def _block(t: _Table) -> Block:
    ident = t.slug("id")
    start, end = t.clock("start"), t.clock("end")
    if start == end:
        raise t.error("end", f"equals start ({start:%H:%M}): a block cannot last 0 or 24 hours")
    return Block(id=ident, start=start, end=end, recurrence=_recurrence(t), pool=_pool(t))


# -- checks across the slots and blocks of one file --------------------------------------------


def _check_unique_ids(file: _File, grid: Grid) -> None:
    """Slot and block ids share one namespace: an airing's ``slot_id`` names either."""
    seen: dict[str, str] = {}
    ids = [("slot", i, slot.id) for i, slot in enumerate(grid.slots)]
    for kind, index, ident in ids + [("block", i, block.id) for i, block in enumerate(grid.blocks)]:
        here = file.at(kind, index)
        if ident in seen:
            raise here.error("id", f"duplicate id {ident!r} (also {seen[ident]})")
        seen[ident] = f"{here.path}, line {here.line('id')}"


def _check_overlaps(file: _File, slots: Sequence[FixedSlot], day_start: time) -> None:
    """Two fixed slots may not start together, nor may one's max_duration reach past another's start.

    Days are broadcast days, as the builder reads them: with day_start 06:00 a slot at 00:30 on
    "tue" airs in the night after Tuesday. Wall-clock arithmetic; a slot running past the end of
    its broadcast day is checked against the next day's slots. Without max_duration a slot has no
    known end, so it only clashes on an equal start.
    """
    for later, b in enumerate(slots):
        for earlier, a in enumerate(slots[:later]):
            for first, second, offset in ((a, b, 0), (a, b, 1), (b, a, 1)):
                clash = _clash(first, second, offset, day_start)
                day = _common_day(first.recurrence, second.recurrence, offset) if clash else None
                if clash is None or day is None:
                    continue
                on = {first.id: WEEKDAYS[day.weekday()], second.id: WEEKDAYS[(day.weekday() + offset) % 7]}
                runner, victim = clash
                if runner is victim:
                    what = f"both start at {b.start:%H:%M} on {on[b.id]}"
                else:
                    end = _seconds(runner.start) + (runner.max_duration or 0)
                    what = (
                        f"{runner.id!r} may run {runner.start:%H:%M}–{_clock(end)} on {on[runner.id]} "
                        f"(max_duration {runner.max_duration:g} s), past {victim.id!r} at "
                        f"{victim.start:%H:%M} on {on[victim.id]}"
                    )
                other = file.at("slot", earlier)
                raise file.at("slot", later).error(
                    "start", f"overlaps slot {a.id!r} ({other.path}, line {other.line('start')}): {what}"
                )


def _clash(a: FixedSlot, b: FixedSlot, offset: int, day_start: time) -> tuple[FixedSlot, FixedSlot] | None:
    """With ``a`` on some broadcast day and ``b`` ``offset`` days later: which slot runs into which.

    ``(a, a)`` when they start together, ``None`` when they do not meet.
    """
    a_start = (_seconds(a.start) - _seconds(day_start)) % DAY_SECONDS
    b_start = (_seconds(b.start) - _seconds(day_start)) % DAY_SECONDS + offset * DAY_SECONDS
    if a_start == b_start:
        return a, a
    if a_start < b_start < a_start + (a.max_duration or 0):
        return a, b
    if b_start < a_start < b_start + (b.max_duration or 0):
        return b, a
    return None


def _seconds(clock: time) -> int:
    return clock.hour * 3600 + clock.minute * 60


def _clock(seconds: float) -> str:
    minutes = int(seconds) % DAY_SECONDS // 60
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _common_day(a: Recurrence, b: Recurrence, offset: int) -> date | None:
    """A date on which ``a`` occurs while ``b`` occurs ``offset`` days later, or None.

    Within any 7·(k+1) consecutive days each weekday comes k+1 times, so k exception dates
    cannot hide them all: looking at that many days of the common range is enough.
    """
    shift = timedelta(days=offset)
    starts = [d for d in (a.start_date, b.start_date and _moved(b.start_date, -shift)) if d]
    ends = [d for d in (a.end_date, b.end_date and _moved(b.end_date, -shift)) if d]
    span = 7 * (len(a.except_dates) + len(b.except_dates) + 1)
    if starts:
        first = max(starts)
    elif ends:
        first = _moved(min(ends), -timedelta(days=span - 1))
    else:
        first = date(2001, 1, 1)  # no range: any stretch of dates will do
    last = min([*ends, _moved(first, timedelta(days=span - 1))])
    for n in range((last - first).days + 1):
        day = first + timedelta(days=n)
        if a.occurs(day) and b.occurs(_moved(day, shift)):
            return day
    return None


def _moved(day: date, by: timedelta) -> date:
    try:
        return day + by
    except OverflowError:
        return date.max if by > timedelta(0) else date.min
