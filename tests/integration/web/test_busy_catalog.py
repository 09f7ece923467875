"""A write while another connection holds SQLite's write lock: 503 with Retry-After, never a 500.

The lock is real (``BEGIN IMMEDIATE`` from a second connection to the catalog file); the app's
engine gives up after a short busy timeout instead of the default 10 s.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from rcmedia.catalog.db import make_engine
from rcmedia.catalog.repository import AssetQuery, Catalog
from rcmedia.config import Settings
from rcmedia.core.accounts import Role
from rcmedia.storage.local import LocalStorage
from tests.integration.web.accounts import add_accounts, log_in, logged_in
from tests.integration.web.published import AiohttpClient, Client
from tests.integration.web.schedules import TOMORROW, FixedClock, OnAir, origin_app

BUSY_TIMEOUT = 0.2


@contextmanager
def write_locked(settings: Settings) -> Iterator[None]:
    """Hold the catalog's write lock from another connection (readers go on: WAL)."""
    path = settings.database_url.split("///", 1)[1]
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@pytest.fixture
async def busy_client(
    aiohttp_client: AiohttpClient,
    app_settings: Settings,
    catalog: Catalog,
    storage: LocalStorage,
    clock: FixedClock,
    on_air: OnAir,
) -> AsyncIterator[Client]:
    """The schedule app on its own engine with a short busy timeout, one account per role."""
    add_accounts(catalog)
    engine = make_engine(app_settings.database_url, busy_timeout=BUSY_TIMEOUT)
    app = origin_app(app_settings, Catalog(engine), storage, clock)
    yield await aiohttp_client(app)
    engine.dispose()


def asset_id(catalog: Catalog) -> int:
    (asset,) = catalog.find_assets(AssetQuery(text="红色记忆")).items
    return asset.id


async def tomorrows_first_start(client: Client) -> str:
    response = await client.get(f"/api/v1/channels/rcxf/schedule?output=iptv&date={TOMORROW}")
    assert response.status == 200
    return str((await response.json())["events"][3]["start"])


@pytest.mark.parametrize(
    ("role", "method", "path", "body"),
    [
        pytest.param(Role.EDITOR, "PATCH", "/api/v1/assets/{asset}", {"title": "新标题"}, id="metadata"),
        pytest.param(Role.EDITOR, "PUT", "/api/v1/assets/{asset}/rights", [{"output": "tv"}], id="rights"),
        pytest.param(Role.EDITOR, "POST", "/api/v1/assets/{asset}/withdraw", {}, id="withdraw"),
        pytest.param(Role.OPERATOR, "POST", "/api/v1/channels/rcxf/schedule/edits", None, id="schedule-edit"),
    ],
)
async def test_an_api_write_on_a_locked_catalog_is_a_503_with_retry_after(
    busy_client: Client,
    catalog: Catalog,
    settings: Settings,
    role: Role,
    method: str,
    path: str,
    body: Any,
) -> None:
    await logged_in(busy_client, role.value)
    if body is None:
        start = await tomorrows_first_start(busy_client)
        body = {"output": "iptv", "date": str(TOMORROW), "action": "lock", "event_start": start}
    url = path.format(asset=asset_id(catalog))

    with write_locked(settings):
        response = await busy_client.request(method, url, json=body)
        assert response.status == 503, await response.text()
        # the catalog's 2 s; a schedule edit waits for its channel output's lock and says that wait
        retry_after = int(response.headers["Retry-After"])
        assert retry_after == (5 if "schedule" in path else 2)
        document = await response.json()
        assert document == {"error": document["error"], "retry_after": retry_after}
        assert "busy" in document["error"]
        # reads go on while a writer holds the lock (WAL)
        assert (await busy_client.get("/api/v1/assets")).status == 200

    retried = await busy_client.request(method, url, json=body)
    assert retried.status == 200, await retried.text()


async def test_logging_in_on_a_locked_catalog_is_a_plain_503(busy_client: Client, settings: Settings) -> None:
    with write_locked(settings):
        form = await busy_client.post("/login", data={"name": "editor", "password": "editor-密码-password"})
        assert form.status == 503, await form.text()
        assert form.headers["Retry-After"] == "2"
        assert form.content_type == "text/plain"
        assert "busy" in await form.text()

    assert (await log_in(busy_client, "editor")).status == 200
