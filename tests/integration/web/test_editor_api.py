"""Editor actions over HTTP: metadata, rights and withdrawal, and the EPG rebuilding after them."""

from __future__ import annotations

from typing import Any

import pytest

from rcmedia.catalog.repository import AssetQuery, Catalog
from rcmedia.core.accounts import Role
from rcmedia.core.builder import broadcast_day
from rcmedia.core.models import Output
from rcmedia.service.channels import load_channels
from rcmedia.service.schedules import build_all
from tests.integration.web.accounts import add_accounts, logged_in
from tests.integration.web.published import Client
from tests.integration.web.schedules import NOW, TOMORROW, OnAir

Document = dict[str, Any]


@pytest.fixture(autouse=True)
def accounts(catalog: Catalog) -> dict[Role, str]:
    return add_accounts(catalog)


def asset_id(catalog: Catalog, title: str) -> int:
    (asset,) = catalog.find_assets(AssetQuery(text=title)).items
    return asset.id


def aired(on_air: OnAir, asset: int) -> dict[tuple[str, Output], int]:
    """(channel, output) → how often ``asset`` airs on TOMORROW."""
    counts = {}
    for channel in load_channels(on_air.store):
        start, end = broadcast_day(channel, TOMORROW)
        for output in channel.outputs:
            events = on_air.store.events(channel.id, output, start=start, end=end)
            counts[channel.id, output] = sum(e.asset_id == asset for e in events)
    return counts


async def test_anonymous_and_operators_may_not_edit_assets(schedule_client: Client, catalog: Catalog) -> None:
    asset = asset_id(catalog, "红色记忆")
    writes = [
        ("PATCH", f"/api/v1/assets/{asset}", {"title": "x"}),
        ("PUT", f"/api/v1/assets/{asset}/rights", []),
        ("POST", f"/api/v1/assets/{asset}/withdraw", {}),
    ]
    for method, path, body in writes:
        response = await schedule_client.request(method, path, json=body)
        assert response.status == 401, path
    await logged_in(schedule_client, "operator")
    for method, path, body in writes:
        response = await schedule_client.request(method, path, json=body)
        assert response.status == 403, path
        assert "needs editor" in (await response.json())["error"]
    assert catalog.get_asset(asset).metadata.title == "红色记忆 第1集"


async def test_an_editor_changes_metadata(schedule_client: Client, catalog: Catalog, on_air: OnAir) -> None:
    await logged_in(schedule_client, "editor")
    asset = asset_id(catalog, "红色记忆")
    fingerprint = on_air.store.change_fingerprint()

    response = await schedule_client.patch(
        f"/api/v1/assets/{asset}",
        json={"title": "红色记忆（修订版）", "description": "新的简介", "categories": ["党史"], "episode": 2},
    )

    assert response.status == 200, await response.text()
    document = await response.json()
    assert (document["title"], document["description"], document["categories"], document["episode"]) == (
        "红色记忆（修订版）",
        "新的简介",
        ["党史"],
        2,
    )
    assert document["series"] == "红色记忆"
    fetched = await schedule_client.get(f"/api/v1/assets/{asset}")
    assert await fetched.json() == document
    assert on_air.store.change_fingerprint() != fingerprint

    build_all(on_air.store, first_day=TOMORROW, days=1, now=NOW)  # what the EPG watch does next
    start, end = broadcast_day(load_channels(on_air.store)[0], TOMORROW)
    titles = {
        e.title for e in on_air.store.events("rcxf", Output.TV, start=start, end=end) if e.asset_id == asset
    }
    assert titles == {"红色记忆（修订版）"}


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        pytest.param({"episode": -1}, 400, "episode", id="negative-episode"),
        pytest.param({"title": ""}, 400, "title", id="empty-title"),
        pytest.param({"title": "红\x1b[31m色"}, 400, "title", id="esc-in-title"),
        pytest.param({"series": "a\r\nb"}, 400, "series", id="newline-in-series"),
        pytest.param({"description": "ok\n\x07"}, 400, "description", id="bel-in-description"),
        pytest.param({"status": "withdrawn"}, 400, "status", id="status"),
        pytest.param({}, 400, "body", id="nothing"),
        pytest.param([], 400, "body", id="not-an-object"),
    ],
)
async def test_bad_metadata_is_refused_naming_the_field(
    schedule_client: Client, catalog: Catalog, body: Any, status: int, field: str
) -> None:
    await logged_in(schedule_client, "editor")
    asset = asset_id(catalog, "红色记忆")
    response = await schedule_client.patch(f"/api/v1/assets/{asset}", json=body)
    assert response.status == status
    answer = await response.json()
    assert answer["field"] == field
    assert answer["error"].startswith(f"{field}: ")


async def test_unknown_assets_are_404(schedule_client: Client) -> None:
    await logged_in(schedule_client, "admin")
    for method, path, body in (
        ("PATCH", "/api/v1/assets/999", {"title": "x"}),
        ("PUT", "/api/v1/assets/999/rights", []),
        ("POST", "/api/v1/assets/999/withdraw", {}),
    ):
        response = await schedule_client.request(method, path, json=body)
        assert response.status == 404, path
        assert await response.json() == {"error": "asset 999 not found"}


async def test_a_rights_change_rebuilds_the_asset_away_from_that_output_only(
    schedule_client: Client, catalog: Catalog, on_air: OnAir
) -> None:
    await logged_in(schedule_client, "editor")
    asset = asset_id(catalog, "红色记忆")
    before = aired(on_air, asset)
    assert all(count > 0 for count in before.values()), before
    fingerprint = on_air.store.change_fingerprint()

    response = await schedule_client.put(
        f"/api/v1/assets/{asset}/rights",
        json=[{"output": "tv"}, {"output": "mobile", "start": None, "end": None}],
    )

    assert response.status == 200, await response.text()
    assert (await response.json())["rights"] == [
        {"output": "tv", "start": None, "end": None},
        {"output": "mobile", "start": None, "end": None},
    ]
    assert on_air.store.change_fingerprint() != fingerprint
    build_all(on_air.store, first_day=TOMORROW, days=1, now=NOW)
    after = aired(on_air, asset)
    assert after == {key: 0 if key[1] is Output.IPTV else count for key, count in before.items()}
    start, end = broadcast_day(load_channels(on_air.store)[0], TOMORROW)
    substituted = [
        e for e in on_air.store.events("rcxf", Output.IPTV, start=start, end=end) if e.substitution
    ]
    assert substituted, "the substitutions say why"


async def test_bad_rights_are_refused_naming_the_field(schedule_client: Client, catalog: Catalog) -> None:
    await logged_in(schedule_client, "editor")
    asset = asset_id(catalog, "红色记忆")
    response = await schedule_client.put(
        f"/api/v1/assets/{asset}/rights",
        json=[
            {"output": "tv"},
            {"output": "iptv", "start": "2026-04-01T00:00:00Z", "end": "2026-03-01T00:00:00Z"},
        ],
    )
    assert response.status == 400
    assert (await response.json())["field"] == "rights[1].end"
    assert len(catalog.get_asset(asset).metadata.rights) == 3  # unchanged


async def test_a_withdrawn_asset_leaves_vod_and_the_next_rebuild(
    schedule_client: Client, catalog: Catalog, on_air: OnAir
) -> None:
    await logged_in(schedule_client, "editor")
    asset = asset_id(catalog, "红色记忆")
    assert (await schedule_client.get(f"/vod/{asset}/master.m3u8")).status == 200
    fingerprint = on_air.store.change_fingerprint()

    response = await schedule_client.post(f"/api/v1/assets/{asset}/withdraw", json={})

    assert response.status == 200
    assert (await response.json())["status"] == "withdrawn"
    assert (await schedule_client.get(f"/vod/{asset}/master.m3u8")).status == 404
    assert on_air.store.change_fingerprint() != fingerprint
    build_all(on_air.store, first_day=TOMORROW, days=1, now=NOW)
    assert set(aired(on_air, asset).values()) == {0}
    again = await schedule_client.post(f"/api/v1/assets/{asset}/withdraw", json={})
    assert again.status == 200


async def test_a_pending_asset_cannot_be_withdrawn(schedule_client: Client, catalog: Catalog) -> None:
    from tests.integration.web.published import create_pending

    pending, _job = create_pending(catalog, title="还在转码", original_filename="pending.mp4")
    await logged_in(schedule_client, "editor")
    response = await schedule_client.post(f"/api/v1/assets/{pending}/withdraw", json={})
    assert response.status == 409
    assert "only a published asset can be withdrawn" in (await response.json())["error"]


async def test_editors_changes_name_the_version_they_saw_and_a_stale_one_is_refused(
    schedule_client: Client, catalog: Catalog
) -> None:
    """Two editors open the same asset; the second save must not silently undo the first."""
    await logged_in(schedule_client, "editor")
    asset = asset_id(catalog, "红色记忆")
    opened = await schedule_client.get(f"/api/v1/assets/{asset}")
    seen, etag = await opened.json(), opened.headers["ETag"]
    assert str(seen["version"]) in etag

    first = await schedule_client.patch(
        f"/api/v1/assets/{asset}", json={"title": "红色记忆（一）"}, headers={"If-Match": etag}
    )
    assert first.status == 200, await first.text()
    saved = await first.json()
    assert saved["version"] > seen["version"]
    assert first.headers["ETag"] != etag

    for stale in (
        schedule_client.patch(
            f"/api/v1/assets/{asset}", json={"title": "红色记忆（二）", "version": seen["version"]}
        ),
        schedule_client.patch(
            f"/api/v1/assets/{asset}", json={"title": "红色记忆（二）"}, headers={"If-Match": etag}
        ),
        schedule_client.put(f"/api/v1/assets/{asset}/rights", json=[], headers={"If-Match": etag}),
        schedule_client.post(f"/api/v1/assets/{asset}/withdraw", json={}, headers={"If-Match": etag}),
    ):
        response = await stale
        assert response.status == 409, await response.text()
        body = await response.json()
        assert body["current_version"] == saved["version"]
    now = await (await schedule_client.get(f"/api/v1/assets/{asset}")).json()
    assert now == saved, "nothing a refused write asked for was applied"

    newer = await schedule_client.patch(
        f"/api/v1/assets/{asset}",
        json={"description": "第二位编辑"},
        headers={"If-Match": first.headers["ETag"]},
    )
    assert newer.status == 200, await newer.text()
    assert (await newer.json())["title"] == "红色记忆（一）"
    other = first.headers["ETag"].replace(f"asset/{asset}/", f"asset/{asset + 1}/")  # the same version
    for tag in ("*x", other, f"{first.headers['ETag']}, {first.headers['ETag']}"):
        bad = await schedule_client.patch(
            f"/api/v1/assets/{asset}", json={"title": "x"}, headers={"If-Match": tag}
        )
        assert (bad.status, (await bad.json())["field"]) == (400, "If-Match"), tag
