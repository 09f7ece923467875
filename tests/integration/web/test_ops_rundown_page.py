"""``/ops/channels/{id}/schedule`` over HTTP: roles, defaults, the day navigation, bad parameters."""

from __future__ import annotations

import json
import re

import pytest

from rcmedia.catalog.repository import Catalog
from rcmedia.core.accounts import Role
from tests.integration.web.accounts import add_accounts, logged_in
from tests.integration.web.published import Client
from tests.integration.web.schedules import NOW, TODAY, TOMORROW

PAGE = "/ops/channels/rcxf/schedule"


@pytest.fixture(autouse=True)
def accounts(catalog: Catalog) -> dict[Role, str]:
    return add_accounts(catalog)


def page_config(html: str) -> dict[str, object]:
    match = re.search(r'<script type="application/json" id="ops-config">(.*?)</script>', html, re.S)
    assert match is not None
    config: dict[str, object] = json.loads(match[1])
    return config


async def test_anonymous_visitors_log_in_first_and_editors_may_not_open_it(schedule_client: Client) -> None:
    response = await schedule_client.get(f"{PAGE}?output=tv", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == f"/login?next={PAGE}?output%3Dtv"
    await logged_in(schedule_client, "editor")
    assert (await schedule_client.get(PAGE)).status == 403


@pytest.mark.parametrize("account", ["operator", "admin"])
async def test_the_day_on_air_of_the_default_output_by_default(schedule_client: Client, account: str) -> None:
    await logged_in(schedule_client, account)
    response = await schedule_client.get(PAGE)
    html = await response.text()
    assert response.status == 200
    config = page_config(html)
    assert (config["channel"], config["output"], config["day"]) == ("rcxf", "iptv", str(TODAY))
    assert config["now"] == NOW.isoformat().replace("+00:00", "Z")
    assert config["fps"] == 25
    assert config["slots"] == {  # type: ignore[comparison-overlap]
        "xxsj-0600": "2026-03-01T22:00:00Z",
        "hsjy-0900": "2026-03-02T01:00:00Z",
        "sdkm-1000": "2026-03-02T02:00:00Z",
        "hsjy-1200": "2026-03-02T04:00:00Z",
        "xxsj-1900": "2026-03-02T11:00:00Z",
    }
    assert f'href="?output=iptv&amp;date={TOMORROW}"' in html
    assert "冻结线" not in html  # drawn by the script, from the rows
    assert "rundown.js" in html


async def test_another_output_and_date(schedule_client: Client) -> None:
    await logged_in(schedule_client, "operator")
    html = await (await schedule_client.get(f"{PAGE}?output=tv&date={TOMORROW}&lang=en")).text()
    config = page_config(html)
    assert (config["output"], config["day"]) == ("tv", str(TOMORROW))
    assert "Rundown" in html


@pytest.mark.parametrize(
    ("path", "status"),
    [
        pytest.param("/ops/channels/nope/schedule", 404, id="unknown-channel"),
        pytest.param("/ops/channels/rcjy/schedule?output=tv", 404, id="output-not-on-channel"),
        pytest.param(f"{PAGE}?output=radio", 400, id="bad-output"),
        pytest.param(f"{PAGE}?date=2026-13-01", 400, id="bad-date"),
    ],
)
async def test_bad_addresses(schedule_client: Client, path: str, status: int) -> None:
    await logged_in(schedule_client, "operator")
    assert (await schedule_client.get(path)).status == status
