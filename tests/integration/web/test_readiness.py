"""``GET /readyz``: ready when the catalog answers and the storage takes a file; 503 naming what is not."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from aiohttp import web

from rcmedia.catalog.db import make_engine
from rcmedia.catalog.repository import Catalog
from rcmedia.config import Settings
from rcmedia.profiles import load_profiles
from rcmedia.storage.local import LocalStorage
from rcmedia.web.app import create_app
from rcmedia.web.health import check_broker
from tests.integration.web.metrics_text import Scrape
from tests.integration.web.published import AiohttpClient, Client


async def test_ready(client: Client) -> None:
    response = await client.get("/readyz")

    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert await response.json() == {
        "status": "ok",
        "checks": {
            "catalog": {"ok": True},
            "storage": {"ok": True},
            "broker": {"ok": True, "detail": "not configured"},
        },
    }


@pytest.fixture
def unreachable_catalog(unused_tcp_port: int) -> Iterator[Catalog]:
    """A PostgreSQL catalog on a port nobody listens on."""
    engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{unused_tcp_port}/test")
    yield Catalog(engine)
    engine.dispose()


def _app(settings: Settings, catalog: Catalog, storage: LocalStorage) -> web.Application:
    return create_app(
        settings=settings, catalog=catalog, storage=storage, profiles=load_profiles(settings.profiles_dir)
    )


async def test_not_ready_without_the_catalog(
    aiohttp_client: AiohttpClient,
    settings: Settings,
    unreachable_catalog: Catalog,
    storage: LocalStorage,
) -> None:
    client = await aiohttp_client(_app(settings, unreachable_catalog, storage))

    response = await client.get("/readyz")
    document = await response.json()

    assert response.status == 503
    assert document["status"] == "unavailable"
    assert document["checks"]["catalog"]["ok"] is False
    assert "Connection refused" in document["checks"]["catalog"]["reason"]
    assert document["checks"]["storage"] == {"ok": True}
    assert response.headers["Cache-Control"] == "no-store"


async def test_not_ready_without_the_storage(client: Client, storage: LocalStorage) -> None:
    shutil.rmtree(storage.root)

    response = await client.get("/readyz")
    document = await response.json()

    assert response.status == 503
    assert document["checks"]["catalog"] == {"ok": True}
    assert document["checks"]["storage"]["ok"] is False
    assert str(storage.root) in document["checks"]["storage"]["reason"]


def _celery(broker_url: str) -> Settings:
    # the executor and broker settings arrive with the Celery workers; the check reads them by name
    return SimpleNamespace(executor="celery", broker_url=broker_url)  # type: ignore[return-value]


def test_the_broker_check_connects_to_the_broker(unused_tcp_port: int) -> None:
    with socket.socket() as listening:  # a broker's port taking connections
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        assert check_broker(_celery(f"amqp://guest:guest@127.0.0.1:{listening.getsockname()[1]}//")) is None

    with pytest.raises(OSError, match="Connection refused"):
        check_broker(_celery(f"amqp://guest:guest@127.0.0.1:{unused_tcp_port}//"))


async def test_metrics_answer_without_the_catalog(
    aiohttp_client: AiohttpClient,
    settings: Settings,
    unreachable_catalog: Catalog,
    storage: LocalStorage,
) -> None:
    client = await aiohttp_client(_app(settings, unreachable_catalog, storage))

    response = await client.get("/metrics")
    scrape = Scrape(await response.text())

    assert response.status == 200
    assert scrape.value("rcmedia_ready", check="catalog") == 0
    assert scrape.value("rcmedia_ready", check="storage") == 1
    assert "rcmedia_ingest_jobs" not in scrape.names()  # not known, rather than a wrong 0
