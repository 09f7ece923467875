"""Workers racing for jobs, on SQLite and PostgreSQL: each from its own engine (its own pool and
connections, as separate worker machines have), all let go at once.

Every job is taken exactly once per lease, an expired lease is taken over by exactly one worker,
and a crowd of claimers neither fails (busy, deadlocked) nor gives up early while jobs wait.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import TypeVar

import pytest

from rcmedia.catalog.db import close_engine, make_engine
from rcmedia.catalog.repository import Catalog
from rcmedia.core.assets import Asset, Job
from rcmedia.core.changes import MetadataChange
from rcmedia.core.models import JobState
from rcmedia.errors import ConflictError
from tests.conftest import database_url
from tests.integration.catalog.test_asset_changes import published
from tests.integration.catalog.test_repository import NOW, ingest

T = TypeVar("T")
CLAIMERS = 8
LEASE = 30.0


@pytest.fixture
def workers(any_catalog: Catalog) -> Iterator[list[Catalog]]:
    """One catalog per worker, each on an engine of its own."""
    catalogs = [Catalog(make_engine(database_url(any_catalog))) for _ in range(CLAIMERS)]
    yield catalogs
    for catalog in catalogs:
        close_engine(catalog.engine)


def racing(workers: list[Catalog], work: Callable[[int, Catalog], T]) -> list[T]:
    """``work(index, catalog)`` in a thread per worker, started together."""
    start = threading.Barrier(len(workers))

    def run(index: int) -> T:
        start.wait(timeout=30)
        return work(index, workers[index])

    with ThreadPoolExecutor(max_workers=len(workers)) as pool:
        return list(pool.map(run, range(len(workers))))


def claim_all(at: timedelta) -> Callable[[int, Catalog], list[Job]]:
    def work(index: int, catalog: Catalog) -> list[Job]:
        taken = []
        while (job := catalog.claim_job(worker=f"w{index}", lease_seconds=LEASE, now=NOW + at)) is not None:
            taken.append(job)
        return taken

    return work


def test_many_claimers_take_every_queued_job_exactly_once(
    any_catalog: Catalog, workers: list[Catalog]
) -> None:
    jobs = {ingest(any_catalog, original_filename=f"{n}.mxf")[1] for n in range(60)}

    results = racing(workers, claim_all(timedelta()))

    claims = Counter(job.id for taken in results for job in taken)
    assert claims.keys() == jobs, f"left queued: {sorted(jobs - claims.keys())}"
    assert set(claims.values()) == {1}, {job: n for job, n in claims.items() if n > 1}
    for index, taken in enumerate(results):
        for job in taken:  # what the claimer was told is what the catalog holds
            assert (job.state, job.worker, job.attempts) == (JobState.PROBING, f"w{index}", 1)
            assert any_catalog.get_job(job.id).worker == f"w{index}"


def test_expired_leases_are_taken_over_by_exactly_one_worker(
    any_catalog: Catalog, workers: list[Catalog]
) -> None:
    # a worker died holding ten jobs; four more were on their last allowed attempt (a file that
    # kills its worker): those are given up, once, while the crowd takes the others over
    retried = {ingest(any_catalog, original_filename=f"r{n}.mxf")[1] for n in range(10)}
    last = {ingest(any_catalog, original_filename=f"l{n}.mxf", max_attempts=1)[1] for n in range(4)}
    for job_id in retried | last:
        assert any_catalog.claim_job(worker="dead", lease_seconds=LEASE, now=NOW, job_id=job_id)
    still_running = ingest(any_catalog, original_filename="alive.mxf")[1]
    assert any_catalog.claim_job(worker="alive", lease_seconds=LEASE * 10, now=NOW, job_id=still_running)

    results = racing(workers, claim_all(timedelta(seconds=LEASE + 1)))

    claims = Counter(job.id for taken in results for job in taken)
    assert claims == Counter(retried), claims
    for job_id in retried:
        job = any_catalog.get_job(job_id)
        assert (job.state, job.attempts) == (JobState.PROBING, 2)
        assert job.worker in {f"w{index}" for index in range(CLAIMERS)}
    for job_id in last:
        job = any_catalog.get_job(job_id)
        assert (job.state, job.attempts, job.worker) == (JobState.FAILED, 1, None)
        assert job.failure_reason is not None
        assert job.failure_reason.startswith("gave up after 1 attempts")
    assert any_catalog.get_job(still_running).worker == "alive"  # its lease holds


def test_claimers_racing_for_one_job_leave_it_to_one(any_catalog: Catalog, workers: list[Catalog]) -> None:
    _, job_id = ingest(any_catalog)

    def work(index: int, catalog: Catalog) -> Job | None:
        return catalog.claim_job(worker=f"w{index}", lease_seconds=LEASE, now=NOW, job_id=job_id)

    results = racing(workers, work)

    (winner,) = [job for job in results if job is not None]
    assert any_catalog.get_job(job_id).worker == winner.worker


def test_asset_edits_on_one_version_apply_once(any_catalog: Catalog, workers: list[Catalog]) -> None:
    # an editor's change names the version it was made on (FOR UPDATE where the database has it;
    # SQLite's write lock where it has not): two on one version never both apply
    asset_id = published(any_catalog)
    seen = any_catalog.get_asset(asset_id).version

    def edit(index: int, catalog: Catalog) -> Asset:
        change = MetadataChange(title=f"第1课（第{index}稿）")
        return catalog.update_metadata(asset_id, change, now=NOW, expected_version=seen)

    outcomes = racing(workers, lambda index, catalog: _outcome(edit, index, catalog))

    applied = [o for o in outcomes if isinstance(o, Asset)]
    assert len(applied) == 1, outcomes
    assert all(isinstance(o, ConflictError) for o in outcomes if o is not applied[0]), outcomes
    assert any_catalog.get_asset(asset_id).metadata.title == applied[0].metadata.title


def _outcome(work: Callable[[int, Catalog], T], index: int, catalog: Catalog) -> T | Exception:
    try:
        return work(index, catalog)
    except Exception as exc:
        return exc
