"""Every route of the app is either anonymous on purpose or refuses whoever may not use it.

The app's route table is walked, not a list kept by hand: a route added without a check fails
here (anonymous requests must get 401, or a redirect to the login page for pages under /ops).
Each route that is not anonymous must be listed in ``ROLES`` with the role it needs; an account
of another role must get 403. Pages under ``/ops`` go in ``OPS_PAGES`` the same way (an unlisted
one fails until listed).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp import hdrs, web

from rcmedia.catalog.repository import Catalog
from rcmedia.core.accounts import Role
from rcmedia.web.openapi import OPENAPI_PATH
from rcmedia.web.ops.routes import OPS_ROLES
from tests.integration.web.accounts import add_accounts, logged_in
from tests.integration.web.published import AiohttpClient

ANY_ACCOUNT = "any account"
SAFE = frozenset({hdrs.METH_GET, hdrs.METH_HEAD, hdrs.METH_OPTIONS})

# Viewer side: no login, read-only (only GET, HEAD and the CORS/tus OPTIONS are routed there).
VIEWER_PREFIXES = ("/vod/", "/media/", "/live/", "/catchup/", "/air/", "/shifted/", "/watch", "/static/")
VIEWER_PATHS = frozenset(
    {
        "/epg.xml",
        "/channels.m3u",
        "/healthz",
        "/readyz",
        "/metrics",  # for Prometheus; the edge does not pass it on (deploy/)
        OPENAPI_PATH,
        "/api/v1/assets",
        "/api/v1/assets/{id}",
        "/api/v1/jobs",
        "/api/v1/jobs/{id}",
        "/api/v1/channels",
        "/api/v1/channels/{channel}",
        "/api/v1/channels/{channel}/schedule",
        "/api/v1/channels/{channel}/guide",
        "/api/v1/channels/{channel}/asrun",
        "/api/v1/assets/{id}/airings",
    }
)
# Anonymous writes: logging in and out, and the tus capabilities (OPTIONS).
ANONYMOUS = frozenset(
    {
        ("GET", "/login"),
        ("HEAD", "/login"),
        ("POST", "/login"),
        ("POST", "/logout"),
        ("OPTIONS", "/api/v1/uploads"),
    }
)

# (method, path template) → the role it needs (an admin may do everything). HEAD goes with GET.
ROLES: dict[tuple[str, str], Role | str] = {
    ("GET", "/api/v1/me"): ANY_ACCOUNT,
    ("GET", "/api/v1/jobs/events"): ANY_ACCOUNT,
    ("POST", "/api/v1/jobs/{id}/retry"): Role.EDITOR,
    ("POST", "/api/v1/jobs/{id}/cancel"): Role.EDITOR,
    ("PATCH", "/api/v1/assets/{id}"): Role.EDITOR,
    ("PUT", "/api/v1/assets/{id}/rights"): Role.EDITOR,
    ("POST", "/api/v1/assets/{id}/withdraw"): Role.EDITOR,
    ("POST", "/api/v1/uploads"): Role.EDITOR,
    ("GET", "/api/v1/uploads/{id}"): Role.EDITOR,
    ("PATCH", "/api/v1/uploads/{id}"): Role.EDITOR,
    ("DELETE", "/api/v1/uploads/{id}"): Role.EDITOR,
    ("POST", "/api/v1/channels/{channel}/schedule/edits"): Role.OPERATOR,
    ("POST", "/api/v1/channels/{channel}/grid"): Role.OPERATOR,
    ("POST", "/api/v1/channels/{channel}/schedule/rebuild"): Role.OPERATOR,
    ("POST", "/api/v1/channels/{channel}/schedule/copy-locks"): Role.OPERATOR,
    ("GET", "/api/v1/channels/{channel}/schedule/events"): Role.OPERATOR,
    ("GET", "/api/v1/users"): Role.ADMIN,
    ("POST", "/api/v1/users"): Role.ADMIN,
    ("PATCH", "/api/v1/users/{name}"): Role.ADMIN,
    ("POST", "/api/v1/users/{name}/password"): Role.ADMIN,
    ("GET", "/api/v1/users/{name}/tokens"): Role.ADMIN,
    ("POST", "/api/v1/users/{name}/tokens"): Role.ADMIN,
    ("DELETE", "/api/v1/users/{name}/tokens/{id}"): Role.ADMIN,
    ("GET", "/api/v1/audit"): Role.ADMIN,
}


# Pages under /ops: the table their routes are added from (rcmedia.web.ops.routes), each page a
# GET (HEAD too). Anonymous: a redirect to /login?next=…; a page not in that table fails above.
def template(path: str) -> str:
    """``/ops/assets/{id}`` of ``/ops/assets/{id:[0-9]{1,18}}``, as the route table names it."""
    return str(web.DynamicResource(path).get_info()["formatter"]) if "{" in path else path


OPS_PAGES: dict[tuple[str, str], Role | str] = {
    ("GET", template(path)): ANY_ACCOUNT if role is None else role for path, role in OPS_ROLES.items()
}

# a plausible value for each path parameter of the routes (what matters is reaching the handler)
PARAMETERS = {
    "id": "1",
    "asset": "1",
    "channel": "rcxf",
    "output": "iptv",
    "rendition": "r0",
    "key": "a/b.ts",
    "start": "0",
    "cut": "join",
    "shift": "0",
    "name": "operator",
    "path": "app.css",
    "rest": "x",
}
# who must be refused where a role is needed
OTHERS = {
    Role.ADMIN: (Role.OPERATOR, Role.EDITOR),
    Role.OPERATOR: (Role.EDITOR,),
    Role.EDITOR: (Role.OPERATOR,),
}


def routes(app: web.Application) -> list[tuple[str, str]]:
    """(method, path template) of every route (HEAD folded into GET where both are routed)."""
    found = set()
    for route in app.router.routes():
        info: dict[str, Any] = dict(route.resource.get_info()) if route.resource is not None else {}
        path = info.get("formatter") or info.get("path") or ""
        found.add((route.method, path))
    return sorted(found - {("HEAD", path) for method, path in found if method == "GET" and path != "/login"})


def is_anonymous(method: str, path: str) -> bool:
    viewer = path in VIEWER_PATHS or path.startswith(VIEWER_PREFIXES)
    return (viewer and method in SAFE) or (method, path) in ANONYMOUS


def needed(method: str, path: str) -> Role | str | None:
    return {**ROLES, **OPS_PAGES}.get((method, path))


def filled(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: PARAMETERS[m.group(1)], path)


async def answer(client: Any, method: str, path: str) -> tuple[int, str]:
    body = None if method in SAFE else {}
    response = await client.request(
        method, filled(path), json=body, headers={"Tus-Resumable": "1.0.0"}, allow_redirects=False
    )
    await response.read()
    return response.status, response.headers.get(hdrs.LOCATION, "")


@pytest.fixture
def app(app: web.Application, catalog: Catalog) -> web.Application:
    add_accounts(catalog)
    return app


def test_viewer_routes_are_read_only(app: web.Application) -> None:
    # (the API's read paths share their addresses with writes, which ROLES lists)
    viewer = [p for p in VIEWER_PATHS if not p.startswith("/api/")]
    writes = [
        (method, path)
        for method, path in routes(app)
        if (path in viewer or path.startswith(VIEWER_PREFIXES)) and method not in SAFE
    ]
    assert writes == []


def test_every_route_is_anonymous_on_purpose_or_has_its_role_listed(app: web.Application) -> None:
    unlisted = [r for r in routes(app) if not is_anonymous(*r) and needed(*r) is None]
    assert unlisted == [], "add these routes to ROLES (or OPS_PAGES) with the role they need"
    stale = [r for r in {**ROLES, **OPS_PAGES} if r not in routes(app)]
    assert stale == [], "these listed routes are gone: remove them from the table"


async def test_anonymous_requests_are_refused(aiohttp_client: AiohttpClient, app: web.Application) -> None:
    client = await aiohttp_client(app)
    wrong = []
    for method, path in routes(app):
        if is_anonymous(method, path):
            continue
        status, location = await answer(client, method, path)
        if path.startswith("/ops"):
            ok = status in (302, 303) and location.startswith("/login?next=")
        else:
            ok = status == 401
        if not ok:
            wrong.append((method, path, status, location))
    assert wrong == [], "these routes answer an anonymous request without asking for a login"


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.EDITOR])
async def test_accounts_of_other_roles_are_refused(
    aiohttp_client: AiohttpClient, app: web.Application, role: Role
) -> None:
    client = await logged_in(await aiohttp_client(app), role.value)
    wrong = []
    for method, path in routes(app):
        role_needed = needed(method, path)
        if not isinstance(role_needed, Role) or role not in OTHERS[role_needed]:
            continue
        status, _ = await answer(client, method, path)
        if status != 403:
            wrong.append((method, path, status))
    assert wrong == [], f"these routes do not refuse an account of role {role.value}"
