"""Accounts for the write API's tests: one per role, and logging a test client in."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import ClientResponse
from argon2 import PasswordHasher

from rcmedia.catalog.accounts import Accounts
from rcmedia.catalog.repository import Catalog
from rcmedia.core.accounts import Role
from tests.integration.web.published import Client

CREATED = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
# real argon2 at a test cost; the app upgrades the hash to its own cost at the first login
CHEAP = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)


def password_of(name: str) -> str:
    return f"{name}-密码-password"


def add_accounts(catalog: Catalog) -> dict[Role, str]:
    """One account per role, named after it; returns role → name."""
    accounts = Accounts(catalog.engine, hasher=CHEAP)
    for role in Role:
        accounts.add_user(role.value, role, password_of(role.value), now=CREATED)
    return {role: role.value for role in Role}


async def log_in(client: Client, name: str, password: str | None = None, **headers: str) -> ClientResponse:
    return await client.post(
        "/login", json={"name": name, "password": password or password_of(name)}, headers=headers
    )


async def logged_in(client: Client, name: str) -> Client:
    response = await log_in(client, name)
    assert response.status == 200, await response.text()
    return client
