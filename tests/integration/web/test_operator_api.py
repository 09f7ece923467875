"""Operator edits over HTTP: logins and roles, applied edits, refusals with their reason."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from pytest_aiohttp import AiohttpClient

from rcmedia.catalog.repository import AssetQuery, Catalog
from rcmedia.config import Settings
from rcmedia.core.accounts import Role
from rcmedia.core.models import Output
from rcmedia.storage.local import LocalStorage
from tests.integration.web.accounts import add_accounts, logged_in
from tests.integration.web.published import Client
from tests.integration.web.schedules import (
    NOW,
    TODAY,
    TOMORROW,
    FixedClock,
    OnAir,
    holding_write_lock,
    origin_app,
)

Document = dict[str, Any]
EDITS = "/api/v1/channels/rcxf/schedule/edits"


@pytest.fixture(autouse=True)
def accounts(catalog: Catalog) -> dict[Role, str]:
    return add_accounts(catalog)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.removesuffix("Z")).replace(tzinfo=UTC)


def asset_id(catalog: Catalog, title: str) -> int:
    (asset,) = catalog.find_assets(AssetQuery(text=title)).items
    return asset.id


async def schedule(client: Client, channel: str, output: str, day: object) -> Document:
    response = await client.get(f"/api/v1/channels/{channel}/schedule?output={output}&date={day}")
    assert response.status == 200, await response.text()
    body: Document = await response.json()
    return body


def slot_event(day: Document, slot_id: str) -> Document:
    (event,) = [e for e in day["events"] if e["slot_id"] == slot_id and e["kind"] == "programme"]
    return event


async def post_edit(
    client: Client, body: Document, path: str = EDITS, **headers: str
) -> tuple[int, Document]:
    response = await client.post(path, json=body, headers=headers)
    return response.status, await response.json()


async def test_anonymous_edits_are_refused(schedule_client: Client) -> None:
    before = await schedule(schedule_client, "rcxf", "iptv", TOMORROW)
    status, body = await post_edit(
        schedule_client,
        {
            "output": "iptv",
            "date": str(TOMORROW),
            "action": "lock",
            "event_start": before["events"][3]["start"],
        },
    )
    assert (status, set(body)) == (401, {"error"})
    assert "log in" in body["error"]
    assert await schedule(schedule_client, "rcxf", "iptv", TOMORROW) == before


async def test_an_editor_may_not_edit_schedules(schedule_client: Client) -> None:
    await logged_in(schedule_client, "editor")
    event = slot_event(await schedule(schedule_client, "rcxf", "iptv", TOMORROW), "xxsj-1900")
    status, body = await post_edit(
        schedule_client,
        {"output": "iptv", "date": str(TOMORROW), "action": "lock", "event_start": event["start"]},
    )
    assert status == 403
    assert body == {"error": "account 'editor' is editor; this needs operator (or admin)"}


@pytest.mark.parametrize("account", ["operator", "admin"])
async def test_a_replace_is_applied_locked_and_visible(
    schedule_client: Client, catalog: Catalog, account: str
) -> None:
    await logged_in(schedule_client, account)
    before = await schedule(schedule_client, "rcxf", "iptv", TOMORROW)
    old = slot_event(before, "xxsj-1900")  # 19:00 in Chengdu: 学习时间
    promo = asset_id(catalog, "宣传片 A")

    status, edited = await post_edit(
        schedule_client,
        {
            "output": "iptv",
            "date": str(TOMORROW),
            "action": "replace",
            "event_start": old["start"],
            "asset_id": promo,
        },
    )

    assert status == 200, edited
    assert edited == await schedule(schedule_client, "rcxf", "iptv", TOMORROW)
    assert edited["version"] == before["version"] + 1
    (new,) = [e for e in edited["events"] if e["start"] == old["start"]]
    assert (new["asset_id"], new["title"], new["locked"]) == (promo, "宣传片 A", True)
    assert [e for e in edited["events"] if e["end"] <= old["start"]] == [
        e for e in before["events"] if e["end"] <= old["start"]
    ]
    for a, b in pairwise(edited["events"]):  # still gapless, counters re-chained
        assert a["end"] == b["start"]
        assert b["seq0"] == a["seq0"] + a["last_segment"] - a["first_segment"] + 1
        assert b["disc0"] == a["disc0"] + 1
    # other outputs are untouched
    tv = await schedule(schedule_client, "rcxf", "tv", TOMORROW)
    assert slot_event(tv, "xxsj-1900")["asset_id"] == old["asset_id"]


async def test_move_insert_delete_unlock(schedule_client: Client, catalog: Catalog) -> None:
    await logged_in(schedule_client, "operator")
    day = {"output": "mobile", "date": str(TOMORROW)}
    evening = utc(
        slot_event(await schedule(schedule_client, "rcxf", "mobile", TOMORROW), "xxsj-1900")["start"]
    )
    at = (evening + timedelta(hours=1)).isoformat()

    status, body = await post_edit(
        schedule_client, {**day, "action": "insert", "to": at, "asset_id": asset_id(catalog, "宣传片 B")}
    )
    assert status == 200, body
    assert [e["title"] for e in body["events"] if e["start"] == at.replace("+00:00", "Z")] == ["宣传片 B"]

    later = (evening + timedelta(hours=2)).isoformat()
    status, body = await post_edit(schedule_client, {**day, "action": "move", "event_start": at, "to": later})
    assert status == 200, body
    moved = [e for e in body["events"] if e["locked"]]
    assert [(e["start"], e["title"]) for e in moved] == [(later.replace("+00:00", "Z"), "宣传片 B")]

    status, body = await post_edit(schedule_client, {**day, "action": "unlock", "event_start": later})
    assert status == 200, body
    assert not any(e["locked"] for e in body["events"])


async def test_an_edit_inside_the_freeze_horizon_is_refused_with_the_reason(
    schedule_client: Client, catalog: Catalog
) -> None:
    await logged_in(schedule_client, "operator")
    before = await schedule(schedule_client, "rcxf", "iptv", TODAY)
    (on_air,) = [e for e in before["events"] if utc(e["start"]) <= NOW < utc(e["end"])]

    status, body = await post_edit(
        schedule_client,
        {
            "output": "iptv",
            "date": str(TODAY),
            "action": "replace",
            "event_start": on_air["start"],
            "asset_id": asset_id(catalog, "宣传片 A"),
        },
    )

    assert status == 422
    assert "inside the freeze horizon" in body["error"]
    assert await schedule(schedule_client, "rcxf", "iptv", TODAY) == before

    soon = (NOW + timedelta(seconds=60)).isoformat()  # freeze_seconds is 120
    status, body = await post_edit(
        schedule_client,
        {
            "output": "iptv",
            "date": str(TODAY),
            "action": "insert",
            "to": soon,
            "asset_id": asset_id(catalog, "宣传片 A"),
        },
    )
    assert status == 422
    assert "freeze horizon" in body["error"]


async def test_edits_the_grid_refuses_say_why(schedule_client: Client, catalog: Catalog) -> None:
    await logged_in(schedule_client, "operator")
    day = await schedule(schedule_client, "rcxf", "iptv", TOMORROW)
    sdkm = asset_id(catalog, "时代楷模")  # allowed on tv only
    status, body = await post_edit(
        schedule_client,
        {
            "output": "iptv",
            "date": str(TOMORROW),
            "action": "replace",
            "event_start": slot_event(day, "xxsj-1900")["start"],
            "asset_id": sdkm,
        },
    )
    assert status == 422
    assert "has no rights on iptv" in body["error"]


@pytest.mark.parametrize(
    ("path", "body", "status", "expected"),
    [
        pytest.param(
            EDITS,
            {"date": str(TOMORROW), "action": "delete", "event_start": "x"},
            400,
            "output",
            id="no-output",
        ),
        pytest.param(
            EDITS,
            {
                "output": "iptv",
                "date": str(TOMORROW),
                "action": "delete",
                "event_start": "2026-03-03T11:00:00",
            },
            400,
            "event_start",
            id="naive-time",
        ),
        pytest.param(
            EDITS,
            {
                "output": "iptv",
                "date": str(TOMORROW),
                "action": "replace",
                "event_start": "2026-03-03T11:00:00Z",
            },
            400,
            "asset_id",
            id="replace-without-asset",
        ),
        pytest.param(
            "/api/v1/channels/nope/schedule/edits",
            {
                "output": "iptv",
                "date": str(TOMORROW),
                "action": "delete",
                "event_start": "2026-03-03T11:00:00Z",
            },
            404,
            "channel 'nope' not found",
            id="unknown-channel",
        ),
        pytest.param(
            "/api/v1/channels/rcjy/schedule/edits",
            {
                "output": "tv",
                "date": str(TOMORROW),
                "action": "delete",
                "event_start": "2026-03-03T11:00:00Z",
            },
            404,
            "output 'rcjy/tv' not found",
            id="output-not-on-channel",
        ),
        pytest.param(
            EDITS,
            {
                "output": "iptv",
                "date": "2026-03-20",
                "action": "delete",
                "event_start": "2026-03-20T11:00:00Z",
            },
            422,
            "no schedule for 2026-03-20; build it first",
            id="day-not-built",
        ),
        pytest.param(
            EDITS,
            {
                "output": "iptv",
                "date": str(TOMORROW),
                "action": "delete",
                "event_start": "2026-03-03T11:00:01Z",
            },
            422,
            "no event starts at 2026-03-03 11:00:01 UTC",
            id="no-such-event",
        ),
    ],
)
async def test_bad_edits(
    schedule_client: Client, path: str, body: Document, status: int, expected: str
) -> None:
    await logged_in(schedule_client, "operator")
    got, answer = await post_edit(schedule_client, body, path)
    assert got == status, answer
    if status == 400:
        assert answer["field"] == expected
    else:
        assert expected in answer["error"]


async def test_a_body_that_is_not_json(schedule_client: Client) -> None:
    await logged_in(schedule_client, "operator")
    response = await schedule_client.post(EDITS, data=b"{oops", headers={"Content-Type": "application/json"})
    assert response.status == 400
    assert (await response.json())["field"] == "body"


async def test_cross_site_and_form_posts_are_refused(schedule_client: Client) -> None:
    await logged_in(schedule_client, "operator")
    event = slot_event(await schedule(schedule_client, "rcxf", "iptv", TOMORROW), "xxsj-1900")
    body = {"output": "iptv", "date": str(TOMORROW), "action": "lock", "event_start": event["start"]}

    status, answer = await post_edit(schedule_client, body, Origin="https://evil.example")
    assert status == 403
    assert "cross-origin request refused" in answer["error"]

    form = await schedule_client.post(EDITS, data=body)  # what an HTML form on another site can send
    assert form.status == 415
    assert "application/json" in (await form.json())["error"]

    own = f"http://{schedule_client.host}:{schedule_client.port}"
    status, answer = await post_edit(schedule_client, body, Origin=own)
    assert status == 200, answer
    assert slot_event(answer, "xxsj-1900")["locked"]


# --- optimistic versioning and a busy schedule (issue 9, item 1) ---------------------------------


async def test_the_schedule_has_an_etag_and_a_stale_edit_is_refused_with_the_current_version(
    schedule_client: Client,
) -> None:
    await logged_in(schedule_client, "operator")
    response = await schedule_client.get(f"/api/v1/channels/rcxf/schedule?output=iptv&date={TOMORROW}")
    seen = await response.json()
    etag = response.headers["ETag"]
    assert str(seen["version"]) in etag
    free = [e for e in seen["events"] if not e["locked"]]
    lock = {"output": "iptv", "date": str(TOMORROW), "action": "lock"}

    status, first = await post_edit(
        schedule_client, {**lock, "event_start": free[3]["start"]}, **{"If-Match": etag}
    )
    assert status == 200, first
    assert first["version"] == seen["version"] + 1

    # another operator's save on the version both saw: refused, nothing applied
    for stale in ({"If-Match": etag}, {}):
        body = {**lock, "event_start": free[6]["start"]}
        if not stale:
            body["version"] = seen["version"]
        status, refused = await post_edit(schedule_client, body, **stale)
        assert status == 409, refused
        assert refused["current_version"] == first["version"]
        assert "reload" in refused["error"]
    assert await schedule(schedule_client, "rcxf", "iptv", TOMORROW) == first

    status, body = await post_edit(
        schedule_client, {**lock, "event_start": free[6]["start"], "version": first["version"]}
    )
    assert (status, body["version"]) == (200, first["version"] + 1)
    status, body = await post_edit(
        schedule_client, {**lock, "event_start": free[7]["start"]}, **{"If-Match": "yesterday"}
    )
    assert (status, body["field"]) == (400, "If-Match")


async def test_concurrent_saves_of_one_version_one_applies_the_other_gets_409(
    schedule_client: Client, catalog: Catalog
) -> None:
    await logged_in(schedule_client, "operator")
    seen = await schedule(schedule_client, "rcxf", "iptv", TOMORROW)
    event = slot_event(seen, "xxsj-1900")
    body = {
        "output": "iptv",
        "date": str(TOMORROW),
        "action": "replace",
        "event_start": event["start"],
        "asset_id": asset_id(catalog, "宣传片 A"),
        "version": seen["version"],
    }
    outcomes = await asyncio.gather(*(post_edit(schedule_client, body) for _ in range(4)))
    assert sorted(status for status, _ in outcomes) == [200, 409, 409, 409]


async def test_an_edit_that_cannot_get_the_lock_gets_503_with_retry_after(
    aiohttp_client: AiohttpClient,
    app_settings: Settings,
    catalog: Catalog,
    storage: LocalStorage,
    clock: FixedClock,
    on_air: OnAir,
) -> None:
    app = origin_app(app_settings.replace(schedule_lock_wait_seconds=0.3), catalog, storage, clock)
    client = await logged_in(await aiohttp_client(app), "operator")
    before = await schedule(client, "rcxf", "iptv", TOMORROW)

    with holding_write_lock(on_air.store, "rcxf", Output.IPTV):  # a rebuild storing it, say
        response = await client.post(
            EDITS,
            json={
                "output": "iptv",
                "date": str(TOMORROW),
                "action": "lock",
                "event_start": before["events"][5]["start"],
            },
        )
        assert response.status == 503, await response.text()
        assert int(response.headers["Retry-After"]) >= 1
        assert "busy" in (await response.json())["error"]
    assert await schedule(client, "rcxf", "iptv", TOMORROW) == before
