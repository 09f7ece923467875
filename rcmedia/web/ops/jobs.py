"""``GET /ops/jobs?state=&page=``: the job monitor — every ingest job, newest first, live.

The first page of jobs travels with the page (its script renders them as it renders later
changes, so a row is drawn one way only); from then on the script follows
``GET /api/v1/jobs/events`` (any signed-in account), and polls ``GET /api/v1/jobs`` only while
the stream is down. Only editors and admins get the retry and cancel buttons.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from rcmedia.core.accounts import Role
from rcmedia.core.models import JobState
from rcmedia.errors import InvalidFieldError
from rcmedia.web.documents import job_document, page_document
from rcmedia.web.job_events import EVENTS_PATH
from rcmedia.web.keys import CATALOG_KEY
from rcmedia.web.ops.pages import ops_html, page_user

PAGE_SIZE = 50
MAX_PAGE = 100_000
POLL_SECONDS = 5.0  # an operator's monitor, without the event stream
# Chinese names of the states (English shows the value); the same in static/ops/jobs.js
STATE_LABELS = {
    JobState.QUEUED: "排队",
    JobState.PROBING: "分析",
    JobState.TRANSCODING: "转码",
    JobState.VERIFYING: "校验",
    JobState.PUBLISHED: "已发布",
    JobState.FAILED: "失败",
}


def _state(text: str) -> JobState | None:
    if not text:
        return None
    try:
        return JobState(text)
    except ValueError:
        allowed = ", ".join(state.value for state in JobState)
        raise InvalidFieldError("state", f"unknown job state {text!r} (one of {allowed})") from None


def _page(text: str) -> int:
    if not text:
        return 1
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_PAGE:
        raise InvalidFieldError("page", f"must be a whole number from 1 to {MAX_PAGE}, got {text!r}")
    return int(text)


async def jobs_page(request: web.Request) -> web.Response:
    user = await page_user(request)
    state, page = _state(request.query.get("state", "")), _page(request.query.get("page", ""))
    jobs = await asyncio.to_thread(
        request.app[CATALOG_KEY].find_jobs, state=state, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    may_act = user.role.allows(Role.EDITOR)
    config = {
        "jobs": page_document(jobs, job_document),
        "state": state.value if state else None,
        "page": page,
        # new jobs appear at the top of the first page only; other pages keep their rows
        "live": EVENTS_PATH,
        "poll_seconds": POLL_SECONDS,
        "may_act": may_act,
    }
    pages = max(1, -(-jobs.total // PAGE_SIZE))
    return await ops_html(
        request,
        "ops/jobs.html",
        user=user,
        config=config,
        states=[(s.value, STATE_LABELS[s]) for s in JobState],
        state=state.value if state else "",
        page=page,
        pages=pages,
        total=jobs.total,
    )
