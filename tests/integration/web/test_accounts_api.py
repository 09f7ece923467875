"""The account admin API and the audit log over HTTP: admins only, versioned, audited, no secrets."""

from __future__ import annotations

from typing import Any

import pytest
from yarl import URL

from rcmedia.catalog.repository import Catalog
from rcmedia.core.accounts import Role
from tests.integration.web.accounts import add_accounts, log_in, logged_in
from tests.integration.web.published import Client
from tests.integration.web.schedules import NOW

Document = dict[str, Any]


@pytest.fixture(autouse=True)
def accounts(catalog: Catalog) -> dict[Role, str]:
    return add_accounts(catalog)


async def call(
    client: Client, method: str, path: str, body: object = None, **headers: str
) -> tuple[int, Any]:
    response = await client.request(method, path, json=body, headers=headers)
    return response.status, await response.json()


async def test_only_admins_manage_accounts(client: Client) -> None:
    assert (await call(client, "GET", "/api/v1/users"))[0] == 401
    await logged_in(client, "operator")
    status, body = await call(client, "GET", "/api/v1/users")
    assert status == 403
    assert "needs admin" in body["error"]
    status, _ = await call(
        client, "POST", "/api/v1/users", {"name": "x", "role": "admin", "password": "p" * 9}
    )
    assert status == 403
    assert (await call(client, "GET", "/api/v1/audit"))[0] == 403


async def test_an_admin_adds_lists_and_limits_an_operator(client: Client, catalog: Catalog) -> None:
    await logged_in(client, "admin")
    status, added = await call(
        client,
        "POST",
        "/api/v1/users",
        {"name": "小王", "role": "operator", "password": "小王的密码 password", "channels": ["rcxf"]},
    )
    assert status == 201, added
    assert added == {
        "name": "小王",
        "role": "operator",
        "disabled": False,
        "channels": ["rcxf"],
        "created_at": added["created_at"],
        "version": 1,
    }
    status, listed = await call(client, "GET", "/api/v1/users")
    assert status == 200
    assert [u["name"] for u in listed["items"]] == ["admin", "editor", "operator", "小王"]
    assert (await log_in(client, "小王", "小王的密码 password")).status == 200  # the password works
    await logged_in(client, "admin")

    status, body = await call(
        client, "POST", "/api/v1/users", {"name": "小王", "role": "editor", "password": "x" * 9}
    )
    assert status == 409
    assert "already exists" in body["error"]
    for bad, field in [
        ({"name": "bob", "role": "boss", "password": "x" * 9}, "role"),
        ({"name": "bob", "role": "editor"}, "password"),
        ({"name": "bob", "role": "editor", "password": "x" * 9, "channels": ["Not A Channel"]}, "channels"),
        ({"name": "bob", "role": "editor", "password": "x" * 9, "admin": True}, "admin"),
    ]:
        status, body = await call(client, "POST", "/api/v1/users", bad)
        assert (status, body.get("field")) == (400, field), body
    status, body = await call(
        client, "POST", "/api/v1/users", {"name": "bob", "role": "editor", "password": "short"}
    )
    assert status == 400
    assert "at least 8" in body["error"]


async def test_changes_are_versioned_and_keep_an_enabled_admin(client: Client, catalog: Catalog) -> None:
    await logged_in(client, "admin")
    status, body = await call(client, "PATCH", "/api/v1/users/admin", {"role": "operator"})
    assert status == 409
    assert "last enabled admin" in body["error"]
    status, body = await call(client, "PATCH", "/api/v1/users/admin", {"disabled": True})
    assert status == 409

    response = await client.patch("/api/v1/users/operator", json={"channels": ["rcjy"]})
    assert response.status == 200
    changed = await response.json()
    assert (changed["channels"], changed["version"]) == (["rcjy"], 2)
    assert response.headers["ETag"] == '"user/operator/v2"'
    status, body = await call(client, "PATCH", "/api/v1/users/operator", {"channels": None, "version": 1})
    assert (status, body["current_version"]) == (409, 2)
    status, body = await call(
        client, "PATCH", "/api/v1/users/operator", {"channels": None}, **{"If-Match": '"user/operator/v2"'}
    )
    assert (status, body["channels"]) == (200, None)
    assert (await call(client, "PATCH", "/api/v1/users/nobody", {"disabled": True}))[0] == 404
    assert (await call(client, "PATCH", "/api/v1/users/operator", {}))[0] == 400


async def test_disabling_ends_sessions_and_tokens(
    client: Client, catalog: Catalog, aiohttp_client: Any
) -> None:
    other = await aiohttp_client(client.server.app)
    await logged_in(other, "editor")
    _, secret = catalog.accounts.create_token("editor", now=NOW)
    await logged_in(client, "admin")
    assert (await call(client, "PATCH", "/api/v1/users/editor", {"disabled": True}))[0] == 200
    assert (await other.get("/api/v1/me")).status == 401
    assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})).status == 401


async def test_tokens_are_made_listed_and_revoked_and_the_secret_shown_once(client: Client) -> None:
    await logged_in(client, "admin")
    status, made = await call(client, "POST", "/api/v1/users/operator/tokens", {"label": "cron"})
    assert status == 201
    secret = made.pop("secret")
    assert secret.startswith("rcm_")
    status, listed = await call(client, "GET", "/api/v1/users/operator/tokens")
    assert listed["items"] == [made]
    assert secret not in str(listed)

    script = {"Authorization": f"Bearer {secret}"}
    assert (await client.get("/api/v1/me", headers=script)).status == 200
    assert (await call(client, "DELETE", f"/api/v1/users/editor/tokens/{made['id']}", {}))[0] == 404
    status, revoked = await call(client, "DELETE", f"/api/v1/users/operator/tokens/{made['id']}", {})
    assert status == 200
    assert revoked["revoked_at"] is not None
    assert (await client.get("/api/v1/me", headers=script)).status == 401
    assert (await call(client, "GET", "/api/v1/users/nobody/tokens"))[0] == 404


async def test_a_password_reset_ends_the_sessions_and_is_audited_without_it(
    client: Client, aiohttp_client: Any
) -> None:
    other = await aiohttp_client(client.server.app)
    await logged_in(other, "operator")
    await logged_in(client, "admin")
    status, _ = await call(
        client, "POST", "/api/v1/users/operator/password", {"password": "新的密码 new password"}
    )
    assert status == 200
    assert (await other.get("/api/v1/me")).status == 401
    assert (await log_in(other, "operator", "新的密码 new password")).status == 200

    status, audit = await call(client, "GET", "/api/v1/audit?action=user.password")
    assert status == 200
    (entry,) = audit["items"]
    assert (entry["actor"], entry["target"], entry["before"], entry["after"]) == (
        "admin",
        "user/operator",
        None,
        None,
    )
    status, everything = await call(client, "GET", "/api/v1/audit")
    assert "新的密码" not in str(everything)


async def test_the_audit_log_filters_and_refuses_bad_parameters(client: Client, catalog: Catalog) -> None:
    for n in range(3):
        catalog.audit.record("cli:ops", "grid.apply", f"channel/c{n}", after={"n": n}, now=NOW)
    await logged_in(client, "admin")
    status, body = await call(client, "GET", "/api/v1/audit?actor=cli:ops&limit=2")
    assert status == 200
    assert [e["after"]["n"] for e in body["items"]] == [2, 1]
    assert body["items"][0]["at"] == "2026-03-02T04:30:00Z"
    status, body = await call(client, "GET", f"/api/v1/audit?before_id={body['items'][1]['id']}")
    assert [e["after"]["n"] for e in body["items"]] == [0]
    status, body = await call(client, "GET", "/api/v1/audit?since=2026-03-02T05:00:00%2B00:00")
    assert body["items"] == []
    for bad in ("since=yesterday", "since=2026-03-02T05:00:00", "limit=0", "limit=501", "actor=" + "x" * 101):
        assert (await call(client, "GET", f"/api/v1/audit?{bad}"))[0] == 400, bad


async def test_a_name_with_a_slash_is_reached_percent_encoded(client: Client, catalog: Catalog) -> None:
    catalog.accounts.add_user("<i>x</i>", Role.EDITOR, "long-enough", now=NOW)
    await logged_in(client, "admin")
    response = await client.patch(
        URL("/api/v1/users/%3Ci%3Ex%3C%2Fi%3E", encoded=True), json={"disabled": True}
    )
    assert response.status == 200, await response.text()
    assert (await response.json())["name"] == "<i>x</i>"
