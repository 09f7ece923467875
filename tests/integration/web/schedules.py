"""Two channels on air without media: fake assets, two small grids applied, three days built.

* 蓉城先锋 (``rcxf``, Asia/Shanghai, day from 06:00, on tv, iptv and mobile, 7 catch-up days);
* 蓉城教育 (``rcjy``, Europe/Berlin, day from 05:00, on iptv and mobile, no catch-up).

``NOW`` is Monday 2 March 2026, 12:30 in Shanghai and 05:30 in Berlin: both are on the broadcast
day of 2 March. Days 1, 2 and 3 March are built; 1 March is the catch-up day. The only episode of
时代楷模 may air on tv alone: its 10:00 slot on iptv and mobile is filler, with the reason.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from aiohttp import web

from rcmedia.catalog.repository import Catalog
from rcmedia.catalog.schedules import ScheduleStore
from rcmedia.config import Settings
from rcmedia.core.models import Output, Rights
from rcmedia.profiles import load_profiles
from rcmedia.service.channels import apply_channel_files
from rcmedia.service.schedules import build_all
from rcmedia.storage.local import LocalStorage
from rcmedia.web.app import create_app
from tests.integration.web.published import publish_fake_asset

NOW = datetime(2026, 3, 2, 4, 30, tzinfo=UTC)
TODAY = date(2026, 3, 2)
YESTERDAY, TOMORROW = TODAY - timedelta(days=1), TODAY + timedelta(days=1)
FIRST_DAY, DAYS = YESTERDAY, 3
RUNGS = ("144p",)  # one rung is all the builder reads

# ten loop-length segments, then one of every length from one frame (40 ms) up to 5.96 s
SLATE = (6.0,) * 10 + tuple(round(k * 0.04, 2) for k in range(1, 150))

RCXF = """\
slate_series = "slate"

[channel]
id = "rcxf"
xmltv_id = "rcxf.rcmedia"
name = "蓉城先锋"
number = 1
timezone = "Asia/Shanghai"
outputs = ["tv", "iptv", "mobile"]
catchup_days = 7
day_start = "06:00"
logo = "/static/logos/rcxf.png"
group = "成都"

[filler]
series = ["宣传片"]

[[slot]]
id = "xxsj-0600"
start = "06:00"
series = "学习时间"
policy = "least_recent"

[[slot]]
id = "hsjy-0900"
start = "09:00"
series = "红色记忆"

[[slot]]
id = "sdkm-1000"
start = "10:00"
series = "时代楷模"
policy = "least_recent"

[[slot]]
id = "hsjy-1200"
start = "12:00"
series = "红色记忆"
policy = "least_recent"

[[slot]]
id = "xxsj-1900"
start = "19:00"
series = "学习时间"

[[block]]
id = "overnight"
start = "23:00"
end = "02:00"
series = ["学习时间", "红色记忆"]
"""

RCJY = """\
[channel]
id = "rcjy"
xmltv_id = "rcjy.rcmedia"
name = "蓉城教育"
number = 2
timezone = "Europe/Berlin"
outputs = ["iptv", "mobile"]
catchup_days = 0
day_start = "05:00"
group = "成都"

[filler]
series = ["宣传片"]

[[slot]]
id = "xxsj-0800"
start = "08:00"
series = "学习时间"
policy = "least_recent"

[[slot]]
id = "hsjy-2000"
start = "20:00"
series = "红色记忆"
policy = "least_recent"
"""


class FixedClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current


@dataclass(frozen=True, kw_only=True, slots=True)
class OnAir:
    store: ScheduleStore
    files: tuple[Path, ...]

    def rebuild(self, *, first_day: date, days: int, now: datetime) -> None:
        build_all(self.store, first_day=first_day, days=days, now=now)


def put_on_air(catalog: Catalog, storage: LocalStorage, folder: Path) -> OnAir:
    seeds = iter(range(1000, 2000))

    def publish(
        title: str,
        series: str,
        durations: tuple[float, ...],
        episode: int | None = None,
        rights: tuple[Rights, ...] | None = None,
    ) -> None:
        publish_fake_asset(
            catalog,
            storage,
            seed=next(seeds),
            title=title,
            original_filename=f"{title}.mp4",
            series=series,
            episode=episode,
            rungs=RUNGS,
            durations=durations,
            rights=rights,
        )

    publish("台标 slate", "slate", SLATE)
    for episode in (1, 2, 3):
        publish(f"学习时间 第{episode}集", "学习时间", (6.0,) * 100, episode)  # 10 min
    publish("红色记忆 第1集", "红色记忆", (6.0,) * 150, 1)  # 15 min
    publish("时代楷模 第1集", "时代楷模", (6.0,) * 100, 1, rights=(Rights(output=Output.TV),))
    publish("宣传片 A", "宣传片", (6.0,) * 50)
    publish("宣传片 B", "宣传片", (6.0,) * 30)

    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for name, text in (("rcxf.toml", RCXF), ("rcjy.toml", RCJY)):
        path = folder / name
        path.write_text(text, encoding="utf-8")
        files.append(path)
    store = ScheduleStore(catalog.engine)
    apply_channel_files(store, files, now=NOW)
    build_all(store, first_day=FIRST_DAY, days=DAYS, now=NOW)
    return OnAir(store=store, files=tuple(files))


@contextmanager
def holding_write_lock(store: ScheduleStore, channel_id: str, output: Output) -> Iterator[None]:
    """Another process's write of a channel output's schedule, in progress for the body's length."""
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with store.writing(channel_id, output):
            holding.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(10), "the lock was not had"
        yield
    finally:
        release.set()
        holder.join()


def origin_app(
    settings: Settings, catalog: Catalog, storage: LocalStorage, clock: FixedClock
) -> web.Application:
    """The origin's app on these settings (tests that need a setting changed make their own)."""
    return create_app(
        settings=settings,
        catalog=catalog,
        storage=storage,
        profiles=load_profiles(settings.profiles_dir),
        clock=clock,
    )
