"""POST /api/v1/jobs/{id}/retry and /cancel over HTTP: who may, which states, and stale actions refused."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rcmedia.catalog.repository import Catalog
from rcmedia.core.accounts import Role
from rcmedia.core.models import AssetStatus, JobState
from tests.integration.web.accounts import add_accounts, logged_in
from tests.integration.web.published import NOW, Client, PublishAsset, create_pending


@pytest.fixture(autouse=True)
def accounts(catalog: Catalog) -> dict[Role, str]:
    return add_accounts(catalog)


@pytest.fixture
def jobs(catalog: Catalog, publish_asset: PublishAsset) -> dict[str, int]:
    """One job in each resting state, and one running."""
    published = publish_asset(original_filename="done.mp4").job_id
    _, failed = create_pending(catalog, title="Broken", original_filename="broken.mp4")
    assert catalog.claim_job(worker="w", lease_seconds=60, now=NOW, job_id=failed) is not None
    catalog.fail_job(failed, worker="w", reason="ffmpeg crashed", retry=False, now=NOW)
    _, queued = create_pending(catalog, title="Waiting", original_filename="waiting.mp4")
    _, running = create_pending(catalog, title="Busy", original_filename="busy.mp4")
    assert catalog.claim_job(worker="w", lease_seconds=60, now=NOW, job_id=running) is not None
    return {"published": published, "failed": failed, "queued": queued, "running": running}


@pytest.fixture
async def editor(client: Client) -> Client:
    return await logged_in(client, "editor")


async def act(client: Client, job_id: int, action: str, status: int = 200) -> dict[str, object]:
    response = await client.post(f"/api/v1/jobs/{job_id}/{action}", json={})
    assert response.status == status, await response.text()
    document: dict[str, object] = await response.json()
    return document


async def test_a_failed_job_is_queued_again_with_all_its_attempts(
    editor: Client, catalog: Catalog, jobs: dict[str, int]
) -> None:
    document = await act(editor, jobs["failed"], "retry")

    assert (document["state"], document["attempts"], document["failure_reason"]) == ("queued", 0, None)
    job = catalog.get_job(jobs["failed"])
    assert (job.state, job.attempts, job.finished_at) == (JobState.QUEUED, 0, None)
    assert catalog.get_asset(job.asset_id).status is AssetStatus.PENDING
    (entry,) = catalog.audit.entries()
    assert (entry.actor, entry.action, entry.target) == ("editor", "job.retry", f"job/{jobs['failed']}")
    assert (entry.before["state"], entry.before["failure_reason"]) == ("failed", "ffmpeg crashed")
    assert (entry.after["state"], entry.after["attempts"]) == ("queued", 0)
    # and a runner takes it
    claimed = catalog.claim_job(worker="w2", lease_seconds=60, now=NOW + timedelta(seconds=1))
    assert claimed is not None
    assert claimed.id == jobs["failed"]


@pytest.mark.parametrize("state", ["queued", "running", "published"])
async def test_only_a_failed_job_can_be_retried(
    editor: Client, catalog: Catalog, jobs: dict[str, int], state: str
) -> None:
    before = catalog.get_job(jobs[state])

    answer = await act(editor, jobs[state], "retry", status=409)

    assert "only a failed job can be retried" in str(answer["error"])
    assert catalog.get_job(jobs[state]) == before
    assert catalog.audit.entries() == []  # refused: nothing happened, nothing recorded


async def test_a_second_retry_is_refused_not_applied_twice(
    editor: Client, catalog: Catalog, jobs: dict[str, int]
) -> None:
    await act(editor, jobs["failed"], "retry")
    catalog.claim_job(worker="w2", lease_seconds=60, now=NOW, job_id=jobs["failed"])

    await act(editor, jobs["failed"], "retry", status=409)

    assert catalog.get_job(jobs["failed"]).attempts == 1  # the runner's attempt, not reset


async def test_a_queued_job_is_cancelled_with_who_did_it(
    editor: Client, catalog: Catalog, jobs: dict[str, int]
) -> None:
    document = await act(editor, jobs["queued"], "cancel")

    assert (document["state"], document["failure_reason"]) == ("failed", "cancelled by editor")
    job = catalog.get_job(jobs["queued"])
    assert job.state is JobState.FAILED
    assert catalog.get_asset(job.asset_id).status is AssetStatus.FAILED
    assert catalog.claim_job(worker="w2", lease_seconds=60, now=NOW, job_id=jobs["queued"]) is None
    (entry,) = catalog.audit.entries()
    assert (entry.action, entry.before["state"], entry.after["state"]) == ("job.cancel", "queued", "failed")


async def test_a_running_job_is_cancelled_and_its_worker_stops(
    editor: Client, catalog: Catalog, jobs: dict[str, int]
) -> None:
    document = await act(editor, jobs["running"], "cancel")

    assert (document["state"], document["failure_reason"]) == ("failed", "cancelled by editor")
    job_id = jobs["running"]
    # what the runner does next: its progress report and lease renewal fail (so it stops
    # ffmpeg), and its own failure record changes nothing
    assert not catalog.set_job_progress(job_id, worker="w", state=JobState.TRANSCODING, progress=0.5, now=NOW)
    assert not catalog.renew_lease(job_id, worker="w", lease_seconds=60, now=NOW)
    assert catalog.fail_job(job_id, worker="w", reason="stopped", retry=True, now=NOW) is JobState.FAILED
    assert catalog.get_job(job_id).failure_reason == "cancelled by editor"


@pytest.mark.parametrize("state", ["failed", "published"])
async def test_a_finished_job_cannot_be_cancelled(
    editor: Client, catalog: Catalog, jobs: dict[str, int], state: str
) -> None:
    before = catalog.get_job(jobs[state])

    answer = await act(editor, jobs[state], "cancel", status=409)

    assert "nothing to cancel" in str(answer["error"])
    assert catalog.get_job(jobs[state]) == before


async def test_an_admin_may_act(client: Client, jobs: dict[str, int]) -> None:
    admin = await logged_in(client, "admin")
    assert (await act(admin, jobs["queued"], "cancel"))["failure_reason"] == "cancelled by admin"


@pytest.mark.parametrize("action", ["retry", "cancel"])
async def test_nobody_else_may_act(
    client: Client, catalog: Catalog, jobs: dict[str, int], action: str
) -> None:
    job_id = jobs["failed"] if action == "retry" else jobs["queued"]
    await act(client, job_id, action, status=401)
    await act(await logged_in(client, "operator"), job_id, action, status=403)
    assert catalog.get_job(job_id).state is (JobState.FAILED if action == "retry" else JobState.QUEUED)


@pytest.mark.parametrize("action", ["retry", "cancel"])
async def test_actions_are_json_writes(editor: Client, jobs: dict[str, int], action: str) -> None:
    response = await editor.post(f"/api/v1/jobs/{jobs['failed']}/{action}", data="x")
    assert response.status == 415


@pytest.mark.parametrize("action", ["retry", "cancel"])
async def test_an_unknown_job(editor: Client, jobs: dict[str, int], action: str) -> None:
    await act(editor, 999_999, action, status=404)
