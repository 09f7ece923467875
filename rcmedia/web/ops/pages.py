"""What every ``/ops`` page shares: who may open it, how it is rendered, the headers it is sent with.

:func:`page_user` is the pages' :func:`rcmedia.web.access.require_role`: an anonymous request is
redirected to ``/login?next=…`` (and comes back after logging in), an account of the wrong role
gets a 403 page saying which role the page needs. :func:`ops_html` renders a template of
``templates/ops/`` with the navigation, the language and the signed-in account.

Pages are per account and change by the second: ``Cache-Control: no-store``. Scripts run only
from this origin; a page's data for its script travels in a ``<script type="application/json">``
block, which is never executed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import quote

from aiohttp import hdrs, web

from rcmedia.core.accounts import Role, User
from rcmedia.web.access import current_user
from rcmedia.web.ops.i18n import LANG_COOKIE, Lang, chosen_lang, translator
from rcmedia.web.pages import environment
from rcmedia.web.static_files import page_assets, static_url

LOGIN_PATH = "/login"
HTML_TYPE = "text/html; charset=utf-8"
# as the viewer pages (rcmedia.web.pages), but the pages' scripts call only this origin, and no
# other site may frame them (an operator's click must not be stolen by an overlay)
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self' blob: http: https:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    hdrs.CONTENT_TYPE: HTML_TYPE,
    hdrs.CACHE_CONTROL: "no-store",
    hdrs.CONTENT_SECURITY_POLICY: CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
LANG_COOKIE_SECONDS = 365 * 24 * 3600


@dataclass(frozen=True, kw_only=True, slots=True)
class NavLink:
    path: str
    zh: str
    en: str
    role: Role | None  # None: every signed-in account


# The navigation, in the order the pages are shown; a link appears to the roles that may open it.
NAV = (
    NavLink(path="/ops", zh="总览", en="Dashboard", role=None),
    NavLink(path="/ops/uploads", zh="上传", en="Uploads", role=Role.EDITOR),
    NavLink(path="/ops/jobs", zh="任务", en="Jobs", role=None),
    NavLink(path="/ops/assets", zh="节目库", en="Assets", role=None),
    NavLink(path="/ops/users", zh="账号", en="Users", role=Role.ADMIN),
    NavLink(path="/ops/audit", zh="审计", en="Audit", role=Role.ADMIN),
)


def login_redirect(request: web.Request) -> web.HTTPSeeOther:
    """Where an anonymous visitor is sent: the login form, coming back here afterwards."""
    return web.HTTPSeeOther(
        f"{LOGIN_PATH}?next={quote(request.path_qs, safe='/')}", headers={hdrs.CACHE_CONTROL: "no-store"}
    )


def lang_of(request: web.Request) -> Lang:
    return chosen_lang(request.query, request.cookies)[0]


async def page_user(request: web.Request, role: Role | None = None, *, channel: str | None = None) -> User:
    """The signed-in account, if its role allows ``role`` (None: any account) and, for a page of
    one ``channel``, its channel limit allows that channel (``rcmedia.web.access.require_channel``).

    Raises the redirect to the login form for an anonymous request and a 403 page otherwise.
    """
    user = await current_user(request)
    if user is None:
        raise login_redirect(request)
    t = translator(lang_of(request))
    if role is not None and not user.role.allows(role):
        await _forbidden(
            request,
            user,
            t(
                f"账号 {user.name} 的角色是 {user.role.value}，此页面需要 {role.value}（或 admin）。",
                f"Account {user.name} is {user.role.value}; this page needs {role.value} (or admin).",
            ),
        )
    if channel is not None and not user.may_edit_channel(channel):
        allowed = ", ".join(user.channels or ())
        await _forbidden(
            request,
            user,
            t(
                f"账号 {user.name} 只能管理这些频道：{allowed}。",
                f"Account {user.name} may only work on these channels: {allowed}.",
            ),
        )
    return user


async def _forbidden(request: web.Request, user: User, message: str) -> NoReturn:
    response = await ops_html(request, "ops/forbidden.html", user=user, status=403, message=message)
    # aiohttp's exceptions take text, not body (deprecated), and the type apart from the headers
    headers = {k: v for k, v in response.headers.items() if k != hdrs.CONTENT_TYPE}
    assert isinstance(response.text, str)
    raise web.HTTPForbidden(text=response.text, content_type="text/html", headers=headers)


def _render(template: str, context: Mapping[str, Any]) -> str:
    """Blocking: the first use of a template or a static file reads it."""
    return environment().get_template(template).render(assets=page_assets(), ops=ops_assets(), **context)


def ops_assets() -> dict[str, str | None]:
    """URLs of the pages' own scripts and styles (``static/ops/``) and the vendored libraries."""
    names = {
        "css": "ops/ops.css",
        "common": "ops/ops.js",
        "tus": "vendor/tus.min.js",
        "hls": "vendor/hls.min.js",
    }
    return {key: static_url(name) for key, name in names.items()}


def script_url(name: str) -> str | None:
    """``/static/ops/{name}?v=…`` for a page's own script."""
    return static_url(f"ops/{name}")


async def ops_html(
    request: web.Request,
    template: str,
    *,
    user: User,
    status: int = 200,
    config: Mapping[str, Any] | None = None,
    **context: Any,
) -> web.Response:
    """Render ``template`` for ``user``; ``config`` is handed to the page's script as JSON."""
    lang, asked = chosen_lang(request.query, request.cookies)
    t = translator(lang)
    other = Lang.EN if lang is Lang.ZH else Lang.ZH
    nav = [link for link in NAV if link.role is None or user.role.allows(link.role)]
    page_config = {"lang": lang.value, "user": {"name": user.name, "role": user.role.value}, **(config or {})}
    values = {
        "t": t,
        "lang": lang.value,
        "other_lang": other.value,
        # the same page (its query kept) in the other language
        "lang_url": str(request.rel_url.update_query({"lang": other.value})),
        "user": user,
        "nav": nav,
        "current_path": request.path,
        "script": script_url,
        # rendered with jinja's tojson, which writes <, >, & and ' as \u escapes: neither "</script>"
        # nor "<!--<script>" in a title or a file name can end or bend the <script> block
        "page_config": page_config,
        **context,
    }
    text = await asyncio.to_thread(_render, template, values)
    response = web.Response(status=status, body=text.encode("utf-8"), headers=HEADERS)
    if asked:
        response.set_cookie(LANG_COOKIE, lang.value, max_age=LANG_COOKIE_SECONDS, path="/", samesite="Lax")
    return response
