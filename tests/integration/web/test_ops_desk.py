"""``/ops/uploads`` and ``/ops/jobs`` over HTTP: who may open them, what their scripts are handed."""

from __future__ import annotations

import json
import re

import pytest

from rcmedia.catalog.repository import Catalog
from rcmedia.core.accounts import Role
from rcmedia.web.ops import jobs as jobs_page
from rcmedia.web.ops.routes import OPS_ROLES
from tests.integration.web.accounts import add_accounts, logged_in
from tests.integration.web.published import NOW, Client, create_pending

pytestmark = pytest.mark.usefixtures("accounts")

CONFIG = re.compile(r'<script type="application/json" id="ops-config">(.*?)</script>', re.S)


@pytest.fixture
def accounts(catalog: Catalog) -> dict[Role, str]:
    return add_accounts(catalog)


def page_config(text: str) -> dict[str, object]:
    found = CONFIG.search(text)
    assert found, text
    config: dict[str, object] = json.loads(found.group(1))
    return config


def test_the_route_table_names_both_pages() -> None:
    assert OPS_ROLES["/ops/uploads"] is Role.EDITOR
    assert OPS_ROLES["/ops/jobs"] is None


@pytest.mark.parametrize("path", ["/ops/uploads", "/ops/jobs?state=failed"])
async def test_anonymous_visitors_are_sent_to_log_in(client: Client, path: str) -> None:
    response = await client.get(path, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"].startswith("/login?next=/ops/")


async def test_an_operator_may_not_open_the_upload_desk(client: Client) -> None:
    await logged_in(client, "operator")
    response = await client.get("/ops/uploads?lang=en")
    assert response.status == 403
    assert "this page needs editor" in await response.text()


@pytest.mark.parametrize("name", ["editor", "admin"])
async def test_the_upload_desk_is_handed_the_servers_limits(client: Client, name: str) -> None:
    await logged_in(client, name)
    response = await client.get("/ops/uploads")
    assert response.status == 200
    text = await response.text()
    config = page_config(text)
    assert config["endpoint"] == "/api/v1/uploads"
    max_bytes = config["max_upload_bytes"]
    assert isinstance(max_bytes, int)
    assert 0 < int(str(config["chunk_bytes"])) <= max_bytes
    assert "/static/vendor/tus.min.js" in text
    assert "/static/ops/uploads.js" in text
    assert 'id="files"' in text


async def test_an_operator_watches_jobs_live_but_may_not_act(client: Client, catalog: Catalog) -> None:
    create_pending(catalog, title="Waiting", original_filename="waiting.mp4")
    await logged_in(client, "operator")
    response = await client.get("/ops/jobs")
    assert response.status == 200
    config = page_config(await response.text())
    assert config["live"] == "/api/v1/jobs/events"  # operators watch live too
    assert config["may_act"] is False
    assert [job["original_filename"] for job in config["jobs"]["items"]] == ["waiting.mp4"]  # type: ignore[index]
    stream = await client.get("/api/v1/jobs/events")
    assert stream.status == 200
    stream.close()


async def test_an_editor_follows_the_event_stream_and_may_act(client: Client) -> None:
    await logged_in(client, "editor")
    config = page_config(await (await client.get("/ops/jobs")).text())
    assert config["live"] == "/api/v1/jobs/events"
    assert config["may_act"] is True


async def test_jobs_are_filtered_by_state_and_paged(
    client: Client, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs_page, "PAGE_SIZE", 2)
    ids = [create_pending(catalog, title=f"T{n}", original_filename=f"f{n}.mp4")[1] for n in range(3)]
    assert catalog.claim_job(worker="w", lease_seconds=60, now=NOW, job_id=ids[0]) is not None
    catalog.fail_job(ids[0], worker="w", reason="ffmpeg crashed", retry=False, now=NOW)
    await logged_in(client, "operator")
    failed = page_config(await (await client.get("/ops/jobs?state=failed")).text())
    assert [job["id"] for job in failed["jobs"]["items"]] == [ids[0]]  # type: ignore[index]
    assert failed["state"] == "failed"
    first = await client.get("/ops/jobs")
    text = await first.text()
    assert [job["id"] for job in page_config(text)["jobs"]["items"]] == [ids[2], ids[1]]  # type: ignore[index]
    assert 'rel="next"' in text
    second = page_config(await (await client.get("/ops/jobs?page=2")).text())
    assert [job["id"] for job in second["jobs"]["items"]] == [ids[0]]  # type: ignore[index]
    assert second["page"] == 2


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        pytest.param("state=exploded", "unknown job state 'exploded'", id="unknown-state"),
        pytest.param("page=0", "page", id="page-zero"),
        pytest.param("page=-1", "page", id="negative-page"),
        pytest.param("page=abc", "page", id="page-not-a-number"),
        pytest.param("page=99999999999999999999", "page", id="huge-page"),
    ],
)
async def test_bad_filters_are_refused_with_the_reason(client: Client, query: str, reason: str) -> None:
    await logged_in(client, "editor")
    response = await client.get(f"/ops/jobs?{query}")
    assert response.status == 400
    assert reason in await response.text()
