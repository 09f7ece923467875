"""The catalog repository: every read and write of assets, renditions and jobs goes through here.

Methods are synchronous (SQLAlchemy sessions); the web layer calls them in a thread.
Job claiming is a conditional UPDATE, so any number of workers can share one database.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy import func, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, selectinload

from rcmedia.catalog.audit import add_entry
from rcmedia.catalog.db import Transactions
from rcmedia.catalog.search import (
    FIELDS,
    index_asset,
    match_count,
    matching_fields,
    ranked_page,
    rarest_first,
)
from rcmedia.catalog.tables import AssetRow, JobRow, RenditionRow, RightsRow
from rcmedia.core.assets import Asset, Job, Rendition
from rcmedia.core.audit import AuditAction, asset_target
from rcmedia.core.changes import MetadataChange
from rcmedia.core.models import AssetMetadata, AssetStatus, JobState, Output, Rights, Source
from rcmedia.core.search_terms import query_terms
from rcmedia.errors import AssetStateError, ConflictError, JobError, JobStateError, NotFoundError

if TYPE_CHECKING:  # imported where used: these modules import this one
    from rcmedia.catalog.accounts import Accounts
    from rcmedia.catalog.asrun import AsRunLog
    from rcmedia.catalog.audit import AuditLog
    from rcmedia.catalog.playout import PlayoutReads
    from rcmedia.catalog.schedules import ScheduleStore
    from rcmedia.catalog.withdrawn import WithdrawnPackages

T = TypeVar("T")
RUNNING_STATES = tuple(s.value for s in JobState if s.running)


@dataclass(frozen=True, kw_only=True, slots=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True, kw_only=True, slots=True)
class AssetQuery:
    # Words to find (rcmedia.core.search_terms): every one in the title, series, description or
    # original file name; ranked by that field, then by id. None (or only punctuation): no search.
    text: str | None = None
    series: str | None = None
    source: Source | None = None
    status: AssetStatus | None = None
    limit: int = 50
    offset: int = 0


def _asset(row: AssetRow) -> Asset:
    metadata = AssetMetadata(
        title=row.title,
        series=row.series,
        episode=row.episode,
        source=Source(row.source),
        language=row.language,
        description=row.description,
        categories=tuple(row.categories or ()),
        rights=tuple(Rights(output=Output(r.output), start=r.starts_at, end=r.ends_at) for r in row.rights),
    )
    return Asset(
        id=row.id,
        metadata=metadata,
        original_filename=row.original_filename,
        profile=row.profile,
        status=AssetStatus(row.status),
        duration=row.duration,
        storage_prefix=row.storage_prefix,
        segment_type=row.segment_type,
        target_duration=row.target_duration,
        renditions=tuple(_rendition(r) for r in row.renditions),
        created_at=row.created_at,
        published_at=row.published_at,
        updated_at=row.updated_at,
    )


_RENDITION_SCALARS = (
    "name",
    "width",
    "height",
    "bandwidth",
    "average_bandwidth",
    "codecs",
    "frame_rate",
    "init_segment",
)


def _rendition(row: RenditionRow) -> Rendition:
    return Rendition(
        **{f: getattr(row, f) for f in _RENDITION_SCALARS},
        segments=tuple(row.segments),
        segment_durations=tuple(row.segment_durations),
    )


def _rendition_row(rendition: Rendition) -> RenditionRow:
    return RenditionRow(
        **{f: getattr(rendition, f) for f in _RENDITION_SCALARS},
        segment_count=rendition.segment_count,
        segments=list(rendition.segments),
        segment_durations=list(rendition.segment_durations),
    )


def _job(row: JobRow) -> Job:
    return Job(
        id=row.id,
        asset_id=row.asset_id,
        source_path=row.source_path,
        original_filename=row.original_filename,
        profile=row.profile,
        state=JobState(row.state),
        attempts=row.attempts,
        max_attempts=row.max_attempts,
        progress=row.progress,
        speed=row.speed,
        failure_reason=row.failure_reason,
        worker=row.worker,
        created_at=row.created_at,
        updated_at=row.updated_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )


def _job_record(row: JobRow) -> dict[str, Any]:
    """What the audit log keeps of a job: its state, attempts and failure reason."""
    return {
        "asset_id": row.asset_id,
        "state": row.state,
        "attempts": row.attempts,
        "failure_reason": row.failure_reason,
    }


def _fail_pending_assets(session: Session, asset_ids: Sequence[int], now: datetime) -> None:
    if asset_ids:
        session.execute(
            update(AssetRow)
            .where(AssetRow.id.in_(list(asset_ids)), AssetRow.status == AssetStatus.PENDING.value)
            .values(status=AssetStatus.FAILED.value, updated_at=now)
        )


class Catalog:
    """Assets, renditions and ingest jobs in one SQL database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._session = Transactions(engine)

    # --- the other repositories on the same database: one facade, so callers pass a Catalog ---

    @functools.cached_property
    def schedules(self) -> ScheduleStore:
        """Channels as applied, built days and their events."""
        from rcmedia.catalog.schedules import ScheduleStore  # noqa: PLC0415 - it imports this module

        return ScheduleStore(self.engine)

    @functools.cached_property
    def playout(self) -> PlayoutReads:
        """What the live playout reads."""
        from rcmedia.catalog.playout import PlayoutReads  # noqa: PLC0415 - it imports this module

        return PlayoutReads(self.engine)

    @functools.cached_property
    def asrun(self) -> AsRunLog:
        """The as-run log."""
        from rcmedia.catalog.asrun import AsRunLog  # noqa: PLC0415 - it imports this module

        return AsRunLog(self.engine)

    @functools.cached_property
    def accounts(self) -> Accounts:
        """Users and their sessions."""
        from rcmedia.catalog.accounts import Accounts  # noqa: PLC0415 - it imports this module

        return Accounts(self.engine)

    @functools.cached_property
    def audit(self) -> AuditLog:
        """Who changed what, when (rcmedia.catalog.audit)."""
        from rcmedia.catalog.audit import AuditLog  # noqa: PLC0415 - imported where used, like the others

        return AuditLog(self.engine)

    @functools.cached_property
    def withdrawn(self) -> WithdrawnPackages:
        """Withdrawn assets' packages past their grace (rcmedia.catalog.withdrawn)."""
        from rcmedia.catalog.withdrawn import WithdrawnPackages  # noqa: PLC0415 - like the others

        return WithdrawnPackages(self.engine)

    # --- ingest ----------------------------------------------------------------------------

    def create_ingest(
        self,
        metadata: AssetMetadata,
        *,
        original_filename: str,
        source_path: str,
        profile: str,
        max_attempts: int,
        now: datetime,
    ) -> tuple[int, int]:
        """A pending asset and its queued job, in one transaction. Returns (asset id, job id)."""
        with self._session() as session:
            asset = AssetRow(
                title=metadata.title,
                series=metadata.series,
                episode=metadata.episode,
                source=metadata.source.value,
                language=metadata.language,
                description=metadata.description,
                categories=list(metadata.categories),
                original_filename=original_filename,
                profile=profile,
                status=AssetStatus.PENDING.value,
                created_at=now,
                updated_at=now,
                rights=[
                    RightsRow(output=r.output.value, starts_at=r.start, ends_at=r.end)
                    for r in metadata.rights
                ],
            )
            session.add(asset)
            session.flush()
            index_asset(session, asset)
            job = JobRow(
                asset_id=asset.id,
                source_path=source_path,
                original_filename=original_filename,
                profile=profile,
                state=JobState.QUEUED.value,
                attempts=0,
                max_attempts=max_attempts,
                progress=0.0,
                created_at=now,
                updated_at=now,
            )
            session.add(job)
            session.flush()
            return asset.id, job.id

    def claim_job(
        self, *, worker: str, lease_seconds: float, now: datetime, job_id: int | None = None
    ) -> Job | None:
        """Take the oldest queued job (or one whose worker's lease ran out), or None.

        The UPDATE is conditional on the state and lease read, so two workers never take the same job.
        """
        lease_until = now + timedelta(seconds=lease_seconds)
        expired = JobRow.state.in_(RUNNING_STATES) & (JobRow.lease_until < now)
        claimable = or_(
            JobRow.state == JobState.QUEUED.value, expired & (JobRow.attempts < JobRow.max_attempts)
        )
        with self._session() as session:
            self._give_up_on_dead_workers(session, expired, now)
            query = select(JobRow.id, JobRow.state, JobRow.attempts).where(claimable)
            if job_id is not None:
                query = query.where(JobRow.id == job_id)
            candidates = session.execute(query.order_by(JobRow.id).limit(5)).all()
            for candidate_id, state, attempts in candidates:
                result = session.execute(
                    update(JobRow)
                    .where(JobRow.id == candidate_id, JobRow.state == state, JobRow.attempts == attempts)
                    .values(
                        state=JobState.PROBING.value,
                        attempts=attempts + 1,
                        worker=worker,
                        lease_until=lease_until,
                        progress=0.0,
                        speed=None,
                        started_at=now,
                        updated_at=now,
                    )
                )
                if result.rowcount == 1:  # type: ignore[attr-defined]
                    row = session.get(JobRow, candidate_id)
                    assert row is not None
                    session.refresh(row)
                    return _job(row)
        return None

    @staticmethod
    def _give_up_on_dead_workers(session: Session, expired: Any, now: datetime) -> None:
        """Fail jobs whose worker died on their last allowed attempt (a file that kills workers)."""
        rows = session.scalars(
            select(JobRow).where(expired, JobRow.attempts >= JobRow.max_attempts).with_for_update()
        ).all()
        for row in rows:
            row.state = JobState.FAILED.value
            row.failure_reason = (
                f"gave up after {row.attempts} attempts: the worker stopped (killed or crashed) while "
                f"running it; last error: {row.failure_reason or 'none recorded'}"
            )
            row.worker = None
            row.lease_until = None
            row.finished_at = now
            row.updated_at = now
        _fail_pending_assets(session, [row.asset_id for row in rows], now)

    def running_workers(self) -> dict[int, str]:
        """Job id → worker name for every running job (for finding ones whose worker died)."""
        with self._session() as session:
            rows = session.execute(
                select(JobRow.id, JobRow.worker).where(
                    JobRow.state.in_(RUNNING_STATES), JobRow.worker.is_not(None)
                )
            ).all()
            return {int(job_id): str(worker) for job_id, worker in rows}

    def expire_lease(self, job_id: int, *, worker: str, now: datetime) -> bool:
        """End ``worker``'s lease on a job at once (its process is known to be gone)."""
        with self._session() as session:
            result = session.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.worker == worker, JobRow.state.in_(RUNNING_STATES))
                .values(lease_until=now - timedelta(seconds=1))
            )
            return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    def renew_lease(self, job_id: int, *, worker: str, lease_seconds: float, now: datetime) -> bool:
        """Extend the lease; False when another worker has taken the job over."""
        with self._session() as session:
            result = session.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.worker == worker, JobRow.state.in_(RUNNING_STATES))
                .values(lease_until=now + timedelta(seconds=lease_seconds))
            )
            return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    def set_job_progress(
        self,
        job_id: int,
        *,
        worker: str,
        state: JobState,
        now: datetime,
        progress: float | None = None,
        speed: float | None = None,
    ) -> bool:
        """Record progress of a running job held by ``worker``; False (nothing written) otherwise."""
        values: dict[str, object] = {"state": state.value, "updated_at": now}
        if progress is not None:
            values["progress"] = max(0.0, min(1.0, progress))
        if speed is not None:
            values["speed"] = speed
        with self._session() as session:
            result = session.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.worker == worker, JobRow.state.in_(RUNNING_STATES))
                .values(**values)
            )
            return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    def fail_job(self, job_id: int, *, worker: str, reason: str, retry: bool, now: datetime) -> JobState:
        """Record ``worker``'s failure; requeue while attempts remain and ``retry`` is allowed.

        A worker that no longer holds the job (its lease ran out and another took over, or the
        job finished) changes nothing: the job's current state is returned.
        """
        with self._session() as session:
            row = session.get(JobRow, job_id, with_for_update=True)
            if row is None:
                raise NotFoundError("job", job_id)
            if row.worker != worker or not JobState(row.state).running:
                return JobState(row.state)
            again = retry and row.attempts < row.max_attempts
            row.state = (JobState.QUEUED if again else JobState.FAILED).value
            row.failure_reason = reason
            row.lease_until = None
            row.worker = None
            row.updated_at = now
            if not again:
                row.finished_at = now
                _fail_pending_assets(session, [row.asset_id], now)
            return JobState(row.state)

    def retry_job(self, job_id: int, *, now: datetime, actor: str | None = None) -> Job:
        """Queue a failed job again with all its attempts (its asset is pending again).

        Checked and changed in one transaction under the row's lock: a job another request
        retried or a worker took meanwhile is refused (JobStateError), never queued twice.
        """
        with self._session() as session:
            row = session.get(JobRow, job_id, with_for_update=True)
            if row is None:
                raise NotFoundError("job", job_id)
            if row.state != JobState.FAILED.value:
                raise JobStateError(f"job {job_id!r} is {row.state}; only a failed job can be retried")
            before = _job_record(row)
            row.state = JobState.QUEUED.value
            row.attempts = 0
            row.progress = 0.0
            row.speed = None
            row.failure_reason = None
            row.worker = None
            row.lease_until = None
            row.started_at = None
            row.finished_at = None
            row.updated_at = now
            session.execute(
                update(AssetRow)
                .where(AssetRow.id == row.asset_id, AssetRow.status == AssetStatus.FAILED.value)
                .values(status=AssetStatus.PENDING.value, updated_at=now)
            )
            session.flush()
            if actor is not None:
                add_entry(
                    session,
                    actor,
                    AuditAction.JOB_RETRY,
                    f"job/{job_id}",
                    before=before,
                    after=_job_record(row),
                    now=now,
                )
            return _job(row)

    def cancel_job(self, job_id: int, *, reason: str, now: datetime, actor: str | None = None) -> Job:
        """Fail a queued or running job with ``reason``; a finished one is refused (JobStateError).

        A running job's worker no longer holds it: its next progress report or lease renewal
        fails, which stops the attempt (and its ffmpeg), and its own failure or publish then
        changes nothing (both require the worker to still hold a running job).
        """
        with self._session() as session:
            row = session.get(JobRow, job_id, with_for_update=True)
            if row is None:
                raise NotFoundError("job", job_id)
            if JobState(row.state).finished:
                raise JobStateError(f"job {job_id!r} is already {row.state}; there is nothing to cancel")
            before = _job_record(row)
            row.state = JobState.FAILED.value
            row.failure_reason = reason
            row.worker = None
            row.lease_until = None
            row.finished_at = now
            row.updated_at = now
            _fail_pending_assets(session, [row.asset_id], now)
            session.flush()
            if actor is not None:
                add_entry(
                    session,
                    actor,
                    AuditAction.JOB_CANCEL,
                    f"job/{job_id}",
                    before=before,
                    after=_job_record(row),
                    now=now,
                )
            return _job(row)

    def publish(
        self,
        *,
        job_id: int,
        worker: str,
        storage_prefix: str,
        duration: float,
        segment_type: str,
        target_duration: int,
        renditions: Sequence[Rendition],
        now: datetime,
    ) -> None:
        """Make the asset visible with its renditions and finish the job: one transaction."""
        with self._session() as session:
            job = session.get(JobRow, job_id, with_for_update=True)
            if job is None:
                raise NotFoundError("job", job_id)
            if not JobState(job.state).running:
                raise JobError(f"job {job_id!r} is {job.state}, not running; refusing to publish")
            if job.worker != worker:
                raise JobError(f"job {job_id!r} is held by another worker; refusing to publish")
            asset = session.get(AssetRow, job.asset_id, options=[selectinload(AssetRow.renditions)])
            assert asset is not None
            asset.renditions.clear()
            session.flush()
            asset.renditions.extend(_rendition_row(r) for r in renditions)
            asset.status = AssetStatus.PUBLISHED.value
            asset.storage_prefix = storage_prefix
            asset.duration = duration
            asset.segment_type = segment_type
            asset.target_duration = target_duration
            asset.published_at = now
            asset.updated_at = now
            job.state = JobState.PUBLISHED.value
            job.progress = 1.0
            job.failure_reason = None
            job.worker = None
            job.lease_until = None
            job.finished_at = now
            job.updated_at = now

    def replace_package(
        self,
        asset_id: int,
        *,
        expected_prefix: str,
        storage_prefix: str,
        renditions: Sequence[Rendition],
        now: datetime,
    ) -> None:
        """Point a published asset at a re-packaged copy of its package (same segments and
        durations, so built schedules stay valid); refused if the asset moved on meanwhile."""
        with self._session() as session:
            asset = session.get(
                AssetRow, asset_id, options=[selectinload(AssetRow.renditions)], with_for_update=True
            )
            if asset is None:
                raise NotFoundError("asset", asset_id)
            if asset.storage_prefix != expected_prefix:
                raise ConflictError(
                    f"asset {asset_id!r}'s package", expected=expected_prefix, current=asset.storage_prefix
                )
            asset.renditions.clear()
            session.flush()
            asset.renditions.extend(_rendition_row(r) for r in renditions)
            asset.storage_prefix = storage_prefix
            asset.updated_at = now

    # --- reads -----------------------------------------------------------------------------

    def get_asset(self, asset_id: int) -> Asset:
        with self._session() as session:
            row = session.get(
                AssetRow,
                asset_id,
                options=[selectinload(AssetRow.rights), selectinload(AssetRow.renditions)],
            )
            if row is None:
                raise NotFoundError("asset", asset_id)
            return _asset(row)

    def find_assets(self, query: AssetQuery) -> Page[Asset]:
        """A page of the assets the query's filters keep: the search's best matches first (by the
        field matched, then id), otherwise in id order."""
        conditions = []
        if query.series:
            conditions.append(AssetRow.series == query.series)
        if query.source:
            conditions.append(AssetRow.source == query.source.value)
        if query.status:
            conditions.append(AssetRow.status == query.status.value)
        loaded = (selectinload(AssetRow.rights), selectinload(AssetRow.renditions))
        terms = query_terms(query.text or "")
        with self._session() as session:
            if not terms:
                total = session.scalar(select(func.count(AssetRow.id)).where(*conditions)) or 0
                rows: Sequence[AssetRow] = session.scalars(
                    select(AssetRow)
                    .where(*conditions)
                    .options(*loaded)
                    .order_by(AssetRow.id)
                    .limit(query.limit)
                    .offset(query.offset)
                ).all()
            else:
                # Ranked, counted and paged in SQL (rcmedia.catalog.search.ranked_page): only the
                # page's ids come back, each with the count of every match.
                found = matching_fields(rarest_first(session, terms))
                if conditions:
                    found = found.join(AssetRow, AssetRow.id == found.selected_columns[0]).where(*conditions)
                page = session.execute(
                    ranked_page(found, limit=query.limit, offset=query.offset, once_per_asset=len(terms) == 1)
                ).all()
                shown = [asset_id for asset_id, _ in page]
                # past the end (or nothing found) no row carries the count: ask for it then
                total = page[0][1] if page else (session.scalar(match_count(found)) or 0)
                by_id = {
                    row.id: row
                    for row in session.scalars(
                        select(AssetRow).where(AssetRow.id.in_(shown)).options(*loaded)
                    ).all()
                    if shown
                }
                rows = [by_id[asset_id] for asset_id in shown]
            return Page(
                items=tuple(_asset(r) for r in rows), total=total, limit=query.limit, offset=query.offset
            )

    def storage_prefixes(self, asset_id: int) -> tuple[str, ...]:
        with self._session() as session:
            prefix = session.scalar(select(AssetRow.storage_prefix).where(AssetRow.id == asset_id))
            return (prefix,) if prefix else ()

    def get_job(self, job_id: int) -> Job:
        with self._session() as session:
            row = session.get(JobRow, job_id)
            if row is None:
                raise NotFoundError("job", job_id)
            return _job(row)

    def find_jobs(self, *, state: JobState | None = None, limit: int = 50, offset: int = 0) -> Page[Job]:
        conditions = [JobRow.state == state.value] if state else []
        with self._session() as session:
            total = session.scalar(select(func.count(JobRow.id)).where(*conditions)) or 0
            rows = session.scalars(
                select(JobRow).where(*conditions).order_by(JobRow.id.desc()).limit(limit).offset(offset)
            ).all()
            return Page(items=tuple(_job(r) for r in rows), total=total, limit=limit, offset=offset)

    def jobs_changed_since(self, cursor: tuple[datetime, int] | None, *, limit: int = 500) -> list[Job]:
        """Jobs changed after ``cursor`` (their ``updated_at`` and id), oldest change first.

        None: the newest change only (where a new listener starts). Every job write moves
        ``updated_at``, so (updated_at, id) orders the changes; a job changed twice between two
        reads appears once, in its latest state.
        """
        with self._session() as session:
            query = select(JobRow)
            if cursor is None:
                query = query.order_by(JobRow.updated_at.desc(), JobRow.id.desc()).limit(1)
            else:
                when, job_id = cursor
                query = (
                    query.where(
                        or_(JobRow.updated_at > when, (JobRow.updated_at == when) & (JobRow.id > job_id))
                    )
                    .order_by(JobRow.updated_at, JobRow.id)
                    .limit(limit)
                )
            return [_job(row) for row in session.scalars(query).all()]

    def jobs_by_source_path(self, paths: Sequence[str]) -> dict[str, Job]:
        """The newest job for each of ``paths`` (the hot folder settles its files by this)."""
        if not paths:
            return {}
        with self._session() as session:
            rows = session.scalars(
                select(JobRow).where(JobRow.source_path.in_(list(paths))).order_by(JobRow.id)
            ).all()
            return {row.source_path: _job(row) for row in rows}

    def unfinished_source_paths(self, prefix: str) -> set[str]:
        """The ``source_path`` of every queued or running job that starts with ``prefix``."""
        with self._session() as session:
            return set(
                session.scalars(
                    select(JobRow.source_path).where(
                        JobRow.state.in_((JobState.QUEUED.value, *RUNNING_STATES)),
                        JobRow.source_path.startswith(prefix, autoescape=True),
                    )
                )
            )

    def quiet_queued_jobs(self, *, before: datetime, limit: int) -> list[int]:
        """Ids of queued jobs unchanged since ``before``, the longest-waiting first."""
        with self._session() as session:
            return list(
                session.scalars(
                    select(JobRow.id)
                    .where(JobRow.state == JobState.QUEUED.value, JobRow.updated_at < before)
                    .order_by(JobRow.updated_at, JobRow.id)
                    .limit(limit)
                )
            )

    def pending_job_count(self) -> int:
        with self._session() as session:
            return (
                session.scalar(
                    select(func.count(JobRow.id)).where(
                        JobRow.state.in_((JobState.QUEUED.value, *RUNNING_STATES))
                    )
                )
                or 0
            )

    def job_counts(self) -> dict[JobState, int]:
        """How many jobs are in each state (one grouped count; the metrics read it at each scrape)."""
        with self._session() as session:
            rows = session.execute(select(JobRow.state, func.count(JobRow.id)).group_by(JobRow.state)).all()
        counts = dict.fromkeys(JobState, 0)
        for state, count in rows:
            counts[JobState(state)] = count
        return counts

    def ping(self) -> None:
        """A trivial query: CatalogError when the database does not answer it."""
        with self._session() as session:
            session.execute(select(1))

    def pool_usage(self) -> tuple[int, int]:
        """The connection pool's (checked out, size); (0, 0) for a pool without a size."""
        pool = self.engine.pool
        checked_out = getattr(pool, "checkedout", None)
        size = getattr(pool, "size", None)
        if not callable(checked_out) or not callable(size):
            return 0, 0
        return int(checked_out()), int(size())

    # --- editor changes --------------------------------------------------------------------
    # Each moves assets.updated_at: the EPG watch (ScheduleStore.change_fingerprint) rebuilds then.
    # With an ``actor``, each writes its audit entry (before and after) in its own transaction.

    def update_metadata(
        self,
        asset_id: int,
        change: MetadataChange,
        *,
        now: datetime,
        expected_version: int | None = None,
        actor: str | None = None,
    ) -> Asset:
        """Change the given fields of an asset's metadata (on ``expected_version``, if given)."""
        with self._session() as session:
            row = _row_for_change(session, asset_id, expected_version)
            before = _asset(row)
            changed = change.changed()
            for name, value in changed.items():
                setattr(row, name, list(value) if name == "categories" else value)
            _bump(session, row, now)
            session.flush()
            if changed.keys() & set(FIELDS):
                index_asset(session, row)
            after = _asset(row)
            _audit(session, actor, AuditAction.ASSET_UPDATE, before, after, now)
            return after

    def set_rights(
        self,
        asset_id: int,
        rights: Sequence[Rights],
        *,
        now: datetime,
        expected_version: int | None = None,
        actor: str | None = None,
    ) -> Asset:
        """Replace every rights window of an asset (an output without one may not air it)."""
        with self._session() as session:
            row = _row_for_change(session, asset_id, expected_version)
            before = _asset(row)
            row.rights.clear()
            session.flush()
            row.rights.extend(
                RightsRow(output=r.output.value, starts_at=r.start, ends_at=r.end) for r in rights
            )
            _bump(session, row, now)
            session.flush()
            after = _asset(row)
            _audit(session, actor, AuditAction.ASSET_RIGHTS, before, after, now)
            return after

    def set_rendition_rates(
        self, asset_id: int, rates: Mapping[str, tuple[int, int]], *, now: datetime
    ) -> Asset:
        """Replace the measured (BANDWIDTH, AVERAGE-BANDWIDTH) of the named renditions of an asset.

        The asset gets a new version only when a value changes (live masters are rebuilt then).
        """
        with self._session() as session:
            row = _row_for_change(session, asset_id, None)
            changed = False
            for rendition in row.renditions:
                found = rates.get(rendition.name)
                if found is not None and found != (rendition.bandwidth, rendition.average_bandwidth):
                    rendition.bandwidth, rendition.average_bandwidth = found
                    changed = True
            if changed:
                _bump(session, row, now)
            session.flush()
            return _asset(row)

    def withdraw(
        self, asset_id: int, *, now: datetime, expected_version: int | None = None, actor: str | None = None
    ) -> Asset:
        """Take a published asset off the air and off VOD (again: nothing changes)."""
        with self._session() as session:
            row = _row_for_change(session, asset_id, expected_version)
            if row.status == AssetStatus.WITHDRAWN.value:
                return _asset(row)
            if row.status != AssetStatus.PUBLISHED.value:
                raise AssetStateError(
                    f"asset {asset_id!r} is {row.status}: only a published asset can be withdrawn"
                )
            before = _asset(row)
            _bump(session, row, now)
            row.status = AssetStatus.WITHDRAWN.value
            row.withdrawn_at = now
            session.flush()
            after = _asset(row)
            _audit(session, actor, AuditAction.ASSET_WITHDRAW, before, after, now)
            return after


def asset_record(asset: Asset) -> dict[str, Any]:
    """What the audit log keeps of an asset: its metadata, rights, state and version."""
    metadata = asset.metadata
    return {
        "title": metadata.title,
        "series": metadata.series,
        "episode": metadata.episode,
        "description": metadata.description,
        "categories": list(metadata.categories),
        "rights": [
            {
                "output": r.output.value,
                "start": r.start.isoformat() if r.start else None,
                "end": r.end.isoformat() if r.end else None,
            }
            for r in metadata.rights
        ],
        "status": asset.status.value,
        "version": asset.version,
    }


def _audit(
    session: Session, actor: str | None, action: AuditAction, before: Asset, after: Asset, now: datetime
) -> None:
    if actor is not None:
        add_entry(
            session,
            actor,
            action,
            asset_target(after.id),
            before=asset_record(before),
            after=asset_record(after),
            now=now,
        )


def _row_for_change(session: Session, asset_id: int, expected_version: int | None) -> AssetRow:
    """The asset's row, locked for the change; ConflictError when it moved past ``expected_version``."""
    row = session.get(
        AssetRow,
        asset_id,
        options=[selectinload(AssetRow.rights), selectinload(AssetRow.renditions)],
        with_for_update=True,
    )
    if row is None:
        raise NotFoundError("asset", asset_id)
    if expected_version is not None:
        current = _asset(row).version
        if current != expected_version:
            raise ConflictError(f"asset {asset_id!r}", expected=expected_version, current=current)
    return row


def _bump(session: Session, row: AssetRow, now: datetime) -> None:
    # Past the newest published asset's time, not just to `now`: with a clock behind another
    # machine's (or two changes in one clock tick) the fingerprint's max would not move.
    newest = session.scalar(
        select(func.max(AssetRow.updated_at)).where(AssetRow.status == AssetStatus.PUBLISHED.value)
    )
    row.updated_at = max(
        now,
        row.updated_at + timedelta(microseconds=1),  # a new version, also within one clock tick
        *([newest + timedelta(microseconds=1)] if newest is not None else []),
    )
