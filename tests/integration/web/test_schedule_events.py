"""GET /api/v1/channels/{id}/schedule/events over real HTTP: day versions changing, resumable."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp import ClientResponse, web

from rcmedia.catalog.repository import Catalog
from rcmedia.core.accounts import Role
from rcmedia.core.models import Output
from rcmedia.web.schedule_events import SCHEDULE_EVENTS_KEY, DayChange, ScheduleEvents
from tests.integration.web.accounts import add_accounts, logged_in
from tests.integration.web.published import Client
from tests.integration.web.schedules import NOW, TODAY, TOMORROW, FixedClock
from tests.integration.web.test_operator_api import asset_id, post_edit, schedule, slot_event

EVENTS = "/api/v1/channels/rcxf/schedule/events"
WAIT = 5.0


@pytest.fixture(autouse=True)
def accounts(catalog: Catalog) -> dict[Role, str]:
    return add_accounts(catalog)


@pytest.fixture
def schedule_app(schedule_app: web.Application, catalog: Catalog, clock: FixedClock) -> web.Application:
    schedule_app[SCHEDULE_EVENTS_KEY] = ScheduleEvents(
        catalog.schedules, clock, poll_seconds=0.05, keepalive_seconds=0.2
    )
    return schedule_app


async def next_event(response: ClientResponse) -> dict[str, Any]:
    """The next event (keep-alive comments skipped) as {"event", "id", "data"}."""
    async with asyncio.timeout(WAIT):
        lines: list[str] = []
        while True:
            line = (await response.content.readline()).decode().rstrip("\r\n")
            if line:
                lines.append(line)
                continue
            if lines and not lines[0].startswith(":"):
                fields = dict(entry.split(": ", 1) for entry in lines)
                return {**fields, "data": json.loads(fields["data"])}
            lines = []


async def replace_at_1900(client: Client, catalog: Catalog, title: str, day: object = TOMORROW) -> int:
    before = await schedule(client, "rcxf", "iptv", day)
    status, edited = await post_edit(
        client,
        {
            "output": "iptv",
            "date": str(day),
            "action": "replace",
            "event_start": slot_event(before, "xxsj-1900")["start"],
            "asset_id": asset_id(catalog, title),
        },
    )
    assert status == 200, edited
    version: int = edited["version"]
    return version


async def test_roles_and_unknown_channels(schedule_client: Client) -> None:
    assert (await schedule_client.get(EVENTS)).status == 401
    await logged_in(schedule_client, "editor")
    assert (await schedule_client.get(EVENTS)).status == 403
    await logged_in(schedule_client, "operator")
    assert (await schedule_client.get("/api/v1/channels/nope/schedule/events")).status == 404
    assert (await schedule_client.get("/api/v1/channels/rcjy/schedule/events?output=tv")).status == 404
    assert (await schedule_client.get(f"{EVENTS}?output=radio")).status == 400


async def test_an_edit_is_announced_with_the_days_new_version(
    schedule_client: Client, catalog: Catalog
) -> None:
    await logged_in(schedule_client, "operator")
    stream = await schedule_client.get(f"{EVENTS}?output=iptv")
    assert stream.status == 200
    assert stream.content_type == "text/event-stream"

    version = await replace_at_1900(schedule_client, catalog, "宣传片 A")
    event = await next_event(stream)

    assert event["event"] == "day"
    assert event["data"] == {"channel": "rcxf", "output": "iptv", "day": str(TOMORROW), "version": version}


async def test_other_outputs_are_filtered_out(schedule_client: Client, catalog: Catalog) -> None:
    await logged_in(schedule_client, "operator")
    stream = await schedule_client.get(f"{EVENTS}?output=tv")
    await replace_at_1900(schedule_client, catalog, "宣传片 A")  # iptv: not for this stream
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.5):
            await next_event(stream)


async def test_a_reconnect_with_last_event_id_gets_what_it_missed(
    schedule_client: Client, catalog: Catalog
) -> None:
    await logged_in(schedule_client, "operator")
    stream = await schedule_client.get(f"{EVENTS}?output=iptv")
    await replace_at_1900(schedule_client, catalog, "宣传片 A")
    first = await next_event(stream)
    stream.close()

    version = await replace_at_1900(schedule_client, catalog, "宣传片 B", day=TODAY)
    await asyncio.sleep(0.3)  # the poller sees it while no one listens
    resumed = await schedule_client.get(f"{EVENTS}?output=iptv", headers={"Last-Event-ID": first["id"]})
    missed = await next_event(resumed)

    assert missed["data"] == {"channel": "rcxf", "output": "iptv", "day": str(TODAY), "version": version}
    assert missed["id"] > first["id"]


async def test_an_id_of_another_server_gets_every_days_version(schedule_client: Client) -> None:
    await logged_in(schedule_client, "operator")
    stream = await schedule_client.get(f"{EVENTS}?output=mobile", headers={"Last-Event-ID": "0000-7"})
    days = [(await next_event(stream))["data"]["day"] for _ in range(3)]
    assert days == ["2026-03-01", str(TODAY), str(TOMORROW)]


async def test_a_bad_last_event_id_is_a_400(schedule_client: Client) -> None:
    await logged_in(schedule_client, "operator")
    response = await schedule_client.get(EVENTS, headers={"Last-Event-ID": "abc-x"})
    assert response.status == 400


async def test_streams_end_when_the_server_shuts_down(
    schedule_app: web.Application, schedule_client: Client
) -> None:
    await logged_in(schedule_client, "operator")
    stream = await schedule_client.get(EVENTS)
    assert stream.status == 200
    assert schedule_app.on_shutdown  # close_streams is registered there; called as on_shutdown would
    schedule_app[SCHEDULE_EVENTS_KEY].close()
    async with asyncio.timeout(WAIT):
        rest = await stream.content.read()
    assert b"event:" not in rest
    assert stream.content.at_eof()


async def test_a_client_that_stops_reading_is_dropped(catalog: Catalog) -> None:
    events = ScheduleEvents(catalog.schedules, FixedClock(NOW), queue_size=2)
    listener = events.listen("rcxf", None)
    for seq in range(1, 4):
        events.publish(DayChange(seq=seq, channel="rcxf", output=Output.IPTV, day=TOMORROW, version=seq))
    assert listener.dropped.is_set()
    assert listener not in events.listeners
