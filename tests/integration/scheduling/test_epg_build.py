"""Channels applied from playlists/, built into EPG days from real ingested media."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from itertools import pairwise
from pathlib import Path

import pytest

from rcmedia.bootstrap import open_context
from rcmedia.catalog.db import make_engine
from rcmedia.catalog.schedules import ScheduleStore
from rcmedia.config import load_settings
from rcmedia.core.models import JobState, Output
from rcmedia.core.schedule import EventKind
from rcmedia.ingest.context import IngestContext
from rcmedia.ingest.intake import submit, submit_slate
from rcmedia.ingest.runner import JobRunner
from rcmedia.ingest.sidecar import read_sidecar
from rcmedia.media.samples import make_clip
from rcmedia.service.channels import InvalidChannelFiles, apply_channel_files
from rcmedia.service.guide import xmltv_document
from rcmedia.service.schedules import build_all
from tests.conftest import PROJECT, RESOURCES

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # 10:00 in Chengdu
RCJY = PROJECT / "playlists" / "rcjy.toml"


@pytest.fixture
def rcjy() -> Path:
    """The shipped 蓉城教育 file (its filler repeats at most every two hours)."""
    return RCJY


@pytest.fixture(scope="module")
def library_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tiny real media for the 蓉城教育 channel, ingested once per module: one episode per series,
    a lecture, filler, an ident and the house slate. Tests get a copy of its catalog file."""
    home = tmp_path_factory.mktemp("library")
    settings = load_settings(
        environ={},
        cwd=home,
        overrides={"home": str(home / "var"), "profiles_dir": str(RESOURCES / "profiles"), "profile": "tiny"},
    )
    with open_context(settings) as ctx:
        _ingest_library(ctx, home)
    return settings.home / "rcmedia.db"


def _ingest_library(ctx: IngestContext, home: Path) -> None:
    clips = [
        ("kepu.mp4", {"series": "科普天地", "episode": 1}),
        ("gushi.mp4", {"series": "成都故事", "episode": 1}),
        ("jiazhang.mp4", {"series": "家长课堂", "episode": 1}),
        ("lecture.mp4", {"series": "名师讲座", "categories": ["专题讲座"], "source": "central"}),
        ("gongyi.mp4", {"series": "公益广告", "categories": ["公益"]}),
        ("logo.mp4", {"series": "台标"}),
    ]
    jobs = [submit_slate(ctx, title="蓉城教育")]
    for name, meta in clips:
        path = make_clip(home / name, ffmpeg=ctx.ffmpeg, duration=2.0 if name == "logo.mp4" else 4.0)
        jobs.append(submit(ctx, path, metadata=read_sidecar(path, overrides=meta)))
    assert all(j.state is JobState.PUBLISHED for j in JobRunner(ctx).run_jobs(jobs))


@pytest.fixture
def store(library_db: Path, tmp_path: Path) -> Iterator[ScheduleStore]:
    copy = tmp_path / "rcmedia.db"
    shutil.copyfile(library_db, copy)
    engine = make_engine(f"sqlite:///{copy}")
    yield ScheduleStore(engine)
    engine.dispose()


def test_applied_channel_builds_gapless_days_of_real_segments(store: ScheduleStore, rcjy: Path) -> None:
    assert apply_channel_files(store, [rcjy], now=NOW) == {"rcjy": 1}
    built = build_all(store, first_day=None, days=2, now=NOW)
    assets = {a.id: a for a in store.schedule_assets()}

    for output in (Output.IPTV, Output.MOBILE):
        days = built["rcjy"][output]
        assert [d.day for d in days] == [date(2026, 11, 27), date(2026, 11, 28)]
        events = store.events("rcjy", output, start=days[0].start, end=days[-1].end)
        assert events[0].start == days[0].start
        assert events[-1].end == days[-1].end
        for before, after in pairwise(events):
            assert after.start == before.end
            assert after.seq0 == before.seq0 + before.segment_count
            assert after.disc0 == before.disc0 + 1
        for event in events:
            segments = assets[event.asset_id].segment_us[event.first_segment : event.last_segment + 1]
            assert event.duration_us == sum(segments)
        kinds = {e.kind for e in events}
        assert {EventKind.PROGRAMME, EventKind.SLATE} <= kinds
    assert Output.TV not in built["rcjy"], "rcjy is not on the TV output"


def test_rebuilding_keeps_what_is_before_the_freeze_horizon(store: ScheduleStore, rcjy: Path) -> None:
    apply_channel_files(store, [rcjy], now=NOW)
    first = build_all(store, first_day=None, days=1, now=NOW)["rcjy"][Output.IPTV][0]
    before = [e for e in first.events if e.start < NOW]
    again = build_all(store, first_day=None, days=1, now=NOW)["rcjy"][Output.IPTV][0]
    assert [e for e in again.events if e.start < NOW] == before
    # the same inputs build the same day: its version stays, so no operator's edit of it turns stale
    assert store.built_days("rcjy", Output.IPTV) == {date(2026, 11, 27): 1}


def test_an_invalid_file_changes_nothing(store: ScheduleStore, tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text(RCJY.read_text(encoding="utf-8").replace("科普天地", "没有的节目"), encoding="utf-8")
    with pytest.raises(InvalidChannelFiles, match="unknown series '没有的节目'"):
        apply_channel_files(store, [broken], now=NOW)
    assert store.applied_channels() == []


def test_xmltv_lists_the_built_programmes(store: ScheduleStore, rcjy: Path) -> None:
    apply_channel_files(store, [rcjy], now=NOW)
    build_all(store, first_day=None, days=1, now=NOW)
    document = "".join(xmltv_document(store, output=Output.IPTV, days=1, now=NOW))
    assert '<channel id="rcjy.rcmedia">' in document
    assert "科普天地" in document
