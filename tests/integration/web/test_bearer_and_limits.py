"""API tokens over HTTP, operators limited to channels, and the audit entries writes leave."""

from __future__ import annotations

from typing import Any

import pytest

from rcmedia.catalog.repository import AssetQuery, Catalog
from rcmedia.core.accounts import Role
from tests.integration.web.accounts import add_accounts, logged_in
from tests.integration.web.published import Client
from tests.integration.web.schedules import NOW, TOMORROW

Document = dict[str, Any]


@pytest.fixture(autouse=True)
def accounts(catalog: Catalog) -> dict[Role, str]:
    return add_accounts(catalog)


def token_of(catalog: Catalog, name: str) -> str:
    return catalog.accounts.create_token(name, now=NOW)[1]


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def lock_body(client: Client, channel: str = "rcxf", slot: str = "xxsj-1900") -> Document:
    response = await client.get(f"/api/v1/channels/{channel}/schedule?output=iptv&date={TOMORROW}")
    day = await response.json()
    (event,) = [e for e in day["events"] if e["slot_id"] == slot and e["kind"] == "programme"]
    return {"output": "iptv", "date": str(TOMORROW), "action": "lock", "event_start": event["start"]}


async def test_a_bearer_token_acts_as_its_account(schedule_client: Client, catalog: Catalog) -> None:
    secret = token_of(catalog, "operator")
    me = await schedule_client.get("/api/v1/me", headers=bearer(secret))
    assert me.status == 200
    assert (await me.json())["name"] == "operator"

    body = await lock_body(schedule_client)
    # a script's write: no cookie, and an Origin of its own is no forgery (the token is not ambient)
    edited = await schedule_client.post(
        "/api/v1/channels/rcxf/schedule/edits",
        json=body,
        headers={**bearer(secret), "Origin": "https://elsewhere.example"},
    )
    assert edited.status == 200, await edited.text()
    (entry,) = catalog.audit.entries()
    assert (entry.actor, entry.action, entry.target) == (
        "operator",
        "schedule.edit",
        f"channel/rcxf/iptv/{TOMORROW}",
    )
    assert entry.before["event"]["locked"] is False
    assert entry.after["event"]["locked"] is True
    assert entry.after["version"] == entry.before["version"] + 1
    assert entry.after["edit"]["action"] == "lock"
    # the JSON body rule stays: it is about the format, not about who sends it
    form = await schedule_client.post(
        "/api/v1/channels/rcxf/schedule/edits", data="a=b", headers=bearer(secret)
    )
    assert form.status == 415


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param("Bearer rcm_unknown", id="unknown"),
        pytest.param("Bearer", id="empty"),
        pytest.param("Bearer " + "x" * 300, id="too-long"),
    ],
)
async def test_a_bad_bearer_token_is_401_and_never_falls_back_to_the_cookie(
    schedule_client: Client, authorization: str
) -> None:
    await logged_in(schedule_client, "operator")
    response = await schedule_client.get("/api/v1/me", headers={"Authorization": authorization})
    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert "error" in await response.json()


async def test_another_authorization_scheme_is_left_to_the_proxy_that_added_it(
    schedule_client: Client,
) -> None:
    # a proxy in front asking for Basic credentials of its own passes them on: the session counts
    basic = {"Authorization": "Basic b3BlcmF0b3I6cHc="}
    assert (await schedule_client.get("/api/v1/me", headers=basic)).status == 401
    await logged_in(schedule_client, "operator")
    response = await schedule_client.get("/api/v1/me", headers=basic)
    assert response.status == 200
    assert (await response.json())["name"] == "operator"


async def test_revoked_tokens_and_disabled_accounts_stop_working(
    schedule_client: Client, catalog: Catalog
) -> None:
    info, secret = catalog.accounts.create_token("editor", now=NOW)
    assert (await schedule_client.get("/api/v1/me", headers=bearer(secret))).status == 200
    catalog.accounts.set_disabled("editor")
    assert (await schedule_client.get("/api/v1/me", headers=bearer(secret))).status == 401
    catalog.accounts.set_disabled("editor", disabled=False)
    catalog.accounts.revoke_token(info.id, now=NOW)
    assert (await schedule_client.get("/api/v1/me", headers=bearer(secret))).status == 401


async def test_a_cookie_write_from_another_origin_is_still_refused(
    schedule_client: Client, catalog: Catalog
) -> None:
    await logged_in(schedule_client, "operator")
    body = await lock_body(schedule_client)
    response = await schedule_client.post(
        "/api/v1/channels/rcxf/schedule/edits",
        json=body,
        headers={"Origin": "https://elsewhere.example", **bearer(token_of(catalog, "operator"))},
    )
    assert response.status == 403  # a session cookie rides along: the Origin check applies


async def test_an_operator_limited_to_channels_may_edit_only_those(
    schedule_client: Client, catalog: Catalog
) -> None:
    catalog.accounts.update_user("operator", channels=["rcjy"])
    await logged_in(schedule_client, "operator")
    assert (await (await schedule_client.get("/api/v1/me")).json())["channels"] == ["rcjy"]
    body = await lock_body(schedule_client)
    refused = await schedule_client.post("/api/v1/channels/rcxf/schedule/edits", json=body)
    assert refused.status == 403
    assert (await refused.json())["error"] == (
        "account 'operator' may not change channel 'rcxf'; it is limited to: rcjy"
    )
    assert catalog.audit.entries() == []

    catalog.accounts.update_user("operator", channels=["rcjy", "rcxf"])
    allowed = await schedule_client.post("/api/v1/channels/rcxf/schedule/edits", json=body)
    assert allowed.status == 200, await allowed.text()


async def test_admins_are_never_limited_to_channels(schedule_client: Client, catalog: Catalog) -> None:
    catalog.accounts.update_user("admin", channels=["rcjy"])
    await logged_in(schedule_client, "admin")
    body = await lock_body(schedule_client)
    response = await schedule_client.post("/api/v1/channels/rcxf/schedule/edits", json=body)
    assert response.status == 200, await response.text()


async def test_asset_changes_are_audited_with_before_and_after(
    schedule_client: Client, catalog: Catalog
) -> None:
    await logged_in(schedule_client, "editor")
    asset = catalog.find_assets(AssetQuery()).items[0]
    path = f"/api/v1/assets/{asset.id}"
    assert (await schedule_client.patch(path, json={"title": "新标题"})).status == 200
    assert (await schedule_client.put(f"{path}/rights", json=[{"output": "iptv"}])).status == 200
    assert (await schedule_client.post(f"{path}/withdraw", json={})).status == 200

    withdraw, rights, update = catalog.audit.entries()
    assert [(e.actor, e.action, e.target) for e in (update, rights, withdraw)] == [
        ("editor", "asset.update", f"asset/{asset.id}"),
        ("editor", "asset.rights", f"asset/{asset.id}"),
        ("editor", "asset.withdraw", f"asset/{asset.id}"),
    ]
    assert (update.before["title"], update.after["title"]) == (asset.metadata.title, "新标题")
    assert [r["output"] for r in rights.after["rights"]] == ["iptv"]
    assert (withdraw.before["status"], withdraw.after["status"]) == ("published", "withdrawn")
    assert withdraw.after["version"] > update.before["version"]
