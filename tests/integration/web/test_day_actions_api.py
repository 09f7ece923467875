"""Rebuild a day and copy a day's locks over HTTP: roles, versions (409), refusals (422), all or nothing."""

from __future__ import annotations

from typing import Any

import pytest

from rcmedia.catalog.repository import Catalog
from rcmedia.core.accounts import Role
from tests.integration.web.accounts import add_accounts, logged_in
from tests.integration.web.published import Client
from tests.integration.web.schedules import TODAY, TOMORROW, YESTERDAY
from tests.integration.web.test_operator_api import asset_id, post_edit, schedule, slot_event

Document = dict[str, Any]
REBUILD = "/api/v1/channels/rcxf/schedule/rebuild"
COPY = "/api/v1/channels/rcxf/schedule/copy-locks"


@pytest.fixture(autouse=True)
def accounts(catalog: Catalog) -> dict[Role, str]:
    return add_accounts(catalog)


async def lock_replace(client: Client, catalog: Catalog, day: object, slot: str, title: str) -> Document:
    """Replace the programme of ``slot`` on ``day`` with ``title`` (which locks it); the day after."""
    before = await schedule(client, "rcxf", "iptv", day)
    status, edited = await post_edit(
        client,
        {
            "output": "iptv",
            "date": str(day),
            "action": "replace",
            "event_start": slot_event(before, slot)["start"],
            "asset_id": asset_id(catalog, title),
            "version": before["version"],
        },
    )
    assert status == 200, edited
    return edited


@pytest.mark.parametrize("path", [REBUILD, COPY])
async def test_anonymous_and_editors_are_refused(schedule_client: Client, path: str) -> None:
    body = {"output": "iptv", "date": str(TOMORROW), "to": [str(TODAY)]} if path == COPY else {}
    response = await schedule_client.post(path, json=body or {"output": "iptv", "date": str(TOMORROW)})
    assert response.status == 401
    await logged_in(schedule_client, "editor")
    response = await schedule_client.post(path, json=body or {"output": "iptv", "date": str(TOMORROW)})
    assert response.status == 403


async def test_a_rebuild_keeps_the_locks_and_answers_the_day(
    schedule_client: Client, catalog: Catalog
) -> None:
    await logged_in(schedule_client, "operator")
    edited = await lock_replace(schedule_client, catalog, TOMORROW, "xxsj-1900", "宣传片 A")
    locked = [e for e in edited["events"] if e["locked"]]

    response = await schedule_client.post(
        REBUILD, json={"output": "iptv", "date": str(TOMORROW), "version": edited["version"]}
    )
    rebuilt = await response.json()

    assert response.status == 200, rebuilt
    assert rebuilt == await schedule(schedule_client, "rcxf", "iptv", TOMORROW)
    assert [e for e in rebuilt["events"] if e["locked"]] == locked
    assert response.headers["ETag"] == f'"rcxf/iptv/{TOMORROW}/v{rebuilt["version"]}"'


async def test_a_rebuild_on_a_stale_version_is_a_409(schedule_client: Client, catalog: Catalog) -> None:
    await logged_in(schedule_client, "operator")
    before = await schedule(schedule_client, "rcxf", "iptv", TOMORROW)
    edited = await lock_replace(schedule_client, catalog, TOMORROW, "xxsj-1900", "宣传片 A")

    response = await schedule_client.post(
        REBUILD, json={"output": "iptv", "date": str(TOMORROW), "version": before["version"]}
    )
    body = await response.json()

    assert response.status == 409, body
    assert body["current_version"] == edited["version"]
    assert await schedule(schedule_client, "rcxf", "iptv", TOMORROW) == edited


async def test_a_day_inside_the_freeze_horizon_is_not_rebuilt(schedule_client: Client) -> None:
    await logged_in(schedule_client, "admin")
    before = await schedule(schedule_client, "rcxf", "iptv", YESTERDAY)
    response = await schedule_client.post(REBUILD, json={"output": "iptv", "date": str(YESTERDAY)})
    body = await response.json()
    assert response.status == 422, body
    assert "freeze horizon" in body["error"]
    assert await schedule(schedule_client, "rcxf", "iptv", YESTERDAY) == before


@pytest.mark.parametrize("path", [REBUILD, COPY])
async def test_an_unknown_channel_is_a_404(schedule_client: Client, path: str) -> None:
    await logged_in(schedule_client, "operator")
    response = await schedule_client.post(
        path.replace("rcxf", "nope"),
        json={"output": "iptv", "date": str(TOMORROW), "to": [str(TODAY)]}
        if path == COPY
        else {"output": "iptv", "date": str(TOMORROW)},
    )
    assert response.status == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"output": "iptv", "date": "2026-3-3", "to": ["2026-03-04"]}, "date", id="bad-date"),
        pytest.param({"output": "radio", "date": "2026-03-03", "to": ["2026-03-04"]}, "output", id="output"),
        pytest.param({"output": "iptv", "date": "2026-03-03", "to": []}, "to", id="no-targets"),
        pytest.param({"output": "iptv", "date": "2026-03-03", "to": ["x"]}, "to[0]", id="bad-target"),
        pytest.param(
            {"output": "iptv", "date": "2026-03-03", "to": ["2026-03-04"], "x": 1}, "x", id="unknown"
        ),
    ],
)
async def test_a_bad_copy_request_is_a_400_naming_the_field(
    schedule_client: Client, body: Document, field: str
) -> None:
    await logged_in(schedule_client, "operator")
    response = await schedule_client.post(COPY, json=body)
    answer = await response.json()
    assert (response.status, answer["field"]) == (400, field)


async def test_locks_are_copied_at_the_same_local_time(schedule_client: Client, catalog: Catalog) -> None:
    await logged_in(schedule_client, "operator")
    edited = await lock_replace(schedule_client, catalog, TODAY, "xxsj-1900", "宣传片 A")
    source = slot_event(edited, "xxsj-1900")
    before = await schedule(schedule_client, "rcxf", "iptv", TOMORROW)

    response = await schedule_client.post(
        COPY, json={"output": "iptv", "date": str(TODAY), "to": [str(TOMORROW)], "version": edited["version"]}
    )
    body = await response.json()

    assert response.status == 200, body
    after = await schedule(schedule_client, "rcxf", "iptv", TOMORROW)
    assert body["versions"] == {str(TOMORROW): after["version"]}
    assert after["version"] == before["version"] + 1
    copied = [e for e in after["events"] if e["locked"]]
    assert [(e["start"][11:], e["title"]) for e in copied] == [(source["start"][11:], "宣传片 A")]
    assert copied[0]["start"][:10] == str(TOMORROW)


async def test_a_copy_refused_anywhere_is_applied_nowhere(schedule_client: Client, catalog: Catalog) -> None:
    await logged_in(schedule_client, "operator")
    edited = await lock_replace(schedule_client, catalog, TODAY, "xxsj-1900", "宣传片 A")
    tomorrow = await schedule(schedule_client, "rcxf", "iptv", TOMORROW)

    response = await schedule_client.post(
        COPY, json={"output": "iptv", "date": str(TODAY), "to": [str(TOMORROW), str(YESTERDAY)]}
    )
    body = await response.json()

    assert response.status == 422, body
    assert [(r["date"], "freeze horizon" in r["reason"]) for r in body["refusals"]] == [
        (str(YESTERDAY), True)
    ]
    assert body["refusals"][0]["start"].startswith(f"{YESTERDAY}T11:00:00")
    assert await schedule(schedule_client, "rcxf", "iptv", TOMORROW) == tomorrow
    assert (await schedule(schedule_client, "rcxf", "iptv", TODAY))["version"] == edited["version"]


async def test_a_copy_on_a_stale_version_is_a_409(schedule_client: Client, catalog: Catalog) -> None:
    await logged_in(schedule_client, "operator")
    first = await lock_replace(schedule_client, catalog, TODAY, "xxsj-1900", "宣传片 A")
    response = await schedule_client.post(
        COPY,
        json={"output": "iptv", "date": str(TODAY), "to": [str(TOMORROW)], "version": first["version"] - 1},
    )
    body = await response.json()
    assert response.status == 409, body
    assert body["current_version"] == first["version"]


async def test_rebuilds_and_copies_are_audited(schedule_client: Client, catalog: Catalog) -> None:
    await logged_in(schedule_client, "operator")
    edited = await lock_replace(schedule_client, catalog, TODAY, "xxsj-1900", "宣传片 A")
    copied = await schedule_client.post(
        COPY, json={"output": "iptv", "date": str(TODAY), "to": [str(TOMORROW)], "version": edited["version"]}
    )
    assert copied.status == 200, await copied.text()
    tomorrow = await schedule(schedule_client, "rcxf", "iptv", TOMORROW)
    rebuilt = await schedule_client.post(
        REBUILD, json={"output": "iptv", "date": str(TOMORROW), "version": tomorrow["version"]}
    )
    assert rebuilt.status == 200, await rebuilt.text()

    rebuild, copy = catalog.audit.entries(limit=2)
    assert (rebuild.actor, rebuild.action, rebuild.target) == (
        "operator",
        "schedule.rebuild",
        f"channel/rcxf/iptv/{TOMORROW}",
    )
    assert (rebuild.before, rebuild.after) == (
        {"version": tomorrow["version"]},
        {"version": (await rebuilt.json())["version"]},
    )
    assert (copy.action, copy.target) == ("schedule.copy_locks", f"channel/rcxf/iptv/{TODAY}")
    assert copy.after["to"] == {str(TOMORROW): tomorrow["version"]}


@pytest.mark.parametrize("path", [REBUILD, COPY])
async def test_an_operator_limited_to_other_channels_is_refused(
    schedule_client: Client, catalog: Catalog, path: str
) -> None:
    catalog.accounts.update_user("operator", channels=["rcjy"])
    await logged_in(schedule_client, "operator")
    body = {"output": "iptv", "date": str(TOMORROW), **({"to": [str(TODAY)]} if path == COPY else {})}
    response = await schedule_client.post(path, json=body)
    assert response.status == 403
    assert "limited to: rcjy" in (await response.json())["error"]
    assert catalog.audit.entries() == []
