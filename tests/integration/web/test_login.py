"""Logging in and out over HTTP: the cookie, the rate limit, sessions ending, cross-site refusals."""

from __future__ import annotations

import re
from datetime import timedelta
from http.cookies import SimpleCookie

import pytest
from aiohttp import web

from rcmedia.catalog.repository import Catalog
from rcmedia.config import Settings
from rcmedia.core.accounts import Role
from rcmedia.storage.local import LocalStorage
from rcmedia.web.access import SESSION_COOKIE
from tests.integration.web.accounts import add_accounts, log_in, password_of
from tests.integration.web.published import CORS_ORIGIN, AiohttpClient, Client
from tests.integration.web.schedules import FixedClock, origin_app

pytestmark = pytest.mark.usefixtures("accounts")


@pytest.fixture
def accounts(catalog: Catalog) -> dict[Role, str]:
    return add_accounts(catalog)


@pytest.fixture
def auth_app(
    app_settings: Settings, catalog: Catalog, storage: LocalStorage, clock: FixedClock
) -> web.Application:
    return origin_app(app_settings, catalog, storage, clock)


@pytest.fixture
async def auth_client(aiohttp_client: AiohttpClient, auth_app: web.Application) -> Client:
    return await aiohttp_client(auth_app)


def set_cookie(response: web.StreamResponse | object) -> tuple[str, str]:
    """(value, the whole Set-Cookie line) of the session cookie."""
    lines = [v for k, v in response.headers.items() if k.lower() == "set-cookie"]  # type: ignore[attr-defined]
    (line,) = [v for v in lines if v.startswith(f"{SESSION_COOKIE}=")]
    morsel = SimpleCookie(line)[SESSION_COOKIE]
    return morsel.value, line


async def me(client: Client, status: int = 200, **headers: str) -> dict[str, object]:
    response = await client.get("/api/v1/me", headers=headers)
    assert response.status == status, await response.text()
    body: dict[str, object] = await response.json()
    return body


async def test_login_sets_a_strict_http_only_session_cookie(auth_client: Client) -> None:
    response = await log_in(auth_client, "operator")

    assert response.status == 200
    assert await response.json() == {
        "name": "operator",
        "role": "operator",
        "created_at": "2026-01-05T09:00:00Z",
        "channels": None,
    }
    assert response.headers["Cache-Control"] == "no-store"
    token, line = set_cookie(response)
    assert len(token) >= 40
    attributes = {part.strip().split("=")[0].lower(): part.strip() for part in line.split(";")[1:]}
    assert attributes["httponly"] == "HttpOnly"
    assert attributes["samesite"] == "SameSite=Strict"
    assert attributes["path"] == "Path=/"
    assert attributes["max-age"] == "Max-Age=43200"  # session_hours = 12
    assert "secure" not in attributes  # plain HTTP: a Secure cookie would never come back
    assert await me(auth_client) == {
        "name": "operator",
        "role": "operator",
        "created_at": "2026-01-05T09:00:00Z",
        "channels": None,
    }


async def test_the_cookie_is_secure_over_https(auth_client: Client) -> None:
    response = await log_in(auth_client, "editor", **{"X-Forwarded-Proto": "https"})
    assert response.status == 200
    _token, line = set_cookie(response)
    assert "Secure" in [part.strip() for part in line.split(";")]


async def test_wrong_passwords_and_unknown_names_look_the_same(auth_client: Client) -> None:
    wrong = await log_in(auth_client, "operator", "not-the-password")
    unknown = await log_in(auth_client, "nobody", "not-the-password")

    assert (wrong.status, unknown.status) == (401, 401)
    assert await wrong.json() == await unknown.json() == {"error": "wrong name or password"}
    assert "Set-Cookie" not in wrong.headers
    assert await me(auth_client, status=401) == {"error": "not logged in"}


async def test_failed_logins_are_rate_limited_per_name(auth_client: Client, clock: FixedClock) -> None:
    for _ in range(5):
        assert (await log_in(auth_client, "operator", "guess-guess")).status == 401

    blocked = await log_in(auth_client, "operator")  # even the right password, for now
    assert blocked.status == 429
    assert blocked.headers["Retry-After"] == "60"
    assert "too many failed logins" in (await blocked.json())["error"]
    assert (await log_in(auth_client, "editor")).status == 200  # another name is not blocked

    clock.current += timedelta(seconds=59)
    assert (await log_in(auth_client, "OPERATOR ")).status == 429  # the same name, written otherwise
    clock.current += timedelta(seconds=2)
    assert (await log_in(auth_client, "operator")).status == 200


async def test_logout_ends_the_session_not_just_the_cookie(auth_client: Client) -> None:
    token, _line = set_cookie(await log_in(auth_client, "admin"))
    assert (await me(auth_client))["role"] == "admin"

    response = await auth_client.post("/logout", json={})

    assert response.status == 204
    _cleared, line = set_cookie(response)
    assert "Max-Age=0" in line
    await me(auth_client, status=401)
    auth_client.session.cookie_jar.clear()
    # a copy of the cookie kept elsewhere no longer works either
    await me(auth_client, status=401, Cookie=f"{SESSION_COOKIE}={token}")


async def test_sessions_last_session_hours(
    aiohttp_client: AiohttpClient,
    app_settings: Settings,
    catalog: Catalog,
    storage: LocalStorage,
    clock: FixedClock,
) -> None:
    short = origin_app(app_settings.replace(session_hours=1.0), catalog, storage, clock)
    client = await aiohttp_client(short)
    _token, line = set_cookie(await log_in(client, "editor"))
    assert "Max-Age=3600" in line

    clock.current += timedelta(minutes=59)
    await me(client)
    clock.current += timedelta(minutes=1)
    await me(client, status=401)


async def test_the_login_page_and_form(auth_client: Client) -> None:
    page = await auth_client.get("/login")
    assert page.status == 200
    assert page.content_type == "text/html"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    html = await page.text()
    assert '<form method="post" action="/login">' in html
    assert 'type="password"' in html
    assert "<script" not in html
    assert not re.search(r"(src|href)=", html), "the page loads nothing from anywhere"

    refused = await auth_client.post("/login", data={"name": "editor", "password": "wrong-wrong"})
    assert refused.status == 401
    assert "wrong name or password" in await refused.text()

    done = await auth_client.post(
        "/login", data={"name": "editor", "password": password_of("editor")}, allow_redirects=False
    )
    assert done.status == 303
    assert done.headers["Location"] == "/login"
    set_cookie(done)
    signed_in = await (await auth_client.get("/login")).text()
    assert "<strong>editor</strong> (editor)" in signed_in
    assert '<form method="post" action="/logout">' in signed_in

    out = await auth_client.post("/logout", data={}, allow_redirects=False)
    assert (out.status, out.headers["Location"]) == (303, "/login")
    await me(auth_client, status=401)


async def test_names_are_escaped_on_the_page(auth_client: Client, catalog: Catalog) -> None:
    from rcmedia.catalog.accounts import Accounts
    from tests.integration.web.accounts import CHEAP, CREATED

    Accounts(catalog.engine, hasher=CHEAP).add_user("<i>x</i>", Role.EDITOR, "long-enough", now=CREATED)
    assert (await log_in(auth_client, "<i>x</i>", "long-enough")).status == 200
    page = await (await auth_client.get("/login")).text()
    assert "&lt;i&gt;x&lt;/i&gt;" in page
    assert "<i>x</i>" not in page


@pytest.mark.parametrize(
    ("kwargs", "status", "field"),
    [
        pytest.param({"json": {"name": "editor"}}, 400, "password", id="no-password"),
        pytest.param({"json": ["editor", "pw"]}, 400, "body", id="not-an-object"),
        pytest.param(
            {"data": b"name=editor", "headers": {"Content-Type": "text/plain"}}, 415, None, id="text"
        ),
    ],
)
async def test_bad_login_requests(
    auth_client: Client, kwargs: dict[str, object], status: int, field: str | None
) -> None:
    response = await auth_client.post("/login", **kwargs)  # type: ignore[arg-type]
    assert response.status == status
    if field is not None:
        assert (await response.json())["field"] == field


async def test_logins_from_other_sites_are_refused(auth_client: Client) -> None:
    forged = await log_in(auth_client, "operator", Origin="https://evil.example")
    assert forged.status == 403
    assert "cross-origin" in await forged.text()
    assert "Set-Cookie" not in forged.headers

    own = f"http://{auth_client.host}:{auth_client.port}"
    assert (await log_in(auth_client, "operator", Origin=own)).status == 200


async def test_cors_never_lets_other_sites_use_the_session(auth_client: Client) -> None:
    await log_in(auth_client, "admin")
    for method, path in (
        ("GET", "/api/v1/me"),
        ("OPTIONS", "/api/v1/me"),
        ("OPTIONS", "/api/v1/assets/1"),
        ("GET", "/channels.m3u"),  # a CORS path: open to every origin, but never with credentials
    ):
        response = await auth_client.request(method, path, headers={"Origin": CORS_ORIGIN})
        assert "Access-Control-Allow-Credentials" not in response.headers, path
        if path.startswith("/api/"):
            assert "Access-Control-Allow-Origin" not in response.headers, path
