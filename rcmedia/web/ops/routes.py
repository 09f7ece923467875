"""The ``/ops`` pages' routes, and the role each needs (checked against the handlers by a test).

Every page handler starts with :func:`rcmedia.web.ops.pages.page_user`; ``OPS_ROLES`` says what
it should be called with, so ``tests/integration/web/test_route_roles.py`` can check each route
answers an anonymous request with the login redirect and a wrong role with 403.
"""

from __future__ import annotations

from aiohttp import web

from rcmedia.core.accounts import Role
from rcmedia.web.ops import asset, assets, audit, dashboard, grid, jobs, rundown, uploads_desk, users

CHANNEL = r"{channel:[a-z0-9-]{1,64}}"
ID = r"{id:[0-9]{1,18}}"

# path -> the role that may open it (None: any signed-in account)
OPS_ROLES: dict[str, Role | None] = {
    "/ops": None,
    "/ops/uploads": Role.EDITOR,
    "/ops/jobs": None,
    "/ops/assets": None,
    f"/ops/assets/{ID}": None,  # its forms need editor (or admin): the API checks each write
    f"/ops/channels/{CHANNEL}/grid": Role.OPERATOR,
    f"/ops/channels/{CHANNEL}/schedule": Role.OPERATOR,
    "/ops/users": Role.ADMIN,
    "/ops/audit": Role.ADMIN,
}


def add_ops_routes(router: web.UrlDispatcher) -> None:
    """The pages (``add_get`` answers HEAD too)."""
    router.add_get("/ops", dashboard.dashboard_page)
    router.add_get("/ops/uploads", uploads_desk.uploads_page)
    router.add_get("/ops/jobs", jobs.jobs_page)
    router.add_get("/ops/assets", assets.assets_page)
    router.add_get(f"/ops/assets/{ID}", asset.asset_page)
    router.add_get(f"/ops/channels/{CHANNEL}/grid", grid.grid_page)
    router.add_get(f"/ops/channels/{CHANNEL}/schedule", rundown.rundown_page)
    router.add_get("/ops/users", users.users_page)
    router.add_get("/ops/audit", audit.audit_page)
