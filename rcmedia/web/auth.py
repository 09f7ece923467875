"""Logging in and out: ``GET /login`` (a form), ``POST /login``, ``POST /logout``, ``GET /api/v1/me``.

``POST /login`` takes a form (``name``, ``password``) or the same as JSON. JSON clients get JSON
answers; the form gets the page again (with the error) or a redirect back to it once logged in.

Guessing is limited (settings ``login_*``): five failures for one name from one address within
15 minutes refuse that pair for 60 s, twenty from one address across names within 10 minutes
refuse the address for 5 minutes (429 with ``Retry-After``). Every attempt is counted before its
password is checked, so a burst sent at once is limited as one sent slowly. The checks themselves
run in a small pool of their own (:mod:`rcmedia.web.password_checks`): when it is full a login is
refused at once with 503, and the rest of the origin never waits for logins.
"""

from __future__ import annotations

import asyncio
import functools
import html
import logging
from collections.abc import AsyncIterator, Mapping
from datetime import timedelta
from typing import Any

from aiohttp import hdrs, web

from rcmedia import metrics
from rcmedia.config import Settings
from rcmedia.core.accounts import MAX_NAME, MAX_PASSWORD, Role, User
from rcmedia.core.throttle import FailureThrottle, LoginLimits
from rcmedia.errors import InvalidFieldError
from rcmedia.web.access import (
    ACCOUNTS_KEY,
    JSON_TYPE,
    LOGIN_LIMITS_KEY,
    PASSWORD_CHECKS_KEY,
    SESSION_COOKIE,
    current_user,
    is_secure,
)
from rcmedia.web.documents import INSTANT, Document, closed, enum_of, iso_utc
from rcmedia.web.json_response import json_response
from rcmedia.web.keys import CLOCK_KEY, SETTINGS_KEY
from rcmedia.web.password_checks import TooManyLogins
from rcmedia.web.writes import read_json

log = logging.getLogger(__name__)

NO_STORE: dict[str, str] = {hdrs.CACHE_CONTROL: "no-store"}
PAGE_HEADERS: dict[str, str] = {
    **NO_STORE,
    # nothing external, no scripts; the form posts only here, and no other site may frame it
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    # not "no-referrer": under it chromium sends the form's POST with "Origin: null", which the
    # cross-site check (rcmedia.web.access) rightly refuses; "same-origin" leaks nothing elsewhere
    "Referrer-Policy": "same-origin",
}
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
WRONG = "wrong name or password"
MAX_NEXT = 2000
NAME_WINDOW = timedelta(minutes=15)
ADDRESS_WINDOW = timedelta(minutes=10)


def login_limits(settings: Settings) -> LoginLimits:
    """The per-name and per-address limits the ``login_*`` settings ask for."""
    per_address = settings.login_failures_per_address
    return LoginLimits(
        per_name=FailureThrottle(
            limit=settings.login_failures_per_name,
            block=timedelta(seconds=settings.login_block_seconds),
            window=NAME_WINDOW,
        ),
        per_address=FailureThrottle(
            limit=per_address,
            block=timedelta(seconds=settings.login_address_block_seconds),
            window=ADDRESS_WINDOW,
        )
        if per_address > 0
        else None,
    )


async def close_password_checks(app: web.Application) -> AsyncIterator[None]:
    """``cleanup_ctx``: stop the password-check threads with the app."""
    yield
    app[PASSWORD_CHECKS_KEY].close()


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
{message}{next}
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


def local_path(value: object) -> str | None:
    """``value`` if it is a path on this origin to come back to after logging in, else None.

    Only ``/…`` and never ``//host`` or ``/\\host`` (which browsers take for another site): the
    login form must not become a way to send someone elsewhere (an open redirect).
    """
    if not isinstance(value, str) or not value.startswith("/") or len(value) > MAX_NEXT:
        return None
    if value.startswith(("//", "/\\")) or any(ord(c) < 0x20 or c == "\x7f" for c in value):
        return None
    return value


def _form(message: str = "", name: str = "", next_path: str | None = None, **response: Any) -> web.Response:
    shown = f'<p class="error" role="alert">{html.escape(message)}</p>' if message else ""
    hidden = f'<input type="hidden" name="next" value="{html.escape(next_path)}">' if next_path else ""
    return _page(
        FORM.format(message=shown, next=hidden, name=html.escape(name), max_name=MAX_NAME), **response
    )


def _back_to_form(next_path: str | None = None) -> web.Response:
    return web.Response(status=303, headers={**NO_STORE, hdrs.LOCATION: next_path or "/login"})


def me_document(user: User) -> Document:
    return {
        "name": user.name,
        "role": user.role.value,
        "created_at": iso_utc(user.created_at),
        # what the pages offer to edit; null: every channel (always for an admin)
        "channels": list(user.channels)
        if user.channels is not None and user.role is not Role.ADMIN
        else None,
    }


ME_SCHEMA = closed(
    {
        "name": {"type": "string"},
        "role": enum_of(Role),
        "created_at": INSTANT,
        "channels": {
            "type": ["array", "null"],
            "items": {"type": "string"},
            "description": "the channels this account may change schedules of; null: every channel",
        },
    }
)


async def login_page(request: web.Request) -> web.Response:
    """The sign-in form, or who is signed in with a sign-out button.

    ``?next=/ops/…`` is where the form sends the browser once logged in (a page that asked for a
    login); a signed-in visitor is sent there at once.
    """
    next_path = local_path(request.query.get("next"))
    user = await current_user(request)
    if user is None:
        return _form(next_path=next_path)
    if next_path is not None:
        return _back_to_form(next_path)
    return _page(SIGNED_IN.format(name=html.escape(user.name), role=user.role.value))


async def _credentials(request: web.Request) -> tuple[str, str, str | None]:
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
    return values[0], values[1], local_path(data.get("next"))


def _refusal(
    json_client: bool, status: int, message: str, name: str = "", next_path: str | None = None, **headers: str
) -> web.Response:
    if json_client:
        return json_response({"error": message}, status=status, headers={**NO_STORE, **headers})
    return _form(message, name, next_path, status=status, headers=headers)


async def login(request: web.Request) -> web.Response:
    """Check name and password; on success set the session cookie."""
    json_client = request.content_type == JSON_TYPE
    try:
        name, password, next_path = await _credentials(request)
    except InvalidFieldError as exc:
        if json_client:
            return json_response({"error": str(exc), "field": exc.field}, status=400, headers=NO_STORE)
        return _form(str(exc), status=400)
    app = request.app
    limits, now, address = app[LOGIN_LIMITS_KEY], app[CLOCK_KEY].now(), request.remote or ""
    wait = limits.attempt(name, address, now)  # counted now, before any await: see the module
    if wait is not None:
        seconds = max(1, round(wait))
        return _refusal(
            json_client,
            429,
            f"too many failed logins; try again in {seconds} s",
            name,
            next_path,
            **{hdrs.RETRY_AFTER: str(seconds)},
        )
    try:
        user = await app[PASSWORD_CHECKS_KEY].run(functools.partial(app[ACCOUNTS_KEY].verify, name, password))
    except TooManyLogins as exc:
        limits.release(name, address)  # never checked: it must not count as a failure
        # not a warning: a flood would write thousands a second (the checked failures are warned)
        log.debug("login for %r from %s refused: too many at once", name, address)
        return _refusal(
            json_client,
            503,
            f"too many logins at once; try again in {exc.retry_after} s",
            name,
            next_path,
            **{hdrs.RETRY_AFTER: str(exc.retry_after)},
        )
    except BaseException:
        # a database error (a busy catalog is the middleware's 503) or a cancelled request: not a failure
        limits.release(name, address)
        raise
    if user is None:
        log.warning("failed login for %r from %s", name, address)
        metrics.LOGIN_FAILURES.inc()
        return _refusal(json_client, 401, WRONG, name, next_path)
    limits.succeeded(name, address)
    lifetime = timedelta(hours=app[SETTINGS_KEY].session_hours)
    token = await asyncio.to_thread(app[ACCOUNTS_KEY].create_session, user, now=now, lifetime=lifetime)
    log.info("%s %r logged in from %s", user.role.value, user.name, request.remote)
    response = json_response(me_document(user), headers=NO_STORE) if json_client else _back_to_form(next_path)
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
