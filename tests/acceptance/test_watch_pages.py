"""The viewer pages in headless chromium: real media through hls.js, the guide's replay links.

The origin runs in the test's event loop (``start_server`` on a free port); chromium reaches it
over real HTTP. What the player saw comes from ``window.rcmediaPlayer`` (static/player.js):
hls.js's errors, the last fatal one, and the discontinuity counter of each fragment played.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, Route

from rcmedia.catalog.repository import Catalog
from rcmedia.ingest.context import IngestContext
from rcmedia.storage.local import LocalStorage
from rcmedia.web.static_files import HLS_JS, STATIC_ROOT
from tests.acceptance.conftest import Serve, ingest_clip, put_short_channel_on_air
from tests.conftest import require_system
from tests.integration.web.published import publish_fake_asset
from tests.integration.web.schedules import FixedClock, put_on_air

PLAYER_STATE = """() => {
  const p = window.rcmediaPlayer;
  return {
    currentTime: p.video.currentTime,
    paused: p.video.paused,
    usesHls: p.hls !== null,
    source: p.source,
    errors: p.errors,
    fatal: p.fatal,
    discontinuities: p.discontinuities,
    fragments: p.fragments,
  };
}"""


def require_hls_js() -> None:
    require_system(
        "hls.js (rcmedia/web/static/vendor/hls.min.js)",
        (STATIC_ROOT / HLS_JS).is_file(),
        "run make: it installs hls.js with npm",
    )


def page_errors(page: Page) -> list[str]:
    """Uncaught script errors of the page and what its Content-Security-Policy blocked, as they happen."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda message: errors.append(message.text) if "Content Security Policy" in message.text else None,
    )
    return errors


async def player_state(page: Page) -> dict[str, Any]:
    state: dict[str, Any] = await page.evaluate(PLAYER_STATE)
    return state


# --- on demand -------------------------------------------------------------------------------------


@pytest.mark.slow
async def test_vod_page_plays_an_ingested_asset(
    chromium_page: Page, ingest_ctx: IngestContext, serve: Serve, tmp_path: Path
) -> None:
    require_hls_js()
    title = "党课 第1讲 <入门> & 导论"
    asset_id = await asyncio.to_thread(
        ingest_clip,
        ingest_ctx,
        tmp_path / "lecture.mp4",
        seconds=8.0,
        title=title,
        series="党课",
        episode=1,
        description="第一讲：从这里开始。",
    )
    base = await serve()
    errors = page_errors(chromium_page)

    await chromium_page.goto(f"{base}/watch/vod/{asset_id}")

    assert await chromium_page.title() == f"{title} · rcmedia"
    assert await chromium_page.inner_text("h1") == title
    assert await chromium_page.inner_text(".description") == "第一讲：从这里开始。"
    await chromium_page.wait_for_function(
        "() => window.rcmediaPlayer.video.currentTime > 2.5 || window.rcmediaPlayer.fatal !== null",
        timeout=30_000,
    )
    state = await player_state(chromium_page)
    assert state["fatal"] is None, state["errors"]
    assert state["usesHls"], "hls.js should drive playback where MediaSource exists"
    assert state["currentTime"] > 2.5
    assert state["source"] == f"/vod/{asset_id}/master.m3u8?output=iptv"
    assert not [e for e in state["errors"] if e["fatal"]]
    assert await chromium_page.is_hidden("#player-message")
    assert errors == []


async def test_a_fatal_error_is_retried_once_then_shown(
    chromium_page: Page, catalog: Catalog, storage: LocalStorage, serve: Serve
) -> None:
    require_hls_js()
    asset = await asyncio.to_thread(publish_fake_asset, catalog, storage, seed=7, title="坏了的节目")
    base = await serve()
    requests = []

    async def refuse(route: Route) -> None:
        requests.append(route.request.url)
        await route.fulfill(status=404, body="gone")

    await chromium_page.route("**/master.m3u8*", refuse)

    await chromium_page.goto(f"{base}/watch/vod/{asset.asset_id}")
    await chromium_page.wait_for_selector("#player-message:not([hidden])", timeout=15_000)

    state = await player_state(chromium_page)
    assert [e["details"] for e in state["errors"] if e["fatal"]] == ["manifestLoadError"] * 2
    assert state["fatal"]["details"] == "manifestLoadError"
    assert len(requests) == 2  # the first load and hls.js's recovery, then it gives up
    assert "manifestLoadError" in await chromium_page.inner_text("#player-message")
    assert not state["usesHls"]


# --- the guide ---------------------------------------------------------------------------------------


async def test_replay_links_play_in_the_same_player(
    chromium_page: Page, catalog: Catalog, storage: LocalStorage, serve: Serve, tmp_path: Path
) -> None:
    require_hls_js()
    await asyncio.to_thread(put_on_air, catalog, storage, tmp_path / "playlists")
    base = await serve(clock=FixedClock(datetime(2026, 3, 2, 4, 5, tzinfo=UTC)))  # 12:05 in Shanghai
    errors = page_errors(chromium_page)
    live = "/live/rcxf/iptv/continuous/master.m3u8"

    await chromium_page.goto(f"{base}/watch/rcxf")

    assert (await player_state(chromium_page))["source"] == live
    assert await chromium_page.inner_text("li.on-now .title") == "红色记忆 第1集"
    assert await chromium_page.is_hidden("#back-to-live")
    replay = chromium_page.locator("a.replay").first
    catchup, href = await replay.get_attribute("data-src"), await replay.get_attribute("href")
    assert catchup is not None
    assert catchup.startswith("/catchup/rcxf/iptv/continuous/master.m3u8?utc=")

    await replay.click()
    assert (await player_state(chromium_page))["source"] == catchup
    assert chromium_page.url == f"{base}{href}"  # the address can be shared or reloaded
    assert "回看 Replay" in await chromium_page.inner_text("#playing-label")
    assert await chromium_page.is_visible("#back-to-live")

    await chromium_page.click("#back-to-live")
    assert (await player_state(chromium_page))["source"] == live
    assert chromium_page.url == f"{base}/watch/rcxf"

    await chromium_page.go_back()
    await chromium_page.wait_for_function(f"() => window.rcmediaPlayer.source === {catchup!r}")
    assert errors == []


# --- live ----------------------------------------------------------------------------------------------


@pytest.mark.slow
async def test_live_channel_plays_across_splices(
    chromium_page: Page, ingest_ctx: IngestContext, catalog: Catalog, serve: Serve, tmp_path: Path
) -> None:
    require_hls_js()

    await asyncio.to_thread(put_short_channel_on_air, ingest_ctx, catalog, tmp_path, datetime.now(UTC))
    base = await serve()  # the system clock: live is now
    errors = page_errors(chromium_page)

    await chromium_page.goto(f"{base}/watch/kuai")
    await chromium_page.wait_for_function(
        "() => window.rcmediaPlayer.video.currentTime > 0.5 || window.rcmediaPlayer.fatal !== null",
        timeout=30_000,
    )
    samples = []  # (wall clock, currentTime) once a second
    for _ in range(20):
        state = await player_state(chromium_page)
        assert state["fatal"] is None, state["errors"]
        samples.append((time.monotonic(), state["currentTime"]))
        await asyncio.sleep(1.0)

    state = await player_state(chromium_page)
    assert state["fatal"] is None, state["errors"]
    assert state["usesHls"]
    assert state["source"] == "/live/kuai/iptv/continuous/master.m3u8"
    # steady: never stalls for more than a couple of seconds, keeps up with the wall clock overall
    for (wall_a, played_a), (wall_b, played_b) in itertools.pairwise(samples):
        assert played_b > played_a, samples
        assert played_b - played_a <= (wall_b - wall_a) + 1.0, samples
    wall = samples[-1][0] - samples[0][0]
    assert samples[-1][1] - samples[0][1] >= 0.8 * wall, samples
    # three splices or more, played as the one stream the continuous playlist is (no discontinuity)
    assets = [m.group(1) for url in state["fragments"] if (m := re.search(r"/assets/(\d+)/", url))]
    assert sum(1 for a, b in itertools.pairwise(assets) if a != b) >= 3, state["fragments"]
    assert len(set(state["discontinuities"])) == 1, state["discontinuities"]
    assert errors == []
