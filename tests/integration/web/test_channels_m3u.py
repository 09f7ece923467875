"""``GET /channels.m3u``: the IPTV channel list, with ids that match the guide and absolute URLs."""

from __future__ import annotations

import re

import pytest
from lxml import etree

from rcmedia.catalog.repository import Catalog
from rcmedia.config import Settings
from rcmedia.storage.local import LocalStorage
from tests.integration.web.published import CORS_ORIGIN, AiohttpClient, Client
from tests.integration.web.schedules import FixedClock, OnAir, origin_app

ATTRIBUTE = re.compile(r'([a-z-]+)="([^"]*)"')
M3U_TYPE = "audio/x-mpegurl; charset=utf-8"


def entries(text: str) -> list[tuple[dict[str, str], str, str]]:
    """(attributes, name, URL) per channel, split the way IPTV Simple and TiviMate split them."""
    lines = text.splitlines()
    found = []
    for number, line in enumerate(lines):
        if line.startswith("#EXTINF:-1 "):
            head, name = line.rsplit(",", 1)
            found.append((dict(ATTRIBUTE.findall(head)), name, lines[number + 1]))
    return found


async def channel_list(client: Client, query: str = "", **headers: str) -> str:
    response = await client.get(f"/channels.m3u{query}", headers=headers)
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"] == M3U_TYPE
    return await response.text()


async def test_list_for_iptv_matches_the_guide(schedule_client: Client) -> None:
    base = str(schedule_client.make_url("")).rstrip("/")

    text = await channel_list(schedule_client, "?output=iptv")

    epg = f"{base}/epg.xml?output=iptv"
    assert text.splitlines()[0] == f'#EXTM3U x-tvg-url="{epg}" url-tvg="{epg}"'
    listed = entries(text)
    assert [(a["tvg-id"], a["tvg-chno"], name) for a, name, _ in listed] == [
        ("rcxf.rcmedia", "1", "蓉城先锋"),
        ("rcjy.rcmedia", "2", "蓉城教育"),
    ]
    guide = etree.fromstring(await (await schedule_client.get("/epg.xml?output=iptv")).read())
    assert {a["tvg-id"] for a, _, _ in listed} == {c.get("id") for c in guide.iter("channel")}
    (rcxf, _, rcxf_url), (rcjy, _, rcjy_url) = listed
    assert rcxf_url == f"{base}/live/rcxf/iptv/master.m3u8"
    assert rcjy_url == f"{base}/live/rcjy/iptv/master.m3u8"
    assert rcxf["tvg-logo"] == f"{base}/static/logos/rcxf.png"
    assert rcxf["group-title"] == "成都"
    assert rcxf["catchup"] == "default"
    assert rcxf["catchup-days"] == "7"
    source = rcxf["catchup-source"]
    assert source.startswith(f"{base}/catchup/rcxf/iptv/master.m3u8?")
    assert "{utc}" in source
    assert "{duration}" in source
    assert "catchup" not in rcjy  # no catch-up days on 蓉城教育
    for _, _, url in listed:
        assert url.startswith(("http://", "https://"))


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        pytest.param("?output=tv", ["rcxf.rcmedia"], id="tv"),
        pytest.param("?output=mobile", ["rcxf.rcmedia", "rcjy.rcmedia"], id="mobile"),
        pytest.param("", ["rcxf.rcmedia", "rcjy.rcmedia"], id="default-is-iptv"),
    ],
)
async def test_one_entry_per_channel_on_the_output(
    schedule_client: Client, query: str, ids: list[str]
) -> None:
    text = await channel_list(schedule_client, query)

    output = query.removeprefix("?output=") or "iptv"
    assert [a["tvg-id"] for a, _, _ in entries(text)] == ids
    assert all(url.endswith(f"/{output}/master.m3u8") for _, _, url in entries(text))
    assert f"/epg.xml?output={output}" in text.splitlines()[0]


async def test_public_url_wins_over_the_request_host(
    aiohttp_client: AiohttpClient,
    app_settings: Settings,
    catalog: Catalog,
    storage: LocalStorage,
    clock: FixedClock,
    on_air: OnAir,
) -> None:
    settings = app_settings.replace(public_url="https://tv.example.cn/")
    app = origin_app(settings, catalog, storage, clock)
    client = await aiohttp_client(app)

    text = await channel_list(client)

    assert text.splitlines()[0].startswith('#EXTM3U x-tvg-url="https://tv.example.cn/epg.xml?output=iptv"')
    assert entries(text)[0][2] == "https://tv.example.cn/live/rcxf/iptv/master.m3u8"


async def test_the_host_the_viewer_used(schedule_client: Client) -> None:
    text = await channel_list(schedule_client, Host="192.168.1.20:8443")

    assert entries(text)[0][2] == "http://192.168.1.20:8443/live/rcxf/iptv/master.m3u8"


async def test_a_host_header_unfit_for_a_url_is_not_echoed(
    schedule_client: Client, app_settings: Settings
) -> None:
    text = await channel_list(schedule_client, Host='evil.example"/><x')

    assert "evil" not in text
    assert entries(text)[0][2] == f"{app_settings.base_url()}/live/rcxf/iptv/master.m3u8"


async def test_cors_and_gzip(schedule_client: Client) -> None:
    response = await schedule_client.get(
        "/channels.m3u", headers={"Origin": "https://player.example", "Accept-Encoding": "gzip"}
    )

    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == CORS_ORIGIN
    assert response.headers["Content-Encoding"] == "gzip"
    # built on the request's Host (no public_url): see test_host_header.py
    assert response.headers["Cache-Control"] == "private, max-age=300"
    assert (await response.text()).startswith("#EXTM3U")


async def test_no_channels_applied_is_an_empty_list(client: Client) -> None:
    text = await channel_list(client)

    assert text.startswith("#EXTM3U x-tvg-url=")
    assert entries(text) == []


async def test_bad_output_is_refused(client: Client) -> None:
    response = await client.get("/channels.m3u?output=radio")

    assert response.status == 400
    assert "'output': 'radio' is not one of tv, iptv, mobile" in await response.text()


async def test_preflight_and_read_only(client: Client) -> None:
    preflight = await client.options(
        "/channels.m3u", headers={"Origin": "https://player.example", "Access-Control-Request-Method": "GET"}
    )
    post = await client.post("/channels.m3u")

    assert preflight.status == 204
    assert post.status == 405
