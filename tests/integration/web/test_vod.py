"""VOD playlists, read back with the m3u8 library and followed down to the segment bytes."""

from __future__ import annotations

import gzip
from urllib.parse import urljoin

import m3u8
import pytest
from aiohttp import web

from rcmedia.catalog.repository import Catalog
from rcmedia.ingest.rerate import rerate_published
from rcmedia.storage.local import LocalStorage
from tests.integration.web.published import (
    CODECS,
    DURATIONS,
    NOW,
    RUNG_FACTS,
    AiohttpClient,
    Client,
    PublishAsset,
    create_pending,
)

PLAYLIST_TYPE = "application/vnd.apple.mpegurl"


async def fetch_master(client: Client, asset_id: int, query: str = "") -> m3u8.M3U8:
    response = await client.get(f"/vod/{asset_id}/master.m3u8{query}")
    assert response.status == 200, await response.text()
    playlist = m3u8.loads(await response.text())
    assert playlist.is_variant
    return playlist


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("?output=tv", ["360p", "180p"], id="tv"),
        pytest.param("?output=iptv", ["360p", "180p", "144p"], id="iptv"),
        pytest.param("?output=mobile", ["180p", "144p"], id="mobile"),
        pytest.param("", ["360p", "180p", "144p"], id="default-is-iptv"),
        pytest.param("?output=", ["360p", "180p", "144p"], id="empty-is-default"),
    ],
)
async def test_master_lists_the_outputs_rungs_with_measured_attributes(
    client: Client, publish_asset: PublishAsset, query: str, expected: list[str]
) -> None:
    asset = publish_asset()

    master = await fetch_master(client, asset.asset_id, query)

    assert [p.uri for p in master.playlists] == [f"{name}.m3u8" for name in expected]
    for variant, name in zip(master.playlists, expected, strict=True):
        facts = RUNG_FACTS[name]
        info = variant.stream_info
        assert info.bandwidth == facts["bandwidth"]
        assert info.average_bandwidth == facts["average_bandwidth"]
        assert info.resolution == (facts["width"], facts["height"])
        assert info.codecs == CODECS
        assert info.frame_rate == pytest.approx(25.0)
    assert master.is_independent_segments
    assert master.version == 3


async def test_master_of_a_rerated_asset_advertises_the_rfc_peak(
    client: Client, catalog: Catalog, storage: LocalStorage, publish_asset: PublishAsset
) -> None:
    """An asset published with rates set the old way (issue 10), measured again from storage."""
    asset = publish_asset(durations=(2.0, 2.0, 0.04))  # 2000, 2700 and 3400 bytes
    (rerated,) = rerate_published(catalog, storage, now=NOW)

    master = await fetch_master(client, asset.asset_id)

    # runs of 1 to 3 s (the target is 2 s): the second segment with the tail, 6100 bytes in 2.04 s;
    # the 40 ms tail alone would claim 680,000 bit/s
    for variant in master.playlists:
        assert (variant.stream_info.bandwidth, variant.stream_info.average_bandwidth) == (23_922, 16_040)
    assert rerated.after["360p"] == (23_922, 16_040)


@pytest.mark.parametrize(
    ("rungs", "output", "expected"),
    [
        pytest.param(("180p", "144p"), "tv", ["180p"], id="small-source-on-tv"),
        pytest.param(("180p", "144p"), "mobile", ["180p", "144p"], id="small-source-on-mobile"),
        pytest.param(("144p",), "tv", ["144p"], id="below-every-tv-rung-offers-its-best"),
    ],
)
async def test_master_offers_only_renditions_the_asset_has(
    client: Client, publish_asset: PublishAsset, rungs: tuple[str, ...], output: str, expected: list[str]
) -> None:
    asset = publish_asset(rungs=rungs)

    master = await fetch_master(client, asset.asset_id, f"?output={output}")

    assert [p.uri for p in master.playlists] == [f"{name}.m3u8" for name in expected]


async def test_every_uri_from_the_master_down_resolves_to_the_stored_segments(
    client: Client, publish_asset: PublishAsset
) -> None:
    asset = publish_asset()
    master_url = f"/vod/{asset.asset_id}/master.m3u8?output=iptv"
    master = m3u8.loads(await (await client.get(master_url)).text())

    fetched: dict[str, bytes] = {}
    for variant in master.playlists:
        media_url = urljoin(master_url, variant.uri)
        response = await client.get(media_url)
        assert response.status == 200
        media = m3u8.loads(await response.text())
        assert not media.is_variant
        assert [s.duration for s in media.segments] == pytest.approx(list(DURATIONS))
        for segment in media.segments:
            segment_response = await client.get(urljoin(media_url, segment.uri))
            assert segment_response.status == 200
            fetched[urljoin(media_url, segment.uri).removeprefix("/media/")] = await segment_response.read()

    assert fetched == asset.files  # every stored segment, byte for byte, and nothing else


async def test_rendition_playlist_is_a_complete_vod_playlist(
    client: Client, publish_asset: PublishAsset
) -> None:
    asset = publish_asset()

    response = await client.get(f"/vod/{asset.asset_id}/180p.m3u8")
    media = m3u8.loads(await response.text())

    assert response.status == 200
    assert media.playlist_type == "vod"
    assert media.is_endlist
    assert media.target_duration == 2
    assert media.media_sequence == 0
    assert media.version == 3
    assert [s.uri for s in media.segments] == [
        f"/media/{asset.prefix}/180p/seg_{i:05d}.ts" for i in range(len(DURATIONS))
    ]
    assert not media.segment_map


async def test_fmp4_asset_playlist_maps_its_init_segment(client: Client, publish_asset: PublishAsset) -> None:
    asset = publish_asset(profile="tiny_fmp4")

    master = await fetch_master(client, asset.asset_id, "?output=mobile")
    response = await client.get(f"/vod/{asset.asset_id}/144p.m3u8")
    media = m3u8.loads(await response.text())

    assert master.version == 7
    assert [p.uri for p in master.playlists] == ["180p.m3u8", "144p.m3u8"]
    assert media.version == 7
    init_uri = media.segment_map[0].uri
    assert init_uri == f"/media/{asset.prefix}/144p/init.mp4"
    init = await client.get(init_uri)
    assert init.headers["Content-Type"] == "video/mp4"
    assert await init.read() == asset.files[f"{asset.prefix}/144p/init.mp4"]
    first = await client.get(media.segments[0].uri)
    assert first.headers["Content-Type"] == "video/iso.segment"
    assert await first.read() == asset.files[f"{asset.prefix}/144p/seg_00000.m4s"]


@pytest.mark.parametrize(
    "path", [pytest.param("master.m3u8", id="master"), pytest.param("360p.m3u8", id="rendition")]
)
async def test_playlist_headers(client: Client, publish_asset: PublishAsset, path: str) -> None:
    asset = publish_asset()

    response = await client.get(f"/vod/{asset.asset_id}/{path}")

    assert response.status == 200
    assert response.headers["Content-Type"] == PLAYLIST_TYPE
    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert "Accept-Encoding" in response.headers["Vary"]


@pytest.fixture
async def raw_client(aiohttp_client: AiohttpClient, app: web.Application) -> Client:
    """A client that shows the body as sent, compressed or not."""
    return await aiohttp_client(app, auto_decompress=False)


@pytest.mark.parametrize(
    "path", [pytest.param("master.m3u8", id="master"), pytest.param("360p.m3u8", id="rendition")]
)
@pytest.mark.parametrize(
    ("accept", "gzipped"),
    [
        pytest.param("gzip", True, id="gzip"),
        pytest.param("deflate, gzip;q=0.5", True, id="gzip-among-others"),
        pytest.param("*", True, id="anything"),
        pytest.param("identity", False, id="identity"),
        pytest.param("gzip;q=0, deflate", False, id="gzip-refused"),
    ],
)
async def test_playlists_are_gzipped_when_the_client_accepts_gzip(
    raw_client: Client, publish_asset: PublishAsset, path: str, accept: str, gzipped: bool
) -> None:
    asset = publish_asset()

    response = await raw_client.get(f"/vod/{asset.asset_id}/{path}", headers={"Accept-Encoding": accept})
    body = await response.read()

    assert response.status == 200
    assert response.headers.get("Content-Encoding") == ("gzip" if gzipped else None)
    text = (gzip.decompress(body) if gzipped else body).decode()
    assert text.startswith("#EXTM3U")
    assert m3u8.loads(text).version == 3


@pytest.mark.parametrize(
    "query",
    [pytest.param("?output=radio", id="unknown"), pytest.param("?output=TV", id="wrong-case")],
)
async def test_unknown_output_is_a_400_naming_the_allowed_values(
    client: Client, publish_asset: PublishAsset, query: str
) -> None:
    asset = publish_asset()

    response = await client.get(f"/vod/{asset.asset_id}/master.m3u8{query}")
    text = await response.text()

    assert response.status == 400
    assert "output" in text
    assert "tv, iptv, mobile" in text


async def test_assets_that_are_not_published_are_not_served(
    client: Client, catalog: Catalog, publish_asset: PublishAsset
) -> None:
    pending_id, _ = create_pending(catalog, title="Pending", original_filename="pending.mp4")
    failed_id, failed_job = create_pending(catalog, title="Failed", original_filename="failed.mp4")
    assert catalog.claim_job(worker="w", lease_seconds=60, now=NOW, job_id=failed_job) is not None
    catalog.fail_job(failed_job, worker="w", reason="broken", retry=False, now=NOW)
    published = publish_asset()  # proves the routes work at all

    ok = await client.get(f"/vod/{published.asset_id}/master.m3u8")
    assert ok.status == 200
    for asset_id, status in ((pending_id, "pending"), (failed_id, "failed")):
        for path in ("master.m3u8", "360p.m3u8"):
            response = await client.get(f"/vod/{asset_id}/{path}")
            assert response.status == 404, (asset_id, path)
            text = await response.text()
            assert f"asset {asset_id}" in text
            assert status in text


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/vod/999/master.m3u8", id="unknown-asset-master"),
        pytest.param("/vod/999/360p.m3u8", id="unknown-asset-rendition"),
        pytest.param("/vod/{id}/1080p.m3u8", id="unknown-rendition"),
        pytest.param("/vod/abc/master.m3u8", id="non-numeric-id"),
        pytest.param("/vod/{id}/360p.ts", id="not-a-playlist"),
        pytest.param("/vod/{id}/master.m3u8/extra", id="trailing-path"),
    ],
)
async def test_unknown_vod_paths_are_404(client: Client, publish_asset: PublishAsset, path: str) -> None:
    asset = publish_asset()

    response = await client.get(path.format(id=asset.asset_id))

    assert response.status == 404
    assert response.headers["Content-Type"].startswith("text/plain")


async def test_unknown_asset_says_which(client: Client) -> None:
    response = await client.get("/vod/999/master.m3u8")

    assert response.status == 404
    assert "asset 999 not found" in await response.text()


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
async def test_vod_is_read_only(client: Client, publish_asset: PublishAsset, method: str) -> None:
    asset = publish_asset()

    response = await client.request(method, f"/vod/{asset.asset_id}/master.m3u8")

    assert response.status == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "OPTIONS"}


async def test_head_on_a_playlist_has_no_body(client: Client, publish_asset: PublishAsset) -> None:
    asset = publish_asset()

    response = await client.head(
        f"/vod/{asset.asset_id}/master.m3u8", headers={"Accept-Encoding": "identity"}
    )

    assert response.status == 200
    assert response.headers["Content-Type"] == PLAYLIST_TYPE
    assert await response.read() == b""
