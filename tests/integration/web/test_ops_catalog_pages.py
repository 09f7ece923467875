"""The catalog pages, the grid page and an asset's airings over HTTP: roles, search, edge cases."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from rcmedia.catalog.repository import AssetQuery, Catalog
from rcmedia.core.accounts import Role
from rcmedia.core.asrun import AsRunEntry
from rcmedia.core.models import AssetMetadata, Output
from rcmedia.core.schedule import EventKind
from tests.integration.web.accounts import add_accounts, logged_in
from tests.integration.web.published import Client, source_path_of
from tests.integration.web.schedules import NOW

Document = dict[str, Any]


@pytest.fixture(autouse=True)
def accounts(catalog: Catalog) -> dict[Role, str]:
    return add_accounts(catalog)


def asset_id(catalog: Catalog, title: str) -> int:
    (asset,) = catalog.find_assets(AssetQuery(text=title)).items
    return asset.id


@pytest.mark.parametrize(
    "path",
    ["/ops/assets", "/ops/assets/2", "/ops/channels/rcxf/grid"],
)
async def test_anonymous_visitors_are_sent_to_log_in(schedule_client: Client, path: str) -> None:
    response = await schedule_client.get(path, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == f"/login?next={path}"


async def test_the_catalog_is_searched_by_chinese_title_series_and_status(schedule_client: Client) -> None:
    await logged_in(schedule_client, "operator")
    text = await (await schedule_client.get("/ops/assets?q=学习时间")).text()
    assert "共 3 个节目" in text
    assert text.count('href="/ops/assets/') == 3
    text = await (await schedule_client.get("/ops/assets?series=红色记忆&status=published")).text()
    assert "共 1 个节目" in text
    assert "红色记忆 第1集" in text
    text = await (await schedule_client.get("/ops/assets?status=withdrawn&lang=en")).text()
    assert "0 assets" in text
    assert "No asset matches." in text
    text = await (await schedule_client.get("/ops/assets?offset=5")).text()
    assert 'rel="prev"' in text
    assert (await schedule_client.get("/ops/assets?status=lost")).status == 400


async def test_an_asset_page_shows_renditions_airings_and_editors_get_the_forms(
    schedule_client: Client, catalog: Catalog
) -> None:
    asset = asset_id(catalog, "学习时间 第1集")
    start = NOW - timedelta(hours=2)
    entry = AsRunEntry(
        scheduled_start=start,
        actual_start=start,
        duration_us=600_000_000,
        asset_id=asset,
        title="学习时间 第1集",
        kind=EventKind.PROGRAMME,
        substitution=None,
    )
    catalog.asrun.close("rcxf", Output.IPTV, [entry], until=NOW - timedelta(hours=1), now=NOW)
    await logged_in(schedule_client, "operator")
    text = await (await schedule_client.get(f"/ops/assets/{asset}")).text()
    assert '<h1 id="asset-title">学习时间 第1集</h1>' in text
    assert "144p" in text
    assert f"/vod/{asset}/master.m3u8" in text
    assert 'id="scheduled-airings"' in text
    assert "2026-03-02 10:30:00" in text  # the as-run entry, in Shanghai time
    assert 'id="metadata-form"' not in text  # an operator reads only
    await logged_in(schedule_client, "editor")
    text = await (await schedule_client.get(f"/ops/assets/{asset}")).text()
    assert 'id="metadata-form"' in text
    assert 'id="withdraw-start"' in text
    assert (await schedule_client.get("/ops/assets/999")).status == 404


async def test_an_assets_airings_list_what_a_withdrawal_affects(
    schedule_client: Client, catalog: Catalog
) -> None:
    asset = asset_id(catalog, "学习时间 第1集")
    response = await schedule_client.get(f"/api/v1/assets/{asset}/airings?when=scheduled")
    assert response.status == 200
    body: Document = await response.json()
    assert body["aired"] == []
    assert body["scheduled_total"] == len(body["scheduled"]) > 0
    starts = [a["start"] for a in body["scheduled"]]
    assert starts == sorted(starts)
    assert {(a["channel"], a["output"]) for a in body["scheduled"]} <= {
        ("rcxf", "tv"),
        ("rcxf", "iptv"),
        ("rcxf", "mobile"),
        ("rcjy", "iptv"),
        ("rcjy", "mobile"),
    }
    for airing in body["scheduled"]:
        assert airing["frozen"] == (airing["start"] < body["freeze_until"])
    assert all(a["end"] > body["now"] for a in body["scheduled"])
    limited = await (await schedule_client.get(f"/api/v1/assets/{asset}/airings?limit=1")).json()
    assert len(limited["scheduled"]) == 1
    assert limited["scheduled_total"] == body["scheduled_total"]
    assert (await schedule_client.get("/api/v1/assets/999/airings")).status == 404
    assert (await schedule_client.get(f"/api/v1/assets/{asset}/airings?when=later")).status == 400


async def test_the_grid_page_is_for_operators_and_shows_the_grid(schedule_client: Client) -> None:
    await logged_in(schedule_client, "editor")
    assert (await schedule_client.get("/ops/channels/rcxf/grid")).status == 403
    await logged_in(schedule_client, "operator")
    text = await (await schedule_client.get("/ops/channels/rcxf/grid")).text()
    assert "xxsj-0600" in text
    assert "least_recent" in text
    assert "23:00–02:00" in text
    assert "系列 学习时间, 红色记忆" in text
    assert "系列 宣传片" in text
    assert '<pre class="source mono" id="grid-source"' in text
    assert (await schedule_client.get("/ops/channels/nope/grid")).status == 404


async def test_a_pending_asset_has_a_page_without_player_or_withdrawal(
    schedule_client: Client, catalog: Catalog
) -> None:
    pending, _job = catalog.create_ingest(
        AssetMetadata(title="还在转码的节目"),
        original_filename="pending.mp4",
        source_path=source_path_of("pending.mp4"),
        profile="tiny",
        max_attempts=3,
        now=NOW,
    )
    await logged_in(schedule_client, "editor")
    response = await schedule_client.get(f"/ops/assets/{pending}?lang=en")
    assert response.status == 200
    text = await response.text()
    assert "Only a published asset can be previewed." in text
    assert "No renditions yet." in text
    assert "player-config" not in text
    assert 'id="withdraw-start"' not in text
    assert 'id="metadata-form"' in text
    listed = await (await schedule_client.get("/ops/assets?status=pending&lang=en")).text()
    assert f'href="/ops/assets/{pending}"' in listed
