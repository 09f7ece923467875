"""Logging in and out: ``GET /login`` (a form), ``POST /login``, ``POST /logout``, ``GET /api/v1/me``.

``POST /login`` takes a form (``name``, ``password``) or the same as JSON. JSON clients get JSON
answers; the form gets the page again (with the error) or a redirect back to it once logged in.
Five failures for one name from one address within 15 minutes refuse that pair for 60 s (429).
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from aiohttp import hdrs, web

from rcmedia.core.accounts import MAX_NAME, MAX_PASSWORD, Role, User
from rcmedia.errors import InvalidFieldError
from rcmedia.web.access import (
    ACCOUNTS_KEY,
    JSON_TYPE,
    LOGIN_THROTTLE_KEY,
    SESSION_COOKIE,
    current_user,
    is_secure,
)
from rcmedia.web.documents import INSTANT, Document, closed, enum_of, iso_utc
from rcmedia.web.json_response import json_response
from rcmedia.web.keys import CLOCK_KEY, SETTINGS_KEY
from rcmedia.web.writes import read_json

log = logging.getLogger(__name__)

NO_STORE: dict[str, str] = {hdrs.CACHE_CONTROL: "no-store"}
PAGE_HEADERS: dict[str, str] = {
    **NO_STORE,
    # nothing external, no scripts; the form posts only here, and no other site may frame it
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
WRONG = "wrong name or password"

PAGE = """<!doctype html>
<html lang="zh">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>rcmedia · 登录 Sign in</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 22rem; margin: 4rem auto; padding: 0 1rem; }}
label {{ display: block; margin-top: 1rem; }}
input {{ width: 100%; box-sizing: border-box; padding: .4rem; font-size: 1rem; }}
button {{ margin-top: 1.2rem; padding: .5rem 1.2rem; font-size: 1rem; }}
.error {{ color: #a00; }}
</style>
</head>
<body>
<h1>rcmedia</h1>
{body}
</body>
</html>
"""

FORM = """<form method="post" action="/login">
{message}
<label>账号 Name <input name="name" autocomplete="username" required maxlength="{max_name}" value="{name}"></label>
<label>密码 Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">登录 Sign in</button>
</form>
"""

SIGNED_IN = """<p>已登录 Signed in as <strong>{name}</strong> ({role}).</p>
<form method="post" action="/logout"><button type="submit">退出 Sign out</button></form>
"""


def _page(body: str, *, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status,
        text=PAGE.format(body=body),
        content_type="text/html",
        charset="utf-8",
        headers={**PAGE_HEADERS, **(headers or {})},
    )


def _form(message: str = "", name: str = "", **response: Any) -> web.Response:
    shown = f'<p class="error" role="alert">{html.escape(message)}</p>' if message else ""
    return _page(FORM.format(message=shown, name=html.escape(name), max_name=MAX_NAME), **response)


def _back_to_form() -> web.Response:
    return web.Response(status=303, headers={**NO_STORE, hdrs.LOCATION: "/login"})


def me_document(user: User) -> Document:
    return {"name": user.name, "role": user.role.value, "created_at": iso_utc(user.created_at)}


ME_SCHEMA = closed({"name": {"type": "string"}, "role": enum_of(Role), "created_at": INSTANT})


async def login_page(request: web.Request) -> web.Response:
    """The sign-in form, or who is signed in with a sign-out button."""
    user = await current_user(request)
    if user is None:
        return _form()
    return _page(SIGNED_IN.format(name=html.escape(user.name), role=user.role.value))


async def _credentials(request: web.Request) -> tuple[str, str]:
    data: Mapping[str, Any]
    if request.content_type == JSON_TYPE:
        body = await read_json(request)
        if not isinstance(body, Mapping):
            raise InvalidFieldError("body", "expected a JSON object with name and password")
        data = body
    elif request.content_type in FORM_TYPES:
        try:
            data = await request.post()
        except (ValueError, LookupError) as exc:  # not UTF-8, an unknown charset, a broken multipart
            raise InvalidFieldError("body", f"not a readable form: {exc}") from None
    else:
        raise web.HTTPUnsupportedMediaType(text="send name and password as a form or as JSON")
    values = []
    for field, limit in (("name", MAX_NAME), ("password", MAX_PASSWORD)):
        value = data.get(field)
        if not isinstance(value, str) or not value:
            raise InvalidFieldError(field, "missing")
        if len(value) > limit:
            raise InvalidFieldError(field, f"longer than {limit} characters")
        values.append(value)
    return values[0], values[1]


def _refusal(json_client: bool, status: int, message: str, name: str = "", **headers: str) -> web.Response:
    if json_client:
        return json_response({"error": message}, status=status, headers={**NO_STORE, **headers})
    return _form(message, name, status=status, headers=headers)


async def login(request: web.Request) -> web.Response:
    """Check name and password; on success set the session cookie."""
    json_client = request.content_type == JSON_TYPE
    try:
        name, password = await _credentials(request)
    except InvalidFieldError as exc:
        if json_client:
            return json_response({"error": str(exc), "field": exc.field}, status=400, headers=NO_STORE)
        return _form(str(exc), status=400)
    app = request.app
    throttle, now = app[LOGIN_THROTTLE_KEY], app[CLOCK_KEY].now()
    key = (name.strip().casefold(), request.remote or "")
    wait = throttle.retry_after(key, now)
    if wait is not None:
        seconds = max(1, round(wait))
        return _refusal(
            json_client,
            429,
            f"too many failed logins; try again in {seconds} s",
            name,
            **{hdrs.RETRY_AFTER: str(seconds)},
        )
    user = await asyncio.to_thread(app[ACCOUNTS_KEY].verify, name, password)
    if user is None:
        throttle.failed(key, now)
        log.warning("failed login for %r from %s", name, request.remote)
        return _refusal(json_client, 401, WRONG, name)
    throttle.succeeded(key)
    lifetime = timedelta(hours=app[SETTINGS_KEY].session_hours)
    token = await asyncio.to_thread(app[ACCOUNTS_KEY].create_session, user, now=now, lifetime=lifetime)
    log.info("%s %r logged in from %s", user.role.value, user.name, request.remote)
    response = json_response(me_document(user), headers=NO_STORE) if json_client else _back_to_form()
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(lifetime.total_seconds()),
        path="/",
        httponly=True,
        samesite="Strict",
        secure=is_secure(request),
    )
    return response


async def logout(request: web.Request) -> web.Response:
    """End the session (if any) and clear the cookie: 204, or back to the form for a form post."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await asyncio.to_thread(request.app[ACCOUNTS_KEY].end_session, token)
    response: web.Response = (
        _back_to_form() if request.content_type in FORM_TYPES else web.Response(status=204, headers=NO_STORE)
    )
    response.del_cookie(SESSION_COOKIE, path="/", secure=is_secure(request), httponly=True, samesite="Strict")
    return response


async def me(request: web.Request) -> web.Response:
    """The logged-in account; 401 without a live session."""
    user = await current_user(request)
    if user is None:
        raise web.HTTPUnauthorized(text="not logged in")
    return json_response(me_document(user), headers=NO_STORE)
