"""The origin over S3 storage (moto's server on loopback): VOD, live, catch-up and the slate
stand-in, with media redirected to presigned URLs (the default) or proxied by the origin."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urljoin

import aiohttp
import m3u8
import pytest
from aiohttp import web

from rcmedia.catalog.repository import Catalog
from rcmedia.config import Settings
from rcmedia.storage.s3 import S3Storage
from rcmedia.web.media import IMMUTABLE
from tests.integration.web.published import AiohttpClient, Client, Published, publish_fake_asset
from tests.integration.web.schedules import NOW, FixedClock, OnAir, origin_app
from tests.s3_server import S3Server

LIVE = "/live/rcxf/iptv"


@pytest.fixture
def storage(s3_server: S3Server, settings: Settings) -> S3Storage:  # type: ignore[override]
    """Every fixture of this module that stores media stores it in S3."""
    return S3Storage(
        s3_server.new_bucket(), staging_root=settings.work_dir / "s3-staging", endpoint=s3_server.endpoint
    )


@pytest.fixture
def asset(catalog: Catalog, storage: S3Storage) -> Published:
    return publish_fake_asset(catalog, storage, seed=7)


async def follow(client: Client, path: str) -> tuple[aiohttp.ClientResponse, bytes]:
    """GET ``path`` from the origin; a redirect is followed by a plain client with no credentials."""
    response = await client.get(path, allow_redirects=False)
    if response.status != 307:
        return response, await response.read()
    async with aiohttp.ClientSession() as session, session.get(response.headers["Location"]) as stored:
        assert stored.status == 200
        return response, await stored.read()


async def playlist(client: Client, path: str) -> m3u8.M3U8:
    response = await client.get(path)
    assert response.status == 200, await response.text()
    return m3u8.loads(await response.text())


async def test_vod_master_rendition_segment_redirects_to_the_bytes(
    client: Client, asset: Published, app_settings: Settings
) -> None:
    master_path = f"/vod/{asset.asset_id}/master.m3u8"
    master = await playlist(client, master_path)
    rendition_path = urljoin(master_path, master.playlists[0].uri)
    rendition = await playlist(client, rendition_path)
    assert rendition.segments

    for segment in rendition.segments:
        path = urljoin(rendition_path, segment.uri)
        assert path.startswith("/media/")  # playlists unchanged: the origin's own address
        response, data = await follow(client, path)
        assert response.status == 307
        assert data == asset.files[path.removeprefix("/media/")]
        # a shared cache keeps the redirect far less long than its signature lives
        assert response.headers["Cache-Control"] == f"public, max-age={app_settings.s3_presign_seconds // 10}"
        assert "X-Amz-Signature" in response.headers["Location"]


async def test_proxy_mode_sends_the_bytes_itself(
    aiohttp_client: AiohttpClient,
    app_settings: Settings,
    catalog: Catalog,
    storage: S3Storage,
    asset: Published,
) -> None:
    app = origin_app(app_settings.replace(s3_media="proxy"), catalog, storage, FixedClock(NOW))
    client = await aiohttp_client(app)
    key, data = next(iter(asset.files.items()))

    response = await client.get(f"/media/{key}", allow_redirects=False)
    assert response.status == 200
    assert await response.read() == data
    assert response.headers["Cache-Control"] == IMMUTABLE
    assert response.headers["Content-Type"] == "video/mp2t"
    ranged = await client.get(f"/media/{key}", headers={"Range": "bytes=10-19"})
    assert ranged.status == 206
    assert await ranged.read() == data[10:20]


async def test_a_key_of_no_published_asset_is_still_404(client: Client, asset: Published) -> None:
    response = await client.get(
        f"/media/assets/{asset.asset_id}/nothing/360p/seg_00000.ts", allow_redirects=False
    )
    assert response.status == 404


@pytest.mark.parametrize("mode", [pytest.param("redirect", id="redirect"), pytest.param("proxy", id="proxy")])
async def test_live_and_catchup_segments_come_from_s3(
    aiohttp_client: AiohttpClient,
    app_settings: Settings,
    catalog: Catalog,
    storage: S3Storage,
    on_air: OnAir,
    mode: str,
) -> None:
    client = await aiohttp_client(
        origin_app(app_settings.replace(s3_media=mode), catalog, storage, FixedClock(NOW))
    )
    live = await playlist(client, f"{LIVE}/360p.m3u8")
    replay_path = (
        f"/catchup/rcxf/iptv/360p.m3u8?utc={int((NOW - timedelta(minutes=30)).timestamp())}&duration=600"
    )
    replay = await playlist(client, replay_path)
    for segment in [*live.segments[-3:], *replay.segments[:2]]:
        # /air/… rewrites the stored segment (read from S3); its cache is local
        response, data = await follow(
            client, urljoin(replay_path if segment in replay.segments else LIVE + "/", segment.uri)
        )
        assert response.status == 200, segment.uri
        assert response.headers["Content-Type"] == "video/mp2t"
        assert len(data) > 0


@pytest.fixture
def app(app_settings: Settings, catalog: Catalog, storage: S3Storage) -> web.Application:  # type: ignore[override]
    return origin_app(app_settings, catalog, storage, FixedClock(NOW))
