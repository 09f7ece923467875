"""Schedulers, operators and viewers at once on one catalog, on SQLite and PostgreSQL: each from an
engine of its own (its own pool and connections, as separate processes and machines have).

* two (or more) schedulers building the same days store each day once: one build, never a
  duplicate day, never a day mixed from two builds;
* operators editing one day on the same version: one edit applies, every other is told of the
  conflict (409 over HTTP), and none answered success is lost;
* a build storing its days (its write transaction held open) never blocks viewers' reads of the
  guide and of what the live playlists are made from.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pytest_aiohttp import AiohttpClient
from sqlalchemy import func, select, text

from rcmedia.catalog.asrun import AsRunLog
from rcmedia.catalog.db import close_engine, make_engine
from rcmedia.catalog.repository import Catalog
from rcmedia.catalog.schedules import ScheduleStore
from rcmedia.catalog.tables import EventRow, ScheduleDayRow
from rcmedia.config import Settings
from rcmedia.core.builder import DaySchedule, broadcast_day
from rcmedia.core.edits import Edit, EditKind
from rcmedia.core.models import Output
from rcmedia.core.schedule import Event
from rcmedia.errors import BusyError, ConflictError
from rcmedia.playout.asrun import close_channel
from rcmedia.service import schedules
from rcmedia.service.channels import find_channel
from rcmedia.service.schedules import build_all, day_listing, edit_schedule
from rcmedia.storage.local import LocalStorage
from tests.conftest import database_url
from tests.integration.web.accounts import add_accounts, logged_in
from tests.integration.web.schedules import NOW, TODAY, TOMORROW, FixedClock, origin_app, put_on_air

T = TypeVar("T")
IPTV = Output.IPTV
RACERS = 4
READ_BOUND_S = 1.0  # a viewer's read; a blocked one waits for the whole held write (HOLD_S)
HOLD_S = 4.0


@pytest.fixture
def store(any_catalog: Catalog, storage: LocalStorage, tmp_path: Path) -> ScheduleStore:
    return put_on_air(any_catalog, storage, tmp_path / "playlists").store


@pytest.fixture
def catalogs(any_catalog: Catalog) -> Iterator[Callable[..., Catalog]]:
    """Catalogs on engines of their own, on ``any_catalog``'s database; closed afterwards."""
    opened: list[Catalog] = []

    def open_catalog(**options: Any) -> Catalog:
        opened.append(Catalog(make_engine(database_url(any_catalog), **options)))
        return opened[-1]

    yield open_catalog
    for catalog in opened:
        close_engine(catalog.engine)


def racing(count: int, work: Callable[[int], T]) -> list[T | BaseException]:
    """``work(index)`` in ``count`` threads let go together; what each returned or raised."""
    start = threading.Barrier(count)

    def run(index: int) -> T | BaseException:
        start.wait(timeout=30)
        try:
            return work(index)
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def events_of(store: ScheduleStore, day: date, output: Output = IPTV) -> tuple[Event, ...]:
    return day_listing(store, find_channel(store, "rcxf").channel, output, day).events


# --- schedulers -----------------------------------------------------------------------------------


def test_schedulers_building_the_same_days_store_each_day_once(
    store: ScheduleStore,
    any_catalog: Catalog,
    catalogs: Callable[..., Catalog],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    new_days = [TOMORROW + timedelta(days=1), TOMORROW + timedelta(days=2)]  # built by nobody yet
    read_all = threading.Barrier(RACERS)
    real = schedules.build_channels

    def after_every_scheduler_read(builds, **options):  # type: ignore[no-untyped-def]
        # every scheduler has read the days (the new ones: not built) before any stores: the
        # worst interleaving, where each would insert the same days
        read_all.wait(timeout=30)
        return real(builds, **options)

    monkeypatch.setattr(schedules, "build_channels", after_every_scheduler_read)
    stores = [catalogs().schedules for _ in range(RACERS)]

    outcomes = racing(
        RACERS,
        lambda index: build_all(stores[index], first_day=TOMORROW, days=3, now=NOW, channel_ids=["rcxf"]),
    )

    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    built: list[dict[Output, list[DaySchedule]]] = [o["rcxf"] for o in outcomes]  # type: ignore[index]
    with any_catalog.engine.connect() as connection:
        days = Counter(
            connection.execute(
                select(ScheduleDayRow.output, ScheduleDayRow.day).where(ScheduleDayRow.channel_id == "rcxf")
            ).all()
        )
        starts = Counter(
            connection.execute(
                select(EventRow.output, EventRow.starts_at).where(EventRow.channel_id == "rcxf")
            ).all()
        )
        per_day = dict(
            connection.execute(
                select(ScheduleDayRow.day, func.count(EventRow.id))
                .join(EventRow, EventRow.day_id == ScheduleDayRow.id)
                .where(ScheduleDayRow.channel_id == "rcxf", ScheduleDayRow.output == IPTV.value)
                .group_by(ScheduleDayRow.day)
            ).all()
        )
    assert set(days.values()) == {1}, "a day stored twice"
    assert {(IPTV.value, day) for day in new_days} <= days.keys()
    assert set(starts.values()) == {1}, "an event stored twice"
    channel = find_channel(store, "rcxf").channel
    for day in [TOMORROW, *new_days]:
        stored = events_of(store, day)
        assert per_day[day] == len(stored)
        # the day is one build's, whole: the one every scheduler stored or left as it found it
        assert any(stored == _day(b[IPTV], day).events for b in built), f"{day} mixes builds"
        start, end = broadcast_day(channel, day)
        assert [a.end for a in stored[:-1]] == [b.start for b in stored[1:]]
        assert stored[0].start <= start
        assert stored[-1].end >= end
    assert store.built_days("rcxf", IPTV)[new_days[0]] == 1, "stored, then stored over by an equal build"


def _day(days: list[DaySchedule], day: date) -> DaySchedule:
    (found,) = [d for d in days if d.day == day]
    return found


# --- operators ------------------------------------------------------------------------------------


def test_edits_on_one_version_apply_once_and_the_rest_are_told(
    store: ScheduleStore, catalogs: Callable[..., Catalog]
) -> None:
    seen = store.built_days("rcxf", IPTV)[TOMORROW]
    free = [e for e in events_of(store, TOMORROW) if not e.locked][5:-5]
    targets = free[:: len(free) // 6][:6]  # six operators, each locking a different event
    stores = [catalogs().schedules for _ in targets]

    def edit(index: int) -> int:
        lock = Edit(kind=EditKind.LOCK, event_start=targets[index].start)
        listing = edit_schedule(
            stores[index], "rcxf", IPTV, lock, day=TOMORROW, now=NOW, expected_version=seen
        )
        assert listing.version is not None
        return listing.version

    outcomes = racing(len(targets), edit)

    applied = [i for i, o in enumerate(outcomes) if isinstance(o, int)]
    refused = [o for o in outcomes if isinstance(o, ConflictError)]
    assert len(applied) == 1, outcomes
    assert len(refused) == len(targets) - 1, outcomes
    assert {(c.expected, c.current) for c in refused} == {(seen, seen + 1)}
    assert outcomes[applied[0]] == seen + 1 == store.built_days("rcxf", IPTV)[TOMORROW]
    locked = {e.start for e in events_of(store, TOMORROW) if e.locked}
    assert targets[applied[0]].start in locked  # the one answered success is there
    assert not {t.start for i, t in enumerate(targets) if i != applied[0]} & locked  # the refused are not


@pytest.mark.slow
async def test_over_http_edits_on_one_version_get_one_200_and_409s(
    aiohttp_client: AiohttpClient,
    any_catalog: Catalog,
    storage: LocalStorage,
    settings: Settings,
    store: ScheduleStore,
) -> None:
    add_accounts(any_catalog)
    client = await logged_in(
        await aiohttp_client(origin_app(settings, any_catalog, storage, FixedClock(NOW))), "operator"
    )
    seen = store.built_days("rcxf", IPTV)[TOMORROW]
    free = [e for e in events_of(store, TOMORROW) if not e.locked][5:-5]
    targets = free[:: len(free) // 8][:8]

    answers = await asyncio.gather(
        *(
            client.post(
                "/api/v1/channels/rcxf/schedule/edits",
                json={
                    "output": "iptv",
                    "date": str(TOMORROW),
                    "action": "lock",
                    "event_start": event.start.isoformat(),
                    "version": seen,
                },
            )
            for event in targets
        )
    )

    statuses = [answer.status for answer in answers]
    assert sorted(statuses) == [200] + [409] * (len(targets) - 1), statuses
    winner = targets[statuses.index(200)]
    locked = {e.start for e in events_of(store, TOMORROW) if e.locked}
    assert winner.start in locked
    assert not {t.start for t in targets if t is not winner} & locked


# --- viewers --------------------------------------------------------------------------------------


def viewer_reads(catalog: Catalog) -> dict[str, float]:
    """What a viewer's requests read (the guide of a day; the events and generation the live
    playlists are made from), each timed, in seconds."""
    store = catalog.schedules
    channel = find_channel(store, "rcxf").channel
    reads: dict[str, Callable[[], object]] = {
        "guide": lambda: day_listing(store, channel, IPTV, TOMORROW),
        "live events": lambda: store.events("rcxf", IPTV, start=NOW - timedelta(hours=1), end=NOW),
        "generation": catalog.playout.generation,
        "day versions": lambda: store.day_versions(since=TODAY),
    }
    times = {}
    for name, read in reads.items():
        started = time.monotonic()
        read()
        times[name] = time.monotonic() - started
    return times


def test_a_build_storing_its_days_never_blocks_viewers_reads(
    store: ScheduleStore, catalogs: Callable[..., Catalog]
) -> None:
    seen = store.built_days("rcxf", IPTV)[TOMORROW]
    before = events_of(store, TOMORROW)
    builder, viewer = catalogs(), catalogs()
    viewer_reads(viewer)  # connected, like an origin that has been serving
    release = threading.Event()

    def store_a_build(holding: threading.Event) -> None:
        channel = find_channel(builder.schedules, "rcxf").channel
        start, end = broadcast_day(channel, TOMORROW)
        rebuilt = DaySchedule(
            channel_id="rcxf",
            output=IPTV,
            day=TOMORROW,
            start=start,
            end=end,
            events=(dataclasses.replace(before[0], locked=not before[0].locked), *before[1:]),
        )
        with builder.schedules.writing("rcxf", IPTV) as tx:
            # every event of the day deleted and written again, uncommitted: the rows a reader
            # would wait for if reads took locks; held (as a long store of many days would be)
            assert tx.save_days([rebuilt], now=NOW) == {TOMORROW: seen + 1}
            holding.set()
            release.wait(HOLD_S)

    holding = threading.Event()
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            store_a_build(holding)
        except BaseException as exc:
            outcome.append(exc)
            holding.set()

    holder = threading.Thread(target=run)
    holder.start()
    try:
        assert holding.wait(30)
        assert not outcome, outcome
        times = viewer_reads(viewer)
        # what viewers see meanwhile is the day as it was, whole (not half-written)
        assert events_of(viewer.schedules, TOMORROW) == before
        assert viewer.schedules.built_days("rcxf", IPTV)[TOMORROW] == seen
    finally:
        release.set()
        holder.join()
    assert not outcome, outcome
    # A read that waited for the write would take HOLD_S (the write lets go after that long),
    # far over the bound: test_the_bound_catches_a_write_that_does_block_reads shows the same
    # measurement failing when a write does block them.
    assert max(times.values()) < READ_BOUND_S, times
    assert store.built_days("rcxf", IPTV)[TOMORROW] == seen + 1  # and the build was stored


@pytest.mark.slow  # holds its lock HOLD_S
@pytest.mark.parametrize("any_catalog", ["postgresql"], indirect=True)
def test_the_bound_catches_a_write_that_does_block_reads(
    store: ScheduleStore, catalogs: Callable[..., Catalog]
) -> None:
    """The control for the test above: a write holding a lock readers must wait for (PostgreSQL's
    ACCESS EXCLUSIVE on the events) makes the same reads take longer than the bound. SQLite has
    no such case to show: in WAL mode (rcmedia's) a writer never blocks readers."""
    viewer = catalogs()
    viewer_reads(viewer)
    blocker = catalogs().engine
    holding, release = threading.Event(), threading.Event()

    def block() -> None:
        with blocker.begin() as connection:
            connection.execute(text("LOCK TABLE epg_events IN ACCESS EXCLUSIVE MODE"))
            holding.set()
            release.wait(HOLD_S)

    holder = threading.Thread(target=block)
    holder.start()
    try:
        assert holding.wait(30)
        started = time.monotonic()
        with contextlib.suppress(BusyError):  # waited past the lock timeout: blocked all the same
            viewer_reads(viewer)
        blocked_for = time.monotonic() - started
    finally:
        release.set()
        holder.join()
    assert blocked_for >= READ_BOUND_S


def test_schedulers_closing_the_as_run_log_at_once_record_each_event_once(
    store: ScheduleStore,
    any_catalog: Catalog,
    storage: LocalStorage,
    catalogs: Callable[..., Catalog],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # every origin running `serve` closes the as-run log each minute; the first close of an
    # output (no mark yet: nothing to lock) is where two met
    closers = [catalogs() for _ in range(RACERS)]
    together = threading.Barrier(RACERS)
    real = AsRunLog.close

    def close_together(self: AsRunLog, *args: Any, **kwargs: Any) -> int:
        together.wait(timeout=30)  # every closer has its entries and closes the same output now
        return real(self, *args, **kwargs)

    monkeypatch.setattr(AsRunLog, "close", close_together)
    channel = find_channel(store, "rcxf").channel

    def close(index: int) -> int:
        return close_channel(closers[index].schedules, closers[index].asrun, storage, channel, IPTV, now=NOW)

    outcomes = racing(RACERS, close)

    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    recorded = [o for o in outcomes if isinstance(o, int)]
    start, _ = broadcast_day(channel, TODAY - timedelta(days=1))
    entries = any_catalog.asrun.entries("rcxf", IPTV, start=start, end=NOW)
    assert len({e.actual_start for e in entries}) == len(entries) == max(recorded) > 0
    assert sorted(recorded)[:-1] == [0] * (RACERS - 1)  # the others found it closed
    assert any_catalog.asrun.closed_until("rcxf", IPTV) is not None


def test_applies_of_a_new_channel_at_once_make_it_once(catalogs: Callable[..., Catalog]) -> None:
    # `rcmedia channels apply` from two deploy scripts: nothing to lock before the row exists
    stores = [catalogs().schedules for _ in range(RACERS)]
    outcomes = racing(
        RACERS,
        lambda index: stores[index].apply_channels(
            [("xin", "xin.toml", f"# text {index}\n")], now=NOW, actor=f"cli:{index}"
        ),
    )
    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    # one made it (version 1); each later one changed the text, so moved the version on
    assert sorted(o["xin"] for o in outcomes) == list(range(1, RACERS + 1))  # type: ignore[index]
    (applied,) = stores[0].applied_channels()
    assert applied.version == RACERS
    assert len(catalogs().audit.entries(action="grid.apply")) == RACERS

    versioned = racing(
        RACERS,
        lambda index: stores[index].apply_channels(
            [("yan", "yan.toml", f"# text {index}\n")], now=NOW, expected_versions={"yan": 0}
        ),
    )
    assert sorted(type(o).__name__ for o in versioned) == ["ConflictError"] * (RACERS - 1) + ["dict"]

    # the grid page's apply of an existing channel, on the version each editor saw: one applies
    on_version = racing(
        RACERS,
        lambda index: stores[index].apply_channels(
            [("xin", "xin.toml", f"# edit {index}\n")], now=NOW, expected_versions={"xin": RACERS}
        ),
    )
    won = [i for i, o in enumerate(on_version) if isinstance(o, dict)]
    assert len(won) == 1, on_version
    assert all(isinstance(o, ConflictError) for i, o in enumerate(on_version) if i != won[0])
    (xin, _) = stores[0].applied_channels()
    assert (xin.version, xin.source) == (RACERS + 1, f"# edit {won[0]}\n")
