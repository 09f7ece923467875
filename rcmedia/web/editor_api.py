"""Editor actions on assets: change metadata, set rights, withdraw.

``PATCH /api/v1/assets/{id}`` (title, series, episode, description, categories),
``PUT /api/v1/assets/{id}/rights`` (the whole list of ``{output, start, end}`` windows) and
``POST /api/v1/assets/{id}/withdraw``. Each answers with the asset document (and its ETag), and
each moves the asset's ``updated_at`` (its ``version``), so the EPG watch rebuilds the days after
the freeze horizon: a withdrawn asset, or one without rights on an output, is substituted there
from the next rebuild. A write may name the version it was made on (``If-Match`` with the ETag of
``GET /api/v1/assets/{id}``, or ``"version"`` in a PATCH body): if another editor changed the
asset since, it is refused with 409 and the current version, and nothing is changed. Every
change is in the audit log (``asset.update``, ``asset.rights``, ``asset.withdraw``, with the asset
before and after), written in the change's own transaction.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from rcmedia.core.accounts import Role
from rcmedia.core.changes import parse_asset_patch, parse_rights
from rcmedia.web.access import require_role
from rcmedia.web.api import asset_answer
from rcmedia.web.documents import asset_resource
from rcmedia.web.keys import CATALOG_KEY, CLOCK_KEY
from rcmedia.web.writes import expected_version, read_json

log = logging.getLogger(__name__)


def _asset_id(request: web.Request) -> int:
    return int(request.match_info["id"])


async def update_asset(request: web.Request) -> web.StreamResponse:
    user = await require_role(request, Role.EDITOR)
    change, version = parse_asset_patch(await read_json(request))
    expected = expected_version(request, asset_resource(_asset_id(request)), version)
    catalog, now = request.app[CATALOG_KEY], request.app[CLOCK_KEY].now()
    asset = await asyncio.to_thread(
        catalog.update_metadata,
        _asset_id(request),
        change,
        now=now,
        expected_version=expected,
        actor=user.name,
    )
    log.info("asset %d changed by %r: %s", asset.id, user.name, ", ".join(change.changed()))
    return asset_answer(asset)


async def set_rights(request: web.Request) -> web.StreamResponse:
    user = await require_role(request, Role.EDITOR)
    rights = parse_rights(await read_json(request))
    expected = expected_version(request, asset_resource(_asset_id(request)))
    catalog, now = request.app[CATALOG_KEY], request.app[CLOCK_KEY].now()
    asset = await asyncio.to_thread(
        catalog.set_rights, _asset_id(request), rights, now=now, expected_version=expected, actor=user.name
    )
    log.info("asset %d rights set by %r: %s", asset.id, user.name, rights)
    return asset_answer(asset)


async def withdraw(request: web.Request) -> web.StreamResponse:
    user = await require_role(request, Role.EDITOR)
    expected = expected_version(request, asset_resource(_asset_id(request)))
    catalog, now = request.app[CATALOG_KEY], request.app[CLOCK_KEY].now()
    asset = await asyncio.to_thread(
        catalog.withdraw, _asset_id(request), now=now, expected_version=expected, actor=user.name
    )
    log.info("asset %d withdrawn by %r", asset.id, user.name)
    return asset_answer(asset)
