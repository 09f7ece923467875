"""A forged ``Host`` must never reach another viewer through a shared cache.

With ``public_url`` set no response carries anything from the request's ``Host``; without it, a
response that embeds the host is ``private`` and varies on ``Host``, so an edge cache never keeps it.
"""

from __future__ import annotations

import pytest
from aiohttp import ClientResponse

from rcmedia.catalog.repository import Catalog
from rcmedia.config import Settings
from rcmedia.storage.local import LocalStorage
from tests.integration.web.published import AiohttpClient, Client
from tests.integration.web.schedules import FixedClock, OnAir, origin_app

HOSTILE = "evil.example:8443"
PUBLIC = "https://tv.example.cn"
# every viewer response that is cacheable and could carry a URL: lists, guide, pages, JSON
VIEWER_PATHS = (
    "/channels.m3u",
    "/channels.m3u?output=tv",
    "/epg.xml",
    "/watch",
    "/watch/rcxf",
    "/watch/vod/1",
    "/api/v1/channels",
    "/api/v1/channels/rcxf",
    "/live/rcxf/iptv/master.m3u8",
)


@pytest.fixture
async def public_client(
    aiohttp_client: AiohttpClient,
    app_settings: Settings,
    catalog: Catalog,
    storage: LocalStorage,
    clock: FixedClock,
    on_air: OnAir,
) -> Client:
    settings = app_settings.replace(public_url=f"{PUBLIC}/")
    app = origin_app(settings, catalog, storage, clock)
    return await aiohttp_client(app)


async def fetch(client: Client, path: str) -> tuple[ClientResponse, str]:
    response = await client.get(path, headers={"Host": HOSTILE})
    assert response.status == 200, (path, await response.text())
    return response, await response.text()


def shared_caches_may_keep(response: ClientResponse) -> bool:
    directives = {d.strip().split("=")[0] for d in response.headers.get("Cache-Control", "").split(",")}
    vary = {v.strip().lower() for v in response.headers.get("Vary", "").split(",")}
    return not directives & {"private", "no-store"} and "host" not in vary


@pytest.mark.parametrize("path", VIEWER_PATHS)
async def test_with_public_url_a_forged_host_appears_nowhere(public_client: Client, path: str) -> None:
    response, text = await fetch(public_client, path)

    assert "evil" not in text
    assert not any("evil" in value for value in response.headers.values()), response.headers


async def test_with_public_url_the_channel_list_is_built_on_it_and_shared(public_client: Client) -> None:
    response, text = await fetch(public_client, "/channels.m3u")

    assert f"{PUBLIC}/live/rcxf/iptv/master.m3u8" in text
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert shared_caches_may_keep(response)


async def test_with_public_url_the_guide_s_logos_and_pages_are_full_urls_on_it(public_client: Client) -> None:
    response, text = await fetch(public_client, "/epg.xml")

    assert f'<icon src="{PUBLIC}/static/logos/rcxf.png"/>' in text
    assert f"<url>{PUBLIC}/watch/rcxf</url>" in text
    assert shared_caches_may_keep(response)


async def test_without_public_url_the_guide_has_no_absolute_url(schedule_client: Client) -> None:
    response = await schedule_client.get("/epg.xml", headers={"Host": HOSTILE})
    text = await response.text()

    assert '<icon src="/static/logos/rcxf.png"/>' in text
    assert "http" not in text.split("<programme", 1)[0].split("generator-info-url", 1)[0]
    assert "evil" not in text


@pytest.mark.parametrize("host", [HOSTILE, 'evil.example"/><x'])
async def test_without_public_url_a_list_built_on_the_host_stays_out_of_shared_caches(
    schedule_client: Client, host: str
) -> None:
    response = await schedule_client.get("/channels.m3u", headers={"Host": host})
    assert response.status == 200

    assert response.headers["Cache-Control"] == "private, max-age=300"
    assert {v.strip() for v in response.headers["Vary"].split(",")} == {"Accept-Encoding", "Host"}
    assert not shared_caches_may_keep(response)


@pytest.mark.parametrize("path", [p for p in VIEWER_PATHS if not p.startswith("/channels.m3u")])
async def test_without_public_url_nothing_else_embeds_the_host(schedule_client: Client, path: str) -> None:
    _response, text = await fetch(schedule_client, path)

    assert "evil" not in text  # paths only: these stay as cacheable as they were
