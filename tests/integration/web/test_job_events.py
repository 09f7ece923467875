"""GET /api/v1/jobs/events over real HTTP: job changes as server-sent events, resumable, kept alive."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import ClientResponse, web

from rcmedia.catalog.repository import Catalog
from rcmedia.core.accounts import Role
from rcmedia.core.models import JobState
from rcmedia.web.job_events import JOB_EVENTS_KEY, JobEvents
from tests.integration.web.accounts import add_accounts, logged_in
from tests.integration.web.published import NOW, AiohttpClient, Client, create_pending

EVENTS = "/api/v1/jobs/events"
WAIT = 5.0  # seconds: far over a poll (50 ms) and a keep-alive (200 ms)


@pytest.fixture(autouse=True)
def accounts(catalog: Catalog) -> dict[Role, str]:
    return add_accounts(catalog)


@pytest.fixture
def jobs(catalog: Catalog) -> list[int]:
    """Two queued jobs."""
    return [create_pending(catalog, title=t, original_filename=f"{t}.mp4")[1] for t in ("one", "two")]


@pytest.fixture
def app(app: web.Application, catalog: Catalog, jobs: list[int]) -> web.Application:
    """The app with quick timings, started after the jobs were made (so their creation is old news)."""
    app[JOB_EVENTS_KEY] = JobEvents(catalog, poll_seconds=0.05, keepalive_seconds=0.2, queue_size=3)
    return app


@pytest.fixture
async def editor(client: Client) -> Client:
    return await logged_in(client, "editor")


def at(seconds: int) -> Any:
    return NOW + timedelta(seconds=seconds)


async def open_stream(client: Client, **headers: str) -> ClientResponse:
    response = await client.get(EVENTS, headers=headers)
    assert response.status == 200, await response.text()
    return response


async def next_block(response: ClientResponse) -> list[str]:
    """The lines up to the next blank line: one event, or one comment."""
    lines: list[str] = []
    async with asyncio.timeout(WAIT):
        while True:
            line = (await response.content.readline()).decode().rstrip("\r\n")
            if not line and lines:
                return lines
            if line:
                lines.append(line)


async def next_event(response: ClientResponse) -> dict[str, Any]:
    """The next event (keep-alive comments skipped) as {"event", "id", "data"}."""
    async with asyncio.timeout(WAIT):  # over all the blocks: the keep-alives never stop coming
        while True:
            lines = await next_block(response)
            if not lines[0].startswith(":"):
                fields = dict(line.split(": ", 1) for line in lines)
                return {**fields, "data": json.loads(fields["data"])}


async def test_a_state_change_is_sent_as_the_jobs_document(
    editor: Client, catalog: Catalog, jobs: list[int]
) -> None:
    stream = await open_stream(editor)
    assert stream.content_type == "text/event-stream"
    assert stream.headers["Cache-Control"] == "no-store"

    assert catalog.claim_job(worker="w", lease_seconds=60, now=at(1), job_id=jobs[1]) is not None
    event = await next_event(stream)

    document = await (await editor.get(f"/api/v1/jobs/{jobs[1]}")).json()
    assert event["event"] == "job"
    assert event["data"] == document
    assert document["state"] == "probing"
    assert event["id"] == f"{int(at(1).timestamp()) * 1_000_000}-{jobs[1]}"


async def test_progress_changes_follow_in_order(editor: Client, catalog: Catalog, jobs: list[int]) -> None:
    stream = await open_stream(editor)
    catalog.claim_job(worker="w", lease_seconds=60, now=at(1), job_id=jobs[0])
    first = await next_event(stream)
    catalog.set_job_progress(jobs[0], worker="w", state=JobState.TRANSCODING, progress=0.5, now=at(2))
    second = await next_event(stream)

    assert (first["data"]["state"], second["data"]["state"]) == ("probing", "transcoding")
    assert second["data"]["progress"] == 0.5
    assert first["id"] < second["id"]


async def test_a_reconnect_with_last_event_id_gets_what_changed_since(
    editor: Client, catalog: Catalog, jobs: list[int]
) -> None:
    stream, other = await open_stream(editor), await open_stream(editor)
    catalog.claim_job(worker="w", lease_seconds=60, now=at(1), job_id=jobs[0])
    seen = await next_event(stream)
    stream.close()
    # while the client is away: one job moves on, the other is taken
    catalog.set_job_progress(jobs[0], worker="w", state=JobState.TRANSCODING, progress=0.25, now=at(2))
    catalog.claim_job(worker="w", lease_seconds=60, now=at(3), job_id=jobs[1])
    for _ in range(3):  # the poller sent them already: only the catalog can give them to the resumed
        await next_event(other)

    resumed = await open_stream(editor, **{"Last-Event-ID": seen["id"]})
    missed = [await next_event(resumed), await next_event(resumed)]

    assert [(e["data"]["id"], e["data"]["state"]) for e in missed] == [
        (jobs[0], "transcoding"),
        (jobs[1], "probing"),
    ]
    # and then live changes, without repeating the backlog
    catalog.set_job_progress(jobs[1], worker="w", state=JobState.VERIFYING, progress=1.0, now=at(4))
    live = await next_event(resumed)
    assert (live["data"]["id"], live["data"]["state"]) == (jobs[1], "verifying")


async def test_keep_alive_comments_arrive_while_nothing_changes(editor: Client, jobs: list[int]) -> None:
    stream = await open_stream(editor)

    comments = [await next_block(stream), await next_block(stream)]

    assert comments == [[": ping"], [": ping"]]


async def test_a_listener_that_falls_behind_is_dropped_and_others_go_on(
    app: web.Application, editor: Client, catalog: Catalog, jobs: list[int]
) -> None:
    events = app[JOB_EVENTS_KEY]
    stream = await open_stream(editor)
    stalled = events.listen()  # takes nothing from its queue, like a client that stopped reading
    catalog.claim_job(worker="w", lease_seconds=60, now=at(1), job_id=jobs[0])
    received = [await next_event(stream)]
    for second in range(2, 6):
        catalog.set_job_progress(
            jobs[0], worker="w", state=JobState.TRANSCODING, progress=second / 10, now=at(second)
        )
        received.append(await next_event(stream))

    assert [e["data"]["progress"] for e in received] == [0.0, 0.2, 0.3, 0.4, 0.5]
    assert stalled.dropped.is_set()
    assert stalled not in events.listeners
    assert stalled.queue.qsize() == events.queue_size  # it never grew past its bound


async def test_a_closed_stream_leaves_the_listeners(
    app: web.Application, editor: Client, jobs: list[int]
) -> None:
    stream = await open_stream(editor)
    assert len(app[JOB_EVENTS_KEY].listeners) == 1
    stream.close()
    for _ in range(100):  # noticed at the next keep-alive (200 ms) at the latest
        await asyncio.sleep(0.05)
        if not app[JOB_EVENTS_KEY].listeners:
            break
    assert not app[JOB_EVENTS_KEY].listeners


async def test_an_admin_may_listen(client: Client, catalog: Catalog, jobs: list[int]) -> None:
    stream = await open_stream(await logged_in(client, "admin"))
    catalog.claim_job(worker="w", lease_seconds=60, now=at(1), job_id=jobs[0])
    assert (await next_event(stream))["data"]["id"] == jobs[0]


async def test_every_account_may_listen_but_nobody_anonymous(
    aiohttp_client: AiohttpClient, app: web.Application
) -> None:
    anonymous = await aiohttp_client(app)
    assert (await anonymous.get(EVENTS)).status == 401
    operator = await logged_in(anonymous, "operator")
    response = await operator.get(EVENTS)
    assert response.status == 200
    assert response.content_type == "text/event-stream"
    response.close()


@pytest.mark.parametrize(
    "last_id", ["yesterday", "12", "-5", "1-2-3", "9" * 19 + "-1", "999999999999999999-1"]
)
async def test_a_last_event_id_the_stream_never_sent_is_refused(editor: Client, last_id: str) -> None:
    response = await editor.get(EVENTS, headers={"Last-Event-ID": last_id})
    assert response.status == 400
    assert (await response.json())["field"] == "Last-Event-ID"


async def test_streams_end_when_the_server_shuts_down(app: web.Application, editor: Client) -> None:
    stream = await open_stream(editor)

    app[JOB_EVENTS_KEY].close()  # what on_shutdown does, before the server waits for open requests

    async with asyncio.timeout(WAIT):
        rest = await stream.content.read()
    assert b"event:" not in rest
    assert stream.content.at_eof()


async def test_a_write_that_becomes_visible_late_is_still_sent(
    editor: Client, catalog: Catalog, jobs: list[int]
) -> None:
    # A write stamped at(1) that commits after one stamped at(5) was read: reading strictly after
    # the last cursor would skip it for good.
    stream = await open_stream(editor)
    catalog.claim_job(worker="w", lease_seconds=60, now=at(5), job_id=jobs[1])
    first = await next_event(stream)
    catalog.claim_job(worker="w", lease_seconds=60, now=at(1), job_id=jobs[0])
    late = await next_event(stream)

    assert (first["data"]["id"], late["data"]["id"]) == (jobs[1], jobs[0])
    assert late["data"]["state"] == "probing"
    # sent once: the look-back skips what it already sent
    catalog.set_job_progress(jobs[1], worker="w", state=JobState.TRANSCODING, progress=0.5, now=at(6))
    after = await next_event(stream)
    assert (after["data"]["id"], after["data"]["state"]) == (jobs[1], "transcoding")
