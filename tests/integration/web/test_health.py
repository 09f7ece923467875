"""Health, and what viewers see when the catalog is down."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rcmedia.catalog.db import make_engine
from rcmedia.catalog.repository import Catalog
from rcmedia.config import Settings
from rcmedia.profiles import load_profiles
from rcmedia.storage.local import LocalStorage
from rcmedia.web.app import create_app
from tests.integration.web.published import AiohttpClient, Client


async def test_healthy(client: Client) -> None:
    response = await client.get("/healthz")

    assert response.status == 200
    assert await response.json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


@pytest.fixture
def unmigrated_catalog(tmp_path: Path) -> Iterator[Catalog]:
    """A catalog whose database has no tables: every query fails, as when migrations were not run."""
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    yield Catalog(engine)
    engine.dispose()


@pytest.fixture
async def broken_client(
    aiohttp_client: AiohttpClient, settings: Settings, unmigrated_catalog: Catalog, storage: LocalStorage
) -> Client:
    app = create_app(
        settings=settings,
        catalog=unmigrated_catalog,
        storage=storage,
        profiles=load_profiles(settings.profiles_dir),
    )
    return await aiohttp_client(app)


async def test_unhealthy_when_the_catalog_fails(broken_client: Client) -> None:
    response = await broken_client.get("/healthz")
    document = await response.json()

    assert response.status == 503
    assert document["status"] == "unavailable"
    assert "no such table" in document["reason"]


async def test_api_failure_is_a_short_json_500(
    broken_client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    response = await broken_client.get("/api/v1/assets")
    document = await response.json()

    assert response.status == 500
    assert "CatalogError" in document["error"]
    assert "SELECT" not in document["error"]  # the SQL goes to the log, not to the viewer
    assert any("SELECT" in record.getMessage() for record in caplog.records)


async def test_playlist_failure_is_a_plain_500(broken_client: Client) -> None:
    response = await broken_client.get("/vod/1/master.m3u8")

    assert response.status == 500
    assert response.headers["Content-Type"].startswith("text/plain")
    assert "server log" in await response.text()
