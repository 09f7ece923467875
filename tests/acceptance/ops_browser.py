"""What every browser test of the ``/ops`` pages does: log in through the form, and check a page.

:func:`check_page` is the bar every page must clear: a screenshot under ``test-artifacts/screenshots/``
(git-ignored; CI keeps the folder), no serious or critical axe-core violation, and no console
error or uncaught exception (:func:`console_errors` collects them from the page's first load).
axe-core is the npm dev dependency pinned in ``rcmedia/web/static/package-lock.json``; it is
evaluated through the DevTools protocol, which the pages' Content-Security-Policy does not govern.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from playwright.async_api import Page

from rcmedia.web.static_files import STATIC_ROOT
from tests.conftest import require_system
from tests.integration.web.accounts import password_of

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
AXE = STATIC_ROOT / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")


def require_axe() -> None:
    require_system(
        "axe-core (rcmedia/web/static/node_modules)", AXE.is_file(), "run make: npm ci installs it"
    )


def console_errors(page: Page) -> list[str]:
    """Console errors and uncaught exceptions of ``page`` from now on, as they happen."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    page.on(
        "console",
        lambda message: (
            errors.append(f"{message.text} ({message.location.get('url', '')})")
            if message.type == "error"
            else None
        ),
    )
    return errors


async def log_in(page: Page, base: str, name: str, *, next_path: str = "/ops") -> None:
    """Open ``next_path``, get sent to the login form, sign in as ``name`` and land back there."""
    await page.goto(base + next_path)
    assert "/login?next=" in page.url, page.url
    await page.fill("input[name=name]", name)
    await page.fill("input[name=password]", password_of(name))
    await page.click("button[type=submit]")
    await page.wait_for_url(re.compile(re.escape(base + next_path) + r"$"))


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    require_axe()
    await page.evaluate(AXE.read_text(encoding="utf-8"))
    result: dict[str, Any] = await page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    return [v for v in result["violations"] if v.get("impact") in BLOCKING_IMPACTS]


async def check_page(page: Page, name: str, errors: list[str]) -> None:
    """Screenshot ``page`` as ``name``.png; fail on an accessibility violation or a console error."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    violations = await axe_violations(page)
    summary = [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["html"][:200] for n in v["nodes"][:3]],
        }
        for v in violations
    ]
    assert not summary, (
        f"{name}: accessibility violations:\n{json.dumps(summary, ensure_ascii=False, indent=1)}"
    )
    assert not errors, f"{name}: console errors: {errors}"
