"""``GET /ops/users`` (admins): every account — its role, state, channel limit and API tokens.

The page only reads; its script (``static/ops/users.js``) changes accounts through the account
admin API (``/api/v1/users…``), sending each account's version, so a change another admin saved
since is refused (409) with the reason instead of undoing theirs. The API writes the audit entries.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from rcmedia.core.accounts import MIN_PASSWORD, Role
from rcmedia.service.channels import listed_channels
from rcmedia.web.access import ACCOUNTS_KEY
from rcmedia.web.accounts_api import user_document
from rcmedia.web.keys import CATALOG_KEY
from rcmedia.web.ops.pages import ops_html, page_user


async def users_page(request: web.Request) -> web.Response:
    user = await page_user(request, Role.ADMIN)
    users = await asyncio.to_thread(request.app[ACCOUNTS_KEY].users)
    channels = await asyncio.to_thread(listed_channels, request.app[CATALOG_KEY].schedules)
    config = {
        "users": [user_document(u) for u in users],
        # the channels an operator may be limited to: those applied now
        "channels": [{"id": c.channel.id, "name": c.channel.name} for c in channels],
    }
    return await ops_html(
        request,
        "ops/users.html",
        user=user,
        config=config,
        roles=[role.value for role in Role],
        channels=[(c.channel.id, c.channel.name) for c in channels],
        min_password=MIN_PASSWORD,
    )
