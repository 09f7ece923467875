"""Fixtures shared by every test layer: settings in a temporary home, a real catalog, real storage."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from rcmedia.catalog.db import close_engine, make_engine, upgrade
from rcmedia.catalog.repository import Catalog
from rcmedia.config import Settings, load_settings
from rcmedia.storage.local import LocalStorage

pytest_plugins = ["tests.s3_server"]  # the s3_server fixture: moto's server on loopback

PROJECT = Path(__file__).resolve().parent.parent
RESOURCES = Path(__file__).resolve().parent / "resources"
REQUIRE_SYSTEM_TOOLS = os.environ.get("RCMEDIA_REQUIRE_SYSTEM_TOOLS") == "1"
POSTGRES_URL = os.environ.get(
    "RCMEDIA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def require_system(what: str, available: bool, how: str) -> None:
    """Skip with a visible reason when a system tool is absent; under CI's flag, fail instead."""
    if available:
        return
    message = f"{what} is not available ({how})"
    if REQUIRE_SYSTEM_TOOLS:
        pytest.fail(f"{message}; RCMEDIA_REQUIRE_SYSTEM_TOOLS=1 requires it")
    pytest.skip(message)


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings on embedded defaults inside ``tmp_path``, with the shipped and test profiles."""
    return settings_in(tmp_path)


def settings_in(tmp_path: Path) -> Settings:
    """What the ``settings`` fixture gives, in any folder (for fixtures wider than one test)."""
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    for source in [
        *(PROJECT / "transcode_profiles").glob("*.toml"),
        *(RESOURCES / "profiles").glob("*.toml"),
    ]:
        (profiles / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    return load_settings(
        environ={},
        cwd=tmp_path,
        overrides={
            "home": str(tmp_path / "var"),
            "profiles_dir": str(profiles),
            "hot_folder": str(tmp_path / "ingest"),
            "job_lease_seconds": 5.0,
        },
    )


@pytest.fixture
def catalog(settings: Settings) -> Iterator[Catalog]:
    """A migrated SQLite catalog file in the test's home."""
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        yield Catalog(engine)
    finally:
        close_engine(engine)


def postgres_schema_url(schema: str) -> str:
    """The test database's URL with ``schema`` first on the search path (what another process uses)."""
    url = make_url(POSTGRES_URL)
    given = url.query.get("options")
    options = f"{given} -csearch_path={schema}" if given else f"-csearch_path={schema}"
    return url.update_query_dict({"options": options}).render_as_string(hide_password=False)


def database_url(catalog: Catalog) -> str:
    """The URL of the database (and PostgreSQL schema) ``catalog`` is on: another engine made from
    it, in this process or another, has connections of its own to the same data."""
    return catalog.engine.url.render_as_string(hide_password=False)


@pytest.fixture(params=[pytest.param("sqlite", id="sqlite"), pytest.param("postgresql", id="postgresql")])
def any_catalog(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Catalog]:
    """The same catalog contract on SQLite and on the real PostgreSQL (a fresh schema per test)."""
    if request.param == "sqlite":
        yield from _migrated(settings.database_url)
        return
    require_system(
        "PostgreSQL at 127.0.0.1:5432",
        port_open("127.0.0.1", 5432),
        "start it or set RCMEDIA_TEST_POSTGRES_URL",
    )
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            yield from _migrated(postgres_schema_url(schema))
        finally:
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        close_engine(admin)


def _migrated(url: str) -> Iterator[Catalog]:
    engine = make_engine(url)
    try:
        upgrade(engine)
        yield Catalog(engine)
    finally:
        # every connection closed, those of threads the test left reading included: one left
        # open is freed by some later garbage collection, with psycopg's ResourceWarning there
        close_engine(engine)


@pytest.fixture
def storage(settings: Settings) -> LocalStorage:
    return LocalStorage(Path(settings.storage))
