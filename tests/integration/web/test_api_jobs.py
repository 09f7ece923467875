"""The jobs API: what an operator may see of ingest jobs, and never the server's file paths."""

from __future__ import annotations

from typing import Any

import pytest

from rcmedia.catalog.repository import Catalog
from tests.integration.web.published import NOW, Client, PublishAsset, create_pending, source_path_of


@pytest.fixture
def jobs(catalog: Catalog, publish_asset: PublishAsset) -> dict[str, int]:
    """Three jobs in id order: published, failed, queued."""
    published = publish_asset(original_filename="done.mp4").job_id
    _, failed = create_pending(catalog, title="Broken", original_filename="broken.mp4")
    assert catalog.claim_job(worker="w", lease_seconds=60, now=NOW, job_id=failed) is not None
    catalog.fail_job(failed, worker="w", reason="'broken.mp4': no video and no audio", retry=False, now=NOW)
    _, queued = create_pending(catalog, title="Waiting", original_filename="waiting.mp4")
    return {"published": published, "failed": failed, "queued": queued}


async def get_json(client: Client, path: str, status: int = 200) -> Any:
    response = await client.get(path)
    assert response.status == status, await response.text()
    return await response.json()


async def test_jobs_are_listed_newest_first(client: Client, jobs: dict[str, int]) -> None:
    page = await get_json(client, "/api/v1/jobs")

    assert page["total"] == 3
    assert [item["id"] for item in page["items"]] == [jobs["queued"], jobs["failed"], jobs["published"]]


async def test_job_documents_never_show_server_paths(client: Client, jobs: dict[str, int]) -> None:
    response = await client.get("/api/v1/jobs")
    raw = await response.text()
    page = await response.json()

    assert len(page["items"]) == 3
    for item in page["items"]:
        assert "source_path" not in item
    for name in ("done.mp4", "broken.mp4", "waiting.mp4"):
        assert source_path_of(name) not in raw
    assert "/srv/" not in raw


async def test_a_published_job(client: Client, catalog: Catalog, jobs: dict[str, int]) -> None:
    job_id = jobs["published"]

    document = await get_json(client, f"/api/v1/jobs/{job_id}")

    assert document == {
        "id": job_id,
        "asset_id": catalog.get_job(job_id).asset_id,
        "original_filename": "done.mp4",
        "profile": "tiny",
        "state": "published",
        "attempts": 1,
        "max_attempts": 3,
        "progress": 1.0,
        "speed": None,
        "failure_reason": None,
        "created_at": "2024-03-01T08:00:00Z",
        "updated_at": "2024-03-01T08:00:00Z",
        "started_at": "2024-03-01T08:00:00Z",
        "finished_at": "2024-03-01T08:00:00Z",
    }


async def test_a_failed_job_says_why(client: Client, jobs: dict[str, int]) -> None:
    document = await get_json(client, f"/api/v1/jobs/{jobs['failed']}")

    assert document["state"] == "failed"
    assert document["failure_reason"] == "'broken.mp4': no video and no audio"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("state=queued", ["queued"], id="queued"),
        pytest.param("state=failed", ["failed"], id="failed"),
        pytest.param("state=published", ["published"], id="published"),
        pytest.param("state=transcoding", [], id="none-running"),
        pytest.param("limit=2", ["queued", "failed"], id="first-page"),
        pytest.param("limit=2&offset=2", ["published"], id="second-page"),
    ],
)
async def test_filter_and_paginate(
    client: Client, jobs: dict[str, int], query: str, expected: list[str]
) -> None:
    page = await get_json(client, f"/api/v1/jobs?{query}")

    assert [item["id"] for item in page["items"]] == [jobs[name] for name in expected]
    assert page["total"] == (3 if "state" not in query else len(expected))


@pytest.mark.parametrize(
    ("query", "must_mention"),
    [
        pytest.param(
            "state=done",
            ["'state'", "queued, probing, transcoding, verifying, published, failed"],
            id="unknown-state",
        ),
        pytest.param("limit=500", ["'limit'", "1 to 200"], id="limit-too-big"),
        pytest.param("offset=-3", ["'offset'"], id="offset-negative"),
    ],
)
async def test_bad_parameters_are_a_400(
    client: Client, jobs: dict[str, int], query: str, must_mention: list[str]
) -> None:
    document = await get_json(client, f"/api/v1/jobs?{query}", status=400)

    for text in must_mention:
        assert text in document["error"]


async def test_unknown_job_is_a_json_404(client: Client) -> None:
    document = await get_json(client, "/api/v1/jobs/4242", status=404)

    assert document == {"error": "job 4242 not found"}
