"""Fuzz the JSON API against its OpenAPI document with schemathesis: no 5xx, every answer as documented.

A real origin on 127.0.0.1 (its own thread and event loop: schemathesis calls it synchronously)
over a real SQLite catalog with two channels on air (``schedules.py``), logged in as an admin so
the writes run too. Valid and invalid requests (schemathesis' positive and negative modes), a few
per operation: enough to find a 500 on a new parameter, bounded to keep the run short.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from rcmedia.catalog.db import make_engine, upgrade
from rcmedia.catalog.repository import Catalog
from rcmedia.storage.local import LocalStorage
from rcmedia.web.access import SESSION_COOKIE
from rcmedia.web.app import start_server
from rcmedia.web.openapi import openapi_document
from tests.conftest import settings_in
from tests.integration.web.accounts import add_accounts, password_of
from tests.integration.web.published import CORS_ORIGIN
from tests.integration.web.schedules import NOW, FixedClock, origin_app, put_on_air

# tus bodies are bytes: sent as schemathesis sends any binary body
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")

EXAMPLES = int(os.environ.get("RCMEDIA_FUZZ_EXAMPLES", "25"))  # per operation and mode
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]


@dataclass(frozen=True, kw_only=True, slots=True)
class Origin:
    url: str
    session: requests.Session
    token: str = field(repr=False)  # the admin's session


@contextmanager
def serving(app: web.Application) -> Iterator[str]:
    """``app`` on a free port of 127.0.0.1, in a thread with its own event loop; yields its URL."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    servers = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            servers.append(loop.run_until_complete(start_server(app, host="127.0.0.1", port=0)))
        finally:
            started.set()
        loop.run_forever()
        loop.run_until_complete(servers[0].stop())

    thread = threading.Thread(target=run, name="fuzzed-origin", daemon=True)
    thread.start()
    started.wait(timeout=30)
    assert servers, "the origin did not start"
    try:
        yield servers[0].url
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Origin]:
    home = tmp_path_factory.mktemp("fuzzed")
    app_settings = settings_in(home).replace(cors_origin=CORS_ORIGIN)
    engine = make_engine(app_settings.database_url)
    upgrade(engine)
    catalog, storage = Catalog(engine), LocalStorage(Path(app_settings.storage))
    put_on_air(catalog, storage, home / "playlists")
    add_accounts(catalog)
    app = origin_app(app_settings, catalog, storage, FixedClock(NOW))
    with serving(app) as url, requests.Session() as session:
        response = session.post(f"{url}/login", json={"name": "admin", "password": password_of("admin")})
        assert response.status_code == 200, response.text
        token = session.cookies[SESSION_COOKIE]
        session.cookies.clear()  # sent with each case instead, in place of the one schemathesis made up
        yield Origin(url=url, session=session, token=token)
    engine.dispose()


# The document as served (tests/integration/web/test_openapi.py holds the two equal), loaded from
# the code so that pytest can list one test per operation and mode.
OPERATIONS = [
    result.ok() for result in schemathesis.openapi.from_dict(openapi_document()).get_all_operations()
]


CASES = [
    pytest.param(operation, mode, id=f"{operation.label} {mode.value}")
    for operation in OPERATIONS
    # the job events stream never ends by itself: a fuzzed request would hang there
    # (tests/integration/web/test_job_events.py and test_schedule_events.py hold them to their
    # descriptions instead)
    if operation.path not in {"/api/v1/jobs/events", "/api/v1/channels/{channel}/schedule/events"}
    for mode in GenerationMode
    # an invalid request needs something to be invalid (the session cookie is always the admin's)
    if mode is GenerationMode.POSITIVE
    or any((operation.path_parameters, operation.query, operation.headers, operation.body))
]


@pytest.mark.parametrize(("operation", "mode"), CASES)
def test_the_api_answers_as_documented(
    operation: schemathesis.APIOperation, mode: GenerationMode, origin: Origin
) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize="RCMEDIA_FUZZ_EXAMPLES"
        not in os.environ,  # the same requests on every run: a failure here is a regression, not luck
        phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure prints its request as curl
        suppress_health_check=list(HealthCheck),
    )
    def answers(case: schemathesis.Case) -> None:
        case.cookies = {SESSION_COOKIE: origin.token}  # logged in as the admin: the writes run too
        case.call_and_validate(base_url=origin.url, session=origin.session, checks=CHECKS)

    answers()
