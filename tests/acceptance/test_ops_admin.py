"""The admin pages in headless chromium: an operator added and limited to one channel from
``/ops/users`` works on that channel only; disabling an account ends its session; an API token
made on the page works as ``Authorization: Bearer`` until it is revoked there; the last enabled
admin cannot be disabled; and ``/ops/audit`` lists each of those changes with before and after."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import ClientSession
from playwright.async_api import Page, expect

from rcmedia.catalog.repository import Catalog
from rcmedia.core.accounts import Role
from rcmedia.storage.local import LocalStorage
from tests.acceptance.conftest import Serve
from tests.acceptance.ops_browser import check_page, console_errors, log_in
from tests.integration.web.accounts import add_accounts, password_of
from tests.integration.web.schedules import NOW, FixedClock, put_on_air

pytestmark = pytest.mark.usefixtures("accounts", "on_air")

NEW = "wang"  # the operator the test adds


@pytest.fixture
def accounts(catalog: Catalog) -> None:
    add_accounts(catalog)


@pytest.fixture
def on_air(catalog: Catalog, storage: LocalStorage, tmp_path: Path) -> None:
    put_on_air(catalog, storage, tmp_path / "playlists")  # channels rcxf and rcjy


def expected_refusal(errors: list[str], status: int, path: str) -> None:
    """Take out chromium's console line for the refusal the test provoked (it logs every 4xx fetch
    as "Failed to load resource"); any other error stays for check_page to fail on."""
    line = f"the server responded with a status of {status}"
    found = [e for e in errors if line in e and path in e]
    assert found, errors
    errors[:] = [e for e in errors if e not in found]


async def checked(page: Page, name: str, errors: list[str]) -> None:
    """check_page from the top (a full-page screenshot draws sticky table heads where it scrolled)."""
    await page.evaluate("window.scrollTo(0, 0)")
    await check_page(page, name, errors)


async def me(base: str, secret: str) -> tuple[int, str]:
    async with (
        ClientSession() as session,
        session.get(base + "/api/v1/me", headers={"Authorization": f"Bearer {secret}"}) as response,
    ):
        return response.status, await response.text()


async def test_accounts_channel_limits_tokens_and_the_audit_log(chromium_page: Page, serve: Serve) -> None:
    base = await serve(clock=FixedClock(NOW))
    page = chromium_page
    errors = console_errors(page)
    await log_in(page, base, "admin", next_path="/ops/users")
    flash = page.locator("#flash")

    # an operator limited to rcjy
    form = page.locator("#add-form")
    await form.locator("input[name=name]").fill(NEW)
    await form.locator("select[name=role]").select_option("operator")
    await form.locator("input[name=password]").fill(password_of(NEW))
    await form.locator("input[name=channel][value=rcjy]").check()
    await form.locator("button[type=submit]").click()
    await expect(flash).to_have_text(f"已添加账号 {NEW}")
    row = page.locator(f"#users tr[data-name={NEW}]")
    await expect(row).to_have_attribute("data-state", "enabled")
    await expect(row.locator("td.role")).to_have_text("operator")
    await expect(row.locator("td.channels")).not_to_contain_text("所有频道")

    # ... who may open rcjy's rundown and not rcxf's
    assert page.context.browser is not None
    other = await (await page.context.browser.new_context(locale="zh-CN")).new_page()
    await log_in(other, base, NEW, next_path="/ops/channels/rcjy/schedule")
    await expect(other.locator("#rundown-rows tr[data-index]").first).to_be_visible()
    refused = await other.goto(base + "/ops/channels/rcxf/schedule")
    assert refused is not None
    assert refused.status == 403
    await expect(other.locator("main")).to_contain_text(f"账号 {NEW} 只能管理这些频道：rcjy")

    # disabled: its session stops working
    await row.locator("button.toggle").click()
    await expect(row).to_have_attribute("data-state", "disabled")
    await expect(row.locator("td.state")).to_have_text("已停用")
    await other.goto(base + "/ops/channels/rcjy/schedule")
    assert "/login?next=" in other.url

    # a token for the operator: works until it is revoked on the page
    await page.locator("#users tr[data-name=operator] button.manage").click()
    await expect(page.locator("#account-title")).to_have_text("账号 operator")
    await expect(page.locator("#no-tokens")).to_be_visible()
    await page.locator("#token-form input[name=label]").fill("排播脚本")
    await page.locator("#token-form button[type=submit]").click()
    await expect(page.locator("#secret")).to_be_visible()
    secret = await page.locator("#secret-text").inner_text()
    assert secret.startswith("rcm_")
    token_row = page.locator("#tokens tr[data-state=active]")
    await expect(token_row).to_have_count(1)
    await expect(token_row).to_contain_text("排播脚本")
    status, text = await me(base, secret)
    assert status == 200, text
    assert '"name": "operator"' in text or '"name":"operator"' in text
    await checked(page, "ops-users", errors)
    await token_row.locator("button.revoke").click()
    await expect(page.locator("#tokens tr[data-state=revoked]")).to_have_count(1)
    await expect(flash).to_contain_text("已撤销")
    assert (await me(base, secret))[0] == 401

    # the last enabled admin: refused with the reason, nothing changes on screen
    admin_row = page.locator("#users tr[data-name=admin]")
    await admin_row.locator("button.toggle").click()
    await expect(page.locator("#flash.error")).to_contain_text("last enabled admin")
    await expect(admin_row).to_have_attribute("data-state", "enabled")
    await expect(admin_row.locator("button.toggle")).to_have_text("停用")
    expected_refusal(errors, 409, "/api/v1/users/admin")

    # the audit log: each change, with before and after
    await page.goto(base + "/ops/audit")
    entries = page.locator("#entries tr")
    for action in ("user.add", "user.update", "user.token", "user.revoke_token"):
        await expect(entries.filter(has=page.locator(f"td.action:text-is('{action}')"))).not_to_have_count(0)
    disabled = entries.filter(has=page.locator("td.action:text-is('user.update')")).first
    await expect(disabled.locator("td.target")).to_have_text(f"user/{NEW}")
    await expect(disabled.locator("ul.diff")).to_contain_text("disabled: false → true")
    added = entries.filter(has=page.locator("td.action:text-is('user.add')")).first
    await expect(added.locator("ul.diff")).to_contain_text('channels: — → ["rcjy"]')
    revoked = entries.filter(has=page.locator("td.action:text-is('user.revoke_token')")).first
    await expect(revoked.locator("ul.diff")).to_contain_text('label: "排播脚本" → —')
    await revoked.locator("summary").click()
    await expect(revoked.locator("pre.before")).to_contain_text('"label": "排播脚本"')
    await expect(page.locator("caption")).to_contain_text("Asia/Shanghai")
    await checked(page, "ops-audit", errors)

    await page.goto(base + "/ops/users?lang=en")
    await expect(page.locator("h1")).to_have_text("Users")
    await checked(page, "ops-users-en", errors)


async def test_a_short_password_and_a_stale_change_are_refused_with_the_reason(
    chromium_page: Page, serve: Serve, catalog: Catalog
) -> None:
    base = await serve(clock=FixedClock(NOW))
    page = chromium_page
    errors = console_errors(page)
    await log_in(page, base, "admin", next_path="/ops/users?lang=en")
    row = page.locator("#users tr[data-name=editor]")
    await row.locator("button.manage").click()

    # the browser's own check would stop a short password: the server's is the one that counts
    await page.locator("#password-form input[name=password]").evaluate(
        "input => input.removeAttribute('minlength')"
    )
    await page.locator("#password-form input[name=password]").fill("short")
    await page.locator("#password-form button[type=submit]").click()
    await expect(page.locator("#flash.error")).to_contain_text("at least 8 characters")
    expected_refusal(errors, 400, "/api/v1/users/editor/password")

    # another admin changed the account since the page was loaded: the page's change is refused
    catalog.accounts.update_user("editor", channels=["rcxf"], now=NOW, actor="admin")
    await page.locator("#role-form select[name=role]").select_option("operator")
    await page.locator("#role-form button[type=submit]").click()
    await expect(page.locator("#flash.error")).to_contain_text("account 'editor' changed")
    await expect(row.locator("td.role")).to_have_text("editor")
    await expect(page.locator("#role-form select[name=role]")).to_have_value("editor")
    expected_refusal(errors, 409, "/api/v1/users/editor")
    assert catalog.accounts.get_user("editor").role is Role.EDITOR

    # reloaded on the current version: the role, the channel limit and the password change
    await page.reload()
    await row.locator("button.manage").click()
    await expect(page.locator("#channels-form input[value=rcxf]")).to_be_checked()
    await page.locator("#role-form select[name=role]").select_option("operator")
    await page.locator("#role-form button[type=submit]").click()
    await expect(row.locator("td.role")).to_have_text("operator")
    await page.locator("#channels-form input[value=rcjy]").check()
    await page.locator("#channels-form button[type=submit]").click()
    await expect(row.locator("td.channels")).to_have_text("蓉城先锋、蓉城教育")
    await page.locator("#channels-form input[name=all]").check()
    await page.locator("#channels-form button[type=submit]").click()
    await expect(row.locator("td.channels")).to_have_text("every channel")
    await page.locator("#password-form input[name=password]").fill("a-long-new-password")
    await page.locator("#password-form button[type=submit]").click()
    await expect(page.locator("#flash.ok")).to_have_text("Password of editor reset")
    editor = catalog.accounts.get_user("editor")
    assert (editor.role, editor.channels) == (Role.OPERATOR, None)
    assert catalog.accounts.verify("editor", "a-long-new-password") is not None
    assert not errors
