"""The catalog contract, run unchanged on SQLite and on PostgreSQL (the ``any_catalog`` fixture)."""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, func, select, update

from rcmedia.catalog.repository import AssetQuery, Catalog
from rcmedia.catalog.tables import AssetRow, JobRow, RenditionRow
from rcmedia.core.assets import Asset, Job, Rendition
from rcmedia.core.models import AssetMetadata, AssetStatus, JobState, Output, Rights, Source
from rcmedia.errors import CatalogError, ConflictError, JobError, NotFoundError

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")
LEASE = 30.0  # seconds
CODECS = "avc1.64001f,mp4a.40.2"

METADATA = AssetMetadata(
    title="第1课：党的建设（上）",
    series="党建基础",
    episode=1,
    source=Source.PROVINCIAL,
    language="zh",
    description="讲授人：王老师。含“引号”与全角标点！",
    categories=("党建", "理论学习"),
    rights=(
        Rights(
            output=Output.TV, start=datetime(2026, 12, 1, tzinfo=UTC), end=datetime(2027, 1, 1, tzinfo=UTC)
        ),
        Rights(output=Output.IPTV),
        Rights(output=Output.MOBILE, start=datetime(2026, 12, 1, 8, 30, tzinfo=SHANGHAI)),
    ),
)


def ingest(
    catalog: Catalog,
    title: str = "第1课",
    *,
    original_filename: str = "lesson01.mxf",
    source_path: str | None = None,
    series: str | None = None,
    source: Source = Source.OWN,
    max_attempts: int = 3,
    now: datetime = NOW,
) -> tuple[int, int]:
    return catalog.create_ingest(
        AssetMetadata(title=title, series=series, source=source),
        original_filename=original_filename,
        source_path=source_path or f"/srv/ingest/{original_filename}",
        profile="default",
        max_attempts=max_attempts,
        now=now,
    )


def claim(catalog: Catalog, worker: str = "w1", *, at: timedelta = timedelta(), **kwargs: Any) -> Job | None:
    return catalog.claim_job(worker=worker, lease_seconds=LEASE, now=NOW + at, **kwargs)


def claimed(catalog: Catalog, worker: str = "w1", *, at: timedelta = timedelta(), **kwargs: Any) -> Job:
    job = claim(catalog, worker, at=at, **kwargs)
    assert job is not None, "expected a claimable job"
    return job


def rendition(name: str, height: int, *, fmp4: bool = False, segments: int = 3) -> Rendition:
    width = height * 16 // 9
    extension = "m4s" if fmp4 else "ts"
    durations = (6.0,) * (segments - 1) + (4.04,)
    return Rendition(
        name=name,
        width=width,
        height=height,
        bandwidth=height * 4_400,
        average_bandwidth=height * 3_700,
        codecs=CODECS,
        frame_rate=25.0,
        segments=tuple(f"seg_{i:05d}.{extension}" for i in range(1, segments + 1)),
        segment_durations=durations,
        init_segment="init.mp4" if fmp4 else None,
    )


LADDER = (rendition("360p", 360), rendition("1080p", 1080), rendition("720p", 720))


def publish(
    catalog: Catalog,
    job_id: int,
    *,
    worker: str = "w1",
    prefix: str = "assets/1/1-1-abcd",
    renditions: tuple[Rendition, ...] = LADDER,
    segment_type: str = "ts",
    at: timedelta = timedelta(minutes=5),
) -> None:
    catalog.publish(
        job_id=job_id,
        worker=worker,
        storage_prefix=prefix,
        duration=16.04,
        segment_type=segment_type,
        target_duration=6,
        renditions=renditions,
        now=NOW + at,
    )


def count(catalog: Catalog, row: type[Any]) -> int:
    with catalog.engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(row)) or 0


# --- create_ingest ---------------------------------------------------------------------------


def test_create_ingest_makes_a_pending_asset_and_a_queued_job(any_catalog: Catalog) -> None:
    asset_id, job_id = any_catalog.create_ingest(
        METADATA,
        original_filename="第1课 党的建设.mxf",
        source_path="/srv/ingest/省厅/第1课 党的建设.mxf",
        profile="default",
        max_attempts=4,
        now=NOW,
    )

    asset = any_catalog.get_asset(asset_id)
    assert asset.id == asset_id
    assert asset.metadata == METADATA  # Chinese text, categories and every rights row round-trip
    assert asset.metadata.rights[2].start == datetime(2026, 12, 1, 0, 30, tzinfo=UTC)
    assert asset.original_filename == "第1课 党的建设.mxf"
    assert asset.profile == "default"
    assert asset.status is AssetStatus.PENDING
    assert (asset.duration, asset.storage_prefix, asset.segment_type, asset.target_duration) == (
        None,
        None,
        None,
        None,
    )
    assert asset.renditions == ()
    assert asset.created_at == NOW
    assert asset.published_at is None

    job = any_catalog.get_job(job_id)
    assert job.id == job_id
    assert job.asset_id == asset_id
    assert job.source_path == "/srv/ingest/省厅/第1课 党的建设.mxf"
    assert job.original_filename == "第1课 党的建设.mxf"
    assert job.profile == "default"
    assert job.state is JobState.QUEUED
    assert (job.attempts, job.max_attempts, job.progress, job.speed) == (0, 4, 0.0, None)
    assert job.failure_reason is None
    assert job.created_at == job.updated_at == NOW
    assert job.started_at is None
    assert job.finished_at is None


def test_create_ingest_gives_new_ids_each_time(any_catalog: Catalog) -> None:
    first = ingest(any_catalog, original_filename="a.mxf")
    second = any_catalog.create_ingest(
        AssetMetadata(title="无版权", rights=()),
        original_filename="a.mxf",
        source_path="/srv/ingest/a.mxf",
        profile="default",
        max_attempts=1,
        now=NOW,
    )
    assert first[0] != second[0]
    assert first[1] != second[1]
    assert count(any_catalog, AssetRow) == 2
    assert count(any_catalog, JobRow) == 2
    assert any_catalog.get_asset(second[0]).metadata.rights == ()
    assert any_catalog.get_asset(first[0]).metadata.rights == tuple(Rights(output=o) for o in Output)


def test_a_naive_datetime_is_refused_and_nothing_is_written(any_catalog: Catalog) -> None:
    with pytest.raises(CatalogError, match="naive datetime"):
        ingest(any_catalog, now=NOW.replace(tzinfo=None))
    assert count(any_catalog, AssetRow) == 0
    assert count(any_catalog, JobRow) == 0


# --- claim_job -------------------------------------------------------------------------------


def test_claim_takes_the_oldest_queued_job_then_the_next(any_catalog: Catalog) -> None:
    assert claim(any_catalog) is None  # nothing queued yet
    jobs = [ingest(any_catalog, f"第{n}课", original_filename=f"{n}.mxf")[1] for n in range(1, 4)]

    first = claimed(any_catalog, "w1", at=timedelta(seconds=1))
    assert first.id == jobs[0]
    assert first.state is JobState.PROBING
    assert first.attempts == 1
    assert first.worker == "w1"
    assert first.progress == 0.0
    assert first.started_at == first.updated_at == NOW + timedelta(seconds=1)
    assert first.created_at == NOW
    assert any_catalog.get_job(first.id) == first  # what claim returns is what is stored

    assert claimed(any_catalog, "w2").id == jobs[1]
    assert claimed(any_catalog, "w3").id == jobs[2]
    assert claim(any_catalog, "w4") is None
    assert any_catalog.get_job(jobs[0]).state is JobState.PROBING  # nobody took the first over


def test_claim_a_given_job(any_catalog: Catalog) -> None:
    first = ingest(any_catalog, original_filename="1.mxf")[1]
    third = [ingest(any_catalog, original_filename=f"{n}.mxf")[1] for n in (2, 3)][-1]

    job = claimed(any_catalog, job_id=third)
    assert (job.id, job.state, job.attempts) == (third, JobState.PROBING, 1)
    assert claim(any_catalog, "w2", job_id=third) is None  # running, its lease holds
    assert claim(any_catalog, "w2", job_id=10_000) is None  # no such job
    assert claimed(any_catalog, "w2").id == first  # the oldest queued is still the first


@pytest.mark.parametrize(
    ("later", "claimable"),
    [
        pytest.param(timedelta(seconds=LEASE - 1), False, id="lease-about-to-run-out"),
        pytest.param(timedelta(seconds=LEASE + 1), True, id="lease-ran-out"),
    ],
)
def test_a_running_job_is_claimable_again_only_once_its_lease_ran_out(
    any_catalog: Catalog, later: timedelta, claimable: bool
) -> None:
    _, job_id = ingest(any_catalog)
    claimed(any_catalog, "dead-worker")

    taken = claim(any_catalog, "w2", at=later)

    if not claimable:
        assert taken is None
        assert any_catalog.renew_lease(job_id, worker="dead-worker", lease_seconds=LEASE, now=NOW + later)
        return
    assert taken is not None
    assert (taken.id, taken.state, taken.attempts) == (job_id, JobState.PROBING, 2)
    assert taken.started_at == NOW + later
    assert any_catalog.renew_lease(job_id, worker="w2", lease_seconds=LEASE, now=NOW + later)
    assert not any_catalog.renew_lease(job_id, worker="dead-worker", lease_seconds=LEASE, now=NOW + later)


@pytest.mark.parametrize(
    "state",
    [
        pytest.param(JobState.PROBING, id="probing"),
        pytest.param(JobState.TRANSCODING, id="transcoding"),
        pytest.param(JobState.VERIFYING, id="verifying"),
    ],
)
def test_an_expired_job_is_claimable_in_every_running_state(any_catalog: Catalog, state: JobState) -> None:
    _, job_id = ingest(any_catalog)
    claimed(any_catalog, "dead-worker")
    assert any_catalog.set_job_progress(
        job_id, worker="dead-worker", state=state, progress=0.5, now=NOW + timedelta(seconds=5)
    )

    assert claim(any_catalog, "w2", at=timedelta(seconds=20)) is None
    taken = claimed(any_catalog, "w2", at=timedelta(seconds=LEASE + 1))
    assert (taken.id, taken.state, taken.progress, taken.worker) == (job_id, JobState.PROBING, 0.0, "w2")


def test_lease_times_compare_as_instants_whatever_the_zone_of_now(any_catalog: Catalog) -> None:
    _, job_id = ingest(any_catalog)
    assert any_catalog.claim_job(worker="w1", lease_seconds=LEASE, now=NOW.astimezone(SHANGHAI))

    # 8 hours apart on the wall clock, 10 s apart in fact: the lease still holds
    assert claim(any_catalog, "w2", at=timedelta(seconds=10)) is None
    late = (NOW + timedelta(seconds=LEASE + 1)).astimezone(SHANGHAI)
    taken = any_catalog.claim_job(worker="w2", lease_seconds=LEASE, now=late)
    assert taken is not None
    assert taken.id == job_id
    assert taken.started_at == late
    # and a lease taken on a Shanghai clock holds against a UTC one
    assert claim(any_catalog, "w3", at=timedelta(seconds=LEASE + 20)) is None


def test_concurrent_claims_never_hand_out_a_job_twice(any_catalog: Catalog) -> None:
    jobs = {ingest(any_catalog, original_filename=f"{n}.mxf")[1] for n in range(8)}
    workers = 4
    start = threading.Barrier(workers)

    def work(index: int) -> list[int]:
        start.wait(timeout=10)
        taken: list[int] = []
        while (job := claim(any_catalog, f"w{index}")) is not None:
            assert job.attempts == 1
            taken.append(job.id)
        return taken

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(work, range(workers)))

    claims = Counter(job_id for taken in results for job_id in taken)
    assert set(claims) == jobs
    assert all(times == 1 for times in claims.values()), claims
    assert all(any_catalog.get_job(job_id).attempts == 1 for job_id in jobs)


def test_a_job_whose_lease_keeps_running_out_is_not_claimed_past_its_attempt_limit(
    any_catalog: Catalog,
) -> None:
    # A worker that dies mid-job (OOM-killed by a poison file, power cut) never calls fail_job:
    # the job comes back only through lease expiry. That must still count against max_attempts,
    # or a file that kills its worker is retried forever.
    asset_id, job_id = ingest(any_catalog, max_attempts=2)
    assert claimed(any_catalog, "w1").attempts == 1
    assert claimed(any_catalog, "w2", at=timedelta(minutes=1)).attempts == 2

    third = claim(any_catalog, "w3", at=timedelta(minutes=2))

    assert third is None
    job = any_catalog.get_job(job_id)
    assert (job.state, job.attempts, job.worker) == (JobState.FAILED, 2, None)
    assert job.finished_at == NOW + timedelta(minutes=2)
    assert job.failure_reason is not None
    assert job.failure_reason.startswith("gave up after 2 attempts: the worker stopped (killed or crashed)")
    assert any_catalog.get_asset(asset_id).status is AssetStatus.FAILED
    assert any_catalog.pending_job_count() == 0
    assert claim(any_catalog, "w4", at=timedelta(hours=1)) is None  # and it stays given up


def test_claim_gives_up_on_a_job_whose_worker_died_on_its_last_attempt(any_catalog: Catalog) -> None:
    asset_id, job_id = ingest(any_catalog, max_attempts=2)
    _, other_job = ingest(any_catalog, original_filename="other.mxf")
    claimed(any_catalog, "w1", job_id=job_id)
    assert any_catalog.fail_job(job_id, worker="w1", reason="ffmpeg exited 1", retry=True, now=NOW) is (
        JobState.QUEUED
    )
    last = claimed(any_catalog, "doomed", at=timedelta(minutes=1), job_id=job_id)
    assert (last.attempts, last.max_attempts) == (2, 2)
    # "doomed" is killed mid-job: it never calls fail_job. While its lease holds, nothing happens.
    assert claim(any_catalog, "w2", at=timedelta(minutes=1, seconds=LEASE - 1), job_id=job_id) is None
    assert any_catalog.get_job(job_id).state is JobState.PROBING
    assert any_catalog.get_asset(asset_id).status is AssetStatus.PENDING

    gave_up_at = timedelta(minutes=1, seconds=LEASE + 1)
    taken = claimed(any_catalog, "w2", at=gave_up_at)  # another queued job is still handed out

    assert taken.id == other_job
    job = any_catalog.get_job(job_id)
    assert (job.state, job.attempts, job.worker) == (JobState.FAILED, 2, None)
    assert job.failure_reason == (
        "gave up after 2 attempts: the worker stopped (killed or crashed) while running it; "
        "last error: ffmpeg exited 1"
    )
    assert job.finished_at == job.updated_at == NOW + gave_up_at
    assert any_catalog.get_asset(asset_id).status is AssetStatus.FAILED
    assert not any_catalog.renew_lease(job_id, worker="doomed", lease_seconds=LEASE, now=NOW + gave_up_at)
    # the dead worker, if it was only paused, cannot undo the outcome
    late = NOW + gave_up_at + timedelta(seconds=1)
    assert any_catalog.fail_job(job_id, worker="doomed", reason="x", retry=True, now=late) is JobState.FAILED
    assert not any_catalog.set_job_progress(job_id, worker="doomed", state=JobState.TRANSCODING, now=late)
    assert any_catalog.get_job(job_id) == job


# --- renew_lease -----------------------------------------------------------------------------


def test_renew_lease_extends_the_lease_of_the_owner(any_catalog: Catalog) -> None:
    _, job_id = ingest(any_catalog)
    claimed(any_catalog, "w1")

    assert any_catalog.renew_lease(job_id, worker="w1", lease_seconds=LEASE, now=NOW + timedelta(seconds=20))

    # without the renewal the lease would have run out at +30 s; now it lasts until +50 s
    assert claim(any_catalog, "w2", at=timedelta(seconds=45)) is None
    assert claimed(any_catalog, "w2", at=timedelta(seconds=51)).id == job_id


def test_renew_lease_is_false_for_another_worker(any_catalog: Catalog) -> None:
    _, job_id = ingest(any_catalog)
    claimed(any_catalog, "w1")
    assert not any_catalog.renew_lease(job_id, worker="w2", lease_seconds=LEASE, now=NOW)
    # and it did not extend the owner's lease either
    assert claimed(any_catalog, "w2", at=timedelta(seconds=LEASE + 1)).id == job_id


@pytest.mark.parametrize(
    "retry",
    [pytest.param(True, id="requeued"), pytest.param(False, id="failed")],
)
def test_renew_lease_is_false_after_fail(any_catalog: Catalog, retry: bool) -> None:
    _, job_id = ingest(any_catalog)
    claimed(any_catalog, "w1")
    any_catalog.fail_job(job_id, worker="w1", reason="ffmpeg crashed", retry=retry, now=NOW)
    assert not any_catalog.renew_lease(job_id, worker="w1", lease_seconds=LEASE, now=NOW)


def test_renew_lease_is_false_unless_running(any_catalog: Catalog) -> None:
    _, job_id = ingest(any_catalog)
    assert not any_catalog.renew_lease(job_id, worker="w1", lease_seconds=LEASE, now=NOW)  # queued
    claimed(any_catalog, "w1")
    publish(any_catalog, job_id)
    assert not any_catalog.renew_lease(job_id, worker="w1", lease_seconds=LEASE, now=NOW)
    assert not any_catalog.renew_lease(10_000, worker="w1", lease_seconds=LEASE, now=NOW)


# --- set_job_progress ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        pytest.param(-0.5, 0.0, id="below-zero"),
        pytest.param(1.7, 1.0, id="above-one"),
    ],
)
def test_set_job_progress_clamps_to_zero_one(any_catalog: Catalog, given: float, stored: float) -> None:
    _, job_id = ingest(any_catalog)
    claimed(any_catalog)
    later = NOW + timedelta(seconds=7)

    assert any_catalog.set_job_progress(
        job_id, worker="w1", state=JobState.TRANSCODING, progress=given, speed=2.5, now=later
    )

    job = any_catalog.get_job(job_id)
    assert (job.state, job.progress, job.speed, job.updated_at) == (JobState.TRANSCODING, stored, 2.5, later)


def test_set_job_progress_keeps_what_it_is_not_given(any_catalog: Catalog) -> None:
    _, job_id = ingest(any_catalog)
    claimed(any_catalog)
    any_catalog.set_job_progress(
        job_id, worker="w1", state=JobState.TRANSCODING, progress=0.4, speed=3.0, now=NOW
    )

    assert any_catalog.set_job_progress(
        job_id, worker="w1", state=JobState.VERIFYING, now=NOW + timedelta(seconds=1)
    )

    job = any_catalog.get_job(job_id)
    assert (job.state, job.progress, job.speed) == (JobState.VERIFYING, 0.4, 3.0)


@pytest.mark.parametrize(
    "finish",
    [pytest.param("publish", id="published"), pytest.param("fail", id="failed")],
)
def test_progress_reports_do_not_reopen_a_finished_job(any_catalog: Catalog, finish: str) -> None:
    # A worker that lost its lease (paused process, long GC) may still report progress before it
    # notices; by then the job may be finished. Reopening it leaves a "transcoding" job with no
    # lease that no worker will ever claim and that pending_job_count counts forever.
    _, job_id = ingest(any_catalog)
    claimed(any_catalog)
    if finish == "publish":
        publish(any_catalog, job_id)
    else:
        any_catalog.fail_job(job_id, worker="w1", reason="bad input", retry=False, now=NOW)
    before = any_catalog.get_job(job_id)

    written = any_catalog.set_job_progress(
        job_id, worker="w1", state=JobState.TRANSCODING, progress=0.3, now=NOW + timedelta(minutes=9)
    )

    assert written is False
    assert any_catalog.get_job(job_id) == before
    assert any_catalog.pending_job_count() == 0
    assert claim(any_catalog, "w2", at=timedelta(hours=1)) is None


def test_progress_reports_from_a_worker_that_does_not_hold_the_job_are_refused(
    any_catalog: Catalog,
) -> None:
    _, job_id = ingest(any_catalog)
    assert not any_catalog.set_job_progress(  # queued: nobody holds it
        job_id, worker="w1", state=JobState.TRANSCODING, progress=0.2, now=NOW
    )
    assert not any_catalog.set_job_progress(10_000, worker="w1", state=JobState.TRANSCODING, now=NOW)
    claimed(any_catalog, "stale")
    claimed(any_catalog, "owner", at=timedelta(seconds=LEASE + 1))
    assert any_catalog.set_job_progress(
        job_id,
        worker="owner",
        state=JobState.TRANSCODING,
        progress=0.25,
        speed=2.0,
        now=NOW + timedelta(seconds=40),
    )
    before = any_catalog.get_job(job_id)

    for worker in ("stale", "never-held-it"):
        written = any_catalog.set_job_progress(
            job_id,
            worker=worker,
            state=JobState.VERIFYING,
            progress=0.9,
            speed=9.0,
            now=NOW + timedelta(seconds=50),
        )
        assert written is False, worker

    assert any_catalog.get_job(job_id) == before
    assert (before.state, before.progress, before.speed, before.worker) == (
        JobState.TRANSCODING,
        0.25,
        2.0,
        "owner",
    )


# --- fail_job --------------------------------------------------------------------------------


def test_fail_with_retry_requeues_while_attempts_remain_then_fails(any_catalog: Catalog) -> None:
    asset_id, job_id = ingest(any_catalog, max_attempts=2)

    claimed(any_catalog)
    state = any_catalog.fail_job(
        job_id, worker="w1", reason="ffmpeg exited 1", retry=True, now=NOW + timedelta(minutes=1)
    )
    assert state is JobState.QUEUED
    job = any_catalog.get_job(job_id)
    assert (job.state, job.attempts, job.failure_reason) == (JobState.QUEUED, 1, "ffmpeg exited 1")
    assert job.worker is None
    assert job.updated_at == NOW + timedelta(minutes=1)
    assert job.finished_at is None
    assert any_catalog.get_asset(asset_id).status is AssetStatus.PENDING

    again = claimed(any_catalog, "w2", at=timedelta(minutes=2))  # no lease left to wait for
    assert (again.id, again.attempts) == (job_id, 2)
    state = any_catalog.fail_job(
        job_id, worker="w2", reason="ffmpeg exited 1 again", retry=True, now=NOW + timedelta(minutes=3)
    )
    assert state is JobState.FAILED
    job = any_catalog.get_job(job_id)
    assert (job.state, job.attempts, job.failure_reason) == (JobState.FAILED, 2, "ffmpeg exited 1 again")
    assert job.finished_at == NOW + timedelta(minutes=3)
    assert any_catalog.get_asset(asset_id).status is AssetStatus.FAILED
    assert claim(any_catalog, "w3", at=timedelta(hours=1)) is None


def test_fail_without_retry_fails_at_once(any_catalog: Catalog) -> None:
    asset_id, job_id = ingest(any_catalog, max_attempts=5)
    claimed(any_catalog)

    state = any_catalog.fail_job(job_id, worker="w1", reason="not a media file", retry=False, now=NOW)

    assert state is JobState.FAILED
    job = any_catalog.get_job(job_id)
    assert (job.state, job.attempts, job.failure_reason, job.finished_at) == (
        JobState.FAILED,
        1,
        "not a media file",
        NOW,
    )
    assert any_catalog.get_asset(asset_id).status is AssetStatus.FAILED
    assert claim(any_catalog, "w2", at=timedelta(hours=1)) is None


@pytest.mark.parametrize(
    "worker",
    [pytest.param("stale", id="the-worker-that-lost-it"), pytest.param("owner", id="the-publisher")],
)
def test_failing_a_published_job_does_not_undo_it(any_catalog: Catalog, worker: str) -> None:
    # The runner calls fail_job after it lost its lease ("another worker took the job over"); by
    # then the new owner may have published. The outcome of a finished job must stay final.
    asset_id, job_id = ingest(any_catalog)
    claimed(any_catalog, "stale")
    claimed(any_catalog, "owner", at=timedelta(seconds=LEASE + 1))
    publish(any_catalog, job_id, worker="owner")
    before = any_catalog.get_job(job_id)

    state = any_catalog.fail_job(
        job_id, worker=worker, reason="lease lost", retry=True, now=NOW + timedelta(minutes=9)
    )

    assert state is JobState.PUBLISHED
    assert any_catalog.get_job(job_id) == before
    assert any_catalog.get_asset(asset_id).status is AssetStatus.PUBLISHED
    assert claim(any_catalog, "w2", at=timedelta(minutes=10)) is None


@pytest.mark.parametrize("retry", [pytest.param(True, id="retry"), pytest.param(False, id="permanent")])
def test_a_stale_workers_failure_does_not_touch_the_job_another_worker_took_over(
    any_catalog: Catalog, retry: bool
) -> None:
    # runner.run_one: the lease thread sees renew_lease() is False, cancels the attempt, and the
    # runner then records fail_job(job.id, reason="lease lost, another worker took the job over").
    # That must not clear the new owner's lease (a third worker could then run the job at the
    # same time) nor fail the job under it.
    asset_id, job_id = ingest(any_catalog, max_attempts=2)
    claimed(any_catalog, "stale")
    claimed(any_catalog, "owner", at=timedelta(seconds=LEASE + 1))
    assert not any_catalog.renew_lease(
        job_id, worker="stale", lease_seconds=LEASE, now=NOW + timedelta(minutes=1)
    )

    before = any_catalog.get_job(job_id)

    state = any_catalog.fail_job(
        job_id,
        worker="stale",
        reason="lease lost, another worker took the job over",
        retry=retry,
        now=NOW + timedelta(minutes=1),
    )

    assert state is JobState.PROBING  # the job's current state, untouched
    job = any_catalog.get_job(job_id)
    assert job == before
    assert (job.state, job.attempts, job.failure_reason, job.worker) == (JobState.PROBING, 2, None, "owner")
    assert any_catalog.get_asset(asset_id).status is AssetStatus.PENDING
    assert claim(any_catalog, "third", at=timedelta(minutes=1)) is None
    assert any_catalog.renew_lease(
        job_id, worker="owner", lease_seconds=LEASE, now=NOW + timedelta(minutes=1)
    )


# --- publish ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("segment_type", "ladder"),
    [
        pytest.param("ts", LADDER, id="mpeg-ts"),
        pytest.param(
            "fmp4",
            (rendition("540p", 540, fmp4=True, segments=4), rendition("1080p", 1080, fmp4=True, segments=4)),
            id="fmp4",
        ),
    ],
)
def test_publish_stores_renditions_and_flips_the_asset(
    any_catalog: Catalog, segment_type: str, ladder: tuple[Rendition, ...]
) -> None:
    asset_id, job_id = ingest(any_catalog)
    claimed(any_catalog)
    any_catalog.set_job_progress(
        job_id, worker="w1", state=JobState.VERIFYING, progress=0.9, speed=4.0, now=NOW
    )

    publish(any_catalog, job_id, prefix="assets/1/1-1-c0ffee", renditions=ladder, segment_type=segment_type)

    asset = any_catalog.get_asset(asset_id)
    assert asset.status is AssetStatus.PUBLISHED
    assert asset.storage_prefix == "assets/1/1-1-c0ffee"
    assert asset.duration == 16.04
    assert asset.segment_type == segment_type
    assert asset.target_duration == 6
    assert asset.published_at == NOW + timedelta(minutes=5)
    # every measured fact round-trips; the ladder comes back highest rung first
    assert asset.renditions == tuple(sorted(ladder, key=lambda r: r.height, reverse=True))
    assert {r.name: r.segment_count for r in asset.renditions} == {r.name: len(r.segments) for r in ladder}
    assert asset.rendition(ladder[0].name) == ladder[0]

    job = any_catalog.get_job(job_id)
    assert job.state is JobState.PUBLISHED
    assert job.progress == 1.0
    assert job.finished_at == job.updated_at == NOW + timedelta(minutes=5)
    assert any_catalog.pending_job_count() == 0


def test_replace_package_points_the_asset_at_a_copy_unless_it_moved_on(any_catalog: Catalog) -> None:
    asset_id, job_id = ingest(any_catalog)
    claimed(any_catalog)
    publish(any_catalog, job_id, prefix="assets/1/1-1-c0ffee")
    copy = tuple(dataclasses.replace(r, bandwidth=r.bandwidth + 1) for r in LADDER)

    any_catalog.replace_package(
        asset_id,
        expected_prefix="assets/1/1-1-c0ffee",
        storage_prefix="assets/1/repackaged-1",
        renditions=copy,
        now=NOW + timedelta(hours=1),
    )

    asset = any_catalog.get_asset(asset_id)
    assert asset.storage_prefix == "assets/1/repackaged-1"
    assert asset.renditions == tuple(sorted(copy, key=lambda r: r.height, reverse=True))
    assert asset.updated_at == NOW + timedelta(hours=1)
    assert asset.published_at == NOW + timedelta(minutes=5)
    with pytest.raises(ConflictError):
        any_catalog.replace_package(
            asset_id, expected_prefix="assets/1/1-1-c0ffee", storage_prefix="x", renditions=copy, now=NOW
        )
    assert any_catalog.get_asset(asset_id).storage_prefix == "assets/1/repackaged-1"


def test_publish_after_a_failed_attempt_clears_the_failure(any_catalog: Catalog) -> None:
    _, job_id = ingest(any_catalog)
    claimed(any_catalog)
    any_catalog.fail_job(job_id, worker="w1", reason="ffmpeg crashed", retry=True, now=NOW)
    claimed(any_catalog, "w2", at=timedelta(minutes=1))

    publish(any_catalog, job_id, worker="w2")

    job = any_catalog.get_job(job_id)
    assert (job.state, job.attempts, job.failure_reason) == (JobState.PUBLISHED, 2, None)


@pytest.mark.parametrize(
    "state",
    [
        pytest.param("queued", id="queued"),
        pytest.param("failed", id="failed"),
        pytest.param("published", id="published"),
    ],
)
def test_publish_refuses_a_job_that_is_not_running(any_catalog: Catalog, state: str) -> None:
    asset_id, job_id = ingest(any_catalog)
    if state != "queued":
        claimed(any_catalog)
    if state in ("requeued", "failed"):
        any_catalog.fail_job(job_id, worker="w1", reason="boom", retry=state == "requeued", now=NOW)
    if state == "published":
        publish(any_catalog, job_id, prefix="assets/1/first")
    asset_before, job_before = any_catalog.get_asset(asset_id), any_catalog.get_job(job_id)

    with pytest.raises(JobError, match=rf"job {job_id}\b.*not running"):
        publish(any_catalog, job_id, prefix="assets/1/second", renditions=(rendition("144p", 144),))

    assert any_catalog.get_asset(asset_id) == asset_before
    assert any_catalog.get_job(job_id) == job_before


@pytest.mark.parametrize(
    "worker",
    [
        pytest.param("stale", id="the-worker-whose-lease-ran-out"),
        pytest.param("never-held-it", id="a-worker-that-never-claimed-it"),
    ],
)
def test_publish_refuses_a_worker_that_does_not_hold_the_job(any_catalog: Catalog, worker: str) -> None:
    asset_id, job_id = ingest(any_catalog)
    claimed(any_catalog, "stale")
    claimed(any_catalog, "owner", at=timedelta(seconds=LEASE + 1))
    asset_before, job_before = any_catalog.get_asset(asset_id), any_catalog.get_job(job_id)

    with pytest.raises(JobError, match=rf"job {job_id}\b.*held by another worker"):
        publish(any_catalog, job_id, worker=worker, prefix="assets/1/stale")

    assert any_catalog.get_asset(asset_id) == asset_before
    assert any_catalog.get_job(job_id) == job_before
    assert count(any_catalog, RenditionRow) == 0
    # the owner still can
    publish(any_catalog, job_id, worker="owner", prefix="assets/1/owner")
    assert any_catalog.get_asset(asset_id).storage_prefix == "assets/1/owner"


def test_republishing_replaces_the_renditions(any_catalog: Catalog) -> None:
    asset_id, job_id = ingest(any_catalog)
    other_asset, other_job = ingest(any_catalog, original_filename="other.mxf")
    claimed(any_catalog, job_id=job_id)
    claimed(any_catalog, job_id=other_job)
    publish(any_catalog, job_id, prefix="assets/1/first")
    publish(any_catalog, other_job, prefix="assets/2/only", renditions=(rendition("720p", 720),))
    # the same job running again (arranged in SQL: the API has no way back from published)
    with any_catalog.engine.begin() as connection:
        connection.execute(
            update(JobRow).where(JobRow.id == job_id).values(state=JobState.VERIFYING.value, worker="w1")
        )

    second = (rendition("480p", 480, fmp4=True), rendition("240p", 240, fmp4=True))
    publish(
        any_catalog,
        job_id,
        prefix="assets/1/second",
        renditions=second,
        segment_type="fmp4",
        at=timedelta(minutes=30),
    )

    asset = any_catalog.get_asset(asset_id)
    assert asset.renditions == second
    assert asset.storage_prefix == "assets/1/second"
    assert asset.segment_type == "fmp4"
    assert asset.published_at == NOW + timedelta(minutes=30)
    assert count(any_catalog, RenditionRow) == 3  # the first ladder's rows are gone, not orphaned
    assert any_catalog.get_asset(other_asset).renditions == (rendition("720p", 720),)


# --- reads -----------------------------------------------------------------------------------


def test_unknown_ids_are_not_found(any_catalog: Catalog) -> None:
    ingest(any_catalog)  # id 1 exists, 10000 does not
    with pytest.raises(NotFoundError, match="asset 10000 not found") as info:
        any_catalog.get_asset(10_000)
    assert isinstance(info.value, LookupError)
    assert (info.value.kind, info.value.ident) == ("asset", 10_000)
    with pytest.raises(NotFoundError, match="job 10000 not found"):
        any_catalog.get_job(10_000)
    with pytest.raises(NotFoundError, match="job 10000 not found"):
        any_catalog.fail_job(10_000, worker="w1", reason="x", retry=True, now=NOW)
    with pytest.raises(NotFoundError, match="job 10000 not found"):
        publish(any_catalog, 10_000)


@pytest.fixture
def library(any_catalog: Catalog) -> dict[str, int]:
    """Six assets, by a short name: the catalog the search tests look through."""
    specs: list[tuple[str, str, str, str | None, Source]] = [
        ("dangjian1", "第1课：党的建设", "dangjian_01.mxf", "党建基础", Source.PROVINCIAL),
        ("algebra", "Lesson Two: Algebra", "ALG-02.mp4", "Maths", Source.CENTRAL),
        ("dangjian2", "第2课：党的建设", "dangjian_02.mxf", "党建基础", Source.PROVINCIAL),
        ("weather", "Weather report", "wx.MOV", None, Source.CITY),
        ("lesson", "lesson three", "第三课.mp4", "Maths", Source.OWN),
        ("history", "中国近代史", "History-Lesson.mxf", None, Source.CENTRAL),
    ]
    ids = {}
    for key, title, filename, series, source in specs:
        ids[key] = ingest(any_catalog, title, original_filename=filename, series=series, source=source)[0]
    return ids


def names(page_items: tuple[Asset, ...], library: dict[str, int]) -> list[str]:
    by_id = {asset_id: key for key, asset_id in library.items()}
    return [by_id[asset.id] for asset in page_items]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param(AssetQuery(text="党的建设"), ["dangjian1", "dangjian2"], id="chinese-title"),
        pytest.param(AssetQuery(text="第三课"), ["lesson"], id="chinese-filename"),
        pytest.param(AssetQuery(text="alg-02"), ["algebra"], id="filename-other-case"),
        pytest.param(
            AssetQuery(text="LESSON"), ["algebra", "lesson", "history"], id="title-or-filename-upper"
        ),
        pytest.param(AssetQuery(text="nothing like it"), [], id="no-match"),
        pytest.param(AssetQuery(series="党建基础"), ["dangjian1", "dangjian2"], id="series"),
        pytest.param(AssetQuery(text="lesson", series="Maths"), ["algebra", "lesson"], id="text-and-series"),
        pytest.param(AssetQuery(series="Maths", source=Source.OWN), ["lesson"], id="series-and-source"),
    ],
)
def test_find_assets_filters(
    any_catalog: Catalog, library: dict[str, int], query: AssetQuery, expected: list[str]
) -> None:
    page = any_catalog.find_assets(query)
    assert names(page.items, library) == expected  # in id order
    assert page.total == len(expected)
    assert (page.limit, page.offset) == (query.limit, query.offset)


def test_find_assets_by_status(any_catalog: Catalog, library: dict[str, int]) -> None:
    job_of = {job.asset_id: job.id for job in any_catalog.find_jobs().items}
    publish(any_catalog, claimed(any_catalog, job_id=job_of[library["weather"]]).id)
    failed = claimed(any_catalog, job_id=job_of[library["algebra"]])
    assert failed.worker is not None
    any_catalog.fail_job(failed.id, worker=failed.worker, reason="bad", retry=False, now=NOW)

    def find(status: AssetStatus) -> list[str]:
        return names(any_catalog.find_assets(AssetQuery(status=status)).items, library)

    assert find(AssetStatus.PUBLISHED) == ["weather"]
    assert find(AssetStatus.FAILED) == ["algebra"]
    assert find(AssetStatus.PENDING) == ["dangjian1", "dangjian2", "lesson", "history"]
    page = any_catalog.find_assets(AssetQuery(status=AssetStatus.PUBLISHED))
    assert page.items[0].renditions == tuple(sorted(LADDER, key=lambda r: r.height, reverse=True))


@pytest.mark.parametrize(
    ("limit", "offset", "expected"),
    [
        pytest.param(2, 0, ["dangjian1", "algebra"], id="first-page"),
        pytest.param(4, 4, ["lesson", "history"], id="short-last-page"),
        pytest.param(3, 6, [], id="past-the-end"),
    ],
)
def test_find_assets_pages(
    any_catalog: Catalog, library: dict[str, int], limit: int, offset: int, expected: list[str]
) -> None:
    page = any_catalog.find_assets(AssetQuery(limit=limit, offset=offset))
    assert names(page.items, library) == expected
    assert (page.total, page.limit, page.offset) == (6, limit, offset)


def test_find_assets_pages_a_filtered_result(any_catalog: Catalog, library: dict[str, int]) -> None:
    page = any_catalog.find_assets(AssetQuery(text="lesson", limit=2, offset=1))
    assert names(page.items, library) == ["lesson", "history"]
    assert page.total == 3


def test_find_assets_orders_by_id_not_by_title(any_catalog: Catalog) -> None:
    ids = [
        ingest(any_catalog, title, original_filename=f"{title}.mxf")[0] for title in ("b", "c", "a", "C", "B")
    ]
    assert [a.id for a in any_catalog.find_assets(AssetQuery()).items] == ids


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("100%", ["percent"], id="percent"),
        pytest.param("a_b", ["underscore"], id="underscore"),
    ],
)
def test_find_assets_matches_wildcard_characters_literally(
    any_catalog: Catalog, text: str, expected: list[str]
) -> None:
    # The text is a substring to find, not a LIKE pattern: "%" and "_" in an editor's search
    # match themselves only.
    library = {
        "percent": ingest(any_catalog, "合格率100%", original_filename="pass.mxf")[0],
        "thousand": ingest(any_catalog, "1000道题", original_filename="quiz.mxf")[0],
        "underscore": ingest(any_catalog, "a_b", original_filename="ab.mxf")[0],
        "other": ingest(any_catalog, "axb", original_filename="axb.mxf")[0],
    }
    page = any_catalog.find_assets(AssetQuery(text=text))
    assert names(page.items, library) == expected
    assert page.total == len(expected)


def test_find_jobs_newest_first_with_a_state_filter(any_catalog: Catalog) -> None:
    jobs = [ingest(any_catalog, original_filename=f"{n}.mxf")[1] for n in range(5)]
    claimed(any_catalog, job_id=jobs[1])
    claimed(any_catalog, job_id=jobs[3])
    any_catalog.fail_job(jobs[3], worker="w1", reason="bad", retry=False, now=NOW)

    everything = any_catalog.find_jobs()
    assert [j.id for j in everything.items] == list(reversed(jobs))
    assert (everything.total, everything.limit, everything.offset) == (5, 50, 0)

    queued = any_catalog.find_jobs(state=JobState.QUEUED)
    assert [j.id for j in queued.items] == [jobs[4], jobs[2], jobs[0]]
    assert queued.total == 3
    assert [j.id for j in any_catalog.find_jobs(state=JobState.PROBING).items] == [jobs[1]]
    assert [j.id for j in any_catalog.find_jobs(state=JobState.FAILED).items] == [jobs[3]]
    assert any_catalog.find_jobs(state=JobState.PUBLISHED).items == ()

    page = any_catalog.find_jobs(limit=2, offset=1)
    assert [j.id for j in page.items] == [jobs[3], jobs[2]]
    assert (page.total, page.limit, page.offset) == (5, 2, 1)


def test_jobs_by_source_path_gives_the_newest_job_per_path(any_catalog: Catalog) -> None:
    _, old = ingest(any_catalog, source_path="/srv/ingest/第1课.mxf")
    _, other = ingest(any_catalog, source_path="/srv/ingest/b.mxf")
    _, new = ingest(any_catalog, source_path="/srv/ingest/第1课.mxf")
    ingest(any_catalog, source_path="/srv/ingest/unasked.mxf")

    found = any_catalog.jobs_by_source_path(
        ["/srv/ingest/第1课.mxf", "/srv/ingest/b.mxf", "/srv/ingest/gone.mxf"]
    )

    assert {path: job.id for path, job in found.items()} == {
        "/srv/ingest/第1课.mxf": new,
        "/srv/ingest/b.mxf": other,
    }
    assert old != new
    assert any_catalog.jobs_by_source_path([]) == {}


def test_storage_prefixes(any_catalog: Catalog) -> None:
    asset_id, job_id = ingest(any_catalog)
    assert any_catalog.storage_prefixes(asset_id) == ()
    claimed(any_catalog)
    publish(any_catalog, job_id, prefix="assets/1/1-1-beef")
    assert any_catalog.storage_prefixes(asset_id) == ("assets/1/1-1-beef",)
    assert any_catalog.storage_prefixes(10_000) == ()


def test_pending_job_count_is_queued_plus_running(any_catalog: Catalog) -> None:
    jobs = [ingest(any_catalog, original_filename=f"{n}.mxf")[1] for n in range(5)]
    assert any_catalog.pending_job_count() == 5

    claimed(any_catalog, job_id=jobs[0])
    any_catalog.set_job_progress(jobs[0], worker="w1", state=JobState.TRANSCODING, progress=0.1, now=NOW)
    claimed(any_catalog, job_id=jobs[1])
    assert any_catalog.pending_job_count() == 5  # running jobs are still pending

    publish(any_catalog, jobs[0])
    assert any_catalog.pending_job_count() == 4
    any_catalog.fail_job(jobs[1], worker="w1", reason="retry me", retry=True, now=NOW)
    assert any_catalog.pending_job_count() == 4  # requeued
    claimed(any_catalog, job_id=jobs[2])
    any_catalog.fail_job(jobs[2], worker="w1", reason="bad", retry=False, now=NOW)
    assert any_catalog.pending_job_count() == 3


# --- time ------------------------------------------------------------------------------------


def _non_utc_sessions(catalog: Catalog) -> None:
    """On PostgreSQL, make every new connection's session zone Asia/Shanghai (the server default is UTC)."""
    if catalog.engine.dialect.name != "postgresql":
        return

    @event.listens_for(catalog.engine, "connect")
    def _zone(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("SET TIME ZONE 'Asia/Shanghai'")
        cursor.close()
        dbapi_connection.commit()

    catalog.engine.dispose()  # pooled connections were opened without it


def _assert_utc(value: datetime | None, expected: datetime, what: str) -> None:
    assert value is not None, what
    assert value.tzinfo is not None, f"{what} is naive: {value!r}"
    assert value.utcoffset() == timedelta(0), f"{what} is not in UTC: {value!r}"
    assert value == expected, what


def test_datetimes_come_back_aware_in_utc(any_catalog: Catalog) -> None:
    _non_utc_sessions(any_catalog)
    created = datetime(2026, 11, 27, 16, 0, tzinfo=SHANGHAI)  # NOW, on a Shanghai wall clock
    asset_id, job_id = any_catalog.create_ingest(
        METADATA,
        original_filename="x.mxf",
        source_path="/srv/x.mxf",
        profile="default",
        max_attempts=1,
        now=created,
    )
    started = (NOW + timedelta(seconds=1)).astimezone(SHANGHAI)
    any_catalog.claim_job(worker="w1", lease_seconds=LEASE, now=started)
    published = (NOW + timedelta(minutes=5)).astimezone(SHANGHAI)
    any_catalog.publish(
        job_id=job_id,
        worker="w1",
        storage_prefix="assets/1/p",
        duration=1.0,
        segment_type="ts",
        target_duration=6,
        renditions=LADDER,
        now=published,
    )

    asset = any_catalog.get_asset(asset_id)
    _assert_utc(asset.created_at, NOW, "asset.created_at")
    _assert_utc(asset.published_at, NOW + timedelta(minutes=5), "asset.published_at")
    tv, _, mobile = asset.metadata.rights
    _assert_utc(tv.start, datetime(2026, 12, 1, tzinfo=UTC), "rights.start")
    _assert_utc(tv.end, datetime(2027, 1, 1, tzinfo=UTC), "rights.end")
    _assert_utc(mobile.start, datetime(2026, 12, 1, 0, 30, tzinfo=UTC), "rights.start (given in +08:00)")
    found = any_catalog.find_assets(AssetQuery()).items[0]
    _assert_utc(found.created_at, NOW, "find_assets created_at")

    job = any_catalog.get_job(job_id)
    _assert_utc(job.created_at, NOW, "job.created_at")
    _assert_utc(job.started_at, NOW + timedelta(seconds=1), "job.started_at")
    _assert_utc(job.updated_at, NOW + timedelta(minutes=5), "job.updated_at")
    _assert_utc(job.finished_at, NOW + timedelta(minutes=5), "job.finished_at")
    listed = any_catalog.find_jobs().items[0]
    _assert_utc(listed.finished_at, NOW + timedelta(minutes=5), "find_jobs finished_at")
