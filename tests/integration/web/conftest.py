"""An origin over the real SQLite catalog and local storage, with assets published without ffmpeg."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from rcmedia.catalog.repository import Catalog
from rcmedia.config import Settings
from rcmedia.profiles import load_profiles
from rcmedia.storage.local import LocalStorage
from rcmedia.web.app import create_app
from tests.integration.web.published import (
    CORS_ORIGIN,
    AiohttpClient,
    Client,
    PublishAsset,
    Published,
    publish_fake_asset,
)
from tests.integration.web.schedules import NOW, FixedClock, OnAir, origin_app, put_on_air


@pytest.fixture
def publish_asset(catalog: Catalog, storage: LocalStorage) -> PublishAsset:
    """Publish an asset of the "tiny" profile (or "tiny_fmp4"); each call gets its own random bytes."""
    seeds = itertools.count(1)

    def publish(**options: Any) -> Published:
        return publish_fake_asset(catalog, storage, seed=next(seeds), **options)

    return publish


@pytest.fixture
def app_settings(settings: Settings) -> Settings:
    return settings.replace(cors_origin=CORS_ORIGIN)


@pytest.fixture
def app(app_settings: Settings, catalog: Catalog, storage: LocalStorage) -> web.Application:
    return create_app(
        settings=app_settings,
        catalog=catalog,
        storage=storage,
        profiles=load_profiles(app_settings.profiles_dir),
    )


@pytest.fixture
async def client(aiohttp_client: AiohttpClient, app: web.Application) -> Client:
    return await aiohttp_client(app)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def on_air(catalog: Catalog, storage: LocalStorage, tmp_path: Path) -> OnAir:
    """Two channels applied and three days built (see ``schedules.py``)."""
    return put_on_air(catalog, storage, tmp_path / "playlists")


@pytest.fixture
def schedule_app(
    app_settings: Settings, catalog: Catalog, storage: LocalStorage, clock: FixedClock, on_air: OnAir
) -> web.Application:
    return origin_app(app_settings, catalog, storage, clock)


@pytest.fixture
async def schedule_client(aiohttp_client: AiohttpClient, schedule_app: web.Application) -> Client:
    return await aiohttp_client(schedule_app)
