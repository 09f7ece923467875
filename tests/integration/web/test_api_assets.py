"""The assets API: documents, search, filters, pagination and strict parameters."""

from __future__ import annotations

from typing import Any

import pytest

from rcmedia.catalog.repository import Catalog
from rcmedia.core.models import Source
from tests.integration.web.published import (
    CODECS,
    DURATIONS,
    NOW,
    RUNG_FACTS,
    Client,
    PublishAsset,
    create_pending,
)


@pytest.fixture
def library(catalog: Catalog, publish_asset: PublishAsset) -> dict[str, int]:
    """Five assets in id order: three published, one pending, one failed."""
    ids = {
        "algebra1": publish_asset(
            title="Algebra, lesson 1",
            original_filename="alg01.mp4",
            series="Maths",
            episode=1,
            source=Source.CENTRAL,
        ).asset_id,
        "algebra2": publish_asset(
            title="Algebra, lesson 2",
            original_filename="alg02.mp4",
            series="Maths",
            episode=2,
            source=Source.PROVINCIAL,
        ).asset_id,
        "geography": publish_asset(
            title="地理 第一课",
            original_filename="geo-01.mov",
            series="Geography",
            source=Source.CITY,
        ).asset_id,
    }
    ids["chemistry"], _ = create_pending(catalog, title="Chemistry intro", original_filename="chem.mp4")
    ids["broken"], job = create_pending(catalog, title="Broken upload", original_filename="broken.avi")
    assert catalog.claim_job(worker="w", lease_seconds=60, now=NOW, job_id=job) is not None
    catalog.fail_job(job, worker="w", reason="no video and no audio", retry=False, now=NOW)
    return ids


async def get_json(client: Client, path: str, status: int = 200) -> Any:
    response = await client.get(path)
    assert response.status == status, await response.text()
    assert response.headers["Content-Type"].startswith("application/json")
    return await response.json()


async def test_a_published_asset_document(client: Client, library: dict[str, int]) -> None:
    asset_id = library["algebra1"]

    document = await get_json(client, f"/api/v1/assets/{asset_id}")

    assert document == {
        "id": asset_id,
        "title": "Algebra, lesson 1",
        "series": "Maths",
        "episode": 1,
        "source": "central",
        "language": "zh",
        "description": "",
        "categories": [],
        "duration": pytest.approx(sum(DURATIONS)),
        "original_filename": "alg01.mp4",
        "profile": "tiny",
        "status": "published",
        "created_at": "2024-03-01T08:00:00Z",
        "published_at": "2024-03-01T08:00:00Z",
        "version": 1709280000000000,  # updated_at in µs: what an editor's write names (If-Match)
        "rights": [
            {"output": "tv", "start": None, "end": None},
            {"output": "iptv", "start": None, "end": None},
            {"output": "mobile", "start": None, "end": None},
        ],
        "renditions": [
            {
                "name": name,
                **RUNG_FACTS[name],
                "codecs": CODECS,
                "frame_rate": 25.0,
                "segment_count": len(DURATIONS),
            }
            for name in ("360p", "180p", "144p")
        ],
        "urls": {
            "tv": f"/vod/{asset_id}/master.m3u8?output=tv",
            "iptv": f"/vod/{asset_id}/master.m3u8?output=iptv",
            "mobile": f"/vod/{asset_id}/master.m3u8?output=mobile",
        },
    }


async def test_the_urls_play(client: Client, library: dict[str, int]) -> None:
    document = await get_json(client, f"/api/v1/assets/{library['geography']}")

    for output, url in document["urls"].items():
        response = await client.get(url)
        assert response.status == 200, output
        assert (await response.text()).startswith("#EXTM3U")


async def test_an_unpublished_asset_has_no_urls(client: Client, library: dict[str, int]) -> None:
    document = await get_json(client, f"/api/v1/assets/{library['chemistry']}")

    assert document["status"] == "pending"
    assert document["urls"] is None
    assert document["renditions"] == []
    assert document["published_at"] is None


async def test_chinese_text_is_sent_as_utf8(client: Client, library: dict[str, int]) -> None:
    response = await client.get(f"/api/v1/assets/{library['geography']}")

    assert "地理 第一课".encode() in await response.read()
    assert "charset=utf-8" in response.headers["Content-Type"]


async def test_listing_everything(client: Client, library: dict[str, int]) -> None:
    page = await get_json(client, "/api/v1/assets")

    assert page["total"] == 5
    assert page["limit"] == 50
    assert page["offset"] == 0
    assert [item["id"] for item in page["items"]] == sorted(library.values())


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("q=algebra", ["algebra1", "algebra2"], id="title-substring-any-case"),
        pytest.param("q=lesson%202", ["algebra2"], id="title-with-space"),
        pytest.param("q=geo-01", ["geography"], id="original-filename"),
        pytest.param("q=.avi", ["broken"], id="filename-extension"),
        pytest.param("q=%E5%9C%B0%E7%90%86", ["geography"], id="chinese-title"),
        pytest.param("q=nothing-like-this", [], id="no-match"),
        pytest.param("q=%E7%AC%AC%E4%B8%80", ["geography"], id="two-chinese-characters-inside"),
        pytest.param("q=MATHS", ["algebra1", "algebra2"], id="series-word-any-case"),
        pytest.param("q=lesson%20maths", [], id="every-word-in-one-field"),
        pytest.param(
            "q=%21%3F%20",
            ["algebra1", "algebra2", "geography", "chemistry", "broken"],
            id="punctuation-only-is-no-search",
        ),
        pytest.param("series=Maths", ["algebra1", "algebra2"], id="series"),
        pytest.param("source=city", ["geography"], id="source"),
        pytest.param("source=own", ["chemistry", "broken"], id="source-default"),
        pytest.param("status=published", ["algebra1", "algebra2", "geography"], id="status-published"),
        pytest.param("status=pending", ["chemistry"], id="status-pending"),
        pytest.param("status=failed", ["broken"], id="status-failed"),
        pytest.param("series=Maths&source=provincial", ["algebra2"], id="combined"),
        pytest.param(
            "q=&series=&source=&status=",
            ["algebra1", "algebra2", "geography", "chemistry", "broken"],
            id="empty-values-are-ignored",
        ),
    ],
)
async def test_search_and_filters(
    client: Client, library: dict[str, int], query: str, expected: list[str]
) -> None:
    page = await get_json(client, f"/api/v1/assets?{query}")

    assert [item["id"] for item in page["items"]] == [library[name] for name in expected]
    assert page["total"] == len(expected)


async def test_pages_cover_everything_once(client: Client, library: dict[str, int]) -> None:
    seen: list[int] = []
    for offset in (0, 2, 4):
        page = await get_json(client, f"/api/v1/assets?limit=2&offset={offset}")
        assert page["total"] == 5
        assert page["limit"] == 2
        assert page["offset"] == offset
        assert len(page["items"]) == (1 if offset == 4 else 2)
        seen.extend(item["id"] for item in page["items"])

    assert seen == sorted(library.values())


async def test_a_page_past_the_end_is_empty_but_counts(client: Client, library: dict[str, int]) -> None:
    page = await get_json(client, "/api/v1/assets?offset=10&status=published")

    assert page == {"items": [], "total": 3, "limit": 50, "offset": 10}


@pytest.mark.parametrize(
    ("query", "must_mention"),
    [
        pytest.param("limit=0", ["'limit'", "1 to 200", "'0'"], id="limit-zero"),
        pytest.param("limit=201", ["'limit'", "1 to 200"], id="limit-too-big"),
        pytest.param("limit=ten", ["'limit'", "'ten'"], id="limit-not-a-number"),
        pytest.param("limit=1.5", ["'limit'"], id="limit-not-an-integer"),
        pytest.param("offset=-1", ["'offset'", "0 to 1000000000"], id="offset-negative"),
        pytest.param("offset=x", ["'offset'"], id="offset-not-a-number"),
        pytest.param("source=national", ["'source'", "central, provincial, city, own"], id="unknown-source"),
        pytest.param(
            "status=done", ["'status'", "pending, published, failed, withdrawn"], id="unknown-status"
        ),
    ],
)
async def test_bad_parameters_are_a_400_saying_what_is_allowed(
    client: Client, library: dict[str, int], query: str, must_mention: list[str]
) -> None:
    document = await get_json(client, f"/api/v1/assets?{query}", status=400)

    assert set(document) == {"error"}
    for text in must_mention:
        assert text in document["error"]


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/api/v1/assets/999", id="unknown-id"),
        pytest.param("/api/v1/assets/abc", id="non-numeric-id"),
        pytest.param("/api/v1/assets/1234567890123456789012345", id="absurd-id"),
        pytest.param("/api/v1/nothing", id="unknown-path"),
    ],
)
async def test_api_404s_are_json(client: Client, library: dict[str, int], path: str) -> None:
    document = await get_json(client, path, status=404)

    assert set(document) == {"error"}
    assert document["error"]


async def test_unknown_asset_error_names_it(client: Client) -> None:
    document = await get_json(client, "/api/v1/assets/999", status=404)

    assert document == {"error": "asset 999 not found"}


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_the_viewer_api_is_read_only(client: Client, library: dict[str, int], method: str) -> None:
    for path in ("/api/v1/assets", f"/api/v1/assets/{library['algebra1']}"):
        response = await client.request(method, path, json={"title": "changed"})
        if method == "PATCH" and path != "/api/v1/assets":
            # an editor's action (rcmedia.web.editor_api): refused without a login
            assert response.status == 401, path
        else:
            assert response.status == 405, path
            assert "GET" in response.headers["Allow"]
        assert set(await response.json()) == {"error"}

    document = await get_json(client, f"/api/v1/assets/{library['algebra1']}")
    assert document["title"] == "Algebra, lesson 1"
