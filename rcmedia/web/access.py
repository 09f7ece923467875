"""Who may write: the session cookie, API tokens, roles, channel limits, and the checks that keep
other sites from writing for them.

Viewer endpoints stay anonymous and read-only. Operator and editor endpoints call
:func:`require_role` first (:func:`require_channel` for a write to one channel's schedule): 401
without a live session or token, 403 with the wrong role, or for an operator limited to other
channels (``User.channels``; admins are never limited). Pages under ``/ops`` call
:func:`rcmedia.web.ops.pages.page_user`, which sends an anonymous visitor to ``/login?next=…``
instead of a 401.

Scripts send an API token (``rcmedia users token NAME``, ``POST /api/v1/users/{name}/tokens``) as
``Authorization: Bearer rcm_…``. A request with a ``Bearer`` authorization is judged by it alone
(another scheme, e.g. ``Basic`` credentials a proxy in front asks for, is left alone):
a malformed, unknown or revoked token (or one of a disabled account) is a 401 with
``WWW-Authenticate: Bearer error="invalid_token"``, and never falls back to a session cookie sent
along (RFC 6750 §3.1).

Cross-site request forgery is refused twice over, because the session cookie would otherwise ride
along on a request another site makes the browser send:

* every write to ``/api/`` must say ``Content-Type: application/json``. An HTML form cannot send
  that, and a script on another origin can only after a CORS preflight, which this origin never
  grants for the API (see ``rcmedia.web.cors``: no credentials, API paths not listed);
* a write whose ``Origin`` header names another site is refused (403) on every path, ``/login``
  and ``/logout`` included. The cookie is also ``SameSite=Strict``.

A request that carries a bearer token and no session cookie is not a forgery risk: a browser
never adds the token by itself, and a script on another site cannot set ``Authorization`` without
a preflight this origin never grants. The Origin check is skipped for it; the JSON content type
is still required (it is about the body's format).

The tus upload routes (``/api/v1/uploads``, rcmedia.web.uploads) carry bytes, not JSON: there a
write carries ``Content-Type: application/offset+octet-stream`` or no body at all (a creation
or termination; its content type, which clients fill in anyway, then carries nothing). That stays sound: neither a form nor a cross-site
script can send the offset type or the ``Tus-Resumable`` header every tus write must carry
(412 without it) without a CORS preflight this origin never grants for the API; a write with no
body still needs that header; and the Origin check above applies unchanged.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from rcmedia.catalog.accounts import Accounts
from rcmedia.core import tus
from rcmedia.core.accounts import Role, User
from rcmedia.core.throttle import LoginLimits
from rcmedia.web.errors import API_PREFIX
from rcmedia.web.keys import CLOCK_KEY
from rcmedia.web.password_checks import PasswordChecks

SESSION_COOKIE = "rcmedia_session"
JSON_TYPE = "application/json"
TUS_PATH = "/api/v1/uploads"  # rcmedia.web.uploads.UPLOADS_PATH (which imports this module)
SAFE_METHODS = frozenset({hdrs.METH_GET, hdrs.METH_HEAD, hdrs.METH_OPTIONS})

BEARER = "bearer"
# the request's account (None: anonymous), looked up once per request
_USER = web.RequestKey[User | None]("user")

ACCOUNTS_KEY = web.AppKey("accounts", Accounts)
LOGIN_LIMITS_KEY = web.AppKey("login_limits", LoginLimits)
# argon2 checks run here, never on the default thread pool the catalog reads share
PASSWORD_CHECKS_KEY = web.AppKey("password_checks", PasswordChecks)


def is_secure(request: web.Request) -> bool:
    """Whether the browser reached us over HTTPS, here or at the TLS-terminating proxy in front.

    The forwarded header is believed without a trusted-proxy list: all it can change is whether
    the cookie gets the ``Secure`` flag, and a forged "https" only makes the cookie stricter.
    """
    return request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"


def has_bearer(request: web.Request) -> bool:
    """Whether the request names its account with ``Authorization: Bearer …`` (see the module).

    Another scheme is not ours: a proxy in front that adds ``Basic`` credentials for itself must
    not turn every signed-in browser's request into a refused token.
    """
    scheme, _, _ = request.headers.get(hdrs.AUTHORIZATION, "").strip().partition(" ")
    return scheme.lower() == BEARER


def _bearer_secret(request: web.Request) -> str:
    _, _, secret = request.headers[hdrs.AUTHORIZATION].strip().partition(" ")
    if not secret.strip():
        raise _invalid_token("expected Authorization: Bearer <token>")
    return secret.strip()


def _invalid_token(reason: str) -> web.HTTPUnauthorized:
    return web.HTTPUnauthorized(text=reason, headers={hdrs.WWW_AUTHENTICATE: 'Bearer error="invalid_token"'})


async def current_user(request: web.Request) -> User | None:
    """The account of the request's bearer token or live session, or None for neither.

    A bearer token that does not name an enabled account is a 401 (see the module's doc).
    """
    if _USER in request:
        return request[_USER]
    accounts, now = request.app[ACCOUNTS_KEY], request.app[CLOCK_KEY].now()
    user: User | None = None
    if has_bearer(request):
        secret = _bearer_secret(request)
        user = await asyncio.to_thread(accounts.token_user, secret, now=now)
        if user is None:
            raise _invalid_token("the API token is unknown or revoked, or its account is disabled")
    elif token := request.cookies.get(SESSION_COOKIE):
        user = await asyncio.to_thread(accounts.session_user, token, now=now)
    request[_USER] = user
    return user


async def require_role(request: web.Request, role: Role) -> User:
    """The logged-in account if its role allows ``role``; else 401 (no session) or 403."""
    user = await current_user(request)
    if user is None:
        raise web.HTTPUnauthorized(
            text="log in first (POST /login) or send an API token; this needs an account",
            headers={hdrs.WWW_AUTHENTICATE: 'Bearer realm="rcmedia"'},
        )
    if not user.role.allows(role):
        raise web.HTTPForbidden(
            text=f"account {user.name!r} is {user.role.value}; this needs {role.value} (or admin)"
        )
    return user


async def require_channel(request: web.Request, role: Role, channel_id: str) -> User:
    """:func:`require_role`, and 403 for an account limited to other channels than ``channel_id``.

    Every write scoped to one channel (schedule edits, rundowns, grid applies, events) calls this.
    """
    user = await require_role(request, role)
    if not user.may_edit_channel(channel_id):
        allowed = ", ".join(user.channels or ()) or "none"
        raise web.HTTPForbidden(
            text=f"account {user.name!r} may not change channel {channel_id!r}; it is limited to: {allowed}"
        )
    return user


def _foreign_origin(request: web.Request) -> str | None:
    origin = request.headers.get(hdrs.ORIGIN)
    if origin is None:
        return None  # not a browser's cross-site request (curl, scripts) or a same-origin GET
    if urlsplit(origin).netloc.lower() != request.host.lower():
        return origin
    return None


def _tus_write(request: web.Request) -> bool:
    """A write to the tus routes with their body type, or with no body (see the module's doc)."""
    if request.path != TUS_PATH and not request.path.startswith(TUS_PATH + "/"):
        return False
    return not request.body_exists or request.content_type == tus.OFFSET_TYPE


def _token_only(request: web.Request) -> bool:
    """A bearer request without a session cookie: nothing a browser adds by itself (see the module)."""
    return has_bearer(request) and SESSION_COOKIE not in request.cookies


@web.middleware
async def write_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse cross-site writes (403) and API writes that are not JSON (415) before any handler."""
    # reads, and requests no route takes (their 404 or 405 says more than a 415 would)
    if request.method in SAFE_METHODS or request.match_info.http_exception is not None:
        return await handler(request)
    origin = None if _token_only(request) else _foreign_origin(request)
    if origin is not None:
        raise web.HTTPForbidden(text=f"cross-origin request refused: {origin!r} is not {request.host!r}")
    if request.path.startswith(API_PREFIX) and request.content_type != JSON_TYPE and not _tus_write(request):
        raise web.HTTPUnsupportedMediaType(
            text=f"send the request as JSON (Content-Type: {JSON_TYPE}), not {request.content_type!r}"
        )
    return await handler(request)
