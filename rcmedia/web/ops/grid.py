"""``GET /ops/channels/{id}/grid``: a channel's grid as applied — its fixed slots, blocks, policies,
pools and filler shown readably, and the stored file itself — with a form that applies a new file
through ``POST /api/v1/channels/{id}/grid`` (``static/ops/grid.js``): the errors come back by
file, line and key, or the change and the days rebuilt. Operators and admins."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date

from aiohttp import web

from rcmedia.catalog.schedules import ScheduleStore
from rcmedia.core.accounts import Role
from rcmedia.core.schedule import Channel, Pool, Recurrence
from rcmedia.service.channels import find_channel
from rcmedia.web.keys import SCHEDULES_KEY
from rcmedia.web.ops.i18n import Lang
from rcmedia.web.ops.pages import lang_of, ops_html, page_user

ZH_DAYS = ("一", "二", "三", "四", "五", "六", "日")
EN_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True, kw_only=True, slots=True)
class GridView:
    channel: Channel
    version: int
    filename: str
    source: str


def grid_view(store: ScheduleStore, channel_id: str) -> GridView:
    """Blocking (catalog reads). NotFoundError: no such channel."""
    listed = find_channel(store, channel_id)
    applied = next(a for a in store.applied_channels() if a.id == channel_id)
    return GridView(
        channel=listed.channel, version=listed.version, filename=applied.filename, source=applied.source
    )


def _dates(days: frozenset[date]) -> str:
    return ", ".join(d.isoformat() for d in sorted(days))


def recurrence_text(recurrence: Recurrence, zh: bool) -> str:
    """``一至日`` / ``Mon–Sun``-like: the weekdays, and the dates it is limited to or skips."""
    names = ZH_DAYS if zh else EN_DAYS
    days = sorted(recurrence.weekdays)
    if days == list(range(7)):
        text = "每天" if zh else "every day"
    else:
        text = ("星期" if zh else "") + ("、" if zh else ", ").join(names[d] for d in days)
    if recurrence.start_date or recurrence.end_date:
        start = recurrence.start_date.isoformat() if recurrence.start_date else "…"
        end = recurrence.end_date.isoformat() if recurrence.end_date else "…"
        text += f" ({start} – {end})"
    if recurrence.except_dates:
        text += ("，除了 " if zh else "; except ") + _dates(recurrence.except_dates)
    return text


def pool_text(pool: Pool, zh: bool) -> str:
    """What a pool draws from, in words."""
    parts = []
    if pool.series:
        parts.append(("系列 " if zh else "series ") + ", ".join(pool.series))
    if pool.categories:
        parts.append(("分类 " if zh else "categories ") + ", ".join(pool.categories))
    if pool.sources:
        parts.append(("来源 " if zh else "sources ") + ", ".join(s.value for s in pool.sources))
    if pool.max_duration is not None:
        parts.append(f"最长 {pool.max_duration:g} 秒" if zh else f"at most {pool.max_duration:g} s")
    if pool.no_repeat_hours:
        parts.append(
            f"{pool.no_repeat_hours:g} 小时内不重复" if zh else f"no repeat within {pool.no_repeat_hours:g} h"
        )
    return "; ".join(parts) or ("任何节目" if zh else "any asset")


async def grid_page(request: web.Request) -> web.Response:
    channel_id = request.match_info["channel"]
    user = await page_user(request, Role.OPERATOR, channel=channel_id)
    view = await asyncio.to_thread(grid_view, request.app[SCHEDULES_KEY], channel_id)
    zh = lang_of(request) is Lang.ZH
    return await ops_html(
        request,
        "ops/grid.html",
        user=user,
        config={"channel": view.channel.id, "version": view.version, "filename": view.filename},
        view=view,
        grid=view.channel.grid,
        recurrence_text=lambda r: recurrence_text(r, zh),
        pool_text=lambda p: pool_text(p, zh),
    )
