"""``GET /ops/audit`` (admins): who changed what and when, newest first, rendered on the server.

Filters (a plain GET form, so the page works without its script): ``actor``, ``action``,
``target`` (a prefix: ``user/``, ``channel/rcxf/``), ``since`` (a date and time in the page's zone,
as a ``datetime-local`` field sends it, or an ISO 8601 instant with its offset) and ``tz`` (the
zone times are shown and read in; Asia/Shanghai unless given). "Older" pages on with ``before_id``,
the last id shown, so entries written meanwhile never shift a page. A bad value is a 400 naming
the parameter.

Each entry shows the keys its before/after documents differ in (:func:`rcmedia.core.audit.key_changes`)
and both documents in full under a ``<details>``.
"""

from __future__ import annotations

import asyncio
import functools
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from aiohttp import web

from rcmedia.core.accounts import Role
from rcmedia.core.audit import (
    MAX_ACTION,
    MAX_ACTOR,
    MAX_TARGET,
    MISSING,
    AuditAction,
    AuditEntry,
    key_changes,
)
from rcmedia.errors import InvalidFieldError
from rcmedia.web.keys import CATALOG_KEY
from rcmedia.web.ops.pages import ops_html, page_user
from rcmedia.web.params import int_param

PAGE_SIZE = 50
DEFAULT_ZONE = "Asia/Shanghai"
MAX_ID = 10**18 - 1
SHOWN_VALUE = 200  # characters of one value in the compact diff; the details hold the rest


@dataclass(frozen=True, kw_only=True, slots=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None
    target: str | None = None
    since: datetime | None = None
    zone: ZoneInfo
    before_id: int | None = None


def _text(query: Any, name: str, limit: int) -> str | None:
    value = query.get(name, "").strip()
    if len(value) > limit:
        raise InvalidFieldError(name, f"longer than {limit} characters")
    return value or None


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _zone(text: str) -> ZoneInfo:
    """An IANA zone the system knows (only those: a key is a path under the zone database)."""
    if not text:
        return ZoneInfo(DEFAULT_ZONE)
    if text not in _zones():
        raise InvalidFieldError("tz", f"unknown time zone {text[:64]!r} (an IANA name, e.g. {DEFAULT_ZONE})")
    return ZoneInfo(text)


def _since(text: str, zone: ZoneInfo) -> datetime | None:
    """``2026-12-05T08:30`` in ``zone``, or an instant with its offset; in UTC."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        # in range both in UTC (the query) and in the page's zone (the form shows it again)
        return moment.astimezone(zone).astimezone(UTC)
    except (ValueError, OverflowError):
        raise InvalidFieldError(
            "since", f"expected a date and time like 2026-12-05T08:30 (or with an offset), got {text[:40]!r}"
        ) from None


def audit_filter(query: Any) -> AuditFilter:
    """The page's query, parsed; InvalidFieldError (400) names a bad parameter."""
    zone = _zone(query.get("tz", "").strip())
    try:
        before_id = int_param(query, "before_id", default=0, minimum=1, maximum=MAX_ID) or None
    except web.HTTPBadRequest as exc:
        raise InvalidFieldError("before_id", f"expected a whole number from 1 to {MAX_ID}") from exc
    return AuditFilter(
        actor=_text(query, "actor", MAX_ACTOR),
        action=_text(query, "action", MAX_ACTION),
        target=_text(query, "target", MAX_TARGET),
        since=_since(query.get("since", "").strip(), zone),
        zone=zone,
        before_id=before_id,
    )


def compact(value: Any) -> str:
    """One value of the diff on one line (JSON, Chinese kept readable)."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= SHOWN_VALUE else text[: SHOWN_VALUE - 1] + "…"


def full(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)


async def audit_page(request: web.Request) -> web.Response:
    user = await page_user(request, Role.ADMIN)
    wanted = audit_filter(request.query)
    # one more than a page: whether there is an older page to link to
    entries: list[AuditEntry] = await asyncio.to_thread(
        request.app[CATALOG_KEY].audit.entries,
        since=wanted.since,
        actor=wanted.actor,
        action=wanted.action,
        target_prefix=wanted.target,
        limit=PAGE_SIZE + 1,
        before_id=wanted.before_id,
    )
    shown, more = entries[:PAGE_SIZE], len(entries) > PAGE_SIZE
    kept = {key: value for key, value in request.query.items() if key not in ("before_id", "lang") and value}
    older = dict(kept, before_id=str(shown[-1].id)) if more and shown else None
    return await ops_html(
        request,
        "ops/audit.html",
        user=user,
        entries=shown,
        wanted=wanted,
        zone=wanted.zone.key,
        since_value=wanted.since.astimezone(wanted.zone).strftime("%Y-%m-%dT%H:%M") if wanted.since else "",
        actions=[action.value for action in AuditAction],
        older=older,
        newest=kept if wanted.before_id else None,
        changes=key_changes,
        absent=MISSING,
        compact=compact,
        full=full,
        local=lambda moment: moment.astimezone(wanted.zone).strftime("%Y-%m-%d %H:%M:%S"),
    )
