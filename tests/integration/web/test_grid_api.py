"""Applying a channel's grid file over HTTP: applied and rebuilt, or refused with the reason."""

from __future__ import annotations

from typing import Any

import pytest

from rcmedia.catalog.repository import Catalog
from rcmedia.core.accounts import Role
from tests.integration.web.accounts import add_accounts, logged_in
from tests.integration.web.published import Client
from tests.integration.web.schedules import RCXF, TODAY, TOMORROW

Document = dict[str, Any]
GRID = "/api/v1/channels/rcxf/grid"
MOVED = RCXF.replace('id = "xxsj-1900"\nstart = "19:00"', 'id = "xxsj-1900"\nstart = "20:00"')


@pytest.fixture(autouse=True)
def accounts(catalog: Catalog) -> dict[Role, str]:
    return add_accounts(catalog)


async def day(client: Client, when: object) -> Document:
    response = await client.get(f"/api/v1/channels/rcxf/schedule?output=iptv&date={when}")
    assert response.status == 200
    body: Document = await response.json()
    return body


def slot_start(listing: Document, slot_id: str) -> str:
    (start,) = [e["start"] for e in listing["events"] if e["slot_id"] == slot_id and e["kind"] == "programme"]
    return str(start)


async def apply(client: Client, body: object, channel: str = "rcxf") -> tuple[int, Document]:
    response = await client.post(f"/api/v1/channels/{channel}/grid", json=body)
    return response.status, await response.json()


@pytest.mark.parametrize("account", ["operator", "admin"])
async def test_a_valid_file_is_applied_and_the_days_rebuilt_keeping_locks(
    schedule_client: Client, account: str
) -> None:
    await logged_in(schedule_client, account)
    before = await day(schedule_client, TOMORROW)
    assert slot_start(before, "xxsj-1900") == "2026-03-03T11:00:00Z"  # 19:00 in Shanghai
    locked = before["events"][5]
    lock = {"output": "iptv", "date": str(TOMORROW), "action": "lock", "event_start": locked["start"]}
    assert (await schedule_client.post("/api/v1/channels/rcxf/schedule/edits", json=lock)).status == 200

    status, body = await apply(schedule_client, {"text": MOVED, "version": 1})
    assert status == 200, body
    assert (body["channel"], body["version"], body["changed"]) == ("rcxf", 2, True)
    assert '-start = "19:00"' in body["diff"]
    assert '+start = "20:00"' in body["diff"]
    rebuilt = {r["output"]: r for r in body["rebuilt"]}
    assert set(rebuilt) == {"tv", "iptv", "mobile"}
    assert rebuilt["iptv"]["days"][0] == str(TODAY)
    assert str(TOMORROW) in rebuilt["iptv"]["days"]
    assert rebuilt["iptv"]["events"] > 0

    after = await day(schedule_client, TOMORROW)
    assert slot_start(after, "xxsj-1900") == "2026-03-03T12:00:00Z"
    (kept,) = [e for e in after["events"] if e["start"] == locked["start"]]
    assert kept["locked"]
    assert kept["asset_id"] == locked["asset_id"]
    channel = await (await schedule_client.get("/api/v1/channels/rcxf")).json()
    assert channel["version"] == 2

    again_status, again = await apply(schedule_client, {"text": MOVED, "version": 2})
    assert (again_status, again["changed"], again["rebuilt"], again["version"]) == (200, False, [], 2)


@pytest.mark.parametrize(
    ("text", "marker", "key", "words"),
    [
        pytest.param(
            RCXF.replace('start = "09:00"', 'start = "9 am"'),
            'start = "9 am"',
            "slot[2].start",
            "HH:MM",
            id="bad-clock",
        ),
        pytest.param(
            RCXF.replace('policy = "least_recent"\n', 'polcy = "x"\n', 1),
            "polcy",
            "slot[1].polcy",
            "unknown key",
            id="typo",
        ),
        pytest.param(
            RCXF.replace('series = "红色记忆"', 'series = "没有的节目"', 1),
            "没有的节目",
            "slot[2].series",
            "没有的节目",
            id="unknown-series",
        ),
        pytest.param(
            RCXF.replace("number = 1", "number = 2"),
            "number = 2",
            "channel.number",
            "rcjy",
            id="number-taken",
        ),
        pytest.param(
            RCXF.replace('id = "rcxf"', 'id = "rcjy"'),
            'id = "rcjy"',
            "channel.id",
            "another channel",
            id="other-channel",
        ),
        pytest.param(RCXF.replace("[filler]", "[filler"), "[filler", None, "", id="toml-syntax"),
    ],
)
async def test_an_invalid_file_is_refused_with_its_line_and_key_and_nothing_changes(
    schedule_client: Client, text: str, marker: str, key: str | None, words: str
) -> None:
    line = next(n for n, content in enumerate(text.splitlines(), start=1) if marker in content)
    await logged_in(schedule_client, "operator")
    before = await day(schedule_client, TOMORROW)
    status, body = await apply(schedule_client, {"text": text, "version": 1})
    assert status == 422, body
    (error,) = body["errors"]
    assert (error["file"], error["line"]) == ("rcxf.toml", line), error
    if key is not None:
        assert error["key"] == key
    assert words in error["problem"]
    assert await day(schedule_client, TOMORROW) == before
    channel = await (await schedule_client.get("/api/v1/channels/rcxf")).json()
    assert channel["version"] == 1


async def test_a_stale_version_is_refused_and_the_newer_file_kept(schedule_client: Client) -> None:
    await logged_in(schedule_client, "operator")
    assert (await apply(schedule_client, {"text": MOVED, "version": 1}))[0] == 200
    status, body = await apply(schedule_client, {"text": RCXF, "version": 1})
    assert status == 409
    assert body["current_version"] == 2
    assert "version 1" in body["error"]
    assert slot_start(await day(schedule_client, TOMORROW), "xxsj-1900") == "2026-03-03T12:00:00Z"


@pytest.mark.parametrize(
    ("account", "status"), [pytest.param(None, 401, id="anonymous"), pytest.param("editor", 403, id="editor")]
)
async def test_only_operators_and_admins_apply_grids(
    schedule_client: Client, account: str | None, status: int
) -> None:
    if account is not None:
        await logged_in(schedule_client, account)
    assert (await apply(schedule_client, {"text": MOVED, "version": 1}))[0] == status
    channel = await (await schedule_client.get("/api/v1/channels/rcxf")).json()
    assert channel["version"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param([], "body", id="not-an-object"),
        pytest.param({"text": RCXF}, "version", id="no-version"),
        pytest.param({"text": RCXF, "version": True}, "version", id="bool-version"),
        pytest.param({"text": 3, "version": 1}, "text", id="text-not-a-string"),
        pytest.param({"text": RCXF, "version": 1, "force": True}, "force", id="unknown-field"),
    ],
)
async def test_a_malformed_body_is_a_400_naming_the_field(
    schedule_client: Client, body: object, field: str
) -> None:
    await logged_in(schedule_client, "operator")
    status, answer = await apply(schedule_client, body)
    assert (status, answer["field"]) == (400, field)


async def test_an_unknown_channel_is_a_404(schedule_client: Client) -> None:
    await logged_in(schedule_client, "operator")
    status, _ = await apply(schedule_client, {"text": RCXF, "version": 1}, channel="nope")
    assert status == 404


async def test_a_file_whose_days_cannot_be_rebuilt_is_applied_and_says_why(
    schedule_client: Client, catalog: Catalog
) -> None:
    # the event across 05:00 at the end of the day locked, then the day made to start at 05:00
    # instead of 06:00: it would run past the new day's end, so the builder refuses; the file is
    # stored all the same
    await logged_in(schedule_client, "operator")
    five = f"{TOMORROW}T21:00:00Z"  # 05:00 in Shanghai the next morning
    (across,) = [e for e in (await day(schedule_client, TOMORROW))["events"] if e["start"] < five < e["end"]]
    lock = {"output": "iptv", "date": str(TOMORROW), "action": "lock", "event_start": across["start"]}
    assert (await schedule_client.post("/api/v1/channels/rcxf/schedule/edits", json=lock)).status == 200
    earlier = RCXF.replace('day_start = "06:00"', 'day_start = "05:00"', 1)
    assert earlier != RCXF

    status, body = await apply(schedule_client, {"text": earlier, "version": 1})

    assert status == 200, body
    assert (body["version"], body["changed"]) == (2, True)
    assert "runs past the day's end" in body["rebuild_error"]
    assert [e.action for e in catalog.audit.entries(limit=2)] == ["grid.apply", "schedule.edit"]
