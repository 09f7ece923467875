"""The ``/ops`` pages' routes, and the role each needs (checked against the handlers by a test).

Every page handler starts with :func:`rcmedia.web.ops.pages.page_user`; ``OPS_ROLES`` says what
it should be called with, so ``tests/integration/web/test_route_roles.py`` can check each route
answers an anonymous request with the login redirect and a wrong role with 403.
"""

from __future__ import annotations

from aiohttp import web

from rcmedia.core.accounts import Role
from rcmedia.web.ops import dashboard, rundown

CHANNEL = r"{channel:[a-z0-9-]{1,64}}"

# path -> the role that may open it (None: any signed-in account)
OPS_ROLES: dict[str, Role | None] = {
    "/ops": None,
    f"/ops/channels/{CHANNEL}/schedule": Role.OPERATOR,
}


def add_ops_routes(router: web.UrlDispatcher) -> None:
    """The pages (``add_get`` answers HEAD too)."""
    router.add_get("/ops", dashboard.dashboard_page)
    router.add_get(f"/ops/channels/{CHANNEL}/schedule", rundown.rundown_page)
