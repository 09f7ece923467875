"""The catalog's reads and writes for the job monitor: changes since a cursor, retry and cancel."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rcmedia.catalog.repository import Catalog
from rcmedia.core.models import JobState
from rcmedia.errors import JobStateError
from tests.integration.catalog.test_repository import NOW, claimed, ingest


def test_changes_since_a_cursor_in_order_ties_broken_by_id(any_catalog: Catalog) -> None:
    jobs = [ingest(any_catalog, f"第{n}课", original_filename=f"{n}.mxf")[1] for n in range(1, 4)]
    assert [j.id for j in any_catalog.jobs_changed_since(None)] == [jobs[2]]  # the newest change only
    claimed(any_catalog, "w1", at=timedelta(seconds=2), job_id=jobs[0])

    changes = any_catalog.jobs_changed_since((NOW, jobs[0]))

    # jobs[1] and [2] share the created time with jobs[0]'s old cursor; jobs[0] changed later
    assert [(j.id, j.state) for j in changes] == [
        (jobs[1], JobState.QUEUED),
        (jobs[2], JobState.QUEUED),
        (jobs[0], JobState.PROBING),
    ]
    assert any_catalog.jobs_changed_since((NOW + timedelta(seconds=2), jobs[0])) == []
    assert len(any_catalog.jobs_changed_since((NOW, 0), limit=2)) == 2


def test_retry_and_cancel_check_the_state(any_catalog: Catalog) -> None:
    _, job_id = ingest(any_catalog, "第1课", original_filename="1.mxf")
    with pytest.raises(JobStateError, match="only a failed job"):
        any_catalog.retry_job(job_id, now=NOW)

    cancelled = any_catalog.cancel_job(job_id, reason="cancelled by ed", now=NOW + timedelta(seconds=1))
    assert (cancelled.state, cancelled.failure_reason) == (JobState.FAILED, "cancelled by ed")
    assert cancelled == any_catalog.get_job(job_id)
    with pytest.raises(JobStateError, match="nothing to cancel"):
        any_catalog.cancel_job(job_id, reason="again", now=NOW)

    retried = any_catalog.retry_job(job_id, now=NOW + timedelta(seconds=2))
    assert (retried.state, retried.attempts, retried.failure_reason) == (JobState.QUEUED, 0, None)
    assert retried == any_catalog.get_job(job_id)
