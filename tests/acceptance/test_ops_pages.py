"""The ``/ops`` framework in headless chromium: the login round trip, the role wall, the language switch."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page

from rcmedia.catalog.repository import Catalog
from tests.acceptance.conftest import Serve
from tests.acceptance.ops_browser import check_page, console_errors, log_in
from tests.integration.web.accounts import add_accounts

pytestmark = pytest.mark.usefixtures("accounts")


@pytest.fixture
def accounts(catalog: Catalog) -> None:
    add_accounts(catalog)


async def test_dashboard_after_logging_in_from_the_redirect(chromium_page: Page, serve: Serve) -> None:
    base = await serve()
    errors = console_errors(chromium_page)
    await log_in(chromium_page, base, "operator")
    assert await chromium_page.locator("h1").inner_text() == "总览"
    await check_page(chromium_page, "ops-dashboard", errors)


async def test_english_is_one_click_away_and_remembered(chromium_page: Page, serve: Serve) -> None:
    base = await serve()
    errors = console_errors(chromium_page)
    await log_in(chromium_page, base, "admin")
    await chromium_page.click("a.lang")
    await chromium_page.wait_for_url(re.compile(r"lang=en"))
    assert await chromium_page.locator("h1").inner_text() == "Dashboard"
    await chromium_page.goto(base + "/ops")  # the cookie keeps English
    assert await chromium_page.locator("html").get_attribute("lang") == "en"
    assert await chromium_page.locator("nav a[aria-current=page]").inner_text() == "Dashboard"
    await check_page(chromium_page, "ops-dashboard-en", errors)


async def test_the_navigation_shows_each_role_its_pages(chromium_page: Page, serve: Serve) -> None:
    base = await serve()
    errors = console_errors(chromium_page)
    await log_in(chromium_page, base, "editor")
    links = await chromium_page.locator("header nav a").all_inner_texts()
    assert "上传" in links
    assert "账号" not in links
    assert "审计" not in links
    assert not errors


async def test_an_editor_cannot_open_operator_pages(chromium_page: Page, serve: Serve) -> None:
    base = await serve()
    errors = console_errors(chromium_page)
    await log_in(chromium_page, base, "editor")
    for page in ("/ops/channels/rcxf/schedule", "/ops/channels/rcxf/grid", "/ops/users", "/ops/audit"):
        response = await chromium_page.goto(base + page)
        assert response is not None
        assert response.status == 403, page
        assert "此页面需要" in await chromium_page.locator("p.error").inner_text()
    # chromium logs the 403 of the page itself as a console error: that is the page working
    errors[:] = [e for e in errors if "403" not in e]
    await check_page(chromium_page, "ops-forbidden", errors)
