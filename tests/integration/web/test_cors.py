"""CORS on playlists and segments, errors included, and the preflight for byte-range requests."""

from __future__ import annotations

import pytest

from rcmedia.catalog.repository import Catalog
from rcmedia.config import Settings
from rcmedia.profiles import load_profiles
from rcmedia.storage.local import LocalStorage
from rcmedia.web.app import create_app
from tests.integration.web.published import CORS_ORIGIN, AiohttpClient, Client, PublishAsset, Published

PATHS = [
    pytest.param("/vod/{id}/master.m3u8?output=tv", 200, id="master"),
    pytest.param("/vod/{id}/144p.m3u8", 200, id="rendition"),
    pytest.param("/media/{prefix}/144p/seg_00000.ts", 200, id="segment"),
    pytest.param("/vod/{id}/1080p.m3u8", 404, id="missing-rendition"),
    pytest.param("/media/{prefix}/144p/seg_99999.ts", 404, id="missing-segment"),
    pytest.param("/media/..%2fsecret.ts", 404, id="refused-key"),
]


def url(template: str, asset: Published) -> str:
    return template.format(id=asset.asset_id, prefix=asset.prefix)


@pytest.mark.parametrize(("path", "status"), PATHS)
async def test_viewer_answers_allow_the_configured_origin(
    client: Client, publish_asset: PublishAsset, path: str, status: int
) -> None:
    asset = publish_asset()

    response = await client.get(url(path, asset), headers={"Origin": "https://elsewhere.example"})

    assert response.status == status
    assert response.headers["Access-Control-Allow-Origin"] == CORS_ORIGIN
    exposed = {h.strip().lower() for h in response.headers["Access-Control-Expose-Headers"].split(",")}
    assert exposed == {"content-length", "content-range"}


async def test_partial_segment_answers_allow_the_origin(client: Client, publish_asset: PublishAsset) -> None:
    asset = publish_asset()

    response = await client.get(f"/media/{asset.prefix}/144p/seg_00000.ts", headers={"Range": "bytes=0-9"})

    assert response.status == 206
    assert response.headers["Access-Control-Allow-Origin"] == CORS_ORIGIN


@pytest.mark.parametrize(("path", "status"), PATHS[:3])
async def test_preflight_allows_read_methods_and_range(
    client: Client, publish_asset: PublishAsset, path: str, status: int
) -> None:
    asset = publish_asset()

    response = await client.options(
        url(path, asset),
        headers={
            "Origin": "https://elsewhere.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "range",
        },
    )

    assert response.status in (200, 204)
    assert response.headers["Access-Control-Allow-Origin"] == CORS_ORIGIN
    methods = {m.strip() for m in response.headers["Access-Control-Allow-Methods"].split(",")}
    assert methods == {"GET", "HEAD", "OPTIONS"}
    assert "range" in response.headers["Access-Control-Allow-Headers"].lower()


async def test_api_and_health_do_not_carry_playback_cors(client: Client) -> None:
    for path in ("/api/v1/assets", "/healthz"):
        response = await client.get(path)
        assert response.status == 200
        assert "Access-Control-Allow-Origin" not in response.headers, path


async def test_empty_origin_setting_turns_cors_off(
    aiohttp_client: AiohttpClient,
    settings: Settings,
    catalog: Catalog,
    storage: LocalStorage,
    publish_asset: PublishAsset,
) -> None:
    asset = publish_asset()
    app = create_app(
        settings=settings.replace(cors_origin=""),
        catalog=catalog,
        storage=storage,
        profiles=load_profiles(settings.profiles_dir),
    )
    client = await aiohttp_client(app)

    response = await client.get(f"/vod/{asset.asset_id}/master.m3u8")

    assert response.status == 200
    assert "Access-Control-Allow-Origin" not in response.headers


async def test_default_setting_allows_any_origin(
    aiohttp_client: AiohttpClient, settings: Settings, catalog: Catalog, storage: LocalStorage
) -> None:
    app = create_app(
        settings=settings, catalog=catalog, storage=storage, profiles=load_profiles(settings.profiles_dir)
    )
    client = await aiohttp_client(app)

    response = await client.get("/vod/1/master.m3u8")

    assert response.status == 404
    assert response.headers["Access-Control-Allow-Origin"] == "*"
