"""Password guessing over HTTP: bursts, many names from one address, and a flood of logins.

The origin hashes with argon2's real (default) cost here: what is measured is what a server pays.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web

from rcmedia.catalog.repository import Catalog
from rcmedia.config import Settings
from rcmedia.core.accounts import Role
from rcmedia.storage.local import LocalStorage
from tests.integration.web.accounts import add_accounts, log_in
from tests.integration.web.published import AiohttpClient, Client, PublishAsset
from tests.integration.web.schedules import FixedClock, origin_app


@pytest.fixture
def accounts(catalog: Catalog) -> dict[Role, str]:
    return add_accounts(catalog)


def login_app(
    settings: Settings,
    catalog: Catalog,
    storage: LocalStorage,
    clock: FixedClock | None = None,
    **changes: Any,
) -> web.Application:
    changed = settings.replace(**changes)
    return origin_app(changed, catalog, storage, clock)


@pytest.mark.usefixtures("accounts")
async def test_a_burst_of_guesses_for_one_name_is_limited_like_slow_guesses(
    aiohttp_client: AiohttpClient, app_settings: Settings, catalog: Catalog, storage: LocalStorage
) -> None:
    client = await aiohttp_client(login_app(app_settings, catalog, storage))

    responses = await asyncio.gather(*(log_in(client, "operator", f"guess-{n:04d}") for n in range(40)))

    statuses = Counter(r.status for r in responses)
    # each attempt is counted before its password is checked: only the first five are checked
    assert statuses[401] <= 5, statuses
    assert statuses[429] >= 35, statuses
    assert set(statuses) <= {401, 429}, statuses
    refused = next(r for r in responses if r.status == 429)
    assert refused.headers["Retry-After"] == "60"


@pytest.mark.usefixtures("accounts")
async def test_guesses_over_many_names_from_one_address_are_limited(
    aiohttp_client: AiohttpClient,
    app_settings: Settings,
    catalog: Catalog,
    storage: LocalStorage,
    clock: FixedClock,
) -> None:
    client = await aiohttp_client(login_app(app_settings, catalog, storage, clock))

    for n in range(20):  # a few guesses each on many names: the per-name limit never sees them
        assert (await log_in(client, f"user-{n}", "guess-guess")).status == 401

    blocked = await log_in(client, "editor")  # even a right password, from this address, for now
    assert blocked.status == 429
    assert blocked.headers["Retry-After"] == "300"
    assert "too many failed logins" in (await blocked.json())["error"]
    clock.current += timedelta(seconds=301)
    assert (await log_in(client, "editor")).status == 200


@pytest.mark.usefixtures("accounts")
async def test_a_good_login_does_not_wipe_out_an_addresses_failures(
    aiohttp_client: AiohttpClient,
    app_settings: Settings,
    catalog: Catalog,
    storage: LocalStorage,
    clock: FixedClock,
) -> None:
    client = await aiohttp_client(
        login_app(app_settings, catalog, storage, clock, login_failures_per_address=4)
    )
    for n in range(3):
        assert (await log_in(client, f"user-{n}", "guess-guess")).status == 401
    assert (await log_in(client, "editor")).status == 200  # forgives only its own attempt
    assert (await log_in(client, "user-9", "guess-guess")).status == 401  # the fourth failure
    assert (await log_in(client, "admin")).status == 429


async def _flood(client: Client, until: float) -> Counter[int]:
    statuses: Counter[int] = Counter()
    while time.monotonic() < until:
        response = await log_in(client, f"nobody-{secrets.token_hex(6)}", "guess-guess")
        await response.read()
        statuses[response.status] += 1
        if response.status == 503:
            # the flood's clients share the server's event loop here: without a pause, thousands of
            # instant refusals a second would measure the test's own client, not the origin
            await asyncio.sleep(0.02)
    return statuses


async def test_a_login_flood_leaves_the_rest_of_the_origin_quick(
    aiohttp_client: AiohttpClient,
    app_settings: Settings,
    catalog: Catalog,
    storage: LocalStorage,
    publish_asset: PublishAsset,
) -> None:
    # no per-address limit: the pool alone must keep the flood from the rest of the origin
    client = await aiohttp_client(login_app(app_settings, catalog, storage, login_failures_per_address=0))
    asset = publish_asset()
    probes = ("/healthz", "/api/v1/assets", f"/vod/{asset.asset_id}/master.m3u8")
    for path in probes:  # warm: first renders, first connections
        assert (await client.get(path)).status == 200

    until = time.monotonic() + 3.0
    flood = [asyncio.create_task(_flood(client, until)) for _ in range(30)]
    await asyncio.sleep(0.3)  # let it build up
    slowest = dict.fromkeys(probes, 0.0)
    while time.monotonic() < until - 0.2:
        for path in probes:
            started = time.monotonic()
            response = await client.get(path)
            await response.read()
            assert response.status == 200, path
            slowest[path] = max(slowest[path], time.monotonic() - started)
        await asyncio.sleep(0.05)
    statuses = sum((await asyncio.gather(*flood)), Counter[int]())

    assert max(slowest.values()) < 1.0, slowest
    assert statuses[401] > 0, statuses  # logins were checked all along…
    assert statuses[503] > statuses[401], statuses  # …while most were turned away at once
    assert set(statuses) <= {401, 503}, statuses
