"""The APScheduler jobs: the daily EPG build is persisted, not duplicated, and a missed run happens."""

from __future__ import annotations

import pickle
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from rcmedia.catalog.db import make_engine, upgrade
from rcmedia.catalog.repository import Catalog
from rcmedia.config import Settings
from rcmedia.scheduling.jobs import (
    DAILY_BUILD,
    PERSISTENT,
    BuildFailedError,
    BuildProcess,
    LostMessageWatch,
    start_jobs,
    stop_jobs,
)
from tests.conftest import database_url


def _stored_rows(settings: Settings) -> list[tuple[str, float]]:
    engine = create_engine(settings.database_url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, next_run_time FROM apscheduler_jobs")).all()
    engine.dispose()
    return [(r[0], r[1]) for r in rows]


def _overdue(settings: Settings, when: datetime) -> None:
    """Rewrite the stored job as APScheduler's SQLAlchemy store keeps it (column + pickled state)."""
    engine = create_engine(settings.database_url)
    with engine.begin() as connection:
        (blob,) = connection.execute(text("SELECT job_state FROM apscheduler_jobs")).one()
        state = pickle.loads(blob)  # noqa: S301 - our own job row, written a moment ago
        state["next_run_time"] = when
        connection.execute(
            text("UPDATE apscheduler_jobs SET job_state = :state, next_run_time = :at"),
            {"state": pickle.dumps(state), "at": when.timestamp()},
        )
    engine.dispose()


@pytest.fixture
def on_any_catalog(settings: Settings, any_catalog: Catalog) -> Settings:
    """``settings`` on ``any_catalog``'s database (SQLite, or a PostgreSQL schema), migrated."""
    return settings.replace(database_url=database_url(any_catalog))


def test_daily_build_is_stored_once_and_a_missed_run_happens_at_start_up(on_any_catalog: Settings) -> None:
    settings = on_any_catalog
    first = start_jobs(settings)
    planned = first.get_job(DAILY_BUILD, jobstore=PERSISTENT).next_run_time
    stop_jobs(first, wait=True)
    assert [row[0] for row in _stored_rows(settings)] == [DAILY_BUILD]

    # a restart keeps the stored job instead of adding a second one
    second = start_jobs(settings)
    assert second.get_job(DAILY_BUILD, jobstore=PERSISTENT).next_run_time == planned
    stop_jobs(second, wait=True)
    # nothing ran while the build was due: move the stored run into the past, as the clock would
    _overdue(settings, datetime.now(UTC) - timedelta(hours=2))
    assert _stored_rows(settings)[0][1] < time.time()

    third = start_jobs(settings)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            job = third.get_job(DAILY_BUILD, jobstore=PERSISTENT)
            if job.next_run_time > datetime.now(UTC):
                break
            time.sleep(0.1)
        assert job.next_run_time == planned, "the missed run happened once and the next is the planned one"
        assert [row[0] for row in _stored_rows(settings)] == [DAILY_BUILD]
    finally:
        stop_jobs(third, wait=True)


def test_a_build_runs_in_a_child_process_and_its_failure_fails_the_job(
    settings: Settings, tmp_path: Path
) -> None:
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    BuildProcess().run(settings)  # nothing applied yet: a child that builds nothing, and succeeds

    broken = settings.replace(database_url=f"sqlite:///{tmp_path / 'no' / 'such' / 'folder.db'}")
    with pytest.raises(BuildFailedError, match="exited with status 1"):
        BuildProcess().run(broken)


def test_a_stopped_build_process_starts_no_build(settings: Settings) -> None:
    builds = BuildProcess()
    builds.stop()
    started = time.monotonic()
    builds.run(settings.replace(database_url="sqlite:////nonexistent/never/opened.db"))
    assert time.monotonic() - started < 1, "no process was started"


def test_builds_are_counted_with_their_outcome_and_duration(settings: Settings, tmp_path: Path) -> None:
    from rcmedia import metrics
    from tests.integration.web.metrics_text import Scrape

    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    before = Scrape(metrics.exposition().decode())

    BuildProcess().run(settings)
    with pytest.raises(BuildFailedError):
        BuildProcess().run(settings.replace(database_url=f"sqlite:///{tmp_path / 'no' / 'such' / 'x.db'}"))

    after = Scrape(metrics.exposition().decode())
    for name, labels, grown in (
        ("rcmedia_epg_builds_total", {"outcome": "ok"}, 1),
        ("rcmedia_epg_builds_total", {"outcome": "failed"}, 1),
        ("rcmedia_epg_build_duration_seconds_count", {}, 1),
    ):
        assert after.value(name, **labels) - before.value(name, **labels) == grown, name


def test_with_celery_the_scheduler_also_resends_lost_messages(settings: Settings, catalog: Catalog) -> None:
    inprocess = start_jobs(settings)
    try:
        assert inprocess.get_job("ingest-resend") is None, "in-process runners poll the catalog"
    finally:
        stop_jobs(inprocess, wait=True)
    celery = settings.replace(executor="celery", broker_url="amqp://guest:guest@127.0.0.1:5672//")
    scheduler = start_jobs(celery)
    try:
        job = scheduler.get_job("ingest-resend")
        assert job is not None
        assert isinstance(job.func, LostMessageWatch)
        assert job.trigger.interval == timedelta(seconds=60)
    finally:
        stop_jobs(scheduler, wait=True)
