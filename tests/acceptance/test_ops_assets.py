"""The catalog, grid and dashboard pages in headless chromium: search and open an asset (Chinese
title), edit it, a stale edit refused with the reason, withdraw after seeing the airings it
affects, a grid file's errors by line and key then a valid one applied, now/next and the slate
share on the dashboard. Every page is screenshot and checked by axe-core (check_page)."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Page

from rcmedia.catalog.repository import AssetQuery, Catalog
from rcmedia.core.changes import MetadataChange
from rcmedia.core.models import AssetStatus
from rcmedia.ingest.context import IngestContext
from rcmedia.storage.local import LocalStorage
from tests.acceptance.conftest import Serve, ingest_clip, put_short_channel_on_air
from tests.acceptance.ops_browser import check_page, console_errors, log_in
from tests.integration.web.accounts import add_accounts
from tests.integration.web.schedules import NOW, RCXF, FixedClock, put_on_air

pytestmark = pytest.mark.usefixtures("accounts")


@pytest.fixture
def accounts(catalog: Catalog) -> None:
    add_accounts(catalog)


def only_asset(catalog: Catalog, title: str) -> int:
    (asset,) = catalog.find_assets(AssetQuery(text=title)).items
    return asset.id


def expected_refusal(errors: list[str], status: int, path: str) -> None:
    """Take out chromium's console line for the refusal the test provoked (it logs every 4xx fetch
    as "Failed to load resource"); any other error stays for check_page to fail on."""
    line = f"the server responded with a status of {status}"
    found = [e for e in errors if line in e and path in e]
    assert found, errors
    errors[:] = [e for e in errors if e not in found]


async def checked(page: Page, name: str, errors: list[str]) -> None:
    """check_page from the top of the page: a full-page screenshot draws sticky table heads where
    the page was scrolled to, over the rows."""
    await page.evaluate("window.scrollTo(0, 0)")
    await check_page(page, name, errors)


async def wait_for_flash(page: Page, kind: str) -> str:
    flash = page.locator(f"#flash.{kind}")
    await flash.wait_for(state="visible")
    return await flash.inner_text()


@pytest.mark.slow
async def test_search_open_edit_and_a_stale_edit_refused(
    chromium_page: Page, ingest_ctx: IngestContext, catalog: Catalog, serve: Serve, tmp_path: Path
) -> None:
    page = chromium_page
    title = "党课 第1讲 导论"
    asset_id = await asyncio.to_thread(
        ingest_clip, ingest_ctx, tmp_path / "lecture.mp4", seconds=6.0, title=title, series="党课", episode=1
    )
    base = await serve()
    errors = console_errors(page)
    await log_in(page, base, "editor", next_path="/ops/assets")
    await page.fill("input[name=q]", "党课")
    await page.click("form[role=search] button[type=submit]")
    await page.wait_for_url(re.compile(r"q=%E5%85%9A%E8%AF%BE|q=党课"))
    assert await page.locator("#result-count").inner_text() == "共 1 个节目 · 1–1"
    await checked(page, "ops-assets", errors)

    await page.click(f"a[href='/ops/assets/{asset_id}']")
    await page.wait_for_url(f"{base}/ops/assets/{asset_id}")
    assert await page.inner_text("h1") == title
    renditions = await page.locator("section[aria-labelledby=renditions-heading] tbody tr").count()
    assert renditions == len(catalog.get_asset(asset_id).renditions) > 0
    await page.wait_for_function(
        "() => window.rcmediaPlayer.video.currentTime > 1 || window.rcmediaPlayer.fatal !== null",
        timeout=30_000,
    )
    assert await page.evaluate("() => window.rcmediaPlayer.fatal") is None
    await checked(page, "ops-asset", errors)

    # an edit is saved, and is there after a reload
    await page.fill("#metadata-form input[name=title]", "党课 第1讲 导论（修订）")
    await page.fill("#metadata-form input[name=categories]", "党课，理论")
    await page.click("#metadata-form button[type=submit]")
    assert "已保存" in await wait_for_flash(page, "ok")
    await page.reload()
    assert await page.inner_text("h1") == "党课 第1讲 导论（修订）"
    assert await page.inner_text("#fact-categories") == "党课, 理论"

    # another editor saves meanwhile: this page's next edit is refused with the reason
    other = await asyncio.to_thread(
        catalog.update_metadata, asset_id, MetadataChange(episode=2), now=datetime.now(UTC)
    )
    await page.fill("#metadata-form input[name=title]", "过时的修改")
    await page.click("#metadata-form button[type=submit]")
    reason = await wait_for_flash(page, "error")
    assert f"the current version is {other.version}" in reason
    assert "请刷新" in reason
    expected_refusal(errors, 409, f"/api/v1/assets/{asset_id}")
    assert (await asyncio.to_thread(catalog.get_asset, asset_id)).metadata.title == "党课 第1讲 导论（修订）"
    await checked(page, "ops-asset-stale", errors)

    await page.goto(f"{base}/ops/assets?lang=en&series=党课")
    assert await page.locator("#result-count").inner_text() == "1 assets · 1–1"
    await checked(page, "ops-assets-en", errors)


@pytest.mark.slow
async def test_withdraw_lists_the_airings_it_affects_before_confirming(
    chromium_page: Page, ingest_ctx: IngestContext, catalog: Catalog, serve: Serve, tmp_path: Path
) -> None:
    page = chromium_page
    await asyncio.to_thread(put_short_channel_on_air, ingest_ctx, catalog, tmp_path, datetime.now(UTC))
    asset_id = only_asset(catalog, "短片 第1集")
    base = await serve()
    errors = console_errors(page)
    await log_in(page, base, "editor", next_path=f"/ops/assets/{asset_id}")
    assert await page.locator("#scheduled-airings tbody tr").count() > 0

    await page.click("#withdraw-start")
    await page.locator("#withdraw-confirm").wait_for(state="visible")
    summary = await page.inner_text("#withdraw-summary")
    total = catalog.schedules.airings_of(
        asset_id, since=datetime.now(UTC), until=datetime.now(UTC) + timedelta(days=3)
    )
    counts = re.search(
        r"撤下会影响 (\d+) 次排播：(\d+) 次由垫片替换，(\d+) 次在冻结期内照常播出，(\d+) 次已锁定", summary
    )
    assert counts is not None, summary
    total_shown, replaced, frozen, locked = (int(n) for n in counts.groups())
    assert total_shown == replaced + frozen + locked
    assert frozen > 0  # the first few start inside the freeze horizon
    listed = await page.locator("#withdraw-airings tbody tr").count()
    assert listed == min(500, len(total)) or abs(listed - min(500, len(total))) <= 1  # one may end meanwhile
    assert "kuai" in await page.locator("#withdraw-airings tbody tr").first.inner_text()
    assert catalog.get_asset(asset_id).status is AssetStatus.PUBLISHED  # nothing happened yet
    await checked(page, "ops-asset-withdraw", errors)

    await page.click("#withdraw-confirm-button")
    assert "已撤下" in await wait_for_flash(page, "ok")
    assert catalog.get_asset(asset_id).status is AssetStatus.WITHDRAWN
    assert await page.inner_text("#asset-status") == "withdrawn"


async def test_grid_errors_by_line_and_key_then_a_valid_file_applied(
    chromium_page: Page, catalog: Catalog, storage: LocalStorage, serve: Serve, tmp_path: Path
) -> None:
    page = chromium_page
    await asyncio.to_thread(put_on_air, catalog, storage, tmp_path / "playlists")
    base = await serve(clock=FixedClock(NOW))
    errors = console_errors(page)
    await log_in(page, base, "operator", next_path="/ops/channels/rcxf/grid")
    assert await page.locator("#grid-slots tbody tr").count() == 5
    assert await page.inner_text("#grid-version") == "1"

    broken = RCXF.replace('start = "09:00"', 'start = "9 am"')
    await page.fill("#grid-text", broken)
    await page.click("#grid-form button[type=submit]")
    await page.locator("#grid-errors").wait_for(state="visible")
    cells = await page.locator("#grid-errors tbody tr").first.locator("td").all_inner_texts()
    line = next(n for n, text in enumerate(broken.splitlines(), start=1) if "9 am" in text)
    assert cells[:3] == ["rcxf.toml", str(line), "slot[2].start"]
    assert "HH:MM" in cells[3]
    await page.click("#grid-errors button.go-to-line")  # the line is selected in the text to fix it
    selected = await page.evaluate(
        "() => { const t = document.getElementById('grid-text'); "
        "return t.value.slice(t.selectionStart, t.selectionEnd); }"
    )
    assert selected == 'start = "9 am"'
    assert "未应用" in await wait_for_flash(page, "error")
    expected_refusal(errors, 422, "/api/v1/channels/rcxf/grid")
    await checked(page, "ops-grid-errors", errors)

    moved = RCXF.replace('id = "xxsj-1900"\nstart = "19:00"', 'id = "xxsj-1900"\nstart = "20:00"')
    await page.fill("#grid-text", moved)
    await page.click("#grid-form button[type=submit]")
    await page.locator("#grid-applied").wait_for(state="visible")
    assert "已应用" in await wait_for_flash(page, "ok")
    assert await page.inner_text("#grid-version") == "2"
    rebuilt = await page.locator("#grid-rebuilt li").all_inner_texts()
    assert len(rebuilt) == 3
    assert any(text.startswith("iptv：重建") for text in rebuilt)
    assert '+start = "20:00"' in await page.inner_text("#grid-diff")
    await checked(page, "ops-grid", errors)
    await page.reload()
    assert "20:00" in await page.locator("#grid-slots tbody tr").last.inner_text()


async def test_dashboard_shows_now_next_and_the_slate_share(
    chromium_page: Page, catalog: Catalog, storage: LocalStorage, serve: Serve, tmp_path: Path
) -> None:
    page = chromium_page
    await asyncio.to_thread(put_on_air, catalog, storage, tmp_path / "playlists")
    base = await serve(clock=FixedClock(NOW))
    errors = console_errors(page)
    await log_in(page, base, "operator")
    row = page.locator("#channel-rcxf tr[data-output=iptv]")
    assert "正在: 12:" in await row.locator(".on-now").inner_text()  # 12:30 in Shanghai
    assert re.fullmatch(r"下一个: \d\d:\d\d–\d\d:\d\d .+", await row.locator(".muted-next").inner_text())
    assert re.fullmatch(r"\d+\.\d%", (await row.locator(".slate-share").inner_text()).strip())
    assert await page.locator("table.now-next tbody tr").count() == 5  # rcxf: 3 outputs, rcjy: 2
    await checked(page, "ops-dashboard-channels", errors)
